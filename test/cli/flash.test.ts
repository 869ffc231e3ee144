import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { judgeOutput, runEspruinoCli, writeBoardFile } from "../../cli/flash/espruinoCli";
import { keyFingerprint, readKeyringFile } from "../../provisioning/keyring";
import { FIRMWARE_OUT } from "../../tools/buildFirmware";
import { runCli as startCli, runCliToEnd as runCli, tempUserEnv as tempHome } from "../support/runCli";

/** The device config inside a --dry-run upload. */
function uploadedConfig(uploadFile: string): Record<string, unknown> {
  const configLine = fs.readFileSync(uploadFile, "latin1").split("\n").find((l) => l.includes('write("espdht.json"'))!;
  return JSON.parse(Buffer.from(/atob\("([^"]+)"\)/.exec(configLine)![1], "base64").toString("utf8"));
}

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

  it("gives every board a new key: in the upload, pending in the keyring next to the config, shown only by its fingerprint", async () => {
    const { dir, env } = tempHome();
    const keys: string[] = [];
    for (const name of ["a.js", "b.js"]) {
      const r = await runCli(["flash", "--dry-run", path.join(dir, name)], env);
      expect(r.code, r.stderr).toBe(0);
      const key = uploadedConfig(path.join(dir, name)).key as string;
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      keys.push(key);
      expect(r.stderr).toContain(`fingerprint ${keyFingerprint(key)}`);
      expect(r.stderr).toContain("the board's key: keep it private");
      expect(r.stdout + r.stderr).not.toContain(key);
    }
    expect(keys[0]).not.toBe(keys[1]);
    const keyring = path.join(dir, "keys.json");
    expect(fs.statSync(keyring).mode & 0o777).toBe(0o600);
    const ring = readKeyringFile(keyring);
    expect(ring.pending.map((e) => e.key)).toEqual(keys);
    expect(ring.devices).toEqual({});
  });

  it("--keyring FILE takes the key instead; a broken keyring stops the flash naming the file", async () => {
    const { dir, env } = tempHome();
    const other = path.join(dir, "ring", "board-keys.json");
    const r = await runCli(["flash", "--dry-run", path.join(dir, "u.js"), "--keyring", other], env);
    expect(r.code, r.stderr).toBe(0);
    expect(readKeyringFile(other).pending.map((e) => e.key)).toEqual([uploadedConfig(path.join(dir, "u.js")).key]);
    expect(fs.existsSync(path.join(dir, "keys.json"))).toBe(false);

    fs.writeFileSync(other, "{ broken");
    const bad = await runCli(["flash", "--dry-run", path.join(dir, "v.js"), "--keyring", other], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`keyring: ${other}: not valid JSON`);
    expect(bad.stderr).not.toMatch(/packaging|uploading/);
    expect(fs.readFileSync(other, "utf8")).toBe("{ broken");
  });

  it("--broker URL gives the board another broker than the config's ws:// one; a refused URL says what to give", async () => {
    const { dir, env } = tempHome();
    await runCli(["init", "-y", "--broker", "ws://127.0.0.1:9001"], env);
    const refused = await runCli(["flash", "--dry-run", path.join(dir, "a.js")], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${env.ESPDHT_CONFIG}: broker: 'ws://127.0.0.1:9001': a board speaks mqtt:// or mqtts:// only`);
    expect(refused.stderr).toContain("give --broker mqtt://HOST:1883 (or mqtts://HOST:8883) for the boards");

    const out = path.join(dir, "b.js");
    const r = await runCli(["flash", "--dry-run", out, "--broker", "mqtt://board1:s3cr%40t@127.0.0.1:1884"], env);
    expect(r.code, r.stderr).toBe(0);
    // the URL's credentials are the board's login, stored apart from host and port; never printed
    expect(uploadedConfig(out).broker).toEqual({ host: "127.0.0.1", port: 1884, tls: false, username: "board1", password: "s3cr@t" });
    expect(r.stderr).toContain("the board's broker is mqtt://***@127.0.0.1:1884 (from --broker; your config keeps ws://127.0.0.1:9001)");
    expect(r.stderr).toContain("the password in --broker's URL is visible to other users");
    expect(r.stderr).not.toMatch(/s3cr/);
    // the config is not changed by a flash
    expect(JSON.parse(fs.readFileSync(env.ESPDHT_CONFIG!, "utf8")).broker).toBe("ws://127.0.0.1:9001");

    const bad = await runCli(["flash", "--dry-run", path.join(dir, "c.js"), "--broker", "wss://127.0.0.1/mqtt"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--broker: 'wss://127.0.0.1/mqtt': a board speaks mqtt:// or mqtts:// only");
    expect(bad.stderr).toContain("give --broker mqtt://HOST:1883");
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

  it("says so when nothing listens on the port, and takes the unused key out of the keyring again", async () => {
    const { dir, env } = tempHome();
    const r = await runCli(["flash", "--port", "tcp://127.0.0.1:1"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/connection refused/);
    const fingerprint = /fingerprint (\S+):/.exec(r.stderr)![1];
    expect(r.stderr).toContain(`key ${fingerprint} taken out of the keyring again`);
    expect(readKeyringFile(path.join(dir, "keys.json")).pending).toEqual([]);
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
      const flashDir = fs.readdirSync(tmp).find((f) => f.startsWith("espdht-flash-"))!;
      expect(flashDir).toBeDefined();
      // the temporary config holds the board's key: 0600, and only its path is in any process's arguments
      const configFile = path.join(tmp, flashDir, "espdht.json");
      expect(fs.statSync(configFile).mode & 0o777).toBe(0o600);
      const key = JSON.parse(fs.readFileSync(configFile, "utf8")).key as string;
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      const argLists = () => fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, "latin1");
        } catch {
          return "";
        }
      });
      // "uploading" is printed as the espruino CLI is spawned: on a loaded machine its process may not be listed yet
      await expect.poll(() => argLists().some((a) => a.includes("espruino-cli") && a.includes(configFile)), { timeout: 30_000, interval: 100 }).toBe(true);
      expect(argLists().filter((a) => a.includes(key) || a.includes("wifipass99"))).toEqual([]);
      const t0 = Date.now();
      run.child.kill("SIGINT");
      expect(await run.done).toBe(130);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(run.stderr()).toContain("interrupted");
      expect(fs.readdirSync(tmp).filter((f) => f.startsWith("espdht-flash-"))).toEqual([]);
      expect(readKeyringFile(path.join(dir, "keys.json")).pending).toEqual([]);
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
