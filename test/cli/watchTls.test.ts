// The shared --ca option against a real TLS listener: Mosquitto with a certificate signed by a CA made here.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startMosquitto, RunningBroker } from "../support/brokers";
import { runCli, tempUserEnv } from "../support/runCli";

const ROOT = "espdht/tlstest";
let broker: RunningBroker;
let tlsPort: number;
let certDir: string;
let env: NodeJS.ProcessEnv;
let dir: string;

function makeCertificates(d: string): void {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: d, stdio: "pipe" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=espdht test CA", "-keyout", "ca.key", "-out", "ca.pem");
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
  fs.writeFileSync(path.join(d, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
  ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem");
  // Mosquitto started as root drops to its own user: it must be able to read the (throwaway) files
  fs.chmodSync(d, 0o755);
  for (const f of fs.readdirSync(d)) fs.chmodSync(path.join(d, f), 0o644);
}

beforeAll(async () => {
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-tls-"));
  makeCertificates(certDir);
  tlsPort = await freePort();
  broker = await startMosquitto([
    `listener ${tlsPort} 127.0.0.1`,
    `cafile ${path.join(certDir, "ca.pem")}`,
    `certfile ${path.join(certDir, "server.pem")}`,
    `keyfile ${path.join(certDir, "server.key")}`,
  ]);
  ({ env, dir } = tempUserEnv({ broker: `mqtts://127.0.0.1:${tlsPort}`, root: ROOT }));
  const dev = await mqtt.connectAsync(broker.url, { clientId: "sim-tls" });
  await dev.publishAsync(`${ROOT}/sim-tls/status`, "online", { qos: 1, retain: true });
  await dev.endAsync();
});
afterAll(async () => {
  await broker?.stop();
  if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("--ca with an mqtts:// broker", () => {
  it("connects with the CA given by --ca", async () => {
    const run = runCli(["watch", "--once", "--json", "--wait", "1", "--ca", path.join(certDir, "ca.pem")], env);
    expect(await run.done).toBe(0);
    expect(JSON.parse(run.stdout())).toMatchObject([{ id: "sim-tls", online: true }]);
  });

  it("without the CA, fails with the certificate error", async () => {
    const run = runCli(["watch", "--once", "--wait", "1"], env);
    expect(await run.done).toBe(1);
    expect(run.stderr()).toMatch(/cannot connect to mqtts:\/\/127\.0\.0\.1:\d+: .*(self[- ]signed|unable to (get|verify))/i);
  });

  it("rejects a --ca that is missing or not a certificate", async () => {
    const missing = runCli(["watch", "--once", "--ca", path.join(certDir, "nope.pem")], env);
    expect(await missing.done).toBe(2);
    expect(missing.stderr()).toContain("--ca: cannot read");
    const notPem = runCli(["watch", "--once", "--ca", path.join(certDir, "ext.cnf")], env);
    expect(await notPem.done).toBe(2);
    expect(notPem.stderr()).toContain("is not a PEM certificate");
  });
});
