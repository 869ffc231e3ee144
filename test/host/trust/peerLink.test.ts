// The host's half of device-to-device links (host/trust/peerLink.ts): the link key as a third party derives it,
// the receiver's command that hides it (undone with the firmware's own scheme), and the checks before sending.
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { fromHex, linkKeystream, validateCommand, xorBytes } from "../../../firmware/contract";
import { ReplyWaiter } from "../../../host/commands/replyWaiter";
import { acceptLinkFields, checkLinkIds, LinkError, linkDevices, linkKeyOf } from "../../../host/trust/peerLink";
import { nodeSha256 } from "../../../host/trust/signature";

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);

describe("link keys", () => {
  it("the link key is HMAC-SHA256(A's key, 'link|A|B'): per direction, per pair", () => {
    expect(linkKeyOf(KEY_A, "sim-a", "sim-b").toString("hex")).toBe(createHmac("sha256", KEY_A).update("link|sim-a|sim-b").digest("hex"));
    expect(linkKeyOf(KEY_A, "sim-a", "sim-c")).not.toEqual(linkKeyOf(KEY_A, "sim-a", "sim-b"));
  });

  it("the receiver's command carries the link key only hidden under the receiver's key, and is a valid command", () => {
    const fields = acceptLinkFields("h1", "sim-a", "sim-b", KEY_A, KEY_B);
    expect(validateCommand(fields)).toMatchObject({ ok: true, value: { op: "link", source: "sim-a" } });
    const link = linkKeyOf(KEY_A, "sim-a", "sim-b");
    expect(JSON.stringify(fields)).not.toContain(link.toString("hex"));
    expect(JSON.stringify(fields)).not.toContain(KEY_A.toString("hex"));
    // what the board does with it (firmware/app/peerLinks.ts)
    const shown = xorBytes(fromHex(fields.key)!, linkKeystream(nodeSha256, KEY_B, fields.nonce as string));
    expect(Buffer.from(shown)).toEqual(link);
    // a fresh nonce each time: two commands never share a keystream
    expect(acceptLinkFields("h2", "sim-a", "sim-b", KEY_A, KEY_B).key).not.toBe(fields.key);
  });

  it.each([
    [[undefined, undefined], "needs two device ids: the sender A and the receiver B"],
    [["sim-a", undefined], "needs two device ids"],
    [["sim-a", "a/b"], "'a/b' is not a device id (letters, digits, - and _, up to 64)"],
    [["+", "sim-b"], "'+' is not a device id"],
    [["all", "sim-b"], "'all' is reserved, not a device id: it is the broadcast to every device (<root>/all/cmd)"],
    [["sim-a", "x".repeat(65)], "is not a device id"],
    [["sim-a", "sim-a"], "a device cannot be linked to itself ('sim-a' twice)"],
    [["sim-a", "sim-b", "sim-c"], "unexpected argument after sim-b: sim-c"],
  ] as [(string | undefined)[], string][])("refuses %j: %s", ([a, b, ...extra], message) => {
    expect(() => checkLinkIds(a, b, extra as string[])).toThrow(LinkError);
    expect(() => checkLinkIds(a, b, extra as string[])).toThrow(message);
  });

  it("names the device without a key, and sends nothing", async () => {
    const sent: string[] = [];
    const client = { subscribeAsync: async () => [], publishAsync: async (t: string) => void sent.push(t) } as never;
    const keys = { keyOf: (id: string) => (id === "sim-a" ? KEY_A : null) };
    await expect(linkDevices({ client, waiter: new ReplyWaiter(), root: "r", from: "sim-a", to: "sim-b", link: true, keys, timeoutMs: 100, keyringFile: "/x/keys.json" }))
      .rejects.toThrow("sim-b has no key in /x/keys.json: links are signed, so both devices need their key there");
    expect(sent).toEqual([]);
  });

  // a device that answers only when `answers` says so, as the broker would deliver its reply
  function fakeDevices(answers: Record<string, boolean>) {
    const sent: string[] = [];
    const waiter = new ReplyWaiter();
    const client = {
      subscribeAsync: async () => [],
      publishAsync: async (topic: string, payload: string) => {
        sent.push(topic);
        const device = topic.split("/")[1];
        const id = /"id":"([^"]+)"/.exec(payload)![1];
        if (answers[device]) setTimeout(() => waiter.offer(device, { re: id, ok: true, links: { to: [], from: [] } }, Date.now(), "verified"), 5);
      },
    } as never;
    return { sent, waiter, client };
  }

  it("unlink with A offline stops at A (B keeps A's slot); with force B is told anyway and the skip is reported", async () => {
    const keys = { keyOf: (id: string) => (id === "sim-a" ? KEY_A : KEY_B) };
    const plain = fakeDevices({ "sim-b": true });
    const stuck = await linkDevices({ client: plain.client, waiter: plain.waiter, root: "r", from: "sim-a", to: "sim-b", link: false, keys, timeoutMs: 100, keyringFile: "k" });
    expect(stuck.ok).toBe(false);
    expect(plain.sent).toEqual(["r/sim-a/cmd"]);

    const forced = fakeDevices({ "sim-b": true });
    const out = await linkDevices({ client: forced.client, waiter: forced.waiter, root: "r", from: "sim-a", to: "sim-b", link: false, keys, timeoutMs: 100, keyringFile: "k", force: true });
    expect(forced.sent).toEqual(["r/sim-a/cmd", "r/sim-b/cmd"]);
    expect(out).toMatchObject({ ok: true, senderSkipped: true });
    expect(out.steps.map((s) => [s.device, s.reply?.ok ?? null])).toEqual([["sim-a", null], ["sim-b", true]]);
  });

  it("a forced unlink needs no key for A (not sent to it), still one for B; force is refused for link", async () => {
    const onlyB = { keyOf: (id: string) => (id === "sim-b" ? KEY_B : null) };
    const f = fakeDevices({ "sim-b": true });
    const out = await linkDevices({ client: f.client, waiter: f.waiter, root: "r", from: "sim-a", to: "sim-b", link: false, keys: onlyB, timeoutMs: 100, keyringFile: "k", force: true });
    expect(f.sent).toEqual(["r/sim-b/cmd"]);
    expect(out).toMatchObject({ ok: true, senderSkipped: true });
    expect(out.steps[0].role).toContain("not sent: it has no key in k");
    const onlyA = { keyOf: (id: string) => (id === "sim-a" ? KEY_A : null) };
    await expect(linkDevices({ client: f.client, waiter: f.waiter, root: "r", from: "sim-a", to: "sim-b", link: false, keys: onlyA, timeoutMs: 100, keyringFile: "k", force: true })).rejects.toThrow("sim-b has no key in k");
    await expect(linkDevices({ client: f.client, waiter: f.waiter, root: "r", from: "sim-a", to: "sim-b", link: true, keys: onlyB, timeoutMs: 100, keyringFile: "k", force: true })).rejects.toThrow("force is for unlink only");
  });
});
