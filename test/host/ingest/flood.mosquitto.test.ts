// A flood of 20,000 new device ids (retained junk info, valid-looking info and readings) through a real Mosquitto
// into a running dashboard while three known devices keep sending: the known devices keep updating, the newcomer
// table stays bounded, the heap stays bounded, and /api/state keeps answering (its latency during the flood is
// printed, not asserted tightly).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../../support/brokers";
import { until } from "../../support/until";
import { RunningDashboard, startDashboard } from "../../../host/dashboard/startDashboard";
import type { DashboardState } from "../../../host/view/dashboardData";
import { Keyring, newKeyHex, updateKeyringFile } from "../../../provisioning/keyring";
import { deviceSigned } from "../trust/deviceSigner";

const ROOT = "espdht/flood";
// a full collection before each heap measure, so what is compared is what stays alive
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
const liveHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};
const FLOOD_IDS = 20_000;
const KNOWN = ["sim-known-0", "sim-known-1", "sim-known-2"];
const info = (id: string) => ({ v: 1, id, fw: "0.1.0", model: "dht22", pin: 4, interval: 10, ip: "10.0.0.7", boot: 1, root: ROOT, caps: ["read"], dropped: 0, configError: null });

/** The kinds of junk `info` the flood carries, one per id in turn (each is rejected by the host for its own reason). */
export const FLOOD_JUNK_INFO: [string, (id: string) => string][] = [
  ["unknown field", (id) => JSON.stringify({ ...info(id), evil: "x".repeat(200) })],
  ["interval of a year", (id) => JSON.stringify({ ...info(id), interval: 31_536_000 })],
  ["fw of 3,000 characters", (id) => JSON.stringify({ ...info(id), fw: "x".repeat(3000) })],
  ["caps of 300 entries", (id) => JSON.stringify({ ...info(id), caps: Array(300).fill("read") })],
  ["invalid JSON", () => "{\"v\":1,"],
  ["payload over 4 KB", () => "x".repeat(5000)],
  ["id not matching the topic", () => JSON.stringify(info("sim-someone-else"))],
  ["pin that does not exist", (id) => JSON.stringify({ ...info(id), pin: 99 })],
];

let broker: RunningBroker;
let dash: RunningDashboard;
let dataDir: string;
let known: MqttClient[] = [];
let flooder: MqttClient;
/** clients that are not among the known devices' senders (closed with them) */
let extra: MqttClient[] = [];
let signing: ((id: string, kind: string, fields: object) => string) | null = null;
/** a device with a key that first shows up in the middle of the flood */
const LATE = "sim-late";
const KEYS = new Map([...KNOWN, LATE].map((id) => [id, newKeyHex()]));

/** A dashboard on a fresh data folder (with the known devices' keys in its keyring when `keyed`), the known devices and the flooder connected. */
async function setUp(keyed: boolean): Promise<void> {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-flood-"));
  let keyring: Keyring | null = null;
  signing = null;
  if (keyed) {
    const file = path.join(dataDir, "keys.json");
    updateKeyringFile(file, (d) => { for (const [id, key] of KEYS) d.devices[id] = { key, added: new Date().toISOString() }; });
    keyring = new Keyring(file);
    signing = (id, kind, fields) => deviceSigned(KEYS.get(id)!, `${ROOT}/${id}/${kind}`, fields);
  }
  const payload = (id: string, kind: string, fields: object) => (signing ? signing(id, kind, fields) : JSON.stringify(fields));
  dash = await startDashboard({ broker: { url: broker.url, username: null, password: null, ca: null }, root: ROOT, dataDir: path.join(dataDir, "data"), port: 0, keyring, log: () => {} });
  known = [];
  for (const id of KNOWN) {
    const c = await mqtt.connectAsync(broker.url, { clientId: id, reconnectPeriod: 0 });
    await c.publishAsync(`${ROOT}/${id}/status`, "online", { qos: 1, retain: true });
    await c.publishAsync(`${ROOT}/${id}/info`, payload(id, "info", info(id)), { qos: 1, retain: true });
    known.push(c);
  }
  flooder = await mqtt.connectAsync(broker.url, { clientId: "flooder", reconnectPeriod: 0 });
}

