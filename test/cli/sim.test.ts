// `espdht sim` as a user runs it: help, clear errors for bad arguments, live boards, and Ctrl-C that powers
// them off (each will publishes `offline`) and exits promptly.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { keyFingerprint, readKeyringFile } from "../../provisioning/keyring";
import { startAedes } from "../support/brokers";
import { signatureVerdict } from "../sim/fleet/signedPayload";
import { record, Recorder } from "../sim/fleet/subscriber";
import { REPO, runCliToEnd as runCli, tempUserEnv as tempHome } from "../support/runCli";

describe("espdht sim", () => {
  it("prints its options with --help", async () => {
    const { env } = tempHome();
    const r = await runCli(["sim", "--help"], env);
    expect(r.code).toBe(0);
    for (const flag of ["--broker", "--devices", "--interval", "--scenario", "--console", "--seed", "--config", "wifi-drop", "--keyring", "--no-keys", "--broker-outage", "broker-outage"]) expect(r.stdout).toContain(flag);
    // saved settings win over every setting option, not only --groups: the help says which and how to reset them
    expect(r.stdout).toContain("'espdht send BOARD set ...' saves ALL the board's settings (interval, tempOffset, humOffset,");
    expect(r.stdout).toContain("--fresh erases them");
    expect(r.stdout).toContain("a board's own 'set interval' (saved in its Storage) wins until --fresh");
  });

  it.each([
    [["--interval", "1"], /--interval: 1 is out of range 2\.\.86400/],
    [["--model", "dht33"], /--model: 'dht33' must be dht22 or dht11/],
    [["--pin", "7"], /--pin: GPIO 7 cannot carry DHT data/],
    [["--checksum-rate", "2"], /--checksum-rate: 2 is out of range 0\.\.1/],
    [["--wifi-drop", "soon"], /--wifi-drop: 'soon' must be AT:SECONDS/],
    [["--broker-outage", "30"], /--broker-outage: '30' must be START:SECONDS or START:SECONDSxSPEED/],
    [["--broker-outage", "30:600x20000"], /--broker-outage \("broker-outage"\): speed must be a number 1\.\.10000/],
    [["--broker", "ws://example.org:8080"], /a board speaks mqtt:\/\/ or mqtts:\/\/ only.*give --broker mqtt:\/\/HOST:1883/],
    [["--duplicate-id"], /--duplicate-id needs --devices 2 or more/],
  ])("refuses %j with a clear error", async (args, message) => {
    const { env } = tempHome();
    const r = await runCli(["sim", ...args], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("names the file, item and field of a bad scenario", async () => {
    const { dir, env } = tempHome();
    const file = path.join(dir, "bad.json");
    fs.writeFileSync(file, '[{"at": 10, "fault": "wifi-drop", "seconds": -3}]');
    const r = await runCli(["sim", "--scenario", file], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: item 1 ("wifi-drop"): seconds must be a number > 0`);
  });

  it("logs the boards in with a broker URL's credentials and never prints the password", async () => {
    const broker = await startAedes();
    const logins: [string | undefined, string | undefined][] = [];
    broker.broker.authenticate = (_client, username, password, done) => {
      logins.push([username, password?.toString()]);
      done(null, true);
    };
    const { env } = tempHome();
    const url = broker.url.replace("mqtt://", "mqtt://board:s3cr%21t@");
    try {
      const child = spawn(process.execPath, [path.join(REPO, "bin/espdht.js"), "sim", "--broker", url, "--topic-root", "espdht/clicred", "--json"], { cwd: REPO, env: { ...process.env, ...env } });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      for (let i = 0; i < 300 && logins.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(logins[0]).toEqual(["board", "s3cr!t"]);
      expect(output).toContain("mqtt://***@127.0.0.1");
      expect(output).not.toMatch(/s3cr/);
    } finally {
      await broker.stop();
    }
  }, 60_000);

  it("runs boards that publish, and Ctrl-C powers them off so their wills fire", async () => {
    const broker = await startAedes();
    const { env } = tempHome();
    const sub = await record(broker.url, "espdht/clisim/#");
    try {
      const child = spawn(process.execPath, [path.join(REPO, "bin/espdht.js"), "sim", "--broker", broker.url, "--topic-root", "espdht/clisim", "--devices", "2", "--interval", "2", "--json"], { cwd: REPO, env: { ...process.env, ...env } });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      await sub.until((ms) => new Set(ms.filter((m) => m.topic.endsWith("/reading")).map((m) => m.topic)).size === 2, 30_000, "readings from both boards");
      const start = JSON.parse(stdout.split("\n")[0]);
      expect(start.event).toBe("start");
      expect(start.boards.map((b: { id: string }) => b.id)).toHaveLength(2);
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      const t0 = Date.now();
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(3000);
      await sub.until((ms) => start.boards.every((b: { id: string }) => ms.some((m) => m.topic === `espdht/clisim/${b.id}/status` && m.text === "offline")), 10_000, "both wills");
      expect(stderr).toContain("powering the boards off");
    } finally {
      await sub.close();
      await broker.stop();
    }
  }, 60_000);

  /** Runs `espdht sim ARGS --json` until a reading of each of its boards (or of the first, for clones) arrived after it started, then Ctrl-C. */
  async function simRun(args: string[], env: NodeJS.ProcessEnv, sub: Recorder, root: string, firstOnly = false) {
    const since = Date.now();
    const child = spawn(process.execPath, [path.join(REPO, "bin/espdht.js"), "sim", "--topic-root", root, "--interval", "2", "--json", ...args], { cwd: REPO, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await expect.poll(() => stdout.includes("\n"), { timeout: 30_000, interval: 100 }).toBe(true);
      const start = JSON.parse(stdout.split("\n")[0]) as { boards: { id: string; keyFingerprint: string | null }[] };
      const readings = () => sub.messages.filter((m) => m.at >= since && m.topic.endsWith("/reading"));
      await sub.until(() => start.boards.slice(0, firstOnly ? 1 : undefined).every((b) => readings().some((m) => m.topic === `${root}/${b.id}/reading`)), 30_000, "a reading from each board");
      return { start, readings: readings(), output: () => stdout + stderr, stderr: () => stderr };
    } finally {
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    }
  }

  it("gives each board a key kept across runs, in the keyring next to the config; prints only fingerprints", async () => {
    const broker = await startAedes();
    const { dir, env } = tempHome();
    const root = "espdht/clikeys";
    const sub = await record(broker.url, root + "/#");
    try {
      const args = ["--broker", broker.url, "--devices", "2"];
      const first = await simRun(args, env, sub, root);
      const keyring = path.join(dir, "keys.json");
      const ring = readKeyringFile(keyring);
      const ids = first.start.boards.map((b) => b.id);
      const keys = ids.map((id) => ring.devices[id].key);
      expect(first.start.boards.map((b) => b.keyFingerprint)).toEqual(keys.map(keyFingerprint));
      for (const fp of keys.map(keyFingerprint)) expect(first.stderr()).toContain(`key ${fp}`);
      expect(first.stderr()).toContain(`each board's key is in ${keyring}`);
      for (const m of first.readings) expect(signatureVerdict(m.topic, m.text, keys[ids.indexOf(m.topic.split("/")[2])])).toBe("verified");

      const second = await simRun(args, env, sub, root);
      expect(second.start.boards.map((b) => b.id)).toEqual(ids);
      expect(ids.map((id) => readKeyringFile(keyring).devices[id].key)).toEqual(keys);
      for (const m of second.readings) expect(signatureVerdict(m.topic, m.text, keys[ids.indexOf(m.topic.split("/")[2])])).toBe("verified");

      // --no-keys: unsigned boards, the keyring only read (and the user told the host will reject them)
      const before = fs.readFileSync(keyring, "utf8");
      const unsigned = await simRun([...args, "--no-keys"], env, sub, root);
      expect(unsigned.start.boards.map((b) => b.keyFingerprint)).toEqual([null, null]);
      expect(unsigned.stderr()).toMatch(/unsigned boards: 2 of these ids have a key in .*keys\.json/);
      for (const m of unsigned.readings) expect(signatureVerdict(m.topic, m.text, keys[0])).toBe("unsigned");
      expect(fs.readFileSync(keyring, "utf8")).toBe(before);

      // --keyring FILE elsewhere gets the same keys
      const other = path.join(dir, "elsewhere", "ring.json");
      await simRun([...args, "--keyring", other], env, sub, root);
      expect(ids.map((id) => readKeyringFile(other).devices[id].key)).toEqual(keys);

      for (const out of [first.output(), second.output(), unsigned.output()]) for (const k of keys) expect(out).not.toContain(k);
    } finally {
      await sub.close();
      await broker.stop();
    }
  }, 120_000);

  it("--duplicate-id clones share board 0's key", async () => {
    const broker = await startAedes();
    const { dir, env } = tempHome();
    const root = "espdht/cliclones";
    const sub = await record(broker.url, root + "/#");
    try {
      const run = await simRun(["--broker", broker.url, "--devices", "2", "--duplicate-id"], env, sub, root, true);
      const ids = run.start.boards.map((b) => b.id);
      const key0 = readKeyringFile(path.join(dir, "keys.json")).devices[ids[0]].key;
      const storageKey = (id: string) => {
        const files = JSON.parse(fs.readFileSync(path.join(dir, "data", "sim", `${id}.storage.json`), "utf8"));
        return JSON.parse(Buffer.from(files["espdht.json"], "base64").toString("latin1")).key;
      };
      expect(storageKey(ids[1])).toBe(key0);
      expect(storageKey(ids[0])).toBe(key0);
      for (const m of run.readings) expect(signatureVerdict(m.topic, m.text, key0)).toBe("verified");
    } finally {
      await sub.close();
      await broker.stop();
    }
  }, 60_000);
});
