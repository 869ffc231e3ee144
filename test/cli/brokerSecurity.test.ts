// TLS + passwords + ACLs on a real Mosquitto (issue 11 items 6 and 8), as a user sets them up: 'espdht init'-style
// config with device logins, 'espdht sim --device-logins' boards refused until 'espdht broker-users' writes the
// password file and ACL and Mosquitto reloads, then every board in, confined to its own topics; the host programs
// over mqtts:// with --ca and --password-file; clear errors for a wrong password, an unknown CA and a denied publish;
// no secret in any output, in argv or in a file readable by others.
import fs from "node:fs";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalMosquitto, startMosquitto } from "../../host/broker/mosquitto";
import { mosquittoPasswordLine, readDeviceLogins } from "../../provisioning/deviceLogins";
import { simDeviceId } from "../../sim/fleet/deviceId";
import { makeCertificates, TestCertificates } from "../support/certificates";
import { CliRun, runCli, runCliToEnd, tempUserEnv } from "../support/runCli";
import { until } from "../support/until";

const ROOT = "espdht/sec";
const SEED = "sec";
const HOST_USER = "espdht-host";
const HOST_PASSWORD = "host-Secret-4711";
const WIFI_PASSWORD = "my-real-wifi-pass-99";
const VIEWER_PASSWORD = "viewer-Secret-0815";
const ids = [simDeviceId(SEED, 0), simDeviceId(SEED, 1)];

let certs: TestCertificates;
let broker: LocalMosquitto;
let env: NodeJS.ProcessEnv;
let dir: string;
let configFile: string;
let pwFile: string;
let passwdFile: string;
let aclFile: string;
let sim: CliRun;
let host: MqttClient;
const seen: { topic: string; payload: string }[] = [];
/** every output of every espdht run in this file, grepped for secrets at the end */
const outputs: string[] = [];

async function cli(args: string[], timeoutMs = 60_000) {
  const r = await runCliToEnd(args, env, timeoutMs);
  outputs.push(r.stdout, r.stderr);
  return r;
}

function writeConfig(broker: string): void {
  fs.writeFileSync(configFile, JSON.stringify({ broker, root: ROOT, username: HOST_USER, ca: certs.ca, deviceLogins: true, wifi: { ssid: "home", password: WIFI_PASSWORD } }));
}

/** broker-users, then the viewer (reads the root, may not command) appended, as an admin would. */
async function writeBrokerFiles(): Promise<void> {
  const r = await cli(["broker-users", "--password-file", pwFile, "--passwd", passwdFile, "--acl", aclFile]);
  expect(r.code, r.stderr).toBe(0);
  fs.appendFileSync(passwdFile, mosquittoPasswordLine("viewer", VIEWER_PASSWORD) + "\n");
  fs.appendFileSync(aclFile, `\nuser viewer\ntopic read ${ROOT}/#\n`);
}

