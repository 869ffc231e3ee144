// The dashboard's retained health topic on a real Mosquitto: it is named by the random host id kept in the data
// folder, never by the persistent session's client id (anyone who reads that can take the session over), and the
// health an older version left under its client id is cleared once, at the first start that makes the host id.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDashboard } from "../../../host/dashboard/startDashboard";
import { CLIENT_ID_FILE, HOST_ID_FILE } from "../../../host/ingest/dashboardClientId";
import { startMosquitto, RunningBroker } from "../../support/brokers";
import { until } from "../../support/until";

const LEGACY_ID = "espdht-dash-0a1b2c3d4e5f";

describe("the health topic (real Mosquitto)", () => {
  let broker: RunningBroker;
  let spy: MqttClient;
  const seen: { topic: string; payload: string; retain: boolean }[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-healthtopic-"));
  const root = "espdht/ht-" + process.pid;
  const dataDir = path.join(dir, "data");
  const start = () => startDashboard({ broker: { url: broker.url, username: null, password: null, ca: null }, root, dataDir, port: 0, log: () => {} });

  beforeAll(async () => {
    broker = await startMosquitto(["max_queued_messages 0"]);
    spy = await mqtt.connectAsync(broker.url, { clean: true, reconnectPeriod: 0 });
    spy.on("message", (topic, p, packet) => seen.push({ topic, payload: p.toString(), retain: packet.retain }));
    await spy.subscribeAsync(`${root}/#`, { qos: 1 });
  });
  afterAll(async () => {
    await spy?.endAsync();
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("is R/<host id>/health; the client id appears in no topic or payload; an older version's retained health is cleared once", async () => {
    // what an older version left: its client id file and its health retained under that id
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dataDir, CLIENT_ID_FILE), LEGACY_ID + "\n", { mode: 0o600 });
    await spy.publishAsync(`${root}/${LEGACY_ID}/health`, JSON.stringify({ ok: true, problem: null, since: null, journalBytes: 0, journalLimitBytes: 1, holding: false, at: Date.now() }), { qos: 1, retain: true });

    const dash = await start();
    const hostId = fs.readFileSync(path.join(dataDir, HOST_ID_FILE), "utf8").trim();
    expect(hostId).toMatch(/^host-[0-9a-f]{12}$/);
    expect(fs.statSync(path.join(dataDir, HOST_ID_FILE)).mode & 0o777).toBe(0o600);
    await until(() => seen.some((m) => m.topic === `${root}/${hostId}/health` && m.payload !== ""), 15_000, "the health under the host id");
    await until(() => seen.some((m) => m.topic === `${root}/${LEGACY_ID}/health` && m.payload === ""), 15_000, "the legacy health cleared");
    await dash.close();
    await until(() => seen.filter((m) => m.topic === `${root}/${hostId}/health`).at(-1)?.payload === "", 15_000, "the health cleared at the stop");

    // a second start: the same host id, and the client id is not sent again (not even as a clear)
    const before = seen.length;
    const again = await start();
    await until(() => seen.slice(before).some((m) => m.topic === `${root}/${hostId}/health` && m.payload !== ""), 15_000, "the health again");
    await again.close();
    expect(seen.slice(before).filter((m) => m.topic.includes(LEGACY_ID))).toEqual([]);

    // the only messages carrying the client id are the old retained one and the one clear, both under the legacy topic
    const leaks = seen.filter((m) => m.topic.includes(LEGACY_ID) || m.payload.includes(LEGACY_ID));
    expect(leaks.map((m) => [m.topic, m.payload === "" ? "clear" : "old health"])).toEqual([
      [`${root}/${LEGACY_ID}/health`, "old health"],
      [`${root}/${LEGACY_ID}/health`, "clear"],
    ]);

    // a watcher arriving now finds no retained message naming the client id
    const late = await mqtt.connectAsync(broker.url, { clean: true, reconnectPeriod: 0 });
    const retained: string[] = [];
    late.on("message", (topic, _p, packet) => { if (packet.retain) retained.push(topic); });
    await late.subscribeAsync(`${root}/+/health`, { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    await late.endAsync();
    expect(retained.filter((t) => t.includes(LEGACY_ID))).toEqual([]);
  }, 90_000);

  it("a fresh data folder: the health names the host id, and the new client id is never published", async () => {
    const fresh = path.join(dir, "fresh");
    const before = seen.length;
    const dash = await startDashboard({ broker: { url: broker.url, username: null, password: null, ca: null }, root, dataDir: fresh, port: 0, log: () => {} });
    const clientId = fs.readFileSync(path.join(fresh, CLIENT_ID_FILE), "utf8").trim();
    const hostId = fs.readFileSync(path.join(fresh, HOST_ID_FILE), "utf8").trim();
    await until(() => seen.slice(before).some((m) => m.topic === `${root}/${hostId}/health`), 15_000, "the health");
    await dash.close();
    expect(seen.slice(before).filter((m) => m.topic.includes(clientId) || m.payload.includes(clientId))).toEqual([]);
  }, 60_000);
});
