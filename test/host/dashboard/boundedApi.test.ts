// Every dashboard API response stays bounded with 20,000 devices (live ones and store-only ones), over real HTTP:
// the device list comes a page at a time with its total, bad paging parameters are a 400 naming the parameter,
// and the SSE stream's first snapshot is a page too. Sizes and latencies are printed.
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FleetState } from "../../../host/ingest/deviceState";
import { parseDeviceMessage } from "../../../host/ingest/parseMessage";
import { DashboardContext, route } from "../../../host/dashboard/routes";
import { MAX_PAGE } from "../../../host/dashboard/queryParams";
import { SseHub } from "../../../host/dashboard/sseHub";
import { storedDeviceOf, storedDevices } from "../../../host/store/historyQueries";
import { WorkerStore } from "../../../host/store/workerStore";
import type { DashboardState } from "../../../host/view/dashboardData";
import type { Info } from "../../../firmware/contract";

const ROOT = "espdht/bounded";
const LIVE = 18_000;
const STORE_ONLY = 2_000;
const enc = (s: string) => Buffer.from(s);
const idOf = (i: number) => `sim-${String(i).padStart(6, "0")}`;

let server: http.Server;
let base: string;
let store: WorkerStore;
let hub: SseHub;
let dataDir: string;

function info(id: string): Info {
  return { v: 1, id, fw: "0.1.0", model: "dht22", pin: 4, interval: 10, ip: "10.0.0.2", boot: 1, root: ROOT, caps: ["read", "set"], dropped: 0, configError: null, mem: { free: 1000, total: 3000 } };
}

async function get(p: string): Promise<{ status: number; bytes: number; body: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(base + p);
  const body = await res.text();
  return { status: res.status, bytes: Buffer.byteLength(body), body, ms: performance.now() - t0 };
}

