// The fall back from MQTT 5 to 3.1.1 happens only when the broker refuses 5 (it says so, or hangs up at once on the
// CONNECT), never on a refused login or a late close: those are reported as they are. Real Mosquitto 2 (speaks 5),
// real aedes 1.x (3.1.1 only) and small TCP servers that behave like the brokers in question.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startMosquitto } from "../../../host/broker/mosquitto";
import { connectBroker, protocolOf } from "../../../host/mqtt/connectBroker";
import { startAedes } from "../../support/brokers";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-fallback-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const login = (url: string, username: string | null, password: string | null) => ({ url, username, password, ca: null });

/** A TCP server reading each CONNECT's protocol level and answering as `answer` says; `levels` lists what came. */
async function fakeBroker(answer: (level: number, socket: net.Socket) => void) {
  const levels: number[] = [];
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", (d) => {
      const level = d[d.indexOf("MQTT") + 4];
      levels.push(level);
      answer(level, socket);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return { url, levels, close: () => new Promise<void>((r) => server.close(() => r())) };
}
const CONNACK_311_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);

describe("MQTT 5 -> 3.1.1 fallback", () => {
  it("a wrong password on Mosquitto (MQTT 5, CONNACK 0x86) is the password error, after one attempt", async () => {
    const pw = path.join(dir, "passwd");
    fs.writeFileSync(pw, "");
    execFileSync("mosquitto_passwd", ["-b", pw, "alice", "right"]);
    const broker = await startMosquitto([], { passwordFile: pw });
    const logs: string[] = [];
    try {
      await expect(connectBroker(login(broker.url, "alice", "wrong"), { clientId: "fb-1", clean: true, log: (m) => logs.push(m) })).rejects.toThrow(
        /^cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: the broker refused the login \(username 'alice' with a password\): wrong username or password/,
      );
      expect(logs).toEqual([]); // no fallback said
      const ok = await connectBroker(login(broker.url, "alice", "right"), { clientId: "fb-2", clean: true, log: (m) => logs.push(m) });
      expect(protocolOf(ok)).toBe(5);
      await ok.endAsync();
    } finally {
      await broker.close();
    }
  });

  it("a wrong password on aedes (3.1.1 only: it refuses 5 first) is the password error, said to come over 3.1.1", async () => {
    const broker = await startAedes();
    broker.broker.authenticate = (_c, user, pass, done) => {
      const ok = user === "alice" && pass?.toString() === "right";
      done(ok ? null : Object.assign(new Error("bad login"), { returnCode: 4 }), ok);
    };
    try {
      await expect(connectBroker(login(broker.url, "alice", "wrong"), { clientId: "fb-3", clean: true, log: () => {} })).rejects.toThrow(
        /: it refused MQTT 5, and over MQTT 3\.1\.1: the broker refused the login \(username 'alice' with a password\)/,
      );
      const ok = await connectBroker(login(broker.url, "alice", "right"), { clientId: "fb-4", clean: true, log: () => {} });
      expect(protocolOf(ok)).toBe(4);
      await ok.endAsync();
    } finally {
      await broker.stop();
    }
  });

  it("a broker answering MQTT 5 with CONNACK 0x84 (unsupported protocol version) gets a 3.1.1 CONNECT", async () => {
    const b = await fakeBroker((level, s) => s.write(level === 5 ? Buffer.from([0x20, 0x03, 0x00, 0x84, 0x00]) : CONNACK_311_OK));
    try {
      const c = await connectBroker(login(b.url, null, null), { clientId: "fb-5", clean: true, log: () => {} });
      expect(protocolOf(c)).toBe(4);
      expect(b.levels).toEqual([5, 4]);
      c.end(true);
    } finally {
      await b.close();
    }
  });

  it("a broker closing the connection seconds after the MQTT 5 CONNECT (no CONNACK) is reported, not retried as 3.1.1", async () => {
    const b = await fakeBroker((_level, s) => setTimeout(() => s.destroy(), 4500));
    try {
      await expect(connectBroker(login(b.url, "alice", "pw"), { clientId: "fb-6", clean: true, log: () => {} })).rejects.toThrow(
        /: the broker closed the connection [4-9]\.\d s after the CONNECT without a CONNACK: it may refuse this login or client id/,
      );
      expect(b.levels).toEqual([5]);
    } finally {
      await b.close();
    }
  });

  it("a broker answering MQTT 5 with a CONNACK refusing the login, then closing, is the login error (no fallback)", async () => {
    const b = await fakeBroker((_level, s) => s.end(Buffer.from([0x20, 0x03, 0x00, 0x86, 0x00])));
    try {
      await expect(connectBroker(login(b.url, "bob", "pw"), { clientId: "fb-7", clean: true, log: () => {} })).rejects.toThrow(/the broker refused the login \(username 'bob'/);
      expect(b.levels).toEqual([5]);
    } finally {
      await b.close();
    }
  });

  it("a broker hanging up at once on both versions says so for both", async () => {
    const b = await fakeBroker((_level, s) => s.destroy());
    try {
      await expect(connectBroker(login(b.url, null, null), { clientId: "fb-8", clean: true, log: () => {} })).rejects.toThrow(
        /: it refused MQTT 5, and over MQTT 3\.1\.1: the broker closed the connection 0\.\d s after the CONNECT without a CONNACK/,
      );
      expect(b.levels).toEqual([5, 4]);
    } finally {
      await b.close();
    }
  });
});
