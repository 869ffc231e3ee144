// The dashboard browser tests' set-up: a Mosquitto of their own, a dashboard on a temporary data folder, and an
// MQTT client that plays the devices; stopDashboardFixture takes all of it down (with the test's Chromium).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import type { Browser } from "playwright-core";
import { RunningDashboard, startDashboard } from "../../host/dashboard/startDashboard";
import { RunningBroker, startMosquitto } from "./brokers";

export interface DashboardFixture {
  broker: RunningBroker;
  dash: RunningDashboard;
  /** publishes what the test's devices say (client id `<name>-devices`) */
  publisher: MqttClient;
  dataDir: string;
}

/** `name` names the data folder and the publisher's client id; the dashboard batches live updates every 200 ms. */
export async function startDashboardFixture(root: string, name: string): Promise<DashboardFixture> {
  const broker = await startMosquitto();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `espdht-${name}-`));
  const dash = await startDashboard({ broker: { url: broker.url, username: null, password: null, ca: null }, root, dataDir, port: 0, batchMs: 200, log: () => {} });
  const publisher = await mqtt.connectAsync(broker.url, { clientId: `${name}-devices`, reconnectPeriod: 0 });
  return { broker, dash, publisher, dataDir };
}

/** Stops whatever of the fixture (and the browser) was started; safe after a set-up that failed midway. */
export async function stopDashboardFixture(f: Partial<DashboardFixture> & { browser?: Browser }): Promise<void> {
  await f.browser?.close();
  f.publisher?.end(true);
  await f.dash?.close();
  await f.broker?.stop();
  if (f.dataDir) fs.rmSync(f.dataDir, { recursive: true, force: true });
}
