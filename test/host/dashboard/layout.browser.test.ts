// The dashboard's layout in real headless Chromium against a real Mosquitto, at 1024, 1280 and 1920 px wide, with a
// device that has every long field (4 groups, links both ways, a thermostat rule and output, all the counters): each
// details value gets a readable width, no text box of the details overlaps another or leaves its panel, the page stays
// a reasonable height, and the device list's last column is visible or reachable by scrolling the list itself (its
// scrollbar on the first screen), never by scrolling the page sideways.
import { Browser, Page } from "playwright-core";
import { openPage } from "../../support/chromium";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DashboardFixture, startDashboardFixture, stopDashboardFixture } from "../../support/dashboardFixture";
import { until } from "../../support/until";

const ROOT = "espdht/layout";
const RICH = "esp32-a1b2c3d4e5f6";
const PEERS = ["esp32-0a0b0c0d0e0f", "esp32-1a1b1c1d1e1f"];
const GROUPS = ["kitchen", "first-floor", "thermostats", "north_side"];
/** a value wider than a narrow panel with no space to break at */
const LONG_ROOT = "espdht/home-and-garden/outbuildings/greenhouse-number-two";
const WIDTHS = [1024, 1280, 1920];
/** the page's height at each of WIDTHS with RICH selected (2,157, 1,846 and 1,530 px today; the broken layout took 2,459, 7,309 and 6,992) */
const MAX_PAGE_HEIGHT: Record<number, number> = { 1024: 2400, 1280: 2100, 1920: 1800 };
const MIN_VALUE_WIDTH = 60;

let fx: DashboardFixture;
let browser: Browser;
let page: Page;

const richInfo = {
  v: 1, id: RICH, fw: "0.2.0", model: "dht22", pin: 4, interval: 10, ip: "192.168.178.123", boot: 12, root: LONG_ROOT,
  caps: ["read", "set", "ping", "restart", "rekey", "link", "unlink"], dropped: 0, configError: null, mem: { free: 1234, total: 4000 },
  retainedCmds: 1, skipped: 2, rateLimited: 3, refused: 4, linkForged: 5, linkOld: 6, linkIn: 1789,
  groups: GROUPS, links: { to: PEERS, from: PEERS }, output: { rule: `temperature@${PEERS[0]}>24.5<23.5:pin=5:minOn=60:minOff=120:safe=off`, on: false, why: "failsafe" },
};

async function publishDevice(id: string, info: object, output: object | null, temperature: number): Promise<void> {
  await fx.publisher.publishAsync(`${ROOT}/${id}/status`, "online", { qos: 1, retain: true });
  await fx.publisher.publishAsync(`${ROOT}/${id}/info`, JSON.stringify(info), { qos: 1, retain: true });
  if (output) await fx.publisher.publishAsync(`${ROOT}/${id}/output`, JSON.stringify(output), { qos: 1, retain: true });
  await fx.publisher.publishAsync(`${ROOT}/${id}/reading`, JSON.stringify({ v: 1, id, boot: 12, seq: 1, up: 1000, ts: Date.now(), temperature, humidity: 48.5 }), { qos: 1 });
}

beforeAll(async () => {
  fx = await startDashboardFixture(ROOT, "layout");
  await publishDevice(RICH, richInfo, { v: 1, id: RICH, on: false, why: "failsafe", pin: 5, since: 60_000, ts: Date.now() }, 21.4);
  const plain = { v: 1, fw: "0.2.0", model: "dht22", pin: 4, interval: 10, ip: null, boot: 12, root: ROOT, caps: ["read", "set"], dropped: 0, configError: null };
  await publishDevice(PEERS[0], { ...plain, id: PEERS[0], groups: ["kitchen"] }, { v: 1, id: PEERS[0], on: true, why: "rule", pin: 18, since: 5_000, ts: Date.now() }, 25.1);
  await publishDevice(PEERS[1], { ...plain, id: PEERS[1] }, null, 19.9);
  const has = (id: string) => fx.dash.ingest.fleet.get(id);
  await until(() => [RICH, ...PEERS].every((id) => has(id)?.info) && [RICH, PEERS[0]].every((id) => has(id)?.output), 20_000, "three devices with info, two with an output");
  ({ browser, page } = await openPage(fx.dash.url));
  await page.locator(`#devices tbody tr[data-device="${RICH}"]`).click({ timeout: 20_000 });
  await page.waitForFunction(() => document.getElementById("info")!.textContent!.includes("link messages accepted1789"), null, { timeout: 15_000 });
  await page.waitForFunction((id) => document.querySelector(`#devices tr[data-device="${id}"] td.output`)?.textContent === "off (failsafe)", RICH, { timeout: 15_000 });
}, 120_000);

afterAll(() => stopDashboardFixture({ ...fx, browser }));

interface Measured {
  narrowValues: string[];
  overlaps: string[];
  outsidePanel: string[];
  pageHeight: number;
  pageWidth: number;
  viewportWidth: number;
  lastColumn: string;
}

