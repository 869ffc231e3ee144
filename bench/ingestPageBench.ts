// Dashboard page under load: the dashboard ingests `rate` readings/s (MQTT.js publishers in a child
// process, local Mosquitto) while headless Chromium shows the page; we record long tasks, frame gaps
// (requestAnimationFrame) and the JS heap in the page, and the server's RSS.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { startMosquitto } from "../host/broker/mosquitto";
import { startDashboard } from "../host/dashboard/startDashboard";
import { publishReadings } from "./ingestPublisherProcess";

export const CHROMIUM = "/usr/bin/chromium";

export interface PageBenchOptions {
  rate?: number;
  seconds?: number;
  devices?: number;
  log?: (m: string) => void;
}

export interface PageBenchResult {
  rate: number;
  seconds: number;
  published: number;
  stored: number;
  frames: number;
  fps: number;
  maxFrameGapMs: number;
  p99FrameGapMs: number;
  longTasks: number;
  longTaskMs: number;
  chartPoints: number;
  heapBeforeMb: number | null;
  heapAfterMb: number | null;
  serverRssBeforeMb: number;
  serverRssAfterMb: number;
}

const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;

/** Installed before the page's own script: counts frames and long tasks. */
const PROBE = `
  window.__probe = { gaps: [], longTasks: 0, longTaskMs: 0, recording: false };
  try {
    new PerformanceObserver((list) => {
      if (!window.__probe.recording) return;
      for (const e of list.getEntries()) { window.__probe.longTasks++; window.__probe.longTaskMs += e.duration; }
    }).observe({ type: "longtask", buffered: false });
  } catch (e) {}
  let last = 0;
  const frame = (t) => {
    if (window.__probe.recording && last) window.__probe.gaps.push(t - last);
    last = t;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
`;

export async function runPageBench(opts: PageBenchOptions = {}): Promise<PageBenchResult> {
  const rate = opts.rate ?? 5000;
  const seconds = opts.seconds ?? 10;
  const devices = opts.devices ?? 20;
  const log = opts.log ?? ((m: string) => process.stderr.write(m + "\n"));
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}`);
  const broker = await startMosquitto();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-pagebench-"));
  const root = "espdht/pagebench";
  const dash = await startDashboard({ broker: { url: broker.url, username: null, password: null, ca: null }, root, dataDir, port: 0, log: () => {} });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--disable-gpu", "--disable-background-networking"] });
  try {
    // one reading per device first, so the page has devices to list and one selected
    const shape = { url: broker.url, root, publishers: 4, devicesPerPublisher: Math.ceil(devices / 4), qos: 1 as const, tag: "page" };
    await publishReadings({ ...shape, perDevice: 1, rate: 0, boot: 1 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript(PROBE);
    await page.goto(dash.url);
    await page.locator("#devices tbody tr").first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(1000);
    const heap = () => page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null);
    const heapBefore = await heap();
    const rssBefore = process.memoryUsage().rss;
    await page.evaluate(() => { (window as unknown as { __probe: { recording: boolean } }).__probe.recording = true; });
    log(`  page bench: ${rate.toLocaleString("en")} readings/s over ${devices} devices for ${seconds} s`);
    const perDevice = Math.ceil((rate * seconds) / devices);
    const pub = await publishReadings({ ...shape, perDevice, rate, boot: 2 });
    await page.waitForTimeout(1000);
    const probe = await page.evaluate(() => {
      const p = (window as unknown as { __probe: { gaps: number[]; longTasks: number; longTaskMs: number; recording: boolean } }).__probe;
      p.recording = false;
      return { gaps: p.gaps, longTasks: p.longTasks, longTaskMs: p.longTaskMs };
    });
    const chartPoints = Number(await page.locator("#chart-temp").getAttribute("data-points"));
    const heapAfter = await heap();
    await dash.store.settle();
    const gaps = probe.gaps.slice().sort((a, b) => a - b);
    const total = probe.gaps.reduce((a, b) => a + b, 0);
    return {
      rate, seconds, published: pub.published, stored: dash.store.inserted, frames: gaps.length, fps: Math.round((gaps.length / total) * 1000 * 10) / 10,
      maxFrameGapMs: Math.round(gaps[gaps.length - 1] ?? 0), p99FrameGapMs: Math.round(gaps[Math.floor(gaps.length * 0.99)] ?? 0),
      longTasks: probe.longTasks, longTaskMs: Math.round(probe.longTaskMs), chartPoints,
      heapBeforeMb: heapBefore === null ? null : mb(heapBefore), heapAfterMb: heapAfter === null ? null : mb(heapAfter),
      serverRssBeforeMb: mb(rssBefore), serverRssAfterMb: mb(process.memoryUsage().rss),
    };
  } finally {
    await browser.close();
    await dash.close();
    await broker.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatPageBench(r: PageBenchResult): string {
  return [
    `Dashboard page at ${r.rate.toLocaleString("en")} readings/s for ${r.seconds} s (${r.published.toLocaleString("en")} published, ${r.stored.toLocaleString("en")} stored):`,
    `  frames ${r.frames} (${r.fps} fps), frame gap p99 ${r.p99FrameGapMs} ms, max ${r.maxFrameGapMs} ms; long tasks ${r.longTasks} (${r.longTaskMs} ms in all)`,
    `  chart points on the page ${r.chartPoints}; page JS heap ${r.heapBeforeMb} -> ${r.heapAfterMb} MB; server RSS ${r.serverRssBeforeMb} -> ${r.serverRssAfterMb} MB`,
  ].join("\n");
}
