// `npm start` end to end: the real command, its embedded broker and virtual boards, and the page in Chromium.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { readKeyringFile } from "../../provisioning/keyring";
import { REPO, runCliToEnd, tempUserEnv as tempHome } from "../support/runCli";

const CHROMIUM = "/usr/bin/chromium";

describe("espdht start (the all-local demo)", () => {
  it("--help suggests the watch command start prints, with the demo's keyring (without it the boards show unsigned)", async () => {
    const { dir, env } = tempHome();
    const r = await runCliToEnd(["start", "--help"], { ...env, ESPDHT_DATA: path.join(dir, "data") });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`espdht watch --broker mqtt://127.0.0.1:1883 --topic-root espdht/demo --keyring ${path.join(dir, "data", "demo", "keys.json")}`);
  });

  it("shows live readings of three virtual boards, verified with keys from the demo's own keyring, then stops cleanly on Ctrl-C", async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`);
    const { dir, env } = tempHome();
    const child = spawn(process.execPath, [path.join(REPO, "bin/espdht.js"), "start", "--port", "0", "--broker-port", "0", "--interval", "2", "--data", path.join(dir, "demo")], {
      cwd: REPO, env: { ...process.env, ...env, NODE_NO_WARNINGS: "1" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--disable-gpu", "--disable-background-networking"] });
    try {
      await expect.poll(() => /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)?.[1], { timeout: 60_000, interval: 200 }).toBeTruthy();
      const url = /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)![1];
      const page = await browser.newPage();
      await page.goto(url);
      const onlineRows = () => page.locator("#devices tr[data-device] .badge", { hasText: "online" }).count();
      await expect.poll(onlineRows, { timeout: 60_000, interval: 500 }).toBe(3);
      // each board signs with its own key, and the dashboard holds them: every row says verified
      const verifiedRows = () => page.locator("#devices tr[data-device] .badge-verified", { hasText: "verified" }).count();
      await expect.poll(verifiedRows, { timeout: 30_000, interval: 500 }).toBe(3);
      const ids = await page.locator("#devices tr[data-device]").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.device!));
      const ring = readKeyringFile(path.join(dir, "demo", "keys.json"));
      expect(Object.keys(ring.devices).sort()).toEqual(ids.sort());
      expect(new Set(ids.map((id) => ring.devices[id].key)).size).toBe(3);
      // the demo never touches the user's config or keyring
      expect(fs.existsSync(path.join(dir, "keys.json"))).toBe(false);
      expect(fs.existsSync(env.ESPDHT_CONFIG!)).toBe(false);
      const points = async () => Number(await page.locator("#chart-temp").getAttribute("data-points"));
      await expect.poll(points, { timeout: 30_000, interval: 500 }).toBeGreaterThan(0);
      const before = await points();
      await expect.poll(points, { timeout: 30_000, interval: 500 }).toBeGreaterThan(before);
      // port 0 asks for a free port: nothing "was taken"
      expect(stderr).not.toContain("was taken");
      expect(stderr).toMatch(/3 virtual boards \(sim-[0-9a-f]{12}, sim-[0-9a-f]{12}, sim-[0-9a-f]{12}\)/);
    } finally {
      await browser.close();
      child.kill("SIGINT");
    }
    const stoppedAt = Date.now();
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(stderr).toContain("stopping");
    expect(stderr).not.toMatch(/Uncaught|Error:/);
    for (const entry of Object.values(readKeyringFile(path.join(dir, "demo", "keys.json")).devices)) expect(stdout + stderr).not.toContain(entry.key);
  }, 180_000);
});
