// `espdht keys list|add|rotate` end to end: the real CLI on a temp keyring; rotate against a real Mosquitto, with
// a virtual board running dist/firmware.js (the device side of rekey) and with fake devices that refuse or stay silent.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../support/brokers";
import { REPO, runCli, runCliToEnd, tempUserEnv } from "../support/runCli";
import { until } from "../support/until";
import { keyFingerprint, newKeyHex, readKeyringFile, updateKeyringFile } from "../../provisioning/keyring";
import { checkSignature } from "../../host/trust/signature";
import { deviceSigned } from "../host/trust/deviceSigner";
import { Fleet, startFleet } from "../../sim/fleet/fleet";
import { FIRMWARE_OUT } from "../../tools/buildFirmware";

const ROOT = "espdht/keystest-cli";
let env: NodeJS.ProcessEnv;
let dir: string;
let keyring: string;

/** Runs the CLI with `input` on its standard input. */
function runWithStdin(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(REPO, "bin/espdht.js"), ...args], { cwd: REPO, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => { stdout += d; });
  child.stderr.on("data", (d) => { stderr += d; });
  child.stdin.end(input);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

beforeAll(() => {
  ({ env, dir } = tempUserEnv({ root: ROOT }));
  keyring = path.join(dir, "keys.json");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("espdht keys list and add", () => {
  const a = newKeyHex();
  const b = newKeyHex();

  it("adds a key from a file and one from standard input, lists fingerprints only", async () => {
    const keyFile = path.join(dir, "board.key");
    fs.writeFileSync(keyFile, a + "\n");
    const fromFile = await runCliToEnd(["keys", "add", "esp32-a1b2c3d4e5f6", "--key-file", keyFile], env);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stderr).toContain(`esp32-a1b2c3d4e5f6: added key ${keyFingerprint(a)} in ${keyring}`);
    const fromStdin = await runWithStdin(["keys", "add", "sim-0000aa"], `  ${b.toUpperCase()}\n`);
    expect(fromStdin.code).toBe(0);
    expect(readKeyringFile(keyring).devices["sim-0000aa"].key).toBe(b);
    expect(fs.statSync(keyring).mode & 0o777).toBe(0o600);
    const pending = newKeyHex();
    updateKeyringFile(keyring, (d) => { d.pending.push({ key: pending, added: "2026-03-01T00:00:00.000Z" }); });

    const list = await runCliToEnd(["keys", "list"], env);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^DEVICE\s+FINGERPRINT\s+ADDED$/);
    expect(lines[1]).toMatch(new RegExp(`^esp32-a1b2c3d4e5f6\\s+${keyFingerprint(a)}\\s+20\\d\\d-`));
    expect(lines[2]).toContain(keyFingerprint(b));
    expect(list.stdout).toContain(`pending (made by flash; bound to a board at its first signed message):\n  ${keyFingerprint(pending)}  2026-03-01T00:00:00.000Z`);
    const json = await runCliToEnd(["keys", "list", "--json"], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      keyring,
      devices: [{ id: "esp32-a1b2c3d4e5f6", fingerprint: keyFingerprint(a) }, { id: "sim-0000aa", fingerprint: keyFingerprint(b) }],
      pending: [{ fingerprint: keyFingerprint(pending), added: "2026-03-01T00:00:00.000Z" }],
    });
    for (const out of [fromFile, fromStdin, list, json]) for (const k of [a, b, pending]) expect(out.stdout + out.stderr).not.toContain(k);
  });

  it("adding the key a board already has is fine; another key needs --replace", async () => {
    const same = await runWithStdin(["keys", "add", "sim-0000aa"], b);
    expect(same.code).toBe(0);
    expect(same.stderr).toContain("already had key");
    const other = newKeyHex();
    const refused = await runWithStdin(["keys", "add", "sim-0000aa"], other);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`sim-0000aa already has key ${keyFingerprint(b)} in ${keyring}; add --replace`);
    expect(readKeyringFile(keyring).devices["sim-0000aa"].key).toBe(b);
    const replaced = await runWithStdin(["keys", "add", "sim-0000aa", "--replace"], other);
    expect(replaced.code).toBe(0);
    expect(replaced.stderr).toContain(`replaced ${keyFingerprint(b)} with key ${keyFingerprint(other)}`);
    expect(readKeyringFile(keyring).devices["sim-0000aa"].key).toBe(other);
  });

  it.each([
    [["keys", "add", "sim-1", "ab".repeat(32)], "a key is never taken as an argument"],
    [["keys", "add", "bad/id", "--key-file", "x"], "'bad/id' is not a device id"],
    [["keys", "add", "sim-1", "--key-file", "/nonexistent/k"], "--key-file: cannot read /nonexistent/k (ENOENT)"],
    [["keys", "rotate"], "needs a device id"],
    [["keys", "rotate", "sim-nokey"], "sim-nokey has no key in"],
    [["keys", "burn"], "unknown subcommand 'burn'"],
  ])("%j fails clearly (exit 2)", async (args, message) => {
    const run = await runCliToEnd(args, env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it("a key that is not 64 hex digits is refused, naming where it came from", async () => {
    const run = await runWithStdin(["keys", "add", "sim-1"], "abc123");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("standard input: a key is 64 hex digits (got 6 characters)");
  });

  it("a broken keyring is an error naming the file", async () => {
    const bad = path.join(dir, "bad-keys.json");
    fs.writeFileSync(bad, JSON.stringify({ version: 1, devices: { "sim-1": { key: "12" } } }));
    const run = await runCliToEnd(["keys", "list", "--keyring", bad], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`keyring: ${bad}: devices.sim-1.key: a key is 64 hex digits`);
  });

  it("has --help for each subcommand", async () => {
    for (const sub of ["list", "add", "rotate"]) {
      const run = await runCliToEnd(["keys", sub, "--help"], env);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: espdht keys ${sub}`);
      expect(run.stdout).toContain("--keyring FILE");
    }
    const overview = await runCliToEnd(["keys", "--help"], env);
    expect(overview.stdout).toContain("keys rotate DEVICE");
  });
});

describe("espdht keys rotate", () => {
  let broker: RunningBroker;
  let fleet: Fleet | null = null;
  const fakes: MqttClient[] = [];
  let renv: NodeJS.ProcessEnv;
  let rdir: string;
  let ring: string;

  beforeAll(async () => {
    broker = await startMosquitto();
    ({ env: renv, dir: rdir } = tempUserEnv({ broker: broker.url, root: ROOT }));
    ring = path.join(rdir, "keys.json");
  });
  afterAll(async () => {
    await fleet?.stop();
    for (const f of fakes) f.end(true);
    await broker?.stop();
    fs.rmSync(rdir, { recursive: true, force: true });
  });

  it("gives a virtual board a new key: the board answers signed with it, then the keyring holds it", async () => {
    const started = await startFleet({ broker: broker.url, root: ROOT, devices: 1, interval: 2, model: "dht22", pin: 4, seed: "rotate", dataDir: path.join(rdir, "boards"), firmwareFile: FIRMWARE_OUT, keys: true, keyring: ring, log: () => {} });
    fleet = started;
    const id = started.ids[0];
    const oldKey = readKeyringFile(ring).devices[id].key;
    // a command published before the board's first connect has no session to wait in
    await until(() => started.stats().mqtt === 1, 30_000, "the board connected");
    // the board is up and signing with its first key
    const ping = await runCliToEnd(["send", id, "ping", "--json", "--timeout", "20"], renv);
    expect(ping.code).toBe(0);
    expect(JSON.parse(ping.stdout)).toMatchObject({ ok: true, trust: "verified" });

    const run = await runCliToEnd(["keys", "rotate", id, "--timeout", "20"], renv);
    expect(run.stderr).toMatch(new RegExp(`${id} took key [0-9a-f-]{19} \\(was ${keyFingerprint(oldKey)}\\); ${ring} updated`));
    expect(run.code).toBe(0);
    const newKey = readKeyringFile(ring).devices[id].key;
    expect(newKey).not.toBe(oldKey);
    expect(run.stderr + run.stdout).not.toContain(newKey);
    expect(run.stderr).toContain(keyFingerprint(newKey));

    // the board signs with the new key from now on: its readings verify under it
    const watcher = await mqtt.connectAsync(broker.url, { clientId: "rotate-watcher", clean: true });
    const checks: string[] = [];
    watcher.on("message", (topic, payload) => checks.push(checkSignature(Buffer.from(newKey, "hex"), topic, payload).result));
    await watcher.subscribeAsync(`${ROOT}/${id}/reading`, { qos: 1 });
    await until(() => checks.length >= 2, 20_000, "two readings after the rotation");
    watcher.end(true);
    expect(new Set(checks)).toEqual(new Set(["verified"]));
    const after = await runCliToEnd(["send", id, "ping", "--json", "--timeout", "20"], renv);
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: true, trust: "verified" });
  }, 90_000);

  /** A device that answers rekey as told, signing with its current key. */
  async function fakeDevice(id: string, key: string, behaviour: "refuse" | "silent" | "wrong-key"): Promise<void> {
    const c = await mqtt.connectAsync(broker.url, { clientId: `fake-${id}`, clean: true });
    c.on("message", (_topic, payload) => {
      const cmd = JSON.parse(payload.toString());
      const t = `${ROOT}/${id}/reply`;
      if (behaviour === "refuse") c.publish(t, deviceSigned(key, t, { re: cmd.id, ok: false, error: "rate limited" }), { qos: 1 });
      // someone without the new key claims success: signed with a key that is neither
      if (behaviour === "wrong-key") c.publish(t, deviceSigned(newKeyHex(), t, { re: cmd.id, ok: true }), { qos: 1 });
    });
    await c.subscribeAsync(`${ROOT}/${id}/cmd`, { qos: 1 });
    fakes.push(c);
  }

  it.each([
    ["refuses", "refuse", 1, "refused the new key: rate limited; the keyring is unchanged"],
    ["stays silent", "silent", 3, "no answer from sim-rot-silent within 2 s: the keyring is unchanged"],
    ["is answered for by a forger", "wrong-key", 3, "no answer from sim-rot-wrong-key within 2 s: the keyring is unchanged"],
  ] as const)("when the device %s, the keyring keeps the old key", async (_what, behaviour, code, message) => {
    const id = behaviour === "refuse" ? "sim-rot-refuse" : `sim-rot-${behaviour}`;
    const key = newKeyHex();
    updateKeyringFile(ring, (d) => { d.devices[id] = { key, added: "2026-01-01T00:00:00.000Z" }; });
    await fakeDevice(id, key, behaviour);
    const run = await runCliToEnd(["keys", "rotate", id, "--timeout", "2"], renv);
    expect(run.code).toBe(code);
    expect(run.stderr).toContain(message);
    expect(readKeyringFile(ring).devices[id]).toEqual({ key, added: "2026-01-01T00:00:00.000Z" });
  });
});