beforeAll(async () => {
  certs = makeCertificates();
  ({ env, dir } = tempUserEnv());
  configFile = env.ESPDHT_CONFIG!;
  pwFile = path.join(dir, "host.pw");
  fs.writeFileSync(pwFile, HOST_PASSWORD + "\n", { mode: 0o600 });
  passwdFile = path.join(dir, "espdht.passwd");
  aclFile = path.join(dir, "espdht.acl");
  writeConfig("mqtts://127.0.0.1:8883");
  await writeBrokerFiles();
  broker = await startMosquitto([], { tls: { cafile: certs.ca, certfile: certs.cert, keyfile: certs.key }, passwordFile: passwdFile, aclFile });
  writeConfig(broker.tlsUrl!);
  host = await mqtt.connectAsync(broker.tlsUrl!, { ca: fs.readFileSync(certs.ca), username: HOST_USER, password: HOST_PASSWORD, protocolVersion: 5 });
  host.on("message", (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  await host.subscribeAsync(`${ROOT}/#`, { qos: 1 });
}, 60_000);

afterAll(async () => {
  sim?.child.kill("SIGINT");
  if (sim) await sim.done;
  await host?.endAsync();
  await broker?.close();
  certs?.remove();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("Mosquitto with TLS, a password file and per-device ACLs", () => {
  it("boards with logins the broker does not know yet are shown as refused; after broker-users and a reload they get in", async () => {
    sim = runCli(["sim", "--device-logins", "--insecure", "--devices", "2", "--interval", "2", "--seed", SEED, "--json"], env);
    await until(() => ids.every((id) => sim.stderr().includes(`${id}: the broker refused the board's login (CONNACK code 5: not authorized`)), 60_000, "both boards refused");
    await until(() => /"loginRefused":2/.test(sim.stdout()), 20_000, "the status saying 2 refused logins");
    expect(seen.filter((m) => m.topic.endsWith("/reading"))).toEqual([]);

    await writeBrokerFiles();
    const passwd = fs.readFileSync(passwdFile, "utf8");
    for (const id of ids) expect(passwd).toMatch(new RegExp(`^${id}:\\$7\\$1000\\$`, "m"));
    await broker.reload();
    await until(() => ids.every((id) => seen.some((m) => m.topic === `${ROOT}/${id}/reading`)), 90_000, "readings from both boards");
    await until(() => /"loginRefused":0/.test(sim.stdout().split("\n").filter(Boolean).pop() ?? ""), 20_000, "the status without refused logins");
  }, 200_000);

  it("watch over mqtts:// with --ca from the config and --password-file sees both boards verified", async () => {
    const r = await cli(["watch", "--once", "--json", "--wait", "10", "--password-file", pwFile]);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { id: string; online: boolean; trust?: string }[];
    expect(list.map((d) => d.id).sort()).toEqual([...ids].sort());
    expect(r.stderr).toContain("over MQTT 5");
  }, 60_000);

  it("send with ESPDHT_BROKER_PASSWORD gets the board's signed answer", async () => {
    const r = await runCliToEnd(["send", ids[0], "ping", "--json"], { ...env, ESPDHT_BROKER_PASSWORD: HOST_PASSWORD }, 60_000);
    outputs.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, trust: "verified" });
  }, 60_000);

  it("a board's login may publish only under its own id: MQTT 5 gets PUBACK 0x87, 3.1.1 is dropped without a word", async () => {
    const logins = readDeviceLogins(path.join(dir, "device-logins.json")).devices;
    const as = (version: 4 | 5) => mqtt.connectAsync(broker.tlsUrl!, { ca: fs.readFileSync(certs.ca), username: ids[0], password: logins[ids[0]].password, protocolVersion: version, clientId: `probe-${version}` });
    const v5 = await as(5);
    await expect(v5.publishAsync(`${ROOT}/${ids[1]}/reading`, "forged", { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    await expect(v5.publishAsync(`${ROOT}/${ids[1]}/cmd`, "forged", { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    await expect(v5.publishAsync(`${ROOT}/all/cmd`, "forged", { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    await v5.publishAsync(`${ROOT}/${ids[0]}/reply`, "own topic", { qos: 1 });
    await v5.endAsync();
    const v4 = await as(4);
    await v4.publishAsync(`${ROOT}/${ids[1]}/reading`, "forged-v4", { qos: 1 });
    await v4.endAsync();
    await until(() => seen.some((m) => m.payload === "own topic"), 5000, "the board's own publish");
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.filter((m) => m.payload.startsWith("forged"))).toEqual([]);
  }, 60_000);

  it("send by a user the ACL lets read but not command fails with the broker's refusal (PUBACK 0x87), exit 4", async () => {
    const viewerPw = path.join(dir, "viewer.pw");
    fs.writeFileSync(viewerPw, VIEWER_PASSWORD, { mode: 0o600 });
    const r = await cli(["send", ids[0], "ping", "--username", "viewer", "--password-file", viewerPw, "--timeout", "3"]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/the broker refused publishing the command under espdht\/sec \(Publish error: Not authorized, reason 0x87\): user 'viewer' may not do that there; check the broker's ACL/);
  }, 60_000);

  it("watch by a user the ACL does not let read the root: Mosquitto grants the subscription and delivers nothing; watch points at the ACL", async () => {
    const logins = readDeviceLogins(path.join(dir, "device-logins.json")).devices;
    const devPw = path.join(dir, "dev0.pw");
    fs.writeFileSync(devPw, logins[ids[0]].password, { mode: 0o600 });
    const r = await cli(["watch", "--once", "--wait", "2", "--username", ids[0], "--password-file", devPw], 30_000);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`no device seen under ${ROOT} within 2 s (with an ACL on the broker, check that user '${ids[0]}' may read ${ROOT}/#)`);
  }, 60_000);

  it("a wrong password and an unknown CA each fail with a message that says which", async () => {
    const wrong = path.join(dir, "wrong.pw");
    fs.writeFileSync(wrong, "not-the-password\n", { mode: 0o600 });
    const badLogin = await cli(["watch", "--once", "--password-file", wrong]);
    expect(badLogin.code).toBe(1);
    expect(badLogin.stderr).toContain(`the broker refused the login (username '${HOST_USER}' with a password): wrong username or password, or this user may not connect (broker said: Connection refused: Not authorized)`);
    const badCa = await cli(["watch", "--once", "--password-file", pwFile, "--ca", certs.otherCa]);
    expect(badCa.code).toBe(1);
    expect(badCa.stderr).toMatch(/the broker's TLS certificate is not trusted \(.*\): give the CA that signed it with --ca FILE \(the --ca given did not sign it\)/);
  }, 60_000);

  it("a password in the URL or --password works, is warned about and never printed", async () => {
    const url = broker.tlsUrl!.replace("mqtts://", `mqtts://${HOST_USER}:${HOST_PASSWORD}@`);
    const r = await cli(["watch", "--once", "--json", "--wait", "3", "--broker", url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("the password in --broker's URL is visible to other users in the process list");
    expect(r.stderr).toContain("connecting to mqtts://***@127.0.0.1:");
    const flag = await cli(["watch", "--once", "--wait", "1", "--password", HOST_PASSWORD]);
    expect(flag.code, flag.stderr).toBe(0);
    expect(flag.stderr).toContain("--password is visible to other users in the process list ('ps'); use --password-file FILE or ESPDHT_BROKER_PASSWORD");
    // the sim's --json start line and log show the URL masked (its board stays off the broker)
    const simRun = runCli(["sim", "--broker", url, "--insecure", "--broker-unreachable", "--seed", SEED, "--json"], env);
    await until(() => simRun.stdout().includes('"event":"start"'), 60_000, "the sim's start line");
    simRun.child.kill("SIGINT");
    await simRun.done;
    outputs.push(simRun.stdout(), simRun.stderr());
    expect(simRun.stdout()).toContain('"broker":"mqtts://***@127.0.0.1:');
    expect(simRun.stderr()).toContain("espdht sim: warning: the password in --broker's URL is visible to other users in the process list");
    const badUrl = await cli(["watch", "--once", "--broker", `mqtts://${HOST_USER}:${HOST_PASSWORD}@127.0.0.1:99999`]);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain("mqtts://***@127.0.0.1:99999");
  }, 60_000);

  it("the dashboard on a URL with credentials shows it masked on its page and API, and logs no secret", async () => {
    const url = broker.tlsUrl!.replace("mqtts://", `mqtts://${HOST_USER}:${HOST_PASSWORD}@`);
    const dash = runCli(["dashboard", "--port", "0", "--broker", url, "--data", path.join(dir, "dash-data")], env);
    try {
      await until(() => /espdht dashboard: (http:\/\/\S+)/.test(dash.stdout()), 60_000, "the dashboard's URL");
      const base = /espdht dashboard: (http:\/\/\S+)/.exec(dash.stdout())![1].replace(/\/$/, "");
      const state = await (await fetch(`${base}/api/state`)).text();
      const page = await (await fetch(`${base}/`)).text();
      expect(state).toContain("mqtts://***@127.0.0.1:");
      for (const text of [state, page]) {
        expect(text).not.toContain(HOST_PASSWORD);
        expect(text).not.toContain(`${HOST_USER}:`);
      }
      outputs.push(state, page);
    } finally {
      dash.child.kill("SIGINT");
      await dash.done;
      outputs.push(dash.stdout(), dash.stderr());
    }
    expect(dash.stderr()).toContain("the password in --broker's URL is visible to other users in the process list");
  }, 90_000);

  it("a process given --password-file has no secret in /proc/<pid>/cmdline", async () => {
    const watch = runCli(["watch", "--json", "--password-file", pwFile], env);
    try {
      await until(() => watch.stderr().includes("subscribed to"), 30_000, "watch connected");
      const cmdline = fs.readFileSync(`/proc/${watch.child.pid}/cmdline`, "latin1");
      expect(cmdline).toContain("--password-file");
      expect(cmdline).not.toContain(HOST_PASSWORD);
      const simCmdline = fs.readFileSync(`/proc/${sim.child.pid}/cmdline`, "latin1");
      for (const p of Object.values(readDeviceLogins(path.join(dir, "device-logins.json")).devices)) expect(simCmdline).not.toContain(p.password);
    } finally {
      watch.child.kill("SIGINT");
      await watch.done;
      outputs.push(watch.stdout(), watch.stderr());
    }
  }, 60_000);

  it("no output holds a secret; files with secrets are 0600; boards never get the real Wi-Fi password", async () => {
    outputs.push(sim.stdout(), sim.stderr());
    const config = await cli(["config", "--json"]);
    expect(config.code).toBe(0);
    const devicePasswords = Object.values(readDeviceLogins(path.join(dir, "device-logins.json")).devices).map((d) => d.password);
    expect(devicePasswords).toHaveLength(2);
    const all = outputs.join("\n");
    expect(all.length).toBeGreaterThan(1000);
    for (const secret of [HOST_PASSWORD, WIFI_PASSWORD, VIEWER_PASSWORD, ...devicePasswords]) expect(all).not.toContain(secret);
    const mode = (f: string) => fs.statSync(f).mode & 0o777;
    for (const f of [path.join(dir, "device-logins.json"), passwdFile, aclFile, path.join(dir, "keys.json")]) expect(mode(f), f).toBe(0o600);
    const storage = ids.map((id) => path.join(env.ESPDHT_DATA!, "sim", `${id}.storage.json`));
    storage.forEach((f, i) => {
      expect(mode(f), f).toBe(0o600);
      // the Storage file holds each Storage file's bytes in base64
      const files = JSON.parse(fs.readFileSync(f, "utf8")) as Record<string, string>;
      const decoded = Object.values(files).map((b) => Buffer.from(b, "base64").toString("latin1")).join("\n");
      expect(decoded).not.toContain(WIFI_PASSWORD);
      const boardConfig = JSON.parse(Buffer.from(files["espdht.json"], "base64").toString("latin1"));
      expect(boardConfig.wifi).toEqual({ ssid: "espdht-sim", password: "" });
      expect(boardConfig.broker).toMatchObject({ tls: true, username: ids[i], password: devicePasswords[Object.keys(readDeviceLogins(path.join(dir, "device-logins.json")).devices).indexOf(ids[i])] });
    });
  }, 60_000);
});