/** Everything the checks need, measured in the page at its current size. */
function measure(p: Page, minValueWidth: number): Promise<Measured> {
  return p.evaluate((minWidth) => {
    const describe = (e: Element) => `${e.tagName.toLowerCase()} "${(e.textContent ?? "").slice(0, 40)}"`;
    const texts = [...document.querySelectorAll("#info dt, #info dd, #stats dt, #stats dd, .panel h3")];
    const narrowValues = [...document.querySelectorAll("#info dd, #stats dd")]
      .filter((dd) => dd.getBoundingClientRect().width < minWidth)
      .map((dd) => `${describe(dd)} is ${Math.round(dd.getBoundingClientRect().width)} px wide`);
    // the boxes of the text itself (one per line), so text that overflows its element counts too
    const lineBoxes = texts.map((e) => {
      const range = document.createRange();
      range.selectNodeContents(e);
      return { e, rects: [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0) };
    });
    const overlaps: string[] = [];
    for (let i = 0; i < lineBoxes.length; i++) {
      for (let j = i + 1; j < lineBoxes.length; j++) {
        const hit = lineBoxes[i].rects.some((a) => lineBoxes[j].rects.some((b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1));
        if (hit) overlaps.push(`${describe(lineBoxes[i].e)} overlaps ${describe(lineBoxes[j].e)}`);
      }
    }
    const outsidePanel: string[] = [];
    for (const { e, rects } of lineBoxes) {
      const panel = e.closest(".panel")!.getBoundingClientRect();
      for (const r of rects) {
        if (r.left < panel.left - 1 || r.right > panel.right + 1) outsidePanel.push(`${describe(e)} reaches ${Math.round(r.left)}..${Math.round(r.right)} outside its panel ${Math.round(panel.left)}..${Math.round(panel.right)}`);
      }
    }
    // the list's last column: visible in its panel, or reachable by a horizontal scrollbar on the first screen
    let lastColumn = "ok";
    const th = document.querySelector<HTMLElement>("#devices thead th:last-child")!;
    const aside = document.querySelector("aside")!.getBoundingClientRect();
    let scroller: HTMLElement | null = th.parentElement;
    while (scroller && !(scroller.scrollWidth > scroller.clientWidth + 1 && /auto|scroll/.test(getComputedStyle(scroller).overflowX))) scroller = scroller.parentElement;
    // as a user first sees it (clicking a row may have scrolled the list sideways)
    if (scroller) scroller.scrollLeft = 0;
    if (th.getBoundingClientRect().right > aside.right + 1) {
      if (!scroller || scroller === document.documentElement || scroller === document.body) lastColumn = `"${th.textContent}" is cut off at ${Math.round(aside.right)} px and nothing in the panel scrolls to it`;
      else if (scroller.getBoundingClientRect().bottom > window.innerHeight) lastColumn = `the list's scrollbar is at ${Math.round(scroller.getBoundingClientRect().bottom)} px, below the first screen (${window.innerHeight} px)`;
      else {
        scroller.scrollLeft = scroller.scrollWidth;
        const box = scroller.getBoundingClientRect();
        const end = th.getBoundingClientRect();
        if (end.right > box.right + 1 || end.left < box.left - 1) lastColumn = `scrolled to the end, "${th.textContent}" is at ${Math.round(end.left)}..${Math.round(end.right)}, outside ${Math.round(box.left)}..${Math.round(box.right)}`;
        scroller.scrollLeft = 0;
      }
    }
    return {
      narrowValues,
      overlaps,
      outsidePanel,
      pageHeight: document.documentElement.scrollHeight,
      pageWidth: document.documentElement.scrollWidth,
      viewportWidth: window.innerWidth,
      lastColumn,
    };
  }, minValueWidth);
}

describe("dashboard layout", () => {
  for (const width of WIDTHS) {
    it(`at ${width}x900 the details are readable and nothing overlaps; the list's last column is reachable`, async () => {
      await page.setViewportSize({ width, height: 900 });
      // the charts resize on a ResizeObserver: let the layout settle
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      await page.waitForTimeout(300);
      const m = await measure(page, MIN_VALUE_WIDTH);
      expect(m.narrowValues).toEqual([]);
      expect(m.overlaps).toEqual([]);
      expect(m.outsidePanel).toEqual([]);
      expect(m.lastColumn).toBe("ok");
      expect(m.pageWidth).toBeLessThanOrEqual(m.viewportWidth);
      expect(m.pageHeight).toBeLessThanOrEqual(MAX_PAGE_HEIGHT[width]);
    });
  }

  it("the list shows the rich device's groups, output and trust in its row (the last column after scrolling if need be)", async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    const row = page.locator(`#devices tr[data-device="${RICH}"]`);
    expect(await row.locator(".group-badge").allTextContents()).toEqual(GROUPS);
    expect(await row.locator(".trust-badge").textContent()).toBe("unsigned");
    const lastBadge = row.locator(".group-badge").last();
    await lastBadge.scrollIntoViewIfNeeded();
    // scrolling brought it into the list's panel, not past the window's edge
    const box = (await lastBadge.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(1280);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
  });
});
