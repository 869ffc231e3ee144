// The device list a page at a time in real headless Chromium against a real Mosquitto: 250 devices are shown
// 100 per page with the total, next/previous move through them, the id filter narrows them, a device that appears
// later comes in without a reload (unproven devices after the proven ones), and the limits line shows the flood counters. A missing Chromium fails the suite.
import { Browser, Page } from "playwright-core";
import { openPage } from "../../support/chromium";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DashboardFixture, startDashboardFixture, stopDashboardFixture } from "../../support/dashboardFixture";
import { until } from "../../support/until";

const ROOT = "espdht/pagetest";
const DEVICES = 250;
const idOf = (i: number) => `sim-${String(i).padStart(4, "0")}`;

let fx: DashboardFixture;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  fx = await startDashboardFixture(ROOT, "pagetest");
  for (let i = 0; i < DEVICES; i++) {
    const id = idOf(i);
    fx.publisher.publish(`${ROOT}/${id}/status`, "online", { qos: 1, retain: true });
    fx.publisher.publish(`${ROOT}/${id}/reading`, JSON.stringify({ v: 1, id, boot: 1, seq: 1, up: 1000, ts: Date.now(), temperature: 20 + (i % 10), humidity: 40 }), { qos: 1 });
  }
  await until(() => fx.dash.ingest.fleet.size === DEVICES, 20_000, `${DEVICES} devices in the fleet`);
  ({ browser, page } = await openPage(fx.dash.url));
}, 90_000);

afterAll(() => stopDashboardFixture({ ...fx, browser }));

const rows = () => page.locator("#devices tbody tr");
const info = () => page.locator("#page-info").textContent();

describe("device list pages in Chromium", () => {
  it("shows the first 100 of 250 devices", async () => {
    await expect.poll(info, { timeout: 15_000 }).toBe(`1–100 of ${DEVICES}`);
    await expect.poll(() => rows().count()).toBe(100);
    expect(await rows().first().getAttribute("data-device")).toBe(idOf(0));
    expect(await page.locator("#page-prev").isDisabled()).toBe(true);
  });

  it("moves to the next pages and back", async () => {
    await page.click("#page-next");
    await expect.poll(info).toBe(`101–200 of ${DEVICES}`);
    await expect.poll(() => rows().first().getAttribute("data-device")).toBe(idOf(100));
    await page.click("#page-next");
    await expect.poll(info).toBe(`201–250 of ${DEVICES}`);
    await expect.poll(() => rows().count()).toBe(50);
    expect(await page.locator("#page-next").isDisabled()).toBe(true);
    await page.click("#page-prev");
    await page.click("#page-prev");
    await expect.poll(info).toBe(`1–100 of ${DEVICES}`);
    await expect.poll(() => rows().count()).toBe(100);
  });

  it("filters by id", async () => {
    await page.fill("#filter", "sim-01");
    await expect.poll(info).toBe("1–100 of 100");
    await page.fill("#filter", "sim-024");
    await expect.poll(info).toBe("1–10 of 10");
    await expect.poll(() => rows().count()).toBe(10);
    expect(await rows().nth(9).getAttribute("data-device")).toBe(idOf(249));
    await page.fill("#filter", "nothing-like-it");
    await expect.poll(info).toBe("no device matches");
    await expect.poll(() => rows().count()).toBe(0);
    await page.fill("#filter", "");
    await expect.poll(info).toBe(`1–100 of ${DEVICES}`);
  });

  it("takes in a device that appears later without a reload, listing unproven devices after the proven ones", async () => {
    fx.publisher.publish(`${ROOT}/sim-0000a/status`, "online", { qos: 1, retain: true });
    await expect.poll(info, { timeout: 15_000 }).toBe(`1–100 of ${DEVICES + 1}`);
    expect(await rows().nth(1).getAttribute("data-device")).toBe(idOf(1));
    await page.click("#page-next");
    await page.click("#page-next");
    await expect.poll(info).toBe(`201–251 of ${DEVICES + 1}`);
    await expect.poll(() => rows().last().getAttribute("data-device")).toBe("sim-0000a");
    await page.click("#page-prev");
    await page.click("#page-prev");
    await expect.poll(info).toBe(`1–100 of ${DEVICES + 1}`);
  });

  it("shows the flood counters and live connections", async () => {
    const text = await page.locator("#flood-stats").textContent();
    expect(text).toContain(`devices: ${DEVICES} proven (limit 5000), 1 new (limit 1000)`);
    expect(text).toContain("0 messages refused");
    expect(await page.locator("#live-stats").textContent()).toMatch(/live pages: 1 of 32; 0 cut off/);
  });
});
