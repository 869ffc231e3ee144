// Live connections that do not read: 50 raw sockets ask for /api/events and never read a byte. Past the client cap
// they get a 503; the others are cut off once their backlog passes the limit while a flow of readings goes out;
// a page that reads keeps being served, the server's heap stays bounded, and the freed slots take new pages.
// The hub itself is checked on a response that never drains: the first snapshot counts toward the backlog.
import { EventEmitter } from "node:events";
import fs from "node:fs";
import http, { ServerResponse } from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../../support/brokers";
import { until } from "../../support/until";
import { RunningDashboard, startDashboard } from "../../../host/dashboard/startDashboard";
import { SseHub } from "../../../host/dashboard/sseHub";
import type { DashboardState } from "../../../host/view/dashboardData";

const ROOT = "espdht/slow";
const SLOW = 50;
const MAX_CLIENTS = 40;
const BACKLOG = 256 * 1024;
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
const liveHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

/** A response that never drains: every byte written stays in writableLength. */
class StuckResponse extends EventEmitter {
  writableLength = 0;
  destroyed = false;
  status = 0;
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  write(text: string): boolean {
    this.writableLength += Buffer.byteLength(text);
    return false;
  }
  end(): void {}
  destroy(): void {
    this.destroyed = true;
    this.emit("close");
  }
}

describe("SseHub on a response that never drains", () => {
  it("cuts a client off when the first snapshot alone passes the backlog limit", () => {
    const hub = new SseHub({ maxBacklogBytes: 1000 });
    const res = new StuckResponse();
    expect(hub.add(res as unknown as ServerResponse, () => ({ event: "state", data: "x".repeat(2000) }))).toBe(true);
    expect(res.destroyed).toBe(true);
    expect(hub.stats()).toMatchObject({ clients: 0, cutOff: 1 });
    hub.close();
  });

  it("cuts a client off once batches pile up past the limit, and writes nothing more to it", () => {
    const hub = new SseHub({ maxBacklogBytes: 1000 });
    const res = new StuckResponse();
    hub.add(res as unknown as ServerResponse, () => ({ event: "state", data: "small" }));
    for (let i = 0; i < 5 && !res.destroyed; i++) hub.send("batch", "y".repeat(300));
    expect(res.destroyed).toBe(true);
    const written = res.writableLength;
    hub.send("batch", "z");
    expect(res.writableLength).toBe(written);
    expect(hub.stats()).toMatchObject({ clients: 0, cutOff: 1, refused: 0 });
    hub.close();
  });

  it("refuses clients past the cap with 503 and builds no snapshot for them", () => {
    const hub = new SseHub({ maxClients: 1 });
    let built = 0;
    const first = () => ({ event: "state", data: ++built });
    expect(hub.add(new StuckResponse() as unknown as ServerResponse, first)).toBe(true);
    const refused = new StuckResponse();
    expect(hub.add(refused as unknown as ServerResponse, first)).toBe(false);
    expect(refused.status).toBe(503);
    expect(built).toBe(1);
    hub.close();
  });
});

let broker: RunningBroker;
let dash: RunningDashboard;
let dataDir: string;
let device: MqttClient;

beforeAll(async () => {
  broker = await startMosquitto(["max_queued_messages 0"]);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-slow-"));
  dash = await startDashboard({
    broker: { url: broker.url, username: null, password: null, ca: null }, root: ROOT, dataDir, port: 0, batchMs: 100,
    live: { maxClients: MAX_CLIENTS, maxBacklogBytes: BACKLOG }, log: () => {},
  });
  device = await mqtt.connectAsync(broker.url, { clientId: "slow-test-devices", reconnectPeriod: 0 });
}, 60_000);

afterAll(async () => {
  device?.end(true);
  await dash?.close();
  await broker?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** An SSE reader like a page: counts the batches it receives. */
function reader(): { batches: () => number; close: () => void; status: Promise<number> } {
  let batches = 0;
  let req: http.ClientRequest;
  const status = new Promise<number>((resolve, reject) => {
    req = http.get(new URL("/api/events", dash.url), (res) => {
      resolve(res.statusCode!);
      res.setEncoding("utf8");
      res.on("data", (c: string) => { batches += c.split("event: batch").length - 1; });
    });
    req.on("error", reject);
  });
  return { batches: () => batches, close: () => req.destroy(), status };
}

/** A client that asks for the stream and never reads: the response piles up in the kernel, then in the server. */
function stuckSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      s.pause();
      resolve(s);
    });
    s.on("error", () => {}); // the server cutting it off is the point
    s.once("error", reject);
  });
}

async function live(): Promise<DashboardState["live"]> {
  return ((await (await fetch(new URL("/api/state", dash.url))).json()) as DashboardState).live;
}

describe("50 live clients that never read", () => {
  it("are refused past the cap or cut off, while a reading page is still served and memory stays bounded", async () => {
    const page = reader();
    expect(await page.status).toBe(200);
    const heapBefore = liveHeap();
    const sockets = await Promise.all(Array.from({ length: SLOW }, () => stuckSocket(dash.port)));
    await expect.poll(async () => (await live()).refused, { timeout: 15_000 }).toBe(SLOW - (MAX_CLIENTS - 1));

    // readings from 100 devices, so every batch carries ~100 device views to every client
    let seq = 0;
    const timer = setInterval(() => {
      seq++;
      for (let i = 0; i < 100; i++) {
        const id = `sim-slow-${i}`;
        device.publish(`${ROOT}/${id}/reading`, JSON.stringify({ v: 1, id, boot: 1, seq, up: seq * 50, ts: Date.now(), temperature: 21, humidity: 40 }), { qos: 0 });
      }
    }, 50);
    const t0 = Date.now();
    try {
      await expect.poll(async () => (await live()).cutOff, { timeout: 90_000, interval: 500 }).toBe(MAX_CLIENTS - 1);
      const cutMs = Date.now() - t0;
      const before = page.batches();
      await until(() => page.batches() > before + 5, 10_000, "batches to the page that reads");
      const heapAfter = liveHeap();
      const l = await live();
      process.stdout.write(
        `slow clients: ${SLOW} that never read: ${l.refused} refused with 503, ${l.cutOff} cut off within ${cutMs} ms at a ${BACKLOG / 1024} KiB backlog; ` +
          `the reading page got ${page.batches()} batches; heap ${(heapBefore / 1e6).toFixed(0)} MB -> ${(heapAfter / 1e6).toFixed(0)} MB\n`,
      );
      expect(l.clients).toBe(1);
      // each stuck client may hold at most the limit plus one batch in the server
      expect(heapAfter - heapBefore).toBeLessThan(60_000_000);
      // the freed slots take new pages
      const next = reader();
      expect(await next.status).toBe(200);
      next.close();
    } finally {
      clearInterval(timer);
      for (const s of sockets) s.destroy();
      page.close();
    }
  }, 150_000);
});
