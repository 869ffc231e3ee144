// Signed readings through a real Mosquitto into the ingest and the store: a device with a key (an MQTT.js client
// signing as the firmware does) and a forger on the same broker. Only the real readings are stored; every forged
// one is rejected with its reason while the real ones keep flowing.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../../support/brokers";
import { MqttIngest } from "../../../host/ingest/ingest";
import { WorkerStore } from "../../../host/store/workerStore";
import { countReadings } from "../../../host/store/historyQueries";
import { DeviceTrust } from "../../../host/trust/deviceTrust";
import { Keyring, newKeyHex, updateKeyringFile } from "../../../provisioning/keyring";
import { until } from "../../support/until";
import { deviceSigned, withWrongSignature } from "./deviceSigner";

const ROOT = "espdht/trusttest";
const ID = "sim-signed1";
const KEY = newKeyHex();
let broker: RunningBroker;
let dir: string;
let device: MqttClient;
let forger: MqttClient;

beforeAll(async () => {
  broker = await startMosquitto();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-trustmq-"));
  updateKeyringFile(path.join(dir, "keys.json"), (d) => { d.devices[ID] = { key: KEY, added: new Date().toISOString() }; });
  device = await mqtt.connectAsync(broker.url, { clientId: "d-device1", clean: true });
  forger = await mqtt.connectAsync(broker.url, { clientId: "forger", clean: true });
});
afterAll(async () => {
  device?.end(true);
  forger?.end(true);
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function reading(seq: number, extra: object = {}) {
  return { v: 1, id: ID, boot: 3, seq, up: seq * 2000, ts: Date.now(), temperature: 21 + seq / 10, humidity: 45, ...extra };
}
const topic = `${ROOT}/${ID}/reading`;

describe("signed readings against Mosquitto", () => {
  it("stores the verified readings and rejects the forged ones with their reasons", async () => {
    const store = await WorkerStore.open(path.join(dir, "store"), { flushMs: 50 });
    const trust = new DeviceTrust(new Keyring(path.join(dir, "keys.json")));
    const ingest = await MqttIngest.start({ broker: { url: broker.url, username: null, password: null, ca: null }, root: ROOT, clientId: "espdht-dash-trust", clean: true, store, trust, log: () => {} });
    const info = { v: 1, id: ID, fw: "0.2.0", model: "dht22", pin: 4, interval: 2, ip: null, boot: 3, root: ROOT, caps: ["read"], dropped: 0, configError: null };
    await device.publishAsync(`${ROOT}/${ID}/info`, deviceSigned(KEY, `${ROOT}/${ID}/info`, info), { qos: 1, retain: true });
    const published: string[] = [];
    const forgeries: [string, string][] = [
      [withWrongSignature(deviceSigned(KEY, topic, reading(4, { temperature: 79.9 }))), "reading: bad-signature"],
      [JSON.stringify(reading(5, { temperature: 79.9 })), "reading: unsigned"],
      ["replay", "reading: replayed"],
      [JSON.stringify(reading(1, { boot: Number.MAX_SAFE_INTEGER })), "reading: unsigned"],
      [deviceSigned(newKeyHex(), topic, reading(6, { boot: 2 ** 40 })), "reading: bad-signature"],
      [deviceSigned(KEY, `${ROOT}/sim-other/reading`, reading(7)), "reading: bad-signature"],
      [JSON.stringify(reading(8, { ts: Date.UTC(2100, 0, 1) })), "reading: unsigned"],
    ];
    for (let seq = 1; seq <= 12; seq++) {
      const real = deviceSigned(KEY, topic, reading(seq));
      published.push(real);
      await device.publishAsync(topic, real, { qos: 1 });
      const f = forgeries[seq - 1];
      if (f) await forger.publishAsync(topic, f[0] === "replay" ? published[0] : f[0], { qos: 1 });
    }
    await until(() => ingest.accepted === 12 && ingest.rejected === forgeries.length, 10_000, "12 real readings and the forgeries");
    await store.settle();
    expect(countReadings(store.db, ID)).toBe(12);
    const d = ingest.fleet.get(ID)!;
    expect(d).toMatchObject({ trust: "verified", boot: 3, seq: 12, readings: 12, gaps: 0, restarts: 0, info: { fw: "0.2.0" } });
    expect(d.lastGood!.temperature).toBe(22.2);
    expect(d.rejected.byReason).toEqual({ "reading: bad-signature": 3, "reading: unsigned": 3, "reading: replayed": 1 });
    await ingest.close();
    await store.close();
  });

  it("a signed reading from the future is rejected even when its signature is right", async () => {
    const trust = new DeviceTrust(new Keyring(path.join(dir, "keys.json")));
    const ingest = await MqttIngest.start({ broker: { url: broker.url, username: null, password: null, ca: null }, root: ROOT, clientId: "espdht-watch-trust", clean: true, trust, log: () => {} });
    await device.publishAsync(topic, deviceSigned(KEY, topic, reading(100, { ts: Date.now() + 10 * 60_000 })), { qos: 1 });
    await device.publishAsync(topic, deviceSigned(KEY, topic, reading(101)), { qos: 1 });
    await until(() => ingest.accepted === 1 && ingest.rejected === 1, 10_000, "one accepted, one rejected");
    expect(ingest.fleet.get(ID)!.rejected.recent.map((r) => r.reason)).toEqual(["reading: ts in the future"]);
    await ingest.close();
  });
});