async function tearDown(): Promise<void> {
  for (const c of [...known, ...extra]) c.end(true);
  extra = [];
  flooder?.end(true);
  await dash?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}

beforeAll(async () => {
  // a loss test's broker: no per-client queue limit, so the known devices' readings are never dropped by Mosquitto
  broker = await startMosquitto(["max_queued_messages 0"]);
}, 60_000);

afterAll(async () => {
  await tearDown();
  // the broker keeps the flood's retained messages in its own process; they go with it
  await broker?.stop();
});

async function stateLatency(): Promise<{ ms: number; bytes: number; state: DashboardState }> {
  const t0 = performance.now();
  const res = await fetch(new URL("/api/state", dash.url));
  const body = await res.text();
  return { ms: performance.now() - t0, bytes: Buffer.byteLength(body), state: JSON.parse(body) as DashboardState };
}

describe("a flood of 20,000 new device ids", () => {
  it.each([
    ["without a keyring (valid readings prove a device)", false],
    ["with a keyring (only the known devices can prove themselves)", true],
  ])("%s: the known devices keep updating, the tables and the heap stay bounded, the API answers", async (name, keyed) => {
    await tearDown();
    await setUp(keyed);
    let seq = 0;
    const sendKnown = () => {
      seq++;
      for (const [i, c] of known.entries()) {
        const id = KNOWN[i];
        const r = { v: 1, id, boot: 1, seq, up: seq * 100, ts: Date.now(), temperature: 21, humidity: 40 };
        c.publish(`${ROOT}/${id}/reading`, signing ? signing(id, "reading", r) : JSON.stringify(r), { qos: 1 });
      }
    };
    for (let i = 0; i < 5; i++) sendKnown();
    await until(() => KNOWN.every((id) => dash.ingest.fleet.get(id)?.readings === 5), 15_000, "the known devices' first readings");
    expect(KNOWN.every((id) => dash.ingest.fleet.isEstablished(id))).toBe(true);
    const knownTimer = setInterval(sendKnown, 100);

    const heapBefore = liveHeap();
    const latencies: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        latencies.push((await stateLatency()).ms);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    const seqAtStart = seq;
    const readingsAtStart = KNOWN.map((id) => dash.ingest.fleet.get(id)!.readings);
    const junkSent = new Map<string, number>();
    const t0 = Date.now();
    for (let i = 0; i < FLOOD_IDS; i++) {
      const id = `flood-${String(i).padStart(5, "0")}`;
      const [kind, junk] = FLOOD_JUNK_INFO[i % FLOOD_JUNK_INFO.length];
      junkSent.set(kind, (junkSent.get(kind) ?? 0) + 1);
      flooder.publish(`${ROOT}/${id}/info`, junk(id), { qos: 0, retain: true });
      flooder.publish(`${ROOT}/${id}/info`, JSON.stringify(info(id)), { qos: 0 });
      flooder.publish(`${ROOT}/${id}/reading`, JSON.stringify({ v: 1, id, boot: 1, seq: 1, up: 1, ts: Date.now(), temperature: 99 - 80, humidity: 1 }), { qos: 0 });
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
      if (keyed && i === FLOOD_IDS / 2) {
        const late = await mqtt.connectAsync(broker.url, { clientId: LATE, reconnectPeriod: 0 });
        extra.push(late);
        for (let n = 1; n <= 5; n++) {
          const r = { v: 1, id: LATE, boot: 1, seq: n, up: n * 100, ts: Date.now(), temperature: 22, humidity: 41 };
          late.publish(`${ROOT}/${LATE}/reading`, signing!(LATE, "reading", r), { qos: 1 });
        }
      }
    }
    await flooder.publishAsync(`${ROOT}/flood-end/status`, "online", { qos: 1 }); // flushes the flooder's socket
    const sentMs = Date.now() - t0;

    // the dashboard has taken everything in once its counts stop moving
    // (the known devices only add accepted readings, so refused and rejected messages are the flood's)
    const processed = () => dash.ingest.refused + dash.ingest.rejected;
    for (let last = -1, deadline = Date.now() + 120_000; processed() !== last || last <= FLOOD_IDS; ) {
      if (Date.now() > deadline) throw new Error(`timed out: the flood to be taken in (${processed()} messages so far)`);
      last = processed();
      await new Promise((r) => setTimeout(r, 1500));
    }
    const floodMs = Date.now() - t0;
    // known devices keep sending for another second after the flood
    const seqAfterFlood = seq;
    await new Promise((r) => setTimeout(r, 1000));
    clearInterval(knownTimer);
    polling = false;
    await poller;
    await until(() => KNOWN.every((id) => dash.ingest.fleet.get(id)!.seq === seq), 15_000, "the known devices' last readings");
    const heapAfter = liveHeap();
    const after = await stateLatency();
    const f = dash.ingest.fleet.flood();

    const sorted = [...latencies].sort((a, b) => a - b);
    process.stdout.write(
      `flood ${name}${keyed ? " (the first run's 20,000 retained junk info arrive at subscribe as well)" : ""}:\n` +
      `flood: ${FLOOD_IDS} new ids (${FLOOD_IDS * 3} messages, junk info kinds: ${[...junkSent].map(([k, n]) => `${k} ${n}`).join(", ")}) sent in ${sentMs} ms, taken in within ${floodMs} ms\n` +
        `flood: admitted ${f.admitted}, refused ${f.refused}, evicted ${f.evicted}, promoted ${f.promoted}; tables ${f.established} proven / ${f.newcomers} new; rejected ${dash.ingest.rejected}\n` +
        `flood: /api/state during the flood: ${latencies.length} requests, median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms; after: ${after.bytes} bytes\n` +
        `flood: heap ${(heapBefore / 1e6).toFixed(0)} MB -> ${(heapAfter / 1e6).toFixed(0)} MB\n`,
    );

    // every known device took every reading sent during the flood, and is still established
    for (const [i, id] of KNOWN.entries()) {
      const d = dash.ingest.fleet.get(id)!;
      expect(d.readings - readingsAtStart[i]).toBe(seq - seqAtStart);
      expect(dash.ingest.fleet.isEstablished(id)).toBe(true);
    }
    expect(seqAfterFlood).toBeGreaterThan(seqAtStart);
    // the tables stay within their limits, and the flood was turned away at the admission rate
    expect(f.newcomers).toBeLessThanOrEqual(f.maxNewcomers);
    expect(f.established).toBeLessThanOrEqual(f.maxEstablished);
    expect(f.refused).toBeGreaterThan(FLOOD_IDS);
    expect(f.admitted).toBeLessThan(f.burst + (floodMs / 1000) * f.perSecond + KNOWN.length + 10);
    expect(after.state.flood.refused).toBe(f.refused);
    expect(after.bytes).toBeLessThan(500_000);
    // generous: the flood's 60,000 messages leave at most a few tens of MB alive
    expect(heapAfter - heapBefore).toBeLessThan(100_000_000);
    expect(latencies.length).toBeGreaterThan(0);
    if (keyed) {
      // a device with a key is let in at once in the middle of the flood, every reading taken
      expect(dash.ingest.fleet.get(LATE)!.readings).toBe(5);
      expect(dash.ingest.fleet.isEstablished(LATE)).toBe(true);
      // strangers cannot prove themselves: they stay newcomers, and the oldest are evicted for the next
      expect(f.established).toBe(KNOWN.length + 1);
      expect(f.newcomers).toBe(f.maxNewcomers);
      expect(f.evicted).toBe(f.admitted - KNOWN.length - 1 - f.maxNewcomers);
    } else {
      // every admitted id sent a valid reading and so proved itself; only the closing "flood-end" status may not have
      expect(f.promoted).toBeGreaterThanOrEqual(f.admitted - 1);
      expect(f.newcomers).toBeLessThanOrEqual(1);
    }
  }, 240_000);
});
