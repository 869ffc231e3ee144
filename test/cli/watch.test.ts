// `espdht watch` end to end (real CLI, real Mosquitto, MQTT.js devices) and its table rendering.
import fs from "node:fs";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../support/brokers";
import { runCli, tempUserEnv } from "../support/runCli";
import { FleetState } from "../../host/ingest/deviceState";
import { parseDeviceMessage } from "../../host/ingest/parseMessage";
import { formatAgeShort, renderWatchTable, WATCH_HEADER } from "../../host/terminal/watchTable";
import { until } from "../support/until";
import { Keyring, newKeyHex, updateKeyringFile } from "../../provisioning/keyring";
import { DeviceTrust } from "../../host/trust/deviceTrust";
import { deviceSigned, withWrongSignature } from "../host/trust/deviceSigner";

const ROOT = "espdht/watchtest";
let broker: RunningBroker;
let env: NodeJS.ProcessEnv;
let dir: string;
let dev: MqttClient;

function reading(seq: number) {
  return JSON.stringify({ v: 1, id: "sim-w1", boot: 3, seq, up: seq * 2000, ts: null, temperature: 21.25, humidity: 44.5 });
}

beforeAll(async () => {
  broker = await startMosquitto();
  ({ env, dir } = tempUserEnv({ broker: broker.url, root: ROOT }));
  dev = await mqtt.connectAsync(broker.url, { clientId: "sim-w1", clean: true });
  await dev.publishAsync(`${ROOT}/sim-w1/status`, "online", { qos: 1, retain: true });
});
afterAll(async () => {
  dev?.end(true);
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("espdht watch", () => {
  it("--help names every column of the table, LINKS, GROUPS and OUTPUT included", async () => {
    const run = runCli(["watch", "--help"], env);
    expect(await run.done).toBe(0);
    for (const column of WATCH_HEADER) expect(run.stdout()).toContain(column);
    expect(run.stdout()).toMatch(/LINKS "to A,B" the devices it sends its\s+readings to/);
  });

  it("--json prints one JSON line per accepted reading on stdout, logs on stderr, stops on Ctrl-C", async () => {
    const run = runCli(["watch", "--json"], env);
    await until(() => run.stderr().includes("Ctrl-C to stop"), 20_000, "watch to subscribe"); // printed once subscribed
    await dev.publishAsync(`${ROOT}/sim-w1/reading`, "not json", { qos: 1 });
    for (let seq = 1; seq <= 3; seq++) await dev.publishAsync(`${ROOT}/sim-w1/reading`, reading(seq), { qos: 1 });
    await dev.publishAsync(`${ROOT}/sim-w1/reading`, reading(3), { qos: 1 }); // duplicate: not printed
    await until(() => run.stdout().split("\n").filter(Boolean).length >= 3, 10_000, "three lines");
    await new Promise((r) => setTimeout(r, 300));
    run.child.kill("SIGINT");
    expect(await run.done).toBe(0);
    const lines = run.stdout().trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3]);
    expect(lines[0]).toMatchObject({ id: "sim-w1", boot: 3, temperature: 21.25, humidity: 44.5, trust: "unsigned" });
    expect(typeof lines[0].received).toBe("number");
    expect(run.stderr()).toContain("rejected espdht/watchtest/sim-w1/reading: reading: invalid JSON");
  });

  it("--json marks a keyed device's readings verified and logs its forged ones as rejected, never printing them", async () => {
    const key = newKeyHex();
    const keyring = path.join(dir, "watch-keys.json");
    updateKeyringFile(keyring, (d) => { d.devices["sim-wk"] = { key, added: "" }; });
    const run = runCli(["watch", "--json", "--keyring", keyring], env);
    await until(() => run.stderr().includes("Ctrl-C to stop"), 20_000, "watch to subscribe");
    const t = `${ROOT}/sim-wk/reading`;
    const r = (seq: number, extra: object = {}) => ({ v: 1, id: "sim-wk", boot: 1, seq, up: seq, ts: null, temperature: 20, humidity: 40, ...extra });
    await dev.publishAsync(t, deviceSigned(key, t, r(1)), { qos: 1 });
    await dev.publishAsync(t, withWrongSignature(deviceSigned(key, t, r(2, { temperature: 79.9 }))), { qos: 1 });
    await dev.publishAsync(t, JSON.stringify(r(2, { temperature: 79.9 })), { qos: 1 });
    await dev.publishAsync(t, deviceSigned(key, t, r(1)), { qos: 1 });
    await dev.publishAsync(t, deviceSigned(key, t, r(2)), { qos: 1 });
    await until(() => run.stdout().split("\n").filter(Boolean).length >= 2 && run.stderr().includes("replayed"), 10_000, "two lines and the rejections");
    run.child.kill("SIGINT");
    expect(await run.done).toBe(0);
    const lines = run.stdout().trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.seq, l.temperature, l.trust])).toEqual([[1, 20, "verified"], [2, 20, "verified"]]);
    expect(lines[0]).not.toHaveProperty("sig");
    for (const reason of ["reading: bad-signature", "reading: unsigned", "reading: replayed"]) expect(run.stderr()).toContain(`rejected ${t}: ${reason}`);
    expect(run.stderr() + run.stdout()).not.toContain(key);
  });

  it("--once --json prints the current state (retained status) and exits", async () => {
    const run = runCli(["watch", "--once", "--json", "--wait", "2"], env);
    expect(await run.done).toBe(0);
    const devices = JSON.parse(run.stdout());
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ id: "sim-w1", online: true, trust: "unsigned", keyFingerprint: null });
  });

  it("--once exits 1 with a message when no device is there", async () => {
    const run = runCli(["watch", "--once", "--wait", "0.5", "--topic-root", "espdht/empty"], env);
    expect(await run.done).toBe(1);
    expect(run.stderr()).toContain("no device seen under espdht/empty");
  });
});

