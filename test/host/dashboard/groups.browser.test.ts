// Named groups on the dashboard (issue 12 item 1), in real headless Chromium against a real Mosquitto: each row
// shows its device's groups as badges, the group filter narrows the list to a group's members (a device that joins
// later comes in without a reload, one that leaves goes), the API refuses a bad group name, and an info with a bad
// groups list is rejected on the host with the reason.
import { Browser, Page } from "playwright-core";
import { openPage } from "../../support/chromium";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DashboardFixture, startDashboardFixture, stopDashboardFixture } from "../../support/dashboardFixture";
import { until } from "../../support/until";

const ROOT = "espdht/groupdash";

let fx: DashboardFixture;
let browser: Browser;
let page: Page;

const info = (id: string, groups: unknown) => ({ v: 1, id, fw: "0.2.0", model: "dht22", pin: 4, interval: 10, ip: null, boot: 1, root: ROOT, caps: ["read", "set", "ping"], dropped: 0, configError: null, groups });

async function device(id: string, groups: unknown): Promise<void> {
  await fx.publisher.publishAsync(`${ROOT}/${id}/status`, "online", { qos: 1, retain: true });
  await fx.publisher.publishAsync(`${ROOT}/${id}/info`, JSON.stringify(info(id, groups)), { qos: 1, retain: true });
  await fx.publisher.publishAsync(`${ROOT}/${id}/reading`, JSON.stringify({ v: 1, id, boot: 1, seq: 1, up: 1000, ts: Date.now(), temperature: 21, humidity: 40 }), { qos: 1 });
}

beforeAll(async () => {
  fx = await startDashboardFixture(ROOT, "groupdash");
  await device("sim-g1", ["kitchen", "floor1"]);
  await device("sim-g2", ["kitchen"]);
  await device("sim-g3", []);
  await until(() => ["sim-g1", "sim-g2", "sim-g3"].every((id) => fx.dash.ingest.fleet.get(id)?.info), 20_000, "three devices with info");
  ({ browser, page } = await openPage(fx.dash.url));
}, 90_000);

afterAll(() => stopDashboardFixture({ ...fx, browser }));

const shownIds = () => page.locator("#devices tbody tr").evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.device));
const groupsOfRow = (id: string) => page.locator(`#devices tbody tr[data-device="${id}"] .group-badge`).allTextContents();

describe("named groups on the dashboard", () => {
  it("shows each device's groups as badges and offers every group in the filter", async () => {
    await expect.poll(shownIds, { timeout: 15_000 }).toEqual(["sim-g1", "sim-g2", "sim-g3"]);
    expect(await groupsOfRow("sim-g1")).toEqual(["kitchen", "floor1"]);
    expect(await groupsOfRow("sim-g2")).toEqual(["kitchen"]);
    expect(await groupsOfRow("sim-g3")).toEqual([]);
    await expect.poll(() => page.locator("#group-filter option").allTextContents()).toEqual(["All groups", "floor1", "kitchen"]);
  });

  it("the group filter shows only the members; a device that joins comes in, one that leaves goes, without a reload", async () => {
    await page.selectOption("#group-filter", "kitchen");
    await expect.poll(shownIds).toEqual(["sim-g1", "sim-g2"]);
    await expect.poll(() => page.locator("#page-info").textContent()).toBe("1–2 of 2");
    await page.selectOption("#group-filter", "floor1");
    await expect.poll(shownIds).toEqual(["sim-g1"]);

    await page.selectOption("#group-filter", "kitchen");
    await expect.poll(shownIds).toEqual(["sim-g1", "sim-g2"]);
    await device("sim-g3", ["kitchen", "garage"]);
    await expect.poll(shownIds, { timeout: 15_000 }).toEqual(["sim-g1", "sim-g2", "sim-g3"]);
    await expect.poll(() => page.locator("#group-filter option").allTextContents()).toEqual(["All groups", "floor1", "garage", "kitchen"]);
    await device("sim-g2", ["floor1"]);
    await expect.poll(shownIds, { timeout: 15_000 }).toEqual(["sim-g1", "sim-g3"]);

    await page.selectOption("#group-filter", "");
    await expect.poll(shownIds).toEqual(["sim-g1", "sim-g2", "sim-g3"]);
  });

  it("the details panel lists the selected device's groups", async () => {
    await page.click('#devices tbody tr[data-device="sim-g1"]');
    await expect.poll(() => page.locator("#info").textContent()).toContain("kitchen, floor1");
  });

  it("the API refuses a bad group name with a 400 naming it", async () => {
    for (const [group, message] of [
      ["a/b", `group: group name 'a/b' has "/"`],
      ["all", "group: 'all' is not a group name"],
      ["x".repeat(65), "has 65 characters, at most 64"],
    ]) {
      const res = await fetch(`${fx.dash.url}api/state?group=${encodeURIComponent(group)}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toContain(message);
    }
    const ok = await fetch(`${fx.dash.url}api/state?group=kitchen`);
    expect(((await ok.json()) as { devices: { id: string }[] }).devices.map((d) => d.id)).toEqual(["sim-g1", "sim-g3"]);
  });

  it("an info with a bad groups list is rejected with the reason, and the device keeps its last good info", async () => {
    for (const [groups, reason] of [
      [["a/b"], "group 'a/b'"],
      [["a", "b", "c", "d", "e"], "groups: a list of up to 4 names"],
      ["kitchen", "groups: a list of up to 4 names"],
      [["k", "k"], "group 'k'"],
    ] as [unknown, string][]) {
      const before = fx.dash.ingest.fleet.get("sim-g1")!.rejected.total;
      await fx.publisher.publishAsync(`${ROOT}/sim-g1/info`, JSON.stringify(info("sim-g1", groups)), { qos: 1 });
      await until(() => fx.dash.ingest.fleet.get("sim-g1")!.rejected.total > before, 10_000, `rejection of groups ${JSON.stringify(groups)}`);
      expect(fx.dash.ingest.fleet.get("sim-g1")!.rejected.recent.at(-1)!.reason).toContain(reason);
    }
    expect(fx.dash.ingest.fleet.get("sim-g1")!.info!.groups).toEqual(["kitchen", "floor1"]);
  });
});
