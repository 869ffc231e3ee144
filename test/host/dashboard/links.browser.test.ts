// Device-to-device links on the dashboard and in watch (issue 12 item 2): the details panel of a device names the
// devices it sends its readings to and accepts them from, with its link counters, in real headless Chromium against
// a real Mosquitto; watch's LINKS column says the same; an info whose links are not a short list of ids is rejected.
import { Browser, Page } from "playwright-core";
import { openPage } from "../../support/chromium";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FleetState } from "../../../host/ingest/deviceState";
import { parseDeviceMessage } from "../../../host/ingest/parseMessage";
import { renderWatchTable } from "../../../host/terminal/watchTable";
import { DashboardFixture, startDashboardFixture, stopDashboardFixture } from "../../support/dashboardFixture";
import { until } from "../../support/until";

const ROOT = "espdht/linkdash";

let fx: DashboardFixture;
let browser: Browser;
let page: Page;

const info = (id: string, extra: object) => ({ v: 1, id, fw: "0.2.0", model: "dht22", pin: 4, interval: 10, ip: null, boot: 1, root: ROOT, caps: ["read", "link", "unlink"], dropped: 0, configError: null, ...extra });
const A = { links: { to: ["sim-b"], from: [] }, linkForged: 0, linkOld: 0, linkIn: 0 };
const B = { links: { to: [], from: ["sim-a"] }, linkForged: 2, linkOld: 1, linkIn: 17 };

async function device(id: string, extra: object): Promise<void> {
  await fx.publisher.publishAsync(`${ROOT}/${id}/status`, "online", { qos: 1, retain: true });
  await fx.publisher.publishAsync(`${ROOT}/${id}/info`, JSON.stringify(info(id, extra)), { qos: 1, retain: true });
}

beforeAll(async () => {
  fx = await startDashboardFixture(ROOT, "linkdash");
  await device("sim-a", A);
  await device("sim-b", B);
  await device("sim-c", {});
  await until(() => ["sim-a", "sim-b", "sim-c"].every((id) => fx.dash.ingest.fleet.get(id)?.info), 20_000, "three devices with info");
  ({ browser, page } = await openPage(fx.dash.url));
}, 90_000);

afterAll(() => stopDashboardFixture({ ...fx, browser }));

describe("links on the dashboard", () => {
  it("the details panel names each side of a link and the receiver's link counters", async () => {
    await page.click('#devices tbody tr[data-device="sim-a"]');
    await expect.poll(() => page.locator("#info").textContent(), { timeout: 15_000 }).toContain("sends its readings to sim-b");
    await page.click('#devices tbody tr[data-device="sim-b"]');
    await expect.poll(() => page.locator("#info").textContent()).toContain("accepts readings from sim-a");
    const text = (await page.locator("#info").textContent())!;
    expect(text).toContain("link messages accepted17");
    expect(text).toContain("link messages forged (ignored)2");
    expect(text).toContain("link messages replayed or old (ignored)1");
    await page.click('#devices tbody tr[data-device="sim-c"]');
    await expect.poll(() => page.locator("#info").textContent()).toMatch(/linksnone/);
  });

  it("an info whose links are not two short lists of device ids is rejected with the reason", async () => {
    await device("sim-a", { links: { to: ["a/b"], from: [] } });
    await device("sim-b", { links: { to: [], from: ["x1", "x2", "x3", "x4", "x5"] } });
    await device("sim-c", { links: { to: [], from: [], keys: ["secret"] } });
    await until(() => ["sim-a", "sim-b", "sim-c"].every((id) => fx.dash.ingest.fleet.get(id)!.rejected.total > 0), 15_000, "three rejected infos");
    for (const id of ["sim-a", "sim-b", "sim-c"]) {
      const d = fx.dash.ingest.fleet.get(id)!;
      // the contract's check, or the host's stricter one (no other keys, no repeats)
      expect(JSON.stringify(d.rejected)).toMatch(/links must be \{to, from\}( and nothing else)?: lists of at most 4 (distinct )?device ids/);
    }
    expect(JSON.stringify(fx.dash.ingest.fleet.get("sim-c")!.rejected)).toContain("and nothing else");
    // the last good info stays
    expect(fx.dash.ingest.fleet.get("sim-b")!.info!.links).toEqual(B.links);
  });
});

describe("links in watch", () => {
  it("the LINKS column: 'to B', 'from A', '-'", () => {
    const fleet = new FleetState();
    const feed = (id: string, extra: object) => fleet.apply(parseDeviceMessage(ROOT, `${ROOT}/${id}/info`, new TextEncoder().encode(JSON.stringify(info(id, extra))), null), 1);
    feed("sim-a", A);
    feed("sim-b", { ...B, links: { to: ["sim-c"], from: ["sim-a", "sim-d"] } });
    feed("sim-c", {});
    const lines = renderWatchTable(fleet.list(), 2, false);
    const col = lines[0].indexOf("LINKS");
    expect(col).toBeGreaterThan(0);
    expect(lines[1].slice(col)).toMatch(/^to sim-b /);
    expect(lines[2].slice(col)).toMatch(/^to sim-c, from sim-a,sim-d /);
    expect(lines[3].slice(col)).toMatch(/^- /);
  });
});
