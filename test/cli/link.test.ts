// Device-to-device links end to end (issue 12 item 2): a real Mosquitto on loopback (max_queued_messages 0: no
// queue limit, so nothing the test counts is dropped by the broker), two virtual boards running dist/firmware.js in
// two `espdht sim` processes (A and B, each with its key in the one keyring), `espdht link A B` / `unlink A B`.
// Checked: A's readings reach B on R/A/to/B signed with the link key (B counts them as accepted); forged messages
// from C and on R/A/to/B without the link key, and a replay, are ignored and counted; B offline for a while gets
// what A sent meanwhile from its persistent session (what is older than 3 of its intervals refused as old); unlink
// stops A's copies; bad ids and missing keys are refused.
import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signatureTail, splitSigned } from "../../firmware/contract";
import { readKeyringFile } from "../../provisioning/keyring";
import { signObject } from "../../host/trust/signature";
import { startMosquitto, RunningBroker } from "../support/brokers";
import { runCliToEnd, tempUserEnv } from "../support/runCli";
import { SimProcess, SimProcesses } from "../support/simProcesses";
import { until } from "../support/until";

const ROOT = "espdht/linktest";
let broker: RunningBroker;
let env: NodeJS.ProcessEnv;
let dir: string;
let watcher: MqttClient;
const seen: { topic: string; payload: string; at: number }[] = [];
const sims = new SimProcesses(2);
type Sim = SimProcess;
const startSim = (args: string[]): Promise<Sim> => sims.start(env, args);
const stopSim = (sim: Sim): Promise<void> => sims.stop(sim);

const on = (topic: string) => seen.filter((m) => m.topic === topic);
const infos = (id: string) => on(`${ROOT}/${id}/info`).map((m) => JSON.parse(m.payload));
const keyOf = (id: string) => readKeyringFile(path.join(dir, "keys.json")).devices[id].key;
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", typeof key === "string" ? Buffer.from(key, "hex") : key).update(data).digest();
const linkKey = (from: string, to: string) => hmac(keyOf(from), `link|${from}|${to}`);
const signedWith = (key: Buffer, topic: string, fields: object) => {
  const body = JSON.stringify(fields).slice(0, -1);
  return body + signatureTail(hmac(key, topic + "\n" + body).toString("hex").slice(0, 32));
};

let heartbeat = 100;
/** B's info as it stands now: a `set` that changes a value makes the board publish it again. */
/** Link copies on `topic` that reached the test's watcher over 4 s after their reading was taken (B refuses those over 6 s as old). */
const lateCopies = (topic: string) => on(topic).filter((m) => { const ts = JSON.parse(m.payload).ts; return typeof ts === "number" && m.at - ts > 4000; }).length;

async function freshInfo(id: string): Promise<any> {
  const before = infos(id).length;
  const r = await runCliToEnd(["send", id, "set", `heartbeat=${++heartbeat}`, "--timeout", "20"], env);
  expect(r.code, r.stderr).toBe(0);
  await until(() => infos(id).length > before, 20_000, `a new info from ${id}`);
  return infos(id).at(-1);
}

let a: Sim;
let b: Sim;
let A: string;
let B: string;

beforeAll(async () => {
  broker = await startMosquitto(["max_queued_messages 0"]);
  ({ env, dir } = tempUserEnv({ broker: broker.url, root: ROOT }));
  watcher = await mqtt.connectAsync(broker.url, { clientId: "link-test-watcher", clean: true });
  watcher.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString(), at: Date.now() }));
  await watcher.subscribeAsync(`${ROOT}/#`, { qos: 1 });
  a = await startSim(["--seed", "link-a"]);
  b = await startSim(["--seed", "link-b"]);
  [A] = a.ids;
  [B] = b.ids;
  for (const id of [A, B]) await until(() => infos(id).length > 0, 60_000, `info of ${id}`);
}, 150_000);