beforeAll(async () => {
  const fleet = new FleetState({ maxEstablished: LIVE, admission: { perSecond: 1, burst: LIVE } });
  const now = Date.now();
  for (let i = 0; i < LIVE; i++) {
    const id = idOf(i);
    fleet.apply(parseDeviceMessage(ROOT, `${ROOT}/${id}/info`, enc(JSON.stringify(info(id)))), now, true);
    fleet.apply(parseDeviceMessage(ROOT, `${ROOT}/${id}/status`, enc("online")), now, true);
    const r = { v: 1, id, boot: 1, seq: 1, up: 1000, ts: now, temperature: 21.5, humidity: 40 };
    fleet.apply(parseDeviceMessage(ROOT, `${ROOT}/${id}/reading`, enc(JSON.stringify(r))), now);
    // the worst a device's view carries: a full log of rejections with long topics
    for (let k = 0; k < 25; k++) fleet.apply(parseDeviceMessage(ROOT, `${ROOT}/${id}/reading`, enc(`{"junk":${k}`)), now);
  }
  expect(fleet.size).toBe(LIVE);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-bounded-"));
  store = await WorkerStore.open(dataDir, { journal: false });
  for (let i = LIVE; i < LIVE + STORE_ONLY; i++) store.setInfo(idOf(i), info(idOf(i)), now);
  await store.settle();
  hub = new SseHub({ maxClients: 4 });
  const ctx: DashboardContext = {
    page: { html: "<!doctype html>", js: "", css: "" }, fleet, store, hub, client: null as never, waiter: null as never, root: ROOT, trust: null,
    signing: null as never, brokerLabel: "mqtt://127.0.0.1:1", commandTimeoutMs: 1000, now: Date.now, isConnected: () => true, allowedHosts: null,
  };
  server = http.createServer((req, res) => void route(ctx, req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  hub?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await store?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("API responses with 20,000 devices", () => {
  it("/api/state is one page with the total, never the whole fleet", async () => {
    const first = await get("/api/state");
    const s = JSON.parse(first.body) as DashboardState;
    expect(s.total).toBe(LIVE + STORE_ONLY);
    expect(s.devices).toHaveLength(100);
    expect(s.devices[0].id).toBe(idOf(0));
    expect(s.flood).toMatchObject({ established: LIVE });
    const biggest = await get(`/api/state?offset=0&limit=${MAX_PAGE}`);
    const last = await get(`/api/state?offset=${LIVE + STORE_ONLY - 50}&limit=${MAX_PAGE}`);
    const lastPage = JSON.parse(last.body) as DashboardState;
    expect(lastPage.devices).toHaveLength(50);
    expect(lastPage.devices.at(-1)!.id).toBe(idOf(LIVE + STORE_ONLY - 1)); // store-only devices follow the proven ones
    const times: number[] = [];
    for (let i = 0; i < 10; i++) times.push((await get(`/api/state?offset=${i * 1000}`)).ms);
    const filtered = JSON.parse((await get("/api/state?q=sim-0199")).body) as DashboardState;
    expect(filtered.total).toBe(100);
    process.stdout.write(
      `bounded API, 20,000 devices: /api/state ${first.bytes} bytes (${first.ms.toFixed(0)} ms), limit=${MAX_PAGE} ${biggest.bytes} bytes (${biggest.ms.toFixed(0)} ms), last page ${last.bytes} bytes; 10 more pages took ${times.map((t) => t.toFixed(0)).join(", ")} ms\n`,
    );
    // a page of 200 worst-case views (20 rejections each) stays under 1 MB; the 20,000 views would be ~100 MB
    expect(biggest.bytes).toBeLessThan(1_000_000);
    expect(first.bytes).toBeLessThan(500_000);
  });

  it.each([
    ["limit=0", "limit: 0 is out of range 1..200"],
    [`limit=${MAX_PAGE + 1}`, "limit: 201 is out of range 1..200"],
    ["offset=-1", "offset: -1 is out of range"],
    ["offset=x", "offset: 'x' is not a whole number"],
    [`q=${"a".repeat(65)}`, "q: longer than 64 characters"],
    ["page=2", "unknown parameter 'page'"],
  ])("/api/state?%s is a 400 naming the parameter", async (query, message) => {
    const r = await get(`/api/state?${query}`);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toContain(message);
  });

  it("lists at most the most recently seen store-only devices (a long flood may have left millions of rows)", async () => {
    const seenDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-seen-"));
    const s = await WorkerStore.open(seenDir, { journal: false });
    try {
      for (let i = 0; i < 30; i++) s.noteSeen(`dev-${String(i).padStart(2, "0")}`, 1000 + ((i * 7) % 30));
      await s.settle();
      const listed = storedDevices(s.db, 5).map((d) => d.id);
      // seen at 1025..1029: i*7 % 30 >= 25 for i = 5, 9, 13, 17, 21... sorted by id
      expect(listed).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((i) => (i * 7) % 30 >= 25).map((i) => `dev-${String(i).padStart(2, "0")}`));
      expect(storedDeviceOf(s.db, "dev-03")).toMatchObject({ id: "dev-03", lastSeen: 1021 });
      expect(storedDeviceOf(s.db, "nobody")).toBeNull();
    } finally {
      await s.close();
      fs.rmSync(seenDir, { recursive: true, force: true });
    }
  });

  it("one device's view, live or store-only, is its own small answer", async () => {
    const live = await get(`/api/devices/${idOf(5)}`);
    expect(live.status).toBe(200);
    expect(JSON.parse(live.body).rejected.recent).toHaveLength(20);
    expect(live.bytes).toBeLessThan(20_000);
    const stored = await get(`/api/devices/${idOf(LIVE + 1)}`);
    expect(JSON.parse(stored.body)).toMatchObject({ id: idOf(LIVE + 1), info: { fw: "0.1.0" } });
    expect((await get("/api/devices/sim-nobody")).status).toBe(404);
  });

  it("the SSE stream's first snapshot is a page too, and clients past the cap get a 503 that says why", async () => {
    const sizes: number[] = [];
    const reqs: http.ClientRequest[] = [];
    for (let i = 0; i < 4; i++) {
      sizes.push(await new Promise<number>((resolve, reject) => {
        const req = http.get(base + "/api/events", (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            text += c;
            const end = text.indexOf("\n\n", text.indexOf("event: state"));
            if (text.includes("event: state") && end > 0) resolve(Buffer.byteLength(text.slice(0, end)));
          });
        });
        req.on("error", reject);
        reqs.push(req);
      }));
    }
    const refused = await get("/api/events");
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).error).toMatch(/too many live connections \(limit 4\)/);
    expect(hub.stats()).toMatchObject({ clients: 4, refused: 1 });
    process.stdout.write(`bounded API, 20,000 devices: SSE first snapshot ${sizes[0]} bytes\n`);
    expect(Math.max(...sizes)).toBeLessThan(500_000);
    for (const r of reqs) r.destroy();
  });
});
