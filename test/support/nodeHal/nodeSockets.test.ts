// The node:net / node:tls SocketFactory: bytes arrive as Uint8Array, onClose fires exactly once whatever
// closed the socket, TLS verification follows rejectUnauthorized. Local servers on 127.0.0.1 only.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { SocketHandlers, SocketTarget } from "../../../firmware/hal/hal";
import { nodeSocketFactory } from "./nodeSockets";
import { freePort } from "../brokers";
import { until } from "../until";

const here = path.dirname(fileURLToPath(import.meta.url));
// a self-signed certificate for 127.0.0.1 / localhost, valid until 2126, made for these tests only
const CERT = fs.readFileSync(path.join(here, "fixtures/localhost.cert.pem"), "utf8");
const KEY = fs.readFileSync(path.join(here, "fixtures/localhost.key.pem"), "utf8");

interface Recorder extends SocketHandlers {
  events: string[];
  data: Uint8Array[];
  closed: Promise<void>;
}

function recorder(): Recorder {
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  const rec: Recorder = {
    events: [],
    data: [],
    closed,
    onConnect: () => rec.events.push("connect"),
    onData: (d) => {
      rec.events.push("data");
      rec.data.push(d);
    },
    onError: (m) => rec.events.push("error: " + m),
    onClose: () => {
      rec.events.push("close");
      done();
    },
  };
  return rec;
}

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** an echo server (plain or TLS) on a free loopback port */
async function echoServer(useTls: boolean, onSocket?: (s: net.Socket) => void): Promise<number> {
  const handler = (s: net.Socket) => {
    s.on("data", (d) => s.write(d));
    s.on("error", () => {});
    onSocket?.(s);
  };
  const server = useTls ? tls.createServer({ cert: CERT, key: KEY }, handler) : net.createServer(handler);
  servers.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}


describe("nodeSocketFactory over TCP", () => {
  it("connects, echoes bytes as plain Uint8Array, and reports our close once", async () => {
    const port = await echoServer(false);
    const rec = recorder();
    const target: SocketTarget = { host: "127.0.0.1", port, tls: false };
    const s = nodeSocketFactory()(target, rec);
    await until(() => rec.events.includes("connect"));
    s.write(new Uint8Array([0, 1, 2, 255]));
    await until(() => rec.data.length > 0);
    expect(Object.getPrototypeOf(rec.data[0])).toBe(Uint8Array.prototype);
    expect(Array.from(rec.data[0])).toEqual([0, 1, 2, 255]);
    s.close();
    s.close();
    await rec.closed;
    await new Promise((r) => setTimeout(r, 50));
    expect(rec.events.filter((e) => e == "close")).toHaveLength(1);
    s.write(new Uint8Array([1])); // writing after close is ignored, not thrown
  });

  it("reports a peer close once", async () => {
    const port = await echoServer(false, (sock) => setTimeout(() => sock.end(), 20));
    const rec = recorder();
    nodeSocketFactory()({ host: "127.0.0.1", port, tls: false }, rec);
    await rec.closed;
    await new Promise((r) => setTimeout(r, 50));
    expect(rec.events).toEqual(["connect", "close"]);
  });

  it("reports a refused connection as an error naming the target, then one close", async () => {
    const port = await freePort();
    const rec = recorder();
    nodeSocketFactory()({ host: "127.0.0.1", port, tls: false }, rec);
    await rec.closed;
    expect(rec.events).toEqual([`error: 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`, "close"]);
  });

  it("gives up on a TLS handshake that takes longer than connectTimeoutMs", async () => {
    // a TCP server that accepts and never speaks: the TLS handshake never completes
    const server = net.createServer(() => {});
    servers.push(server);
    const port: number = await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
    const rec = recorder();
    nodeSocketFactory({ connectTimeoutMs: 100 })({ host: "127.0.0.1", port, tls: true }, rec);
    await rec.closed;
    expect(rec.events).toEqual([`error: connect to 127.0.0.1:${port} timed out`, "close"]);
  });
});

describe("nodeSocketFactory over TLS", () => {
  it("connects to a self-signed server when rejectUnauthorized is false", async () => {
    const port = await echoServer(true);
    const rec = recorder();
    const s = nodeSocketFactory({ rejectUnauthorized: false })({ host: "127.0.0.1", port, tls: true }, rec);
    await until(() => rec.events.includes("connect"));
    s.write(new Uint8Array([42]));
    await until(() => rec.data.length > 0);
    expect(Array.from(rec.data[0])).toEqual([42]);
    s.close();
    await rec.closed;
  });

  it("refuses an unverified certificate by default, and accepts it with the CA given", async () => {
    const port = await echoServer(true);
    const refused = recorder();
    nodeSocketFactory()({ host: "127.0.0.1", port, tls: true }, refused);
    await refused.closed;
    expect(refused.events).toHaveLength(2);
    expect(refused.events[0]).toMatch(/^error: 127\.0\.0\.1:\d+: .*self.signed/i);
    expect(refused.events[1]).toBe("close");

    const trusted = recorder();
    const s = nodeSocketFactory({ ca: CERT })({ host: "127.0.0.1", port, tls: true }, trusted);
    await until(() => trusted.events.includes("connect"));
    expect(trusted.events).toEqual(["connect"]);
    s.close();
    await trusted.closed;
  });
});
