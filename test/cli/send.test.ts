// `espdht send` end to end: the real CLI, a real Mosquitto and MQTT.js clients answering as devices, some with a
// key in the keyring (they check each command's signature as the firmware does and sign their replies).
import fs from "node:fs";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../support/brokers";
import { runCli, tempUserEnv } from "../support/runCli";
import { ENVELOPE_KEYS, validateCommand } from "../../firmware/contract";
import { checkSignature } from "../../host/trust/signature";
import { newKeyHex, updateKeyringFile } from "../../provisioning/keyring";
import { deviceSigned } from "../host/trust/deviceSigner";

const ROOT = "espdht/sendtest";
let broker: RunningBroker;
let env: NodeJS.ProcessEnv;
let dir: string;
const devices: MqttClient[] = [];

interface Received {
  topic: string;
  payload: string;
  /** the signature check under the device's key (null: the device has none) */
  check: string | null;
}

/** A device that answers every valid command addressed to it; `fail` answers ok:false. With a key it signs. */
async function fakeDevice(id: string, behaviour: "ok" | "fail" | "silent" | "unsigned-reply" = "ok", key: string | null = null, infoExtra: object = {}): Promise<{ client: MqttClient; received: Received[] }> {
  const client = await mqtt.connectAsync(broker.url, { clientId: `fake-${id}`, clean: true });
  const received: Received[] = [];
  const reply = (fields: object) => {
    const t = `${ROOT}/${id}/reply`;
    client.publish(t, key && behaviour !== "unsigned-reply" ? deviceSigned(key, t, fields) : JSON.stringify(fields), { qos: 1 });
  };
  client.on("message", (topic, payload) => {
    const cmd = JSON.parse(payload.toString());
    if (cmd.to !== undefined && cmd.to !== id) return; // another device's copy
    received.push({ topic, payload: payload.toString(), check: key ? checkSignature(Buffer.from(key, "hex"), topic, payload).result : null });
    if (behaviour === "silent") return;
    if (key && received.at(-1)!.check !== "verified") return reply({ re: null, ok: false, error: "bad signature" });
    const v = validateCommand(cmd);
    if (!v.ok) return reply({ re: cmd.id ?? null, ok: false, error: v.error });
    if (behaviour === "fail") return reply({ re: v.value.id, ok: false, error: "sensor busy" });
    reply({ re: v.value.id, ok: true, op: v.value.op, ...(v.value.set ?? {}) });
  });
  await client.subscribeAsync([`${ROOT}/${id}/cmd`, `${ROOT}/all/cmd`], { qos: 1 });
  const info = { v: 1, id, fw: "0.2.0", model: "dht22", pin: 4, interval: 10, ip: null, boot: 1, root: ROOT, caps: ["read", "set", "ping"], dropped: 0, configError: null, ...infoExtra };
  const infoTopic = `${ROOT}/${id}/info`;
  await client.publishAsync(infoTopic, key ? deviceSigned(key, infoTopic, info) : JSON.stringify(info), { qos: 1, retain: true });
  devices.push(client);
  return { client, received };
}

const KEYS: Record<string, string> = { "sim-sendk": newKeyHex(), "sim-sendf": newKeyHex() };

