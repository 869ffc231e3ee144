// The store-health banner in real headless Chromium: another process locks the store's database, readings keep
// coming over a real Mosquitto, the page shows the problem; once the lock is gone the banner leaves by itself and
// every reading is stored.
import Database from "better-sqlite3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import { Browser } from "playwright-core";
import { launchChromium } from "../../support/chromium";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunningDashboard, startDashboard } from "../../../host/dashboard/startDashboard";
import { countReadings } from "../../../host/store/historyQueries";
import { STORE_FILE } from "../../../host/store/openDatabase";
import { startMosquitto, RunningBroker } from "../../support/brokers";
import { until } from "../../support/until";

const ROOT = "espdht/banner";
let broker: RunningBroker;
let dash: RunningDashboard;
let browser: Browser;
let dataDir: string;

beforeAll(async () => {
  broker = await startMosquitto(["max_queued_messages 0"]);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-banner-"));
  dash = await startDashboard({ broker: { url: broker.url, username: null, password: null, ca: null }, root: ROOT, dataDir, port: 0, log: () => {} });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await dash?.close();
  await broker?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("dashboard store banner", () => {
  it("shows while the store is locked by another process and goes away when it works again", async () => {
    const page = await browser.newPage();
    await page.goto(dash.url);
    const banner = page.locator("#store-banner");
    await expect.poll(() => banner.isHidden()).toBe(true);
    const blocker = new Database(path.join(dataDir, STORE_FILE));
    blocker.exec("BEGIN IMMEDIATE");
    const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    try {
      for (let seq = 1; seq <= 20; seq++) {
        await pub.publishAsync(`${ROOT}/sim-banner/reading`, JSON.stringify({ v: 1, id: "sim-banner", boot: 1, seq, up: seq * 1000, ts: Date.now() - 60_000 + seq, temperature: 21, humidity: 40 }), { qos: 1 });
      }
      await expect.poll(() => banner.isVisible(), { timeout: 20_000 }).toBe(true);
      const text = await banner.textContent();
      console.log(`banner: ${text}`);
      expect(text).toMatch(/Store problem since .*: the store cannot write \(database is locked\): readings are kept in the journal/);
      blocker.exec("COMMIT");
      await expect.poll(() => banner.isHidden(), { timeout: 30_000 }).toBe(true);
      await until(() => countReadings(dash.store.db) === 20, 10_000, "all 20 readings stored");
    } finally {
      if (blocker.inTransaction) blocker.exec("ROLLBACK");
      blocker.close();
      await pub.endAsync();
      await page.close();
    }
  }, 90_000);
});
