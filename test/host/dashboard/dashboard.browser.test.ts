// The dashboard in real headless Chromium (playwright-core + Debian's chromium) against a real Mosquitto,
// with MQTT.js clients acting as devices: sim-web1 has a key in the dashboard's keyring and signs as the firmware
// does (and checks the signature of the commands it gets). A missing Chromium fails the suite: nothing is skipped.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { Browser, Page } from "playwright-core";
import { openPage } from "../../support/chromium";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../../support/brokers";
import { RunningDashboard, startDashboard } from "../../../host/dashboard/startDashboard";
import { validateCommand } from "../../../firmware/contract";
import { checkSignature } from "../../../host/trust/signature";
import { Keyring, keyFingerprint, newKeyHex, updateKeyringFile } from "../../../provisioning/keyring";
import { deviceSigned, withWrongSignature } from "../trust/deviceSigner";

const ROOT = "espdht/webtest";
const XSS_FW = `<img src=x onerror="window.__xss=1"><b>bold</b>`;
const REPO = path.resolve(__dirname, "../../..");

let broker: RunningBroker;
let dash: RunningDashboard;
let browser: Browser;
let page: Page;
let device: MqttClient;
let dataDir: string;
let seq = 0;
const KEY = newKeyHex();
/** the signature check of each command sim-web1 received */
const commandChecks: string[] = [];

/** What sim-web1 publishes: signed with its key. */
function signedBy(id: string, kind: string, fields: object): string {
  const topic = `${ROOT}/${id}/${kind}`;
  return id === "sim-web1" ? deviceSigned(KEY, topic, fields) : JSON.stringify(fields);
}

async function connectDevice(id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker.url, {
    clientId: id,
    clean: true,
    reconnectPeriod: 0,
    will: { topic: `${ROOT}/${id}/status`, payload: Buffer.from("offline"), qos: 1, retain: true },
  });
  // answers commands like a device with a key would: only correctly signed ones
  c.on("message", (topic, payload) => {
    const cmd = JSON.parse(payload.toString());
    const check = checkSignature(Buffer.from(KEY, "hex"), topic, payload).result;
    commandChecks.push(check);
    const v = validateCommand(cmd);
    const reply = check !== "verified" ? { re: null, ok: false, error: check }
      : v.ok ? { re: v.value.id, ok: true, op: v.value.op, ...(v.value.set ?? {}) } : { re: cmd.id ?? null, ok: false, error: v.error };
    c.publish(`${ROOT}/${id}/reply`, signedBy(id, "reply", reply), { qos: 1 });
  });
  await c.subscribeAsync(`${ROOT}/${id}/cmd`, { qos: 1 });
  await c.publishAsync(`${ROOT}/${id}/status`, "online", { qos: 1, retain: true });
  const info = { v: 1, id, fw: XSS_FW, model: "dht22", pin: 4, interval: 2, ip: "192.168.1.50", boot: 7, root: ROOT, caps: ["read", "set"], dropped: 0, configError: null };
  await c.publishAsync(`${ROOT}/${id}/info`, signedBy(id, "info", info), { qos: 1, retain: true });
  return c;
}

/** `n` readings; with `spacingMs` their times are spread over the past, ending now (history to draw). */
async function publishReadings(n: number, spacingMs = 0): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    seq++;
    const ts = now - (n - 1 - i) * spacingMs;
    // values follow the time, so readings close in time draw a smooth line
    const temperature = Math.round((21 + Math.sin(ts / 90_000) * 1.5 + (seq % 3) * 0.1) * 10) / 10;
    const humidity = Math.round((45 + Math.cos(ts / 120_000) * 4) * 10) / 10;
    const r = { v: 1, id: "sim-web1", boot: 7, seq, up: seq * 2000, ts, temperature, humidity };
    await device.publishAsync(`${ROOT}/sim-web1/reading`, signedBy("sim-web1", "reading", r), { qos: 1 });
  }
}