beforeAll(async () => {
  broker = await startMosquitto();
  ({ env, dir } = tempUserEnv({ broker: broker.url, root: ROOT }));
  // the default keyring: keys.json next to the config
  updateKeyringFile(path.join(dir, "keys.json"), (d) => {
    for (const id of Object.keys(KEYS)) d.devices[id] = { key: KEYS[id], added: new Date().toISOString() };
  });
});
afterAll(async () => {
  for (const d of devices) d.end(true);
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("espdht send", () => {
  it("signs the command with the target's key (to, n, exp) and shows the verified reply with --json", async () => {
    const dev = await fakeDevice("sim-sendk", "ok", KEYS["sim-sendk"]);
    const before = Date.now();
    const run = runCli(["send", "sim-sendk", "set", "interval=30", "--json"], env);
    expect(await run.done).toBe(0);
    const reply = JSON.parse(run.stdout().trim());
    expect(reply).toMatchObject({ ok: true, op: "set", interval: 30, trust: "verified" });
    expect(reply).not.toHaveProperty("sig");
    expect(dev.received).toHaveLength(1);
    const { topic, payload, check } = dev.received[0];
    expect(topic).toBe(`${ROOT}/sim-sendk/cmd`);
    expect(check).toBe("verified");
    const cmd = JSON.parse(payload);
    expect(Object.keys(cmd)).toEqual(["id", "op", "interval", ...ENVELOPE_KEYS]);
    expect(cmd).toMatchObject({ id: reply.re, op: "set", interval: 30, to: "sim-sendk" });
    expect(cmd.n).toBeGreaterThanOrEqual(before);
    expect(cmd.exp - Math.floor(cmd.n / 1000)).toBe(300);
    expect(run.stderr() + run.stdout()).not.toContain(KEYS["sim-sendk"]);
  });

  it("--expires sets the expiry; a second command gets a larger n", async () => {
    const dev = await fakeDevice("sim-sendf", "ok", KEYS["sim-sendf"]);
    for (const args of [["--expires", "20"], []]) expect(await runCli(["send", "sim-sendf", "ping", ...args], env).done).toBe(0);
    const [a, b] = dev.received.map((r) => JSON.parse(r.payload));
    expect(a.exp - Math.floor(a.n / 1000)).toBe(20);
    expect(b.n).toBeGreaterThan(a.n);
  });

  it("keeps the plain command for a device without a key, and says it goes unsigned", async () => {
    const dev = await fakeDevice("sim-send1");
    const run = runCli(["send", "sim-send1", "set", "interval=30", "--json"], env);
    expect(await run.done).toBe(0);
    const reply = JSON.parse(run.stdout().trim());
    expect(reply).toMatchObject({ ok: true, op: "set", interval: 30, trust: "unsigned" });
    expect(dev.received.map((r) => JSON.parse(r.payload))).toEqual([{ id: reply.re, op: "set", interval: 30 }]);
    expect(run.stderr()).toContain(`no key for sim-send1 in ${path.join(dir, "keys.json")}: the command goes unsigned`);
  });

  it("exits 1 when the device answers ok:false", async () => {
    await fakeDevice("sim-send2", "fail");
    const run = runCli(["send", "sim-send2", "read"], env);
    expect(await run.done).toBe(1);
    expect(run.stdout()).toContain("FAILED: sensor busy");
  });

  it("exits 3 with a clear message on timeout", async () => {
    await fakeDevice("sim-send3", "silent");
    const run = runCli(["send", "sim-send3", "ping", "--timeout", "1"], env);
    expect(await run.done).toBe(3);
    expect(run.stderr()).toContain("no reply from sim-send3 within 1 s");
    expect(run.stdout()).toBe("");
  });

  it("ignores a reply that does not verify under the device's key", async () => {
    const key = newKeyHex();
    updateKeyringFile(path.join(dir, "keys.json"), (d) => { d.devices["sim-sendu"] = { key, added: "" }; });
    const dev = await fakeDevice("sim-sendu", "unsigned-reply", key);
    const run = runCli(["send", "sim-sendu", "ping", "--timeout", "1.5"], env);
    expect(await run.done).toBe(3);
    expect(dev.received).toHaveLength(1);
    expect(run.stderr()).toContain("ignored a reply from sim-sendu: reply: unsigned");
  });

  it("'all' sends one copy per known device on the shared topic, each signed with that device's key, and names who did not answer", async () => {
    const copies: { payload: string }[] = [];
    const spy = await mqtt.connectAsync(broker.url, { clientId: "spy", clean: true });
    spy.on("message", (_t, p) => copies.push({ payload: p.toString() }));
    await spy.subscribeAsync(`${ROOT}/all/cmd`, { qos: 1 });
    const run = runCli(["send", "all", "ping", "--timeout", "2", "--json"], env);
    expect(await run.done).toBe(1); // sim-send2 answers ok:false
    spy.end(true);
    const known = ["sim-send1", "sim-send2", "sim-send3", "sim-sendf", "sim-sendk", "sim-sendu"];
    const wire = copies.map((c) => JSON.parse(c.payload));
    expect(wire.map((c) => c.to).sort()).toEqual(known);
    expect(new Set(wire.map((c) => c.id)).size).toBe(1);
    for (const c of copies) {
      const to = JSON.parse(c.payload).to;
      const key = KEYS[to];
      if (key) expect(checkSignature(Buffer.from(key, "hex"), `${ROOT}/all/cmd`, Buffer.from(c.payload)).result).toBe("verified");
      else if (to !== "sim-sendu") expect(Object.keys(JSON.parse(c.payload))).toEqual(["id", "op", "to"]);
    }
    const replies = JSON.parse(run.stdout()) as { device: string; ok: boolean; trust: string }[];
    expect(replies.map((r) => [r.device, r.trust]).sort()).toEqual([["sim-send1", "unsigned"], ["sim-send2", "unsigned"], ["sim-sendf", "verified"], ["sim-sendk", "verified"]]);
    expect(run.stderr()).toContain("4 of 6 device(s) answered; no reply within 2 s from sim-send3, sim-sendu");
  });

  it("'all' with no known device says so and exits 3", async () => {
    const run = runCli(["send", "all", "ping", "--topic-root", "espdht/nobody", "--keyring", path.join(dir, "empty-keys.json")], env);
    expect(await run.done).toBe(3);
    expect(run.stderr()).toContain("no known device under espdht/nobody");
  });

  it("a broken keyring is an error naming the file (exit 2)", async () => {
    const bad = path.join(dir, "broken-keys.json");
    fs.writeFileSync(bad, "{ nope");
    const run = runCli(["send", "sim-x", "read", "--keyring", bad], env);
    expect(await run.done).toBe(2);
    expect(run.stderr()).toContain(`keyring: ${bad}: not valid JSON`);
  });

  it("set rule=...@D warns (and still sends) when the device's verified info shows D not in its links.from", async () => {
    const id = "sim-sendr";
    const key = newKeyHex();
    updateKeyringFile(path.join(dir, "keys.json"), (d) => { d.devices[id] = { key, added: new Date().toISOString() }; });
    const dev = await fakeDevice(id, "ok", key, { links: { to: [], from: ["sim-peer1"] } });
    const unlinked = runCli(["send", id, "set", "rule=temperature@sim-peer2>24<23:pin=5"], env);
    expect(await unlinked.done, unlinked.stderr()).toBe(0);
    expect(unlinked.stderr()).toContain(`warning: ${id} does not accept readings from sim-peer2 yet (its info lists links from: sim-peer1), so the rule's output stays in failsafe: run 'espdht link sim-peer2 ${id}'`);
    expect(dev.received.at(-1)!.payload).toContain("sim-peer2");
    const linked = runCli(["send", id, "set", "rule=temperature@sim-peer1>24<23:pin=5"], env);
    expect(await linked.done, linked.stderr()).toBe(0);
    expect(linked.stderr()).not.toContain("warning");
    // an info that does not verify proves nothing: no warning from a forger's info
    const forged = "sim-sendu";
    updateKeyringFile(path.join(dir, "keys.json"), (d) => { d.devices[forged] = { key: newKeyHex(), added: new Date().toISOString() }; });
    await fakeDevice(forged, "silent", newKeyHex());
    const unverified = runCli(["send", forged, "set", "rule=temperature@sim-peer2>24<23:pin=5", "--timeout", "1"], env);
    expect(await unverified.done).toBe(3);
    expect(unverified.stderr()).not.toContain("does not accept readings");
  });

  it("--help lists every exit code (2: bad input) and says where rekey and link/unlink go", async () => {
    const help = runCli(["send", "--help"], env);
    expect(await help.done).toBe(0);
    expect(help.stdout()).toContain("2 bad input");
    expect(help.stdout()).toContain("Ops: read, set, get, ping, restart (the device's other ops, rekey and link/unlink,");
    expect(help.stdout()).toContain("'espdht keys rotate' and 'espdht link' / 'espdht unlink'");
  });

  it.each([
    [["send", "sim-x", "fly"], "'fly' is not an op: send takes read|set|get|ping|restart (a key change goes through 'espdht keys rotate', links through 'espdht link' and 'espdht unlink')"],
    [["send", "sim-x", "set", "speed=3"], "unknown setting 'speed'"],
    [["send", "sim-x", "set", "interval=1"], "interval must be 2..86400 seconds"],
    [["send", "sim-x", "set", "interval"], "'interval' is not key=value"],
    [["send", "sim-x", "rekey"], "use 'espdht keys rotate DEVICE'"],
    [["send", "bad<id>", "read"], "is not a device id"],
    [["send", "sim-x", "read", "--timeout", "abc"], "--timeout: 'abc' is not a number"],
    [["send", "sim-x", "read", "--expires", "0"], "--expires: 0 is out of range"],
    [["send", "sim-x", "read", "--broker", "http://x"], "--broker: 'http:' is not supported"],
  ])("rejects %j with a clear error (exit 2)", async (args, message) => {
    const run = runCli(args, env);
    expect(await run.done).toBe(2);
    expect(run.stderr()).toContain(message);
  });
});
