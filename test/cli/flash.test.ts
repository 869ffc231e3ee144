import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { judgeOutput, runEspruinoCli, writeBoardFile } from "../../cli/flash/espruinoCli";
import { FIRMWARE_OUT } from "../../tools/buildFirmware";
import { runCli as startCli, runCliToEnd as runCli, tempUserEnv as tempHome } from "../support/runCli";

describe("espdht flash", () => {
  it("--dry-run writes exactly what a board receives: the config, then the firmware to .bootcde, then load()", async () => {
    const { dir, env } = tempHome();
    await runCli(["init", "-y", "--wifi-ssid", "home", "--wifi-password", "wifisecret1"], env);
    const out = path.join(dir, "upload.js");
    const r = await runCli(["flash", "--dry-run", out], env);
    expect(r.code, r.stderr).toBe(0);
    const upload = fs.readFileSync(out, "latin1");
    const lines = upload.trim().split("\n");
    const configLine = lines.find((l) => l.includes('write("espdht.json"'))!;
    const b64 = /atob\("([^"]+)"\)/.exec(configLine)![1];
    const config = JSON.parse(Buffer.from(b64, "base64").toString("utf8"));
    const user = JSON.parse(fs.readFileSync(env.ESPDHT_CONFIG!, "utf8"));
    expect(config.root).toBe(user.root);
    expect(config.wifi).toEqual({ ssid: "home", password: "wifisecret1" });
    expect(config.broker).toMatchObject({ host: "test.mosquitto.org", port: 1883, tls: false });
    expect(upload).toContain('require("Storage").write(".bootcde",');
    expect(lines[lines.length - 1]).toBe('load(".bootcde")');
    // the firmware text is inside the .bootcde write, escaped as a JS string
    const bootLine = lines.find((l) => l.includes('write(".bootcde"'))!;
    const firmware = fs.readFileSync(FIRMWARE_OUT, "latin1");
    expect(bootLine).toContain(`,0,${Buffer.byteLength(firmware, "latin1")})`);
    expect(r.stderr).toContain("keep it private");
    // it holds the Wi-Fi password: readable by its owner only
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
  });

  it("--dry-run into a folder that does not exist fails naming it (it used to report 'wrote' and exit 0)", async () => {
    const { dir, env } = tempHome();
    const out = path.join(dir, "no-such-folder", "upload.js");
    const r = await runCli(["flash", "--dry-run", out], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--dry-run: cannot write ${out}`);
    expect(r.stderr).not.toContain("wrote");
  });

  it("creates the config first when there is none", async () => {
    const { dir, env } = tempHome();
    const r = await runCli(["flash", "--dry-run", path.join(dir, "u.js")], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("created");
    expect(fs.existsSync(env.ESPDHT_CONFIG!)).toBe(true);
  });

  it.each([
    [[], /give --port/],
    [["--port", "/dev/ttyUSB97"], /does not exist/],
    [["--port", "tcp://"], /is not tcp:\/\/HOST/],
    [["--port", "/dev/null", "--baud", "fast"], /--baud: 'fast' is not a number/],
  ])("rejects %j clearly", async (args, message) => {
    const { env } = tempHome();
    const r = await runCli(["flash", ...args], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("says so when nothing listens on the port", async () => {
    const { env } = tempHome();
    const r = await runCli(["flash", "--port", "tcp://127.0.0.1:1"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/connection refused/);
  });
});

describe("the espruino CLI wrapper", () => {
  it("fails packaging when a module is not built into the board (the CLI itself exits 0)", async () => {
    const { dir } = tempHome();
    const bad = path.join(dir, "bad.js");
    fs.writeFileSync(bad, 'var x = require("nosuchmodule");\n');
    const req = { dryRunFile: path.join(dir, "o.js"), baud: 115200, boardFile: writeBoardFile(dir), firmwareFile: bad, storageFiles: {}, timeoutMs: 30_000 };
    await expect(runEspruinoCli(req)).rejects.toThrow(/module 'nosuchmodule' is not built into/);
  });

  it("says so when the board never answers", async () => {
    const { dir } = tempHome();
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    const req = { port: `tcp://127.0.0.1:${port}`, baud: 115200, boardFile: writeBoardFile(dir), firmwareFile: FIRMWARE_OUT, storageFiles: {}, timeoutMs: 8_000 };
    try {
      await expect(runEspruinoCli(req)).rejects.toThrow(/the board did not answer/);
    } finally {
      silent.close();
    }
  }, 30_000);

  // Ctrl-C used to kill the process before its cleanup: the config with the Wi-Fi password stayed in a temp folder
  it("Ctrl-C during an upload stops the CLI, removes the temporary config and exits 130", async () => {
    const { dir, env } = tempHome({ wifi: { ssid: "home", password: "wifipass99" } });
    const tmp = path.join(dir, "tmp");
    fs.mkdirSync(tmp);
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const run = startCli(["flash", "--port", `tcp://127.0.0.1:${port}`], { ...env, TMPDIR: tmp });
      await expect.poll(() => /uploading/.test(run.stderr()), { timeout: 60_000, interval: 200 }).toBe(true);
      expect(fs.readdirSync(tmp).some((f) => f.startsWith("espdht-flash-"))).toBe(true);
      const t0 = Date.now();
      run.child.kill("SIGINT");
      expect(await run.done).toBe(130);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(run.stderr()).toContain("interrupted");
      expect(fs.readdirSync(tmp).filter((f) => f.startsWith("espdht-flash-"))).toEqual([]);
    } finally {
      silent.close();
    }
  }, 90_000);

  it.each([
    ["Module foo not found\nUpload Complete", false, /module 'foo'/],
    ["Connecting to 'tcp://x'\nUnable to connect!", false, /could not connect/],
    ["Error: Cannot lock port", false, /busy/],
    ["Error: Permission denied, cannot open /dev/ttyUSB0", false, /dialout/],
    ["Connected\nUpload Complete", false, /did not answer/],
    ["Connected\n--] >\n", false, /Upload Complete/],
    ["--] >\n--] Uncaught ReferenceError: \"x\" is not defined\nUpload Complete", false, /reported an error: Uncaught ReferenceError/],
    ["Writing output to x.js", true, null],
    ["Connected\n--] >\nUpload Complete", false, null],
  ])("judges %j", (output, dryRun, expected) => {
    const verdict = judgeOutput(output, dryRun);
    if (expected === null) expect(verdict).toBeNull();
    else expect(verdict).toMatch(expected);
  });
});
