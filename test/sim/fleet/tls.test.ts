// mqtts:// brokers: the virtual board's `tls` module is node:tls. A self-signed broker certificate is
// refused unless --insecure (the real ESP32 never checks; the simulator is stricter by default).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, startMosquitto, RunningBroker } from "../../support/brokers";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { startFleet } from "../../../sim/fleet/fleet";
import { until } from "../../support/until";
import { record, Recorder } from "./subscriber";

describe("virtual boards over TLS (Mosquitto with a self-signed certificate)", () => {
  let broker: RunningBroker;
  let tlsPort: number;
  let sub: Recorder;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-tls-"));

  beforeAll(async () => {
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"], { stdio: "ignore" });
    // mosquitto started as root drops to its own user: it must be able to read these
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(key, 0o644);
    fs.chmodSync(cert, 0o644);
    tlsPort = await freePort();
    broker = await startMosquitto([`listener ${tlsPort} 127.0.0.1`, `certfile ${cert}`, `keyfile ${key}`]);
    sub = await record(broker.url, "espdht/tls/#");
  });
  afterAll(async () => {
    await sub?.close();
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("publishes readings through mqtts:// with --insecure", async () => {
    const fleet = await startFleet({ broker: `mqtts://127.0.0.1:${tlsPort}`, root: "espdht/tls", devices: 1, interval: 2, model: "dht22", pin: 4, seed: "tls", dataDir: null, firmwareFile: FIRMWARE_OUT, insecure: true, log: () => {} });
    try {
      await sub.until((ms) => ms.some((m) => m.topic === `espdht/tls/${fleet.ids[0]}/reading`), 20_000, "a reading over TLS");
      expect(fleet.boards[0].wire.connected).toBe(true);
    } finally {
      await fleet.stop();
    }
  });

  it("refuses the self-signed certificate without --insecure, and the firmware says so", async () => {
    const fleet = await startFleet({ broker: `mqtts://127.0.0.1:${tlsPort}`, root: "espdht/tls2", devices: 1, interval: 2, model: "dht22", pin: 4, seed: "tls2", dataDir: null, firmwareFile: FIRMWARE_OUT, log: () => {} });
    const printed: string[] = [];
    fleet.boards[0].on("console", (t) => printed.push(t));
    try {
      await until(() => printed.join("").includes("SSL handshake failed"), 20_000, "the firmware logging the refused handshake");
      expect(fleet.boards[0].wire.readings).toBe(0);
    } finally {
      await fleet.stop();
    }
  });
});