describe("watch table", () => {
  it("renders one padded row per device with status, values, age, gaps and errors", () => {
    const s = new FleetState();
    const enc = (x: string) => new TextEncoder().encode(x);
    s.apply(parseDeviceMessage(ROOT, `${ROOT}/sim-w1/status`, enc("online")), 0);
    s.apply(parseDeviceMessage(ROOT, `${ROOT}/sim-w1/reading`, enc(reading(1))), 1000);
    s.apply(parseDeviceMessage(ROOT, `${ROOT}/sim-w1/reading`, enc(reading(4))), 2000);
    s.apply(parseDeviceMessage(ROOT, `${ROOT}/sim-w1/reading`, enc(JSON.stringify({ v: 1, id: "sim-w1", boot: 3, seq: 5, up: 1, ts: null, error: "checksum" }))), 3000);
    const lines = renderWatchTable(s.list(), 8000, false);
    expect(lines[0]).toMatch(/^DEVICE\s+STATUS\s+TRUST\s+GROUPS\s+TEMP °C\s+HUM %\s+OUTPUT\s+LINKS\s+AGE\s+SEQ\s+GAPS/);
    expect(lines[1].split(/\s{2,}/)).toEqual(["sim-w1", "online", "unsigned", "-", "(checksum)", "-", "-", "5s", "3:5", "2", "0", "0", "1 (checksum 1)", "0", "-"]);
    expect(renderWatchTable(s.list(), 8000, true)[1]).toContain("\x1b[32monline");
  });

  it("shows a verified badge for a device whose readings verify under its key", () => {
    const s = new FleetState();
    const key = newKeyHex();
    const t = `${ROOT}/sim-v/reading`;
    const ring = new Keyring(null);
    ring.bind("sim-v", key);
    const trust = new DeviceTrust(ring);
    s.apply(parseDeviceMessage(ROOT, t, new TextEncoder().encode(deviceSigned(key, t, { v: 1, id: "sim-v", boot: 1, seq: 1, up: 1, ts: null, temperature: 20, humidity: 40 })), trust), 1000);
    const row = renderWatchTable(s.list(), 1000, true)[1];
    expect(row).toContain("\x1b[32mverified");
    expect(renderWatchTable(s.list(), 1000, false)[1].split(/\s{2,}/).slice(0, 5)).toEqual(["sim-v", "online", "verified", "-", "20.0"]);
  });

  it("formats ages", () => {
    expect([formatAgeShort(null), formatAgeShort(3000), formatAgeShort(300_000), formatAgeShort(3 * 3_600_000), formatAgeShort(3 * 86_400_000)]).toEqual(["-", "3s", "5m", "3h", "3d"]);
  });
});
