// Two virtual boards running dist/firmware.js with ONE device id against a real Mosquitto, a real dashboard and
// headless Chromium: the broker's takeovers (counted in its own log) fall once the boards see the kick loop, the
// boards say so (fleet stats), their info carries dupId, and the host flags the device in its state, its API and
// on the page. Real time: the boards' first backoff after detection is 30-60 s, so this takes about 1.5 minutes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Browser } from "playwright-core";
import { launchChromium } from "../../support/chromium";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../../support/brokers";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { startFleet, Fleet } from "../../../sim/fleet/fleet";
import { startDashboard, RunningDashboard } from "../../../host/dashboard/startDashboard";
import { validateInfo } from "../../../firmware/contract";
import { Keyring } from "../../../provisioning/keyring";
import { record, Recorder } from "./subscriber";

/** Mosquitto's notice when a CONNECT takes over a connected client's id */
const TAKEOVER = /^(\d+): Client (\S+) already connected, closing old connection\.$/;

describe("two boards with one device id (the kick loop), real Mosquitto", () => {
  let broker: RunningBroker;
  let fleet: Fleet;
  let dash: RunningDashboard;
  let sub: Recorder;
  let browser: Browser | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-dupid-"));
  const logFile = path.join(dir, "mosquitto.log");
  const root = "espdht/dupid-" + process.pid;
  /** Unix seconds of each takeover Mosquitto logged */
  const takeovers = () => fs.readFileSync(logFile, "utf8").split("\n").map((l) => TAKEOVER.exec(l)).filter((m) => m !== null).map((m) => Number(m![1]));

  beforeAll(async () => {
    // Mosquitto started as root drops to its own user, which must be able to write its log here
    fs.chmodSync(dir, 0o777);
    broker = await startMosquitto([`log_dest file ${logFile}`, "log_type notice"]);
    sub = await record(broker.url, `${root}/#`);
    // signed boards (the clone shares board 0's key), their keys in the keyring the dashboard verifies with
    const keyring = path.join(dir, "keys.json");
    fleet = await startFleet({
      broker: broker.url, root, devices: 2, interval: 2, model: "dht22", pin: 4, seed: "dup-id-test", dataDir: path.join(dir, "boards"), firmwareFile: FIRMWARE_OUT,
      staggerMs: 300, faults: [{ at: 0, fault: "duplicate-id" }], keys: true, keyring, log: () => {},
    });
    dash = await startDashboard({ broker: { url: broker.url, username: null, password: null, ca: null }, root, dataDir: path.join(dir, "data"), port: 0, batchMs: 200, keyring: new Keyring(keyring), log: () => {} });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
    await sub?.close();
    await dash?.close();
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the broker's takeovers fall after detection; the boards report dupId and back off; the host flags the device", async () => {
    const id = fleet.ids[0];
    expect(fleet.boards[1].spec.serial).toBe(id);
    // a board sees the loop (its third session in a row taken soon after CONNACK) and waits out the longer backoff
    const t0 = Date.now();
    while (fleet.stats().kickLoops < 1 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50));
    const detectedAt = Math.floor(Date.now() / 1000);
    const first = takeovers()[0];
    const statsAtDetection = fleet.stats();
    expect(statsAtDetection).toMatchObject({ kickLoops: 1, backingOff: 1 });
    // info with dupId comes with the next session, after the 30-60 s backoff
    await sub.until((ms) => ms.some((m) => m.topic === `${root}/${id}/info` && m.text.includes('"dupId"')), 90_000, "an info with dupId");
    // a full minute after detection
    const waitUntil = (detectedAt + 65) * 1000;
    if (Date.now() < waitUntil) await new Promise((r) => setTimeout(r, waitUntil - Date.now()));

    const all = takeovers();
    const before = all.filter((t) => t <= detectedAt);
    const after = all.filter((t) => t > detectedAt + 2 && t <= detectedAt + 62);
    const beforeSeconds = Math.max(1, detectedAt - first);
    const ratePerMinBefore = (before.length / beforeSeconds) * 60;
    const ratePerMinAfter = after.length;
    process.stderr.write(
      `duplicate id, Mosquitto takeovers: ${before.length} in the ${beforeSeconds} s before detection (${ratePerMinBefore.toFixed(1)}/min), ` +
        `${after.length} in the 60 s from 2 s after it (${ratePerMinAfter}/min); kick-loop closes seen by the boards: ${fleet.stats().kickLoops}\n`,
    );
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(ratePerMinAfter).toBeLessThanOrEqual(ratePerMinBefore / 4);

    const infos = sub.messages.filter((m) => m.topic === `${root}/${id}/info`).map((m) => JSON.parse(m.text));
    const reported = infos.filter((i) => i.dupId);
    expect(reported[0].dupId.n).toBeGreaterThanOrEqual(3);
    expect(reported[0].dupId.at).toBeGreaterThan(1.577e12); // SNTP set the board's clock: Unix ms
    expect(reported[0].dupId.at).toBeLessThanOrEqual(Date.now());
    expect(validateInfo(reported[0])).toMatchObject({ ok: true });

    // the signed info with dupId verified under the board's key
    expect(dash.ingest.fleet.get(id)!.trust).toBe("verified");
    const flag = dash.ingest.fleet.get(id)!.duplicateId!;
    expect(flag.signs).toContain("device report");
    expect(flag.report!.n).toBeGreaterThanOrEqual(3);
    // the two boards' addresses alternate in info too (192.168.4.x per board)
    process.stderr.write(`duplicate id, host flag: ${JSON.stringify(flag)}\n`);

    // the API hands the same flag to the page, which shows the badge
    const res = await fetch(new URL("/api/state", dash.url));
    const state = await res.json();
    expect(res.status, JSON.stringify(state).slice(0, 300)).toBe(200);
    expect(state.devices.find((d: { id: string }) => d.id === id).duplicateId.signs).toContain("device report");
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(dash.url);
    const badge = page.locator(`#devices tr[data-device="${id}"] .dup-badge`);
    await expect.poll(() => badge.isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await badge.textContent()).toBe("duplicate id");
    expect(await badge.getAttribute("title")).toContain("device report");
  }, 240_000);
});
