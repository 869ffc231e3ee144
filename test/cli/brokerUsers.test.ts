// `espdht broker-users` and docs/mosquitto-example.conf: the example config is started as is (its ports and
// paths swapped for the test's own) on a real Mosquitto with the files broker-users wrote, and enforces what it
// says: TLS, no anonymous clients, each device confined to its own topics (Home Assistant discovery included),
// the host user over the whole root.
import fs from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalMosquitto, startMosquitto } from "../../host/broker/mosquitto";
import { mosquittoAcl, mosquittoPasswordLine, readDeviceLogins } from "../../provisioning/deviceLogins";
import { makeCertificates, TestCertificates } from "../support/certificates";
import { REPO, runCliToEnd, tempUserEnv } from "../support/runCli";
import { until } from "../support/until";

const ROOT = "espdht/ex";
const HOST_PASSWORD = "hostpass-EX-1";
const DEV = ["esp32-a1b2c3d4e5f6", "sim-000000000001"];

describe("espdht broker-users", () => {
  it("has --help", async () => {
    const { env } = tempUserEnv();
    const r = await runCliToEnd(["broker-users", "--help"], env);
    expect(r.code).toBe(0);
    for (const flag of ["--passwd", "--acl", "--add", "--password-file"]) expect(r.stdout).toContain(flag);
  });

  it.each([
    [{ root: ROOT }, [], /the host programs need a broker login of their own first: espdht init --username NAME --password-file FILE \(.*config\.json has no username\)/],
    [{ root: ROOT, username: "host" }, [], /config\.json has no password\)/],
    [{ root: ROOT, username: "host", password: "x" }, ["--add", "bad/id"], /--add: 'bad\/id' is not a device id/],
    [{ root: ROOT, username: "host", password: "x" }, ["--passwd", "/nonexistent/dir/p"], /--passwd: cannot write \/nonexistent\/dir\/p \(ENOENT\)/],
    [{ root: ROOT, username: "host", password: "x" }, ["--password-file", "/nonexistent/pw"], /--password-file: cannot read \/nonexistent\/pw \(ENOENT\)/],
  ])("refuses %j %j with a clear error (exit 2)", async (config, args, message) => {
    const { env, dir } = tempUserEnv(config);
    try {
      const r = await runCliToEnd(["broker-users", "--passwd", path.join(dir, "p"), "--acl", path.join(dir, "a"), ...args], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a broken device-logins.json is named, not overwritten", async () => {
    const { env, dir } = tempUserEnv({ root: ROOT, username: "host", password: "x" });
    try {
      fs.writeFileSync(path.join(dir, "device-logins.json"), '{"version":1,"devices":{"sim-1":{"password":"has space"}}}');
      const r = await runCliToEnd(["broker-users", "--passwd", path.join(dir, "p"), "--acl", path.join(dir, "a")], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("device-logins.json: devices.sim-1.password: must be 1..128 characters without spaces or ':'");
      expect(fs.readFileSync(path.join(dir, "device-logins.json"), "utf8")).toContain("has space");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes the ACL lines for the topic contract", () => {
    expect(mosquittoAcl({ root: "espdht/h", hostUser: "me", homeAssistant: true }).filter((l) => l && !l.startsWith("#"))).toEqual([
      "pattern write espdht/h/%u/status",
      "pattern write espdht/h/%u/info",
      "pattern write espdht/h/%u/reading",
      "pattern write espdht/h/%u/reply",
      "pattern read espdht/h/%u/cmd",
      "pattern read espdht/h/all/cmd",
      "pattern write espdht/h/%u/to/+",
      "pattern read espdht/h/+/to/%u",
      "pattern write homeassistant/sensor/%u_temperature/config",
      "pattern write homeassistant/sensor/%u_humidity/config",
      "user me",
      "topic readwrite espdht/h/#",
    ]);
  });
});

describe("docs/mosquitto-example.conf on a real Mosquitto", () => {
  let certs: TestCertificates;
  let broker: LocalMosquitto;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  let logins: Record<string, string>;
  const example = fs.readFileSync(path.join(REPO, "docs/mosquitto-example.conf"), "utf8");

  beforeAll(async () => {
    certs = makeCertificates();
    ({ env, dir } = tempUserEnv({ root: ROOT, username: "espdht-host", homeAssistant: true }));
    const pw = path.join(dir, "pw");
    fs.writeFileSync(pw, HOST_PASSWORD);
    const r = await runCliToEnd(["broker-users", "--password-file", pw, "--passwd", path.join(dir, "espdht.passwd"), "--acl", path.join(dir, "espdht.acl"), "--add", DEV[0], "--add", DEV[1]], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("2 device logins + host user 'espdht-host' (hashed)");
    logins = Object.fromEntries(Object.entries(readDeviceLogins(path.join(dir, "device-logins.json")).devices).map(([id, d]) => [id, d.password]));
    const swaps: [string, (a: { port: number; tlsPort: number; passwordFile: string; aclFile: string; persistenceDir: string }) => string][] = [
      ["listener 1883 127.0.0.1", (a) => `listener ${a.port} 127.0.0.1`],
      ["listener 8883 0.0.0.0", (a) => `listener ${a.tlsPort} 127.0.0.1`],
      ["/etc/mosquitto/certs/ca.pem", () => certs.ca],
      ["/etc/mosquitto/certs/server.pem", () => certs.cert],
      ["/etc/mosquitto/certs/server.key", () => certs.key],
      ["/etc/mosquitto/espdht.passwd", (a) => a.passwordFile],
      ["/etc/mosquitto/espdht.acl", (a) => a.aclFile],
      ["/var/lib/mosquitto/", (a) => a.persistenceDir],
    ];
    broker = await startMosquitto([], {
      passwordFile: path.join(dir, "espdht.passwd"),
      aclFile: path.join(dir, "espdht.acl"),
      config: (a) => swaps.reduce((text, [from, to]) => {
        // every swapped line must be in the example, as written
        if (!text.split("\n").some((l) => l === from || l.endsWith(" " + from))) throw new Error(`docs/mosquitto-example.conf no longer has '${from}'`);
        return text.split(from).join(to(a));
      }, example),
    });
  }, 60_000);
  afterAll(async () => {
    await broker?.close();
    certs?.remove();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const tls = (o: mqtt.IClientOptions) => mqtt.connectAsync(`mqtts://127.0.0.1:${broker.tlsPort}`, { ca: fs.readFileSync(certs.ca), reconnectPeriod: 0, protocolVersion: 5, ...o });

  it("refuses anonymous clients and wrong passwords, on both listeners", async () => {
    await expect(mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })).rejects.toThrow(/Not authorized/);
    await expect(tls({ username: DEV[0], password: "wrong" })).rejects.toThrow(/Not authorized/);
    await expect(tls({ username: DEV[0], password: logins[DEV[1]] })).rejects.toThrow(/Not authorized/);
  });

  it("keeps each device to its own topics; the host user reads and commands them all", async () => {
    const host = await tls({ username: "espdht-host", password: HOST_PASSWORD });
    const got: string[] = [];
    host.on("message", (t, p) => got.push(`${t} ${p}`));
    await host.subscribeAsync([`${ROOT}/#`, "homeassistant/#"], { qos: 1 });
    const dev = await tls({ username: DEV[0], password: logins[DEV[0]], will: { topic: `${ROOT}/${DEV[0]}/status`, payload: Buffer.from("offline"), qos: 1, retain: true } });
    const cmds: string[] = [];
    dev.on("message", (t, p) => cmds.push(`${t} ${p}`));
    await dev.subscribeAsync([`${ROOT}/${DEV[0]}/cmd`, `${ROOT}/all/cmd`], { qos: 1 });
    for (const kind of ["status", "info", "reading", "reply"]) await dev.publishAsync(`${ROOT}/${DEV[0]}/${kind}`, "mine", { qos: 1 });
    // accepted: a denied one rejects with 0x87 (the host user does not read homeassistant/#: Home Assistant's own user does)
    await dev.publishAsync(`homeassistant/sensor/${DEV[0]}_temperature/config`, "mine", { qos: 1, retain: true });
    for (const t of [`${ROOT}/${DEV[1]}/reading`, `${ROOT}/${DEV[1]}/status`, `${ROOT}/${DEV[0]}/cmd`, `${ROOT}/all/cmd`, `homeassistant/sensor/${DEV[1]}_temperature/config`, "elsewhere/x"]) {
      await expect(dev.publishAsync(t, "forged", { qos: 1 }), t).rejects.toMatchObject({ code: 0x87 });
    }
    await host.publishAsync(`${ROOT}/${DEV[0]}/cmd`, "for you", { qos: 1 });
    await host.publishAsync(`${ROOT}/all/cmd`, "for all", { qos: 1 });
    await host.publishAsync(`${ROOT}/${DEV[1]}/cmd`, "not for you", { qos: 1 });
    await until(() => got.length >= 4 && cmds.length >= 2, 5000, "the allowed messages");
    await new Promise((r) => setTimeout(r, 300));
    expect(got.filter((m) => m.endsWith(" mine"))).toHaveLength(4);
    expect(got.filter((m) => m.endsWith("forged"))).toEqual([]);
    expect(cmds.sort()).toEqual([`${ROOT}/${DEV[0]}/cmd for you`, `${ROOT}/all/cmd for all`].sort());
    // its will (retained offline status) is allowed too: the socket vanishes without DISCONNECT
    (dev as unknown as { stream: { destroy(): void } }).stream.destroy();
    await until(() => got.includes(`${ROOT}/${DEV[0]}/status offline`), 10_000, "the will");
    await host.endAsync();
  });

  it("confines a device-to-device link: only A publishes R/A/to/B, only B reads it", async () => {
    const [A, B] = DEV;
    const link = `${ROOT}/${A}/to/${B}`;
    const a = await tls({ username: A, password: logins[A] });
    const b = await tls({ username: B, password: logins[B] });
    const atA: string[] = [];
    const atB: string[] = [];
    a.on("message", (t, p) => atA.push(`${t} ${p}`));
    b.on("message", (t, p) => atB.push(`${t} ${p}`));
    // B's filter for its links is allowed; A's attempt to listen in on B's links is granted by Mosquitto 2.0 but
    // nothing reaches it (the ACL is checked again at each delivery)
    const grantedB = await b.subscribeAsync(`${ROOT}/+/to/${B}`, { qos: 1 });
    expect(grantedB[0].qos).toBe(1);
    await a.subscribeAsync([`${ROOT}/+/to/${B}`, link, `${ROOT}/#`], { qos: 1 });
    await a.publishAsync(link, "from A", { qos: 1 });
    // B cannot forge A's link messages, nor write links in another device's name
    await expect(b.publishAsync(link, "forged by B", { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    await expect(b.publishAsync(`${ROOT}/${A}/to/esp32-cccccccccccc`, "forged by B", { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    // its own link topic is B's to write
    await b.publishAsync(`${ROOT}/${B}/to/${A}`, "from B", { qos: 1 });
    await until(() => atB.length >= 1 && atA.length >= 1, 5000, "each one's link message at the other");
    await new Promise((r) => setTimeout(r, 300));
    expect(atB).toEqual([`${link} from A`]);
    // through R/# A gets only what is for it: B's link to A, never A's own link to B
    expect(atA).toEqual([`${ROOT}/${B}/to/${A} from B`]);
    await a.endAsync();
    await b.endAsync();
  });

  it("the password lines are what mosquitto_passwd-format Mosquitto accepts (checked above) and differ per salt", () => {
    expect(mosquittoPasswordLine("u", "p")).not.toBe(mosquittoPasswordLine("u", "p"));
    expect(mosquittoPasswordLine("u", "p", Buffer.alloc(12))).toMatch(/^u:\$7\$1000\$AAAAAAAAAAAAAAAA\$[A-Za-z0-9+/]{86}==$/);
    expect(() => mosquittoPasswordLine("a:b", "p")).toThrow("username 'a:b': must be non-empty, without ':' or spaces");
  });
});
