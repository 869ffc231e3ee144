// The host's signature check and command signing against the contract's own HMAC (the device's code path).
import { describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { fromHex, rekeyKeystream, SIG_TAIL_LENGTH, splitSigned, xorBytes } from "../../../firmware/contract";
import { checkSignature, nodeSha256, signatureHex, signJsonText, signObject } from "../../../host/trust/signature";
import { CommandCounter, commandPayload } from "../../../host/commands/sendCommand";
import { rekeyFields } from "../../../host/trust/rotateKey";
import { deviceSigned, withWrongSignature } from "./deviceSigner";

const KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const key = Buffer.from(KEY, "hex");
const enc = (s: string) => new TextEncoder().encode(s);
const TOPIC = "espdht/home/sim-a/reading";

describe("signature", () => {
  it.each([
    ["reading", TOPIC, { v: 1, id: "sim-a", boot: 3, seq: 9, up: 18000, ts: null, temperature: 21.5, humidity: 40 }],
    ["failed reading", TOPIC, { v: 1, id: "sim-a", boot: 3, seq: 10, up: 20000, ts: 1_700_000_000_000, error: "checksum" }],
    ["info", "espdht/home/sim-a/info", { v: 1, id: "sim-a", fw: "0.2.0", model: "dht22", pin: 4, interval: 10, ip: null, boot: 3, root: "espdht/home", caps: ["read"], dropped: 0, configError: null }],
    ["reply", "espdht/home/sim-a/reply", { re: "h0123", ok: false, error: "expired" }],
    ["non-ASCII", "espdht/häuschen/sim-a/reply", { re: "x", ok: true, note: "°C ✓" }],
  ])("a device-signed %s verifies on the host, and the host signs it identically", (_kind, topic, fields) => {
    const payload = deviceSigned(KEY, topic, fields);
    expect(payload.length - JSON.stringify(fields).length).toBe(SIG_TAIL_LENGTH - 1);
    expect(signObject(key, topic, fields as Record<string, unknown>)).toBe(payload);
    const check = checkSignature(key, topic, enc(payload));
    expect(check.result).toBe("verified");
    expect(JSON.parse(Buffer.from((check as { body: Uint8Array }).body).toString() + "}")).toEqual(fields);
  });

  it("a wrong signature, another key, another topic or a changed body do not verify", () => {
    const payload = deviceSigned(KEY, TOPIC, { v: 1, seq: 1 });
    expect(checkSignature(key, TOPIC, enc(withWrongSignature(payload))).result).toBe("bad-signature");
    expect(checkSignature(randomBytes(32), TOPIC, enc(payload)).result).toBe("bad-signature");
    expect(checkSignature(key, "espdht/home/sim-b/reading", enc(payload)).result).toBe("bad-signature");
    expect(checkSignature(key, TOPIC, enc(payload.replace('"seq":1', '"seq":2'))).result).toBe("bad-signature");
  });

  it.each([
    ["no tail", '{"v":1,"seq":1}'],
    ["upper-case hex", deviceSigned(KEY, TOPIC, { v: 1 }).toUpperCase()],
    ["short signature", '{"v":1,"sig":"0123"}'],
    ["tail not last", deviceSigned(KEY, TOPIC, { v: 1 }) + " "],
    ["only a tail", ',"sig":"00000000000000000000000000000000"}'],
  ])("%s is unsigned", (_name, payload) => {
    expect(checkSignature(key, TOPIC, enc(payload)).result).toBe("unsigned");
  });

  it("signatureHex is HMAC-SHA256 truncated to 32 hex digits", () => {
    const sig = signatureHex(key, TOPIC, enc("{\"a\":1"));
    expect(sig).toMatch(/^[0-9a-f]{32}$/);
    expect(splitSigned(enc(signJsonText(key, TOPIC, '{"a":1}')))!.sig).toBe(sig);
  });

  it("refuses to sign what is not a non-empty JSON object", () => {
    expect(() => signJsonText(key, TOPIC, "{}")).toThrow(/non-empty JSON object/);
    expect(() => signJsonText(key, TOPIC, "[1]")).toThrow(/non-empty JSON object/);
  });
});

describe("signed commands", () => {
  const keys = { keyOf: (id: string) => (id === "sim-a" ? key : null) };
  const CMD = "espdht/home/sim-a/cmd";

  it("signs for the target: to, n (host ms), exp (now + expiry), verifiable on the topic it is published to", () => {
    const now = 1_750_000_000_123;
    const signing = { keys, counter: new CommandCounter(() => now), now: () => now };
    const { payload, signed } = commandPayload({ id: "h1", op: "set", interval: 30 }, "sim-a", CMD, false, signing);
    expect(signed).toBe(true);
    expect(checkSignature(key, CMD, enc(payload)).result).toBe("verified");
    expect(checkSignature(key, "espdht/home/all/cmd", enc(payload)).result).toBe("bad-signature");
    const body = JSON.parse(payload);
    expect(body).toEqual({ id: "h1", op: "set", interval: 30, to: "sim-a", n: now, exp: Math.floor(now / 1000) + 300, sig: body.sig });
    const shortLived = commandPayload({ id: "h2", op: "read" }, "sim-a", CMD, false, { ...signing, expiresS: 20 });
    expect(JSON.parse(shortLived.payload).exp).toBe(Math.floor(now / 1000) + 20);
  });

  it("n never repeats in a process, even when the clock does not move or steps back", () => {
    let t = 5000;
    const c = new CommandCounter(() => t);
    const ns = [c.next(), c.next(), c.next()];
    t = 4000;
    ns.push(c.next());
    t = 9000;
    ns.push(c.next());
    expect(ns).toEqual([5000, 5001, 5002, 5003, 9000]);
  });

  it("a device without a key gets the command unsigned: as before on its own topic, with 'to' on the shared one", () => {
    const signing = { keys, counter: new CommandCounter() };
    expect(commandPayload({ id: "h3", op: "read" }, "sim-b", "espdht/home/sim-b/cmd", false, signing)).toEqual({ payload: '{"id":"h3","op":"read"}', signed: false });
    expect(commandPayload({ id: "h3", op: "read" }, "sim-b", "espdht/home/all/cmd", true, signing)).toEqual({ payload: '{"id":"h3","op":"read","to":"sim-b"}', signed: false });
  });

  it("rekey hides the new key under the current one: only the current key's holder gets it back", () => {
    const next = randomBytes(32);
    const f = rekeyFields("h4", key, next, "ab".repeat(16));
    expect(f).toMatchObject({ id: "h4", op: "rekey", nonce: "ab".repeat(16) });
    expect(f.key).toMatch(/^[0-9a-f]{64}$/);
    expect(f.key).not.toBe(next.toString("hex"));
    const back = xorBytes(fromHex(f.key)!, rekeyKeystream(nodeSha256, key, f.nonce as string));
    expect(Buffer.from(back).equals(next)).toBe(true);
  });
});
