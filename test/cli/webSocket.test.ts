// MQTT over WebSocket for the host programs (issue 12 item 4), on real brokers on loopback: a Mosquitto with a
// login, a plain TCP listener, a TLS one and ws:// + wss:// listeners (the test's own CA), where a simulated board
// (the firmware, on TCP) signs its readings; watch, send and the dashboard reach it over ws:// and wss:// with the
// same options as mqtt(s):// (--ca, --password-file, ESPDHT_BROKER_PASSWORD, URL credentials masked). Then the
// embedded broker of `espdht start` over ws://. Bad input: unusable ws URLs, untrusted wss, ws:// for a board.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, LocalMosquitto, startMosquitto } from "../../host/broker/mosquitto";
import { mosquittoPasswordLine } from "../../provisioning/deviceLogins";
import { simDeviceId } from "../../sim/fleet/deviceId";
import { makeCertificates, TestCertificates } from "../support/certificates";
import { CliRun, REPO, runCli, runCliToEnd, tempUserEnv } from "../support/runCli";
import { until } from "../support/until";

const ROOT = "espdht/wstest";
const SEED = "wstest";
const ID = simDeviceId(SEED, 0);
const HOST_USER = "espdht-host";
const HOST_PASSWORD = "ws-Host-Secret-93";
const BOARD_USER = "board";
const BOARD_PASSWORD = "ws-Board-Secret-27";

let certs: TestCertificates;
let broker: LocalMosquitto;
let env: NodeJS.ProcessEnv;
let dir: string;
let hostPwFile: string;
let sim: CliRun;
/** every output of every host command here, searched for the passwords at the end */
const outputs: string[] = [];

async function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}, timeoutMs = 60_000) {
  const r = await runCliToEnd(args, { ...env, ...extraEnv }, timeoutMs);
  outputs.push(r.stdout, r.stderr);
  return r;
}

beforeAll(async () => {
  certs = makeCertificates();
  ({ env, dir } = tempUserEnv());
  hostPwFile = path.join(dir, "host.pw");
  fs.writeFileSync(hostPwFile, HOST_PASSWORD + "\n", { mode: 0o600 });
  const boardPwFile = path.join(dir, "board.pw");
  fs.writeFileSync(boardPwFile, BOARD_PASSWORD + "\n", { mode: 0o600 });
  const passwd = path.join(dir, "passwd");
  fs.writeFileSync(passwd, [mosquittoPasswordLine(HOST_USER, HOST_PASSWORD), mosquittoPasswordLine(BOARD_USER, BOARD_PASSWORD), ""].join("\n"));
  broker = await startMosquitto([], { tls: { cafile: certs.ca, certfile: certs.cert, keyfile: certs.key }, websockets: true, passwordFile: passwd });
  // the user's config names the ws:// URL: the host commands below take it from there unless --broker says otherwise
  fs.writeFileSync(env.ESPDHT_CONFIG!, JSON.stringify({ broker: broker.wsUrl, root: ROOT, username: HOST_USER }));
  // the board stays on TCP; its key goes to the keyring next to the config, which the host commands read
  sim = runCli(["sim", "--broker", broker.url, "--topic-root", ROOT, "--username", BOARD_USER, "--password-file", boardPwFile, "--seed", SEED, "--interval", "2", "--data", path.join(dir, "boards")], env);
  await until(() => sim.stderr().includes(`board 0: ${ID}  key `) || sim.child.exitCode !== null, 90_000, "the simulated board");
  expect(sim.child.exitCode, sim.stderr()).toBeNull();
}, 150_000);

