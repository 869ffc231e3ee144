// Ingest + store against a real Mosquitto, with MQTT.js clients acting as devices.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../../support/brokers";
import { MqttIngest, IngestEvent } from "../../../host/ingest/ingest";
import { dashboardClientId } from "../../../host/ingest/dashboardClientId";
import { WorkerStore } from "../../../host/store/workerStore";
import { countReadings } from "../../../host/store/historyQueries";
import { until } from "../../support/until";

const ROOT = "espdht/itest";
let broker: RunningBroker;
let dataDir: string;

beforeAll(async () => {
  broker = await startMosquitto();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-ingest-"));
});
afterAll(async () => {
  await broker?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function settings() {
  return { url: broker.url, username: null, password: null, ca: null };
}
async function device(id: string, will = true): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, {
    clientId: id,
    clean: false,
    reconnectPeriod: 0,
    will: will ? { topic: `${ROOT}/${id}/status`, payload: Buffer.from("offline"), qos: 1, retain: true } : undefined,
  });
}
function reading(id: string, seq: number, boot = 1) {
  return JSON.stringify({ v: 1, id, boot, seq, up: seq * 2000, ts: Date.now(), temperature: 20 + seq / 100, humidity: 45 });
}

describe("MqttIngest against Mosquitto", () => {
  it("stores valid readings, tracks status and info, rejects bad payloads and keeps going", async () => {
    const store = await WorkerStore.open(path.join(dataDir, "a"), { flushMs: 50 });
    const ingest = await MqttIngest.start({ broker: settings(), root: ROOT, clientId: "espdht-dash-test-a", clean: true, store });
    const events: IngestEvent[] = [];
    ingest.on((e) => events.push(e));
    const dev = await device("sim-one");
    await dev.publishAsync(`${ROOT}/sim-one/status`, "online", { qos: 1, retain: true });
    const info = { v: 1, id: "sim-one", fw: "0.1.0", model: "dht22", pin: 4, interval: 2, ip: "10.0.0.2", boot: 1, root: ROOT, caps: ["read"], dropped: 0, configError: null };
    await dev.publishAsync(`${ROOT}/sim-one/info`, JSON.stringify(info), { qos: 1, retain: true });
    await dev.publishAsync(`${ROOT}/sim-one/reading`, "{garbage", { qos: 1 });
    await dev.publishAsync(`${ROOT}/sim-one/reading`, '{"v":1,"id":"sim-one","boot":1,"seq":1,"up":1,"ts":null,"temperature":NaN,"humidity":1}', { qos: 1 });
    await dev.publishAsync(`${ROOT}/sim-one/reading`, Buffer.alloc(10_000, 0x20), { qos: 1 });
    await dev.publishAsync(`${ROOT}/sim-one/unknown`, "x", { qos: 1 }); // not subscribed: never arrives
    for (let seq = 1; seq <= 50; seq++) await dev.publishAsync(`${ROOT}/sim-one/reading`, reading("sim-one", seq), { qos: 1 });
    await dev.publishAsync(`${ROOT}/sim-one/reading`, reading("sim-one", 50), { qos: 1 }); // duplicate

    await until(() => ingest.accepted === 50 && ingest.duplicates === 1, 10_000, "50 readings");
    await store.settle();
    expect(countReadings(store.db, "sim-one")).toBe(50);
    const d = ingest.fleet.get("sim-one")!;
    expect(d).toMatchObject({ online: true, boot: 1, seq: 50, gaps: 0, duplicates: 1, readings: 50, info: { ip: "10.0.0.2" } });
    expect(d.rejected.total).toBe(3);
    expect(Object.keys(d.rejected.byReason).sort()).toEqual(["reading: invalid JSON", "reading: payload of 10000 bytes exceeds 4096"]);
    expect(events.filter((e) => e.kind === "reading")).toHaveLength(50);
    expect(store.devices()[0]).toMatchObject({ id: "sim-one", status: "online", info: { fw: "0.1.0" } });

    // the will fires when the device's socket dies without DISCONNECT
    (dev as unknown as { stream: { destroy(): void } }).stream.destroy();
    await until(() => ingest.fleet.get("sim-one")!.online === false, 10_000, "the will");
    await store.settle();
    expect(store.devices()[0].status).toBe("offline");
    await ingest.close();
    await store.close();
    dev.end(true);
  });

  it("a persistent session receives the QoS 1 readings published while the dashboard was down", async () => {
    const dir = path.join(dataDir, "b");
    const clientId = dashboardClientId(dir);
    expect(dashboardClientId(dir)).toBe(clientId); // kept in the data folder
    let store = await WorkerStore.open(dir, { flushMs: 50 });
    let ingest = await MqttIngest.start({ broker: settings(), root: ROOT, clientId, clean: false, store });
    const dev = await device("sim-two", false);
    await dev.publishAsync(`${ROOT}/sim-two/reading`, reading("sim-two", 1), { qos: 1 });
    await until(() => ingest.accepted === 1, 10_000, "the first reading");
    await ingest.close();
    await store.close();

    // the dashboard is down: the device keeps publishing
    for (let seq = 2; seq <= 21; seq++) await dev.publishAsync(`${ROOT}/sim-two/reading`, reading("sim-two", seq), { qos: 1 });

    store = await WorkerStore.open(dir, { flushMs: 50 });
    ingest = await MqttIngest.start({ broker: settings(), root: ROOT, clientId, clean: false, store });
    await until(() => ingest.accepted === 20, 10_000, "the readings queued by the broker");
    await store.settle();
    expect(countReadings(store.db, "sim-two")).toBe(21);
    expect(ingest.fleet.get("sim-two")).toMatchObject({ seq: 21, gaps: 0 });
    await ingest.close();
    await store.close();
    await dev.endAsync();
  });

  it("reconnects by itself after the connection drops and keeps receiving", async () => {
    const ingest = await MqttIngest.start({ broker: settings(), root: ROOT, clientId: "espdht-dash-test-c", clean: false });
    const states: boolean[] = [];
    ingest.on((e) => { if (e.kind === "connection") states.push(e.connected); });
    const dev = await device("sim-three", false);
    await dev.publishAsync(`${ROOT}/sim-three/reading`, reading("sim-three", 1), { qos: 1 });
    await until(() => ingest.accepted === 1, 10_000, "the first reading");
    (ingest.client as unknown as { stream: { destroy(): void } }).stream.destroy();
    await until(() => states.includes(false) && states.at(-1) === true, 15_000, "the reconnect");
    await dev.publishAsync(`${ROOT}/sim-three/reading`, reading("sim-three", 2), { qos: 1 });
    await until(() => ingest.accepted === 2, 10_000, "a reading after the reconnect");
    await ingest.close();
    await dev.endAsync();
  });

  it("fails clearly when the broker is unreachable", async () => {
    await expect(
      MqttIngest.start({ broker: { ...settings(), url: "mqtt://127.0.0.1:1" }, root: ROOT, clientId: "espdht-watch-x", clean: true }),
    ).rejects.toThrow(/cannot connect to mqtt:\/\/127\.0\.0\.1:1/);
  });
});
