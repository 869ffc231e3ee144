// `npm start` end to end: the real command, its embedded broker and virtual boards, and the page in Chromium.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { REPO, tempUserEnv as tempHome } from "../support/runCli";

const CHROMIUM = "/usr/bin/chromium";

describe("espdht start (the all-local demo)", () => {
  it("shows live readings of three virtual boards in the dashboard, then stops cleanly on Ctrl-C", async () => {
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
  }, 180_000);
});
