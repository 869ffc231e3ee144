// End to end: virtual boards running dist/firmware.js, each with its own key, publish through a real Mosquitto;
// the host ingest verifies and stores their readings, signed commands reach the firmware and its signed replies
// come back, unsigned ones are refused, and powering the boards off fires their wills.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../../support/brokers";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { Fleet, startFleet } from "../../../sim/fleet/fleet";
import { MqttIngest } from "../../../host/ingest/ingest";
import { WorkerStore } from "../../../host/store/workerStore";
import { countReadings } from "../../../host/store/historyQueries";
import { ReplyWaiter } from "../../../host/commands/replyWaiter";
import { CommandCounter, CommandSigning, sendCommand } from "../../../host/commands/sendCommand";
import { parseDeviceMessage } from "../../../host/ingest/parseMessage";
import { DeviceTrust } from "../../../host/trust/deviceTrust";
import { Keyring } from "../../../provisioning/keyring";
import { until } from "../../support/until";

const ROOT = "espdht/e2e";
let broker: RunningBroker;
let fleet: Fleet | null = null;
let ingest: MqttIngest;
let store: WorkerStore;
let commander: MqttClient;
let dir: string;
let trust: DeviceTrust;

beforeAll(async () => {
  broker = await startMosquitto();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-e2e-"));
  store = await WorkerStore.open(path.join(dir, "host"));
  const keyring = path.join(dir, "keys.json");
  trust = new DeviceTrust(new Keyring(keyring));
  ingest = await MqttIngest.start({ broker: { url: broker.url, username: null, password: null, ca: null }, root: ROOT, clientId: "espdht-dash-e2e", clean: false, store, trust, log: () => {} });
  fleet = await startFleet({ broker: broker.url, root: ROOT, devices: 2, interval: 2, model: "dht22", pin: 4, seed: "e2e", dataDir: path.join(dir, "boards"), firmwareFile: FIRMWARE_OUT, keys: true, keyring, log: () => {} });
  commander = await mqtt.connectAsync(broker.url, { clientId: "espdht-send-e2e", clean: true });
});

afterAll(async () => {
  await fleet?.stop();
  commander?.end(true);
  await ingest?.close();
  await store?.close();
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("simulator -> Mosquitto -> host ingest", () => {
  it("receives status, info and verified readings from every virtual board and stores them", async () => {
    const ids = fleet!.ids;
    await until(() => ids.every((id) => (ingest.fleet.get(id)?.readings ?? 0) >= 2), 60_000, "two readings per board");
    for (const id of ids) {
      const d = ingest.fleet.get(id)!;
      expect(d.online).toBe(true);
      expect(d.trust).toBe("verified");
      expect(d.keyFingerprint).toBe(trust.fingerprintOf(id));
      expect(d.info).toMatchObject({ id, model: "dht22", pin: 4, interval: 2, root: ROOT });
      expect(d.rejected.total).toBe(0);
      expect(d.duplicates).toBe(0);
      expect(d.lastGood!.temperature).toBeGreaterThan(-40);
    }
    await store.settle();
    for (const id of ids) expect(countReadings(store.db, id)).toBeGreaterThanOrEqual(2);
  });

  it("sends signed commands to the firmware and gets its verified replies; an unsigned one is refused", async () => {
    const waiter = new ReplyWaiter();
    commander.on("message", (topic, payload) => {
      const m = parseDeviceMessage(ROOT, topic, payload, trust);
      if (m.kind === "reply") waiter.offer(m.deviceId, m.reply, Date.now(), m.trust);
    });
    await commander.subscribeAsync(`${ROOT}/+/reply`, { qos: 1 });
    const target = fleet!.ids[0];
    const signing: CommandSigning = { keys: trust, counter: new CommandCounter() };
    const set = await sendCommand(commander, waiter, ROOT, { target, op: "set", set: { interval: 3 } }, 15_000, { signing });
    expect(set.timedOut).toBe(false);
    expect(set.replies[0]).toMatchObject({ device: target, reply: { re: set.id, ok: true }, trust: "verified" });
    const get = await sendCommand(commander, waiter, ROOT, { target, op: "get" }, 15_000, { signing });
    expect(get.replies[0].reply).toMatchObject({ re: get.id, ok: true });
    expect(JSON.stringify(get.replies[0].reply)).not.toContain(trust.keyOf(target)!.toString("hex"));
    const all = await sendCommand(commander, waiter, ROOT, { target: "all", op: "ping" }, 15_000, { signing, devices: fleet!.ids });
    expect(all.replies.map((r) => [r.device, r.reply.ok, r.trust]).sort()).toEqual([...fleet!.ids].sort().map((id) => [id, true, "verified"]));
    expect(all.missing).toEqual([]);
    const unsigned = await sendCommand(commander, waiter, ROOT, { target, op: "ping" }, 15_000);
    expect(unsigned.replies[0]).toMatchObject({ reply: { re: unsigned.id, ok: false }, trust: "verified" });
  });

  it("sees each board go offline through its will when the fleet powers off", async () => {
    const ids = fleet!.ids;
    await fleet!.stop();
    fleet = null;
    await until(() => ids.every((id) => ingest.fleet.get(id)!.online === false), 30_000, "the wills");
  });
});