beforeAll(async () => {
  broker = await startMosquitto();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-dash-"));
  const keyring = path.join(dataDir, "keys.json");
  updateKeyringFile(keyring, (d) => { d.devices["sim-web1"] = { key: KEY, added: new Date().toISOString() }; });
  dash = await startDashboard({
    broker: { url: broker.url, username: null, password: null, ca: null },
    root: ROOT, dataDir, port: 0, batchMs: 200, commandTimeoutMs: 5000, keyring: new Keyring(keyring), log: () => {},
  });
  device = await connectDevice("sim-web1");
  await publishReadings(80, 10_000); // the last ~13 minutes of history
  ({ browser, page } = await openPage(dash.url));
});

afterAll(async () => {
  await browser?.close();
  device?.end(true);
  await dash?.close();
  await broker?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("dashboard page in Chromium", () => {
  it("lists the device with an online badge and its last values", async () => {
    const row = page.locator('#devices tr[data-device="sim-web1"]');
    await row.waitFor({ timeout: 15_000 });
    await expect.poll(() => row.locator(".status-badge").textContent(), { timeout: 10_000 }).toBe("online");
    await expect.poll(() => row.locator("td").nth(3).textContent(), { timeout: 10_000 }).toMatch(/^\d+\.\d$/);
    await expect.poll(() => page.locator("#dev-title").textContent()).toBe("sim-web1");
  });

  it("shows the verified badge for the device that signs, unsigned for one without a key", async () => {
    const row = page.locator('#devices tr[data-device="sim-web1"]');
    await expect.poll(() => row.locator(".trust-badge").textContent(), { timeout: 10_000 }).toBe("verified");
    expect(await row.locator(".trust-badge").getAttribute("class")).toContain("badge-verified");
    await expect.poll(() => page.locator("#dev-trust").textContent(), { timeout: 10_000 }).toBe("verified");
    await expect.poll(() => page.locator("#stats").textContent()).toContain(keyFingerprint(KEY));
    const plain = await mqtt.connectAsync(broker.url, { clientId: "sim-web2-plain", clean: true });
    await plain.publishAsync(`${ROOT}/sim-web2/reading`, JSON.stringify({ v: 1, id: "sim-web2", boot: 1, seq: 1, up: 1, ts: Date.now(), temperature: 20, humidity: 40 }), { qos: 1 });
    plain.end(true);
    const row2 = page.locator('#devices tr[data-device="sim-web2"]');
    await expect.poll(() => row2.locator(".trust-badge").textContent(), { timeout: 10_000 }).toBe("unsigned");
    expect(await page.content()).not.toContain(KEY);
  });

  it("the chart gets new points as readings arrive", async () => {
    const points = async () => Number(await page.locator("#chart-temp").getAttribute("data-points"));
    await expect.poll(points, { timeout: 10_000 }).toBeGreaterThan(0);
    const before = await points();
    await publishReadings(5);
    await expect.poll(points, { timeout: 10_000 }).toBeGreaterThanOrEqual(before + 5);
    expect(await page.locator("#chart-temp canvas").count()).toBe(1);
  });

  it("renders device-provided HTML as text", async () => {
    await expect.poll(() => page.locator("#info").textContent(), { timeout: 10_000 }).toContain(XSS_FW);
    expect(await page.locator("#info img, #info b").count()).toBe(0);
    // a topic level carrying HTML (no '/', so it matches R/+/reading) ends up in the unattributed rejections
    const level = "<img src=x onerror=window.__xss=2>";
    await device.publishAsync(`${ROOT}/${level}/reading`, "{}", { qos: 1 });
    await expect.poll(() => page.locator("#unattributed-list").textContent(), { timeout: 10_000 }).toContain(level);
    expect(await page.locator("#unattributed-list img").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it("shows forged, unsigned and replayed readings in the rejected table, as text", async () => {
    const topic = `${ROOT}/sim-web1/reading`;
    const fake = { v: 1, id: "sim-web1", boot: 7, seq: seq + 1, up: 1, ts: Date.now(), temperature: 79.9, humidity: 1 };
    await device.publishAsync(topic, withWrongSignature(deviceSigned(KEY, topic, fake)), { qos: 1 });
    await device.publishAsync(topic, '{"v":1,"id":"sim-web1","temperature":"<i>hot</i>"}', { qos: 1 });
    await device.publishAsync(topic, deviceSigned(KEY, topic, { v: 1, id: "sim-web1", boot: 7, seq: 1, up: 2000, ts: Date.now() - 60_000, temperature: 21, humidity: 45 }), { qos: 1 });
    const table = page.locator("#rejected tbody");
    await expect.poll(() => table.textContent(), { timeout: 10_000 }).toContain("reading: replayed");
    const text = (await table.textContent())!;
    for (const reason of ["reading: bad-signature", "reading: unsigned"]) expect(text).toContain(reason);
    expect(await table.locator("i, img, b").count()).toBe(0);
    expect(await page.locator("#rejected-total").textContent()).toBe("(3 in all)");
    // the forged value never became the device's latest
    await expect.poll(() => page.locator('#devices tr[data-device="sim-web1"] td').nth(3).textContent()).not.toBe("79.9");
  });

  it("shows the thermostat output from R/D/output (signed), as it switches and when it is cleared", async () => {
    const row = page.locator('#devices tr[data-device="sim-web1"]');
    const cell = row.locator("td.output");
    const output = (on: boolean, why: string) => ({ v: 1, id: "sim-web1", on, why, pin: 5, since: 60_000, ts: Date.now() });
    await device.publishAsync(`${ROOT}/sim-web1/output`, signedBy("sim-web1", "output", output(true, "rule")), { qos: 1, retain: true });
    await expect.poll(() => cell.textContent(), { timeout: 10_000 }).toBe("on (rule)");
    expect(await cell.getAttribute("class")).toContain("output-on");
    expect(await cell.getAttribute("title")).toMatch(/^GPIO 5 on since .* \(rule\)/);
    await device.publishAsync(`${ROOT}/sim-web1/output`, signedBy("sim-web1", "output", output(false, "failsafe")), { qos: 1, retain: true });
    await expect.poll(() => cell.textContent(), { timeout: 10_000 }).toBe("off (failsafe)");
    // a forged one changes nothing on the page (it is the rejected table's 4th entry)
    await device.publishAsync(`${ROOT}/sim-web1/output`, withWrongSignature(signedBy("sim-web1", "output", output(true, "rule"))), { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    expect(await cell.textContent()).toBe("off (failsafe)");
    // the rule in effect, from info, in the details
    const info = { v: 1, id: "sim-web1", fw: XSS_FW, model: "dht22", pin: 4, interval: 2, ip: "192.168.1.50", boot: 7, root: ROOT, caps: ["read", "set"], dropped: 0, configError: null, output: { rule: "temperature>24<23:pin=5", on: false, why: "failsafe" } };
    await device.publishAsync(`${ROOT}/sim-web1/info`, signedBy("sim-web1", "info", info), { qos: 1, retain: true });
    await expect.poll(() => page.locator("#info").textContent(), { timeout: 10_000 }).toContain("thermostat ruletemperature>24<23:pin=5");
    await device.publishAsync(`${ROOT}/sim-web1/output`, "", { qos: 1, retain: true });
    await expect.poll(() => cell.textContent(), { timeout: 10_000 }).toBe("-");
  });

  it("runs a signed command round trip from the page and shows the reply", async () => {
    await page.click("#cmd-read");
    await expect.poll(() => page.locator("#cmd-reply").textContent(), { timeout: 10_000 }).toMatch(/sim-web1 replied: .*"ok": true/s);
    await page.fill("#cmd-interval", "30");
    await page.click("#cmd-set");
    await expect.poll(() => page.locator("#cmd-reply").textContent(), { timeout: 10_000 }).toMatch(/"interval": 30/);
    await page.fill("#cmd-interval", "1");
    await page.click("#cmd-set");
    await expect.poll(() => page.locator("#cmd-reply").textContent(), { timeout: 10_000 }).toContain("interval must be 2..86400 seconds");
    expect(commandChecks).toEqual(["verified", "verified"]); // the out-of-range interval was refused by the server
    const res = await fetch(new URL("/api/devices/sim-web1/command", dash.url), { method: "POST", body: '{"op":"ping"}', headers: { "Content-Type": "application/json" } });
    expect(await res.json()).toMatchObject({ reply: { ok: true, op: "ping" }, trust: "verified" });
  });

  it("switches ranges and offers a CSV export", async () => {
    await page.click('#ranges button[data-range="24h"]');
    await expect.poll(() => page.locator("#csv").getAttribute("href")).toBe("/api/devices/sim-web1/readings.csv?range=24h");
    const csv = await (await fetch(new URL("/api/devices/sim-web1/readings.csv?range=24h", dash.url))).text();
    expect(csv.split("\r\n")[0]).toBe("device,boot,seq,time_utc,ts,received,up_ms,temperature,humidity,error");
    expect(csv.trim().split("\r\n").length).toBe(1 + seq);
    await page.click('#ranges button[data-range="15m"]');
  });

  it("saves a screenshot", async () => {
    await publishReadings(20);
    await page.waitForTimeout(800);
    fs.mkdirSync(path.join(REPO, "test-artifacts"), { recursive: true });
    await page.screenshot({ path: path.join(REPO, "test-artifacts/dashboard.png"), fullPage: true });
    expect(fs.statSync(path.join(REPO, "test-artifacts/dashboard.png")).size).toBeGreaterThan(10_000);
  });

  it("shows the offline badge when the device's will fires", async () => {
    (device as unknown as { stream: { destroy(): void } }).stream.destroy();
    const badge = page.locator('#devices tr[data-device="sim-web1"] .status-badge');
    await expect.poll(() => badge.textContent(), { timeout: 15_000 }).toBe("offline");
  });
});

describe("dashboard API validation", () => {
  const cases: [string, number, string][] = [
    ["/api/devices/sim-web1/series?range=2h", 400, "range: '2h' is not one of 15m, 1h, 24h, 7d"],
    ["/api/devices/sim-web1/series?points=abc", 400, "points: 'abc' is not a whole number"],
    ["/api/devices/sim-web1/series?points=1", 400, "points: 1 is out of range 10..5000"],
    ["/api/devices/sim-web1/series?from=10", 400, "from and to go together"],
    ["/api/devices/sim-web1/series?from=10&to=5", 400, "from must be before to"],
    ["/api/devices/sim-web1/series?range=1h&from=1&to=2", 400, "either range or from/to"],
    ["/api/devices/sim-web1/series?rnage=1h", 400, "unknown parameter 'rnage'"],
    ["/api/devices/%3Cb%3E/series", 400, "device id must be"],
    ["/api/devices/sim-nobody/series", 404, "unknown device 'sim-nobody'"],
    ["/api/nothing", 404, "no route"],
  ];
  it.each(cases)("GET %s -> %i", async (p, status, message) => {
    const res = await fetch(new URL(p, dash.url));
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toContain(message);
  });

  it("answers only to its own host names (DNS rebinding guard)", async () => {
    const port = new URL(dash.url).port;
    const status = (host: string) => new Promise<number>((resolve, reject) => {
      http.get({ host: "127.0.0.1", port, path: "/api/state", headers: { Host: host } }, (res) => { res.resume(); resolve(res.statusCode!); }).on("error", reject);
    });
    expect(await status(`evil.example:${port}`)).toBe(403);
    expect(await status(`localhost:${port}`)).toBe(200);
    expect(await status(`127.0.0.1:${port}`)).toBe(200);
  });

  it("refuses commands that are not JSON or come from another origin", async () => {
    const url = new URL("/api/devices/sim-web1/command", dash.url);
    const form = await fetch(url, { method: "POST", body: "op=read", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expect(form.status).toBe(400);
    const cross = await fetch(url, { method: "POST", body: '{"op":"read"}', headers: { "Content-Type": "application/json", Origin: "http://evil.example" } });
    expect(cross.status).toBe(403);
    const bad = await fetch(url, { method: "POST", body: '{"op":"fly"}', headers: { "Content-Type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("'fly' is not an op: send takes read|set|get|ping|restart");
  });
});