afterAll(async () => {
  sims.killAll();
  await watcher?.endAsync();
  await broker?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("device-to-device links end to end", () => {
  it("refuses bad ids, a self link and devices without a key, before touching the broker", async () => {
    const bad = await runCliToEnd(["link", A, "no/such"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'no/such' is not a device id");
    // 'all' meets the character rule of an id: it is the broadcast level, and the message says so
    const all = await runCliToEnd(["link", A, "all"], env);
    expect(all.code).toBe(2);
    expect(all.stderr).toContain("'all' is reserved, not a device id: it is the broadcast to every device (<root>/all/cmd)");
    const self = await runCliToEnd(["link", A, A], env);
    expect(self.stderr).toContain("a device cannot be linked to itself");
    const one = await runCliToEnd(["link", A], env);
    expect(one.stderr).toContain("needs two device ids");
    const unknown = await runCliToEnd(["link", A, "esp32-000000000000"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/esp32-000000000000 has no key in .*keys\.json: links are signed/);
    const sent = await runCliToEnd(["send", A, "link"], env);
    expect(sent.stderr).toContain("link changes two devices: use 'espdht link A B'");
    const help = await runCliToEnd(["link", "--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('HMAC-SHA256(A\'s key, "link|A|B")');
    expect(seen.filter((m) => m.topic.endsWith("/cmd"))).toEqual([]);
  });

  it("links A to B: A's readings reach B on R/A/to/B, signed with the link key, and B accepts them", async () => {
    const r = await runCliToEnd(["link", A, B, "--json"], env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, link: { from: A, to: B }, topic: `${ROOT}/${A}/to/${B}` });
    // the receiver first, then the sender
    expect(out.steps.map((s: { device: string }) => s.device)).toEqual([B, A]);
    expect(out.steps[0].reply).toMatchObject({ ok: true, links: { to: [], from: [A] } });
    expect(out.steps[1].reply).toMatchObject({ ok: true, links: { to: [B], from: [] } });
    // the link key never crossed the broker: not in clear in B's command
    const cmdToB = on(`${ROOT}/${B}/cmd`).at(-1)!.payload;
    expect(cmdToB).not.toContain(linkKey(A, B).toString("hex"));
    expect(cmdToB).not.toContain(keyOf(A));

    const topic = `${ROOT}/${A}/to/${B}`;
    await until(() => on(topic).length >= 3, 20_000, "three readings of A on the link topic");
    for (const m of on(topic)) {
      const split = splitSigned(new TextEncoder().encode(m.payload))!;
      expect(hmac(linkKey(A, B), topic + "\n" + Buffer.from(split.body).toString()).toString("hex").slice(0, 32)).toBe(split.sig);
      const reading = JSON.parse(m.payload);
      expect(reading).toMatchObject({ id: A, interval: 2 });
      // the same reading A published on its own topic
      expect(on(`${ROOT}/${A}/reading`).some((x) => JSON.parse(x.payload).seq === reading.seq)).toBe(true);
    }
    const info = await freshInfo(B);
    expect(info.links).toEqual({ to: [], from: [A] });
    expect(info.linkIn).toBeGreaterThanOrEqual(3);
    expect(info.linkForged).toBe(0);
    // B refuses a copy older than 3 intervals (6 s): none, unless this loaded machine delivered some that late
    expect(info.linkOld).toBeLessThanOrEqual(lateCopies(topic));
    expect((await freshInfo(A)).links).toEqual({ to: [B], from: [] });
  }, 90_000);

  it("ignores and counts a forged message from C, one on R/A/to/B without the link key, and a replay", async () => {
    const before = await freshInfo(B);
    const C = "esp32-cccccccccccc";
    const fromC = `${ROOT}/${C}/to/${B}`;
    const onA = `${ROOT}/${A}/to/${B}`;
    const last = JSON.parse(on(onA).at(-1)!.payload);
    const forged = { ...last, seq: last.seq + 1000, temperature: 80 };
    delete forged.sig;
    // C signs with a key of its own; on A's topic: A's own key is not the link key, nor is a random one
    await watcher.publishAsync(fromC, signedWith(randomBytes(32), fromC, { ...forged, id: C }), { qos: 1 });
    await watcher.publishAsync(onA, signedWith(randomBytes(32), onA, forged), { qos: 1 });
    await watcher.publishAsync(onA, signObject(Buffer.from(keyOf(A), "hex"), onA, forged), { qos: 1 });
    await watcher.publishAsync(onA, JSON.stringify(forged), { qos: 1 });
    // a real message of A's, sent again
    await watcher.publishAsync(onA, on(onA)[0].payload, { qos: 1 });
    const after = await freshInfo(B);
    expect(after.linkForged - before.linkForged).toBe(4);
    expect(after.linkOld - before.linkOld).toBe(1);
  }, 60_000);

  it("B offline for a while receives what A sent meanwhile when it returns (persistent session)", async () => {
    const topic = `${ROOT}/${A}/to/${B}`;
    await stopSim(b);
    const offlineFrom = Date.now();
    await until(() => on(`${ROOT}/${B}/status`).at(-1)?.payload === "offline", 20_000, "B's will");
    await until(() => on(topic).filter((m) => m.at > offlineFrom).length >= 4, 30_000, "four of A's link messages while B is away");
    b = await startSim(["--seed", "link-b"]);
    const sentWhileAway = on(topic).filter((m) => m.at > offlineFrom);
    const info = await freshInfo(B);
    // a new boot: everything counted came after B returned, and at least what A sent while it was away; B's clock
    // is set, so the queued ones older than 3 of A's intervals are refused as old (a restarted B cannot tell them
    // from replays), the newer ones accepted
    expect(info.links).toEqual({ to: [], from: [A] });
    // the figures for the closing note
    console.info(`links, B offline: A sent ${sentWhileAway.length} link messages while B was away; B accepted ${info.linkIn} after it returned (forged ${info.linkForged}, old ${info.linkOld})`);
    expect(info.linkIn + info.linkOld).toBeGreaterThanOrEqual(sentWhileAway.length);
    expect(info.linkForged).toBe(0);
  }, 120_000);

  it("unlink A B stops A's copies and B forgets A", async () => {
    const r = await runCliToEnd(["unlink", A, B], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`unlinked: ${A} no longer sends to ${ROOT}/${A}/to/${B}`);
    const topic = `${ROOT}/${A}/to/${B}`;
    const stoppedAt = Date.now();
    const readingsBefore = on(`${ROOT}/${A}/reading`).length;
    await until(() => on(`${ROOT}/${A}/reading`).length >= readingsBefore + 3, 20_000, "three more readings of A");
    expect(on(topic).filter((m) => m.at > stoppedAt + 500)).toEqual([]);
    expect((await freshInfo(B)).links).toEqual({ to: [], from: [] });
    expect((await freshInfo(A)).links).toEqual({ to: [], from: [] });
  }, 60_000);
  it("unlink A B with A dead: exit 3 and B untold, with a hint; --force tells B anyway and says A was not changed", async () => {
    const relink = await runCliToEnd(["link", A, B], env);
    expect(relink.code, relink.stderr).toBe(0);
    await stopSim(a);
    await until(() => on(`${ROOT}/${A}/status`).at(-1)?.payload === "offline", 20_000, "A's will");
    const cmdsToB = () => on(`${ROOT}/${B}/cmd`).length;
    const before = cmdsToB();
    const stuck = await runCliToEnd(["unlink", A, B, "--timeout", "2", "--expires", "5"], env);
    expect(stuck.code).toBe(3);
    expect(stuck.stderr).toContain(`${B} was not told: to remove ${A} from ${B} anyway (${A} is gone for good), add --force`);
    expect(cmdsToB()).toBe(before);
    expect((await freshInfo(B)).links.from).toEqual([A]);

    const forced = await runCliToEnd(["unlink", A, B, "--force", "--timeout", "2", "--expires", "5"], env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`${A} stops sending to ${B}: no reply within 2 s`);
    expect(forced.stdout).toMatch(new RegExp(`${B} stops accepting readings from ${A}: ok \\(verified\\)`));
    expect(forced.stderr).toContain(`--force: ${A} was not changed (see above) but ${B} no longer accepts its readings and its link slot is free`);
    expect((await freshInfo(B)).links).toEqual({ to: [], from: [] });
    const help = await runCliToEnd(["unlink", "--help"], env);
    expect(help.stdout).toContain("--force");
  }, 90_000);
});

describe("espdht sim --link", () => {
  it("refuses a bad --link with a clear error (exit 2)", async () => {
    for (const [args, message] of [
      [["--devices", "2", "--link", "0-1"], "--link '0-1': each link is FROM:TO, two board indexes, e.g. --link 0:1"],
      [["--devices", "2", "--link", "0:2"], "--link '0:2': board 2 does not exist (this process runs boards 0..1; see --devices)"],
      [["--devices", "2", "--link", "1:1"], "--link '1:1': a board cannot be linked to itself"],
      [["--devices", "2", "--link", "0:1,0:1"], "--link '0:1': listed twice"],
      [["--devices", "6", "--link", "0:1,0:2,0:3,0:4,0:5"], "--link: board 0 would send to more than 4 boards"],
      [["--devices", "2", "--link", "0:1", "--no-keys"], "--link: links are signed, so the boards need keys (not with --no-keys)"],
    ] as [string[], string][]) {
      const r = await runCliToEnd(["sim", "--seed", "link-bad", ...args], env);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toContain(message);
    }
  }, 60_000);

  it("--link 0:1 links two boards of one process: board 1 accepts board 0's readings", async () => {
    const pair = await startSim(["--devices", "2", "--seed", "link-pair", "--link", "0:1"]);
    const [P0, P1] = pair.ids;
    expect(pair.output()).toContain(`link: board 0 -> board 1 (${ROOT}/${P0}/to/${P1})`);
    // what board 0 sent before board 1's first session subscribed is nobody's: count from board 1's first info on
    await until(() => infos(P1).length > 0, 30_000, "board 1 online");
    const since = Date.now();
    await until(() => on(`${ROOT}/${P0}/to/${P1}`).filter((m) => m.at > since).length >= 2, 30_000, "board 0's link messages");
    const info = await freshInfo(P1);
    expect(info.links).toEqual({ to: [], from: [P0] });
    expect(info.linkIn).toBeGreaterThanOrEqual(2);
    expect(info.linkForged).toBe(0);
    expect(info.linkOld).toBeLessThanOrEqual(lateCopies(`${ROOT}/${P0}/to/${P1}`));
    expect((await freshInfo(P0)).links).toEqual({ to: [P1], from: [] });
    await stopSim(pair);
  }, 120_000);

  it("keys rotate A gives B the link key of A's new key: B keeps accepting A's readings", async () => {
    const pair = await startSim(["--devices", "2", "--seed", "link-rotate", "--link", "0:1"]);
    const [P0, P1] = pair.ids;
    await until(() => infos(P0).length > 0 && infos(P1).length > 0, 30_000, "both boards online");
    const topic = `${ROOT}/${P0}/to/${P1}`;
    await until(() => on(topic).length >= 1, 30_000, "board 0's first link message");
    const r = await runCliToEnd(["keys", "rotate", P0, "--timeout", "20"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${P1} now has the link key of ${P0}'s new key`);
    const since = Date.now();
    await until(() => on(topic).filter((m) => m.at > since).length >= 3, 30_000, "three link messages after the rotation");
    // signed with the link key of the new key, which B now holds
    const newLinkKey = linkKey(P0, P1);
    for (const m of on(topic).filter((x) => x.at > since + 1000)) {
      const split = splitSigned(new TextEncoder().encode(m.payload))!;
      expect(hmac(newLinkKey, topic + "\n" + Buffer.from(split.body).toString()).toString("hex").slice(0, 32)).toBe(split.sig);
    }
    const info = await freshInfo(P1);
    expect(info.links).toEqual({ to: [], from: [P0] });
    // a reading A sends between taking its key and B taking the new link key (tens of ms) counts as forged; without
    // the re-link every one after the rotation would
    expect(info.linkForged).toBeLessThanOrEqual(1);
    expect(info.linkIn).toBeGreaterThanOrEqual(3);
    await stopSim(pair);
  }, 150_000);
});