afterAll(async () => {
  sim?.child.kill("SIGINT");
  if (sim) await sim.done;
  await broker?.close();
  certs?.remove();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** watch --once --json: the devices it saw, or the failure. */
async function watchOnce(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const r = await cli(["watch", "--once", "--json", "--wait", "30", ...args], extraEnv);
  return { ...r, devices: r.code === 0 ? (JSON.parse(r.stdout) as { id: string; trust: string; online: boolean; lastGood: { temperature: number } | null; readings: number }[]) : [] };
}

describe("host commands over ws:// and wss:// (Mosquitto)", () => {
  it("watch over ws:// (the config's URL, --password-file) shows the TCP board's signed readings as verified", async () => {
    const r = await watchOnce(["--password-file", hostPwFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.devices).toEqual([expect.objectContaining({ id: ID, trust: "verified", online: true })]);
    expect(r.devices[0].readings).toBeGreaterThan(0);
    expect(typeof r.devices[0].lastGood?.temperature).toBe("number");
    expect(r.stderr).toContain(`subscribed to ${ROOT}/+/`);
    expect(r.stderr).toContain("over MQTT 5");
  }, 60_000);

  it("watch --json streams verified readings over ws:// and stops on Ctrl-C", async () => {
    const run = runCli(["watch", "--json"], { ...env, ESPDHT_BROKER_PASSWORD: HOST_PASSWORD });
    try {
      await until(() => run.stdout().split("\n").some((l) => l.includes(`"trust":"verified"`) && l.includes(ID)), 30_000, "a verified reading line");
    } finally {
      run.child.kill("SIGINT");
    }
    expect(await run.done).toBe(0);
    outputs.push(run.stdout(), run.stderr());
    const line = JSON.parse(run.stdout().split("\n").find((l) => l.includes(`"trust":"verified"`))!);
    expect(line).toMatchObject({ id: ID, trust: "verified" });
  }, 60_000);

  it("send over ws:// signs the command and shows the board's verified reply", async () => {
    const r = await cli(["send", ID, "ping", "--json", "--password-file", hostPwFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ ok: true, trust: "verified" });
  }, 60_000);

  it("watch and send over wss:// with --ca (password from ESPDHT_BROKER_PASSWORD)", async () => {
    const pw = { ESPDHT_BROKER_PASSWORD: HOST_PASSWORD };
    const w = await watchOnce(["--broker", broker.wssUrl!, "--ca", certs.ca], pw);
    expect(w.code, w.stderr).toBe(0);
    expect(w.devices).toEqual([expect.objectContaining({ id: ID, trust: "verified", online: true })]);
    const s = await cli(["send", ID, "read", "--json", "--broker", broker.wssUrl!, "--ca", certs.ca], pw);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout.trim())).toMatchObject({ ok: true, trust: "verified" });
  }, 90_000);

  it("the dashboard over wss:// shows the board verified; its broker label carries no password", async () => {
    const url = broker.wssUrl!.replace("wss://", `wss://${HOST_USER}:${HOST_PASSWORD}@`) + "/mqtt";
    const run = runCli(["dashboard", "--port", "0", "--broker", url, "--ca", certs.ca, "--data", path.join(dir, "dash")], env);
    try {
      await until(() => /http:\/\/127\.0\.0\.1:\d+\//.test(run.stdout()) || run.child.exitCode !== null, 60_000, "the dashboard's URL");
      const page = /http:\/\/127\.0\.0\.1:\d+\//.exec(run.stdout());
      expect(page, run.stderr()).not.toBeNull();
      type State = { connected: boolean; broker: string; devices: { id: string; trust: string }[] };
      const state = async () => (await (await fetch(new URL("/api/state", page![0]))).json()) as State;
      await expect.poll(async () => (await state()).devices.find((d) => d.id === ID)?.trust, { timeout: 30_000, interval: 500 }).toBe("verified");
      const s = await state();
      expect(s.connected).toBe(true);
      expect(s.broker).toContain(`wss://`);
      expect(JSON.stringify(s)).not.toContain(HOST_PASSWORD);
    } finally {
      run.child.kill("SIGINT");
    }
    expect(await run.done).toBe(0);
    outputs.push(run.stdout(), run.stderr());
    // a password in --broker's URL is warned about (it shows in 'ps') and never printed
    expect(run.stderr()).toContain("the password in --broker's URL is visible to other users");
  }, 90_000);

  it("a ws:// URL with a given path keeps it (Mosquitto ignores the path)", async () => {
    const r = await watchOnce(["--broker", `${broker.wsUrl}/some/path`, "--password-file", hostPwFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.devices.map((d) => d.id)).toEqual([ID]);
  }, 60_000);
});

describe("bad input over WebSocket: a clear error naming what is wrong, exit 1 (cannot connect) or 2 (usage)", () => {
  it("a wrong password over ws:// is a refused login", async () => {
    const r = await cli(["watch", "--once"], { ESPDHT_BROKER_PASSWORD: "not-the-password" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot connect to ${broker.wsUrl}: the broker refused the login (username '${HOST_USER}' with a password)`);
  });

  it("wss:// without --ca, or with a CA that did not sign the broker's certificate, is an untrusted certificate", async () => {
    const pw = { ESPDHT_BROKER_PASSWORD: HOST_PASSWORD };
    const none = await cli(["watch", "--once", "--broker", broker.wssUrl!], pw);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/cannot connect to wss:\/\/127\.0\.0\.1:\d+: the broker's TLS certificate is not trusted \(.*\): give the CA that signed it with --ca FILE\n/);
    const other = await cli(["send", ID, "ping", "--broker", broker.wssUrl!, "--ca", certs.otherCa], pw);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("the broker's TLS certificate is not trusted");
    expect(other.stderr).toContain("(the --ca given did not sign it)");
  });

  it.each<[string, () => string, number, string]>([
    ["a port out of range", () => "ws://127.0.0.1:99999/mqtt", 2, "--broker: 'ws://127.0.0.1:99999/mqtt': port 99999 is out of range 1..65535"],
    ["a port that is not a number", () => "wss://127.0.0.1:88x", 2, "--broker: 'wss://127.0.0.1:88x' is not a URL (expected e.g. mqtt://host:1883)"],
    ["a host with a space", () => "ws://bad host:8080", 2, "--broker: 'ws://bad host:8080' is not a URL"],
    ["the broker's MQTT TCP port", () => broker.url.replace("mqtt:", "ws:"), 1, "no MQTT-over-WebSocket listener answered there"],
    ["its TLS port with ws://", () => broker.tlsUrl!.replace("mqtts:", "ws:"), 1, "no MQTT-over-WebSocket listener answered there"],
    ["its plain WebSocket port with wss://", () => broker.wsUrl!.replace("ws:", "wss:"), 1, "that port does not speak TLS"],
    ["its WebSocket port with mqtt://", () => broker.wsUrl!.replace("ws:", "mqtt:"), 1, "the answer there is not MQTT"],
  ])("watch with %s", async (_what, url, code, message) => {
    const r = await cli(["watch", "--once", "--broker", url(), "--password-file", hostPwFile]);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a ws:// port where nothing listens", async () => {
    const r = await cli(["send", ID, "ping", "--broker", `ws://127.0.0.1:${await freePort()}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot connect to ws:\/\/127\.0\.0\.1:\d+: nothing accepts connections there/);
  });

  it("ws:// and wss:// for a board (sim, flash) are refused, saying the board speaks TCP/TLS only", async () => {
    const s = await cli(["sim", "--broker", broker.wsUrl!, "--topic-root", ROOT]);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`'${broker.wsUrl}': a board speaks mqtt:// or mqtts:// only (WebSocket is for host programs: the board's Espruino has no WebSocket client worth its RAM, so it stays on TCP/TLS)`);
    // the user's config names a ws:// broker (fine for the host programs): flash refuses to give it to a board
    const f = await cli(["flash", "--dry-run", path.join(dir, "upload.js")]);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain(`${env.ESPDHT_CONFIG}: broker: '${broker.wsUrl}': a board speaks mqtt:// or mqtts:// only (WebSocket is for host programs`);
    // each refusal says what to give, and flash takes it
    for (const r of [s, f]) expect(r.stderr).toContain("give --broker mqtt://HOST:1883 (or mqtts://HOST:8883) for the boards");
    const given = await cli(["flash", "--dry-run", path.join(dir, "upload.js"), "--broker", broker.url]);
    expect(given.code, given.stderr).toBe(0);
  });

  it("no output of any host command held a password", () => {
    for (const o of outputs) {
      expect(o).not.toContain(HOST_PASSWORD);
      expect(o).not.toContain(BOARD_PASSWORD);
    }
  });
});

describe("the embedded broker of `espdht start` over ws://", () => {
  it("prints its ws:// URL; watch and send reach the demo's TCP boards over it, verified (aedes: MQTT 3.1.1)", async () => {
    const home = tempUserEnv();
    const data = path.join(home.dir, "demo");
    const child = spawn(process.execPath, [path.join(REPO, "bin/espdht.js"), "start", "--port", "0", "--broker-port", "0", "--devices", "2", "--interval", "2", "--data", data], {
      cwd: REPO, env: { ...home.env, NODE_NO_WARNINGS: "1" }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => { stderr += d; });
    child.stdout.resume();
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      await until(() => /MQTT over WebSocket on ws:\/\/127\.0\.0\.1:\d+/.test(stderr) && /virtual boards \(/.test(stderr) || child.exitCode !== null, 90_000, "the demo's ws URL and boards");
      const wsUrl = /MQTT over WebSocket on (ws:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      expect(wsUrl, stderr).toBeTruthy();
      expect(stderr).toContain(`(or over WebSocket: --broker ${wsUrl})`);
      const ids = /2 virtual boards \((sim-[0-9a-f]{12}), (sim-[0-9a-f]{12})\)/.exec(stderr)!.slice(1);
      const demo = ["--broker", wsUrl!, "--topic-root", "espdht/demo", "--keyring", path.join(data, "keys.json")];
      const w = await runCliToEnd(["watch", "--once", "--json", "--wait", "30", ...demo], home.env);
      expect(w.code, w.stderr).toBe(0);
      const seen = JSON.parse(w.stdout) as { id: string; trust: string }[];
      expect(seen.map((d) => [d.id, d.trust]).sort()).toEqual(ids.map((id) => [id, "verified"]).sort());
      expect(w.stderr).toContain("the broker does not speak MQTT 5: using MQTT 3.1.1");
      const s = await runCliToEnd(["send", ids[0], "ping", "--json", ...demo], home.env);
      expect(s.code, s.stderr).toBe(0);
      expect(JSON.parse(s.stdout.trim())).toMatchObject({ ok: true, trust: "verified" });
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
    fs.rmSync(home.dir, { recursive: true, force: true });
  }, 180_000);
});
