// The shared --ca option against a real TLS listener: Mosquitto with a certificate signed by a CA made here.
import fs from "node:fs";
import path from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startMosquitto, RunningBroker } from "../support/brokers";
import { runCli, tempUserEnv } from "../support/runCli";
import { makeCertificates, TestCertificates } from "../support/certificates";

const ROOT = "espdht/tlstest";
let broker: RunningBroker;
let tlsPort: number;
let certs: TestCertificates;
let certDir: string;
let env: NodeJS.ProcessEnv;
let dir: string;

beforeAll(async () => {
  certs = makeCertificates();
  certDir = certs.dir;
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
  certs?.remove();
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
    expect(run.stderr()).toMatch(/cannot connect to mqtts:\/\/127\.0\.0\.1:\d+: the broker's TLS certificate is not trusted \(.*(self[- ]signed|unable to (get|verify)).*\): give the CA that signed it with --ca FILE/i);
  });

  it("with a CA that did not sign the broker's certificate, says the certificate is not trusted", async () => {
    const run = runCli(["watch", "--once", "--wait", "1", "--ca", certs.otherCa], env);
    expect(await run.done).toBe(1);
    expect(run.stderr()).toContain("the broker's TLS certificate is not trusted");
    expect(run.stderr()).toContain("(the --ca given did not sign it)");
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
