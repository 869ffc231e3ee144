// The dashboard's HTTP routes (node:http): the page, the JSON API, CSV export, commands and SSE.
import type { IncomingMessage, ServerResponse } from "node:http";
import { isValidDeviceId } from "../../firmware/contract";
import type { MqttClient } from "mqtt";
import { CommandError, CommandSigning, sendCommand } from "../commands/sendCommand";
import type { ReplyWaiter } from "../commands/replyWaiter";
import type { FleetState } from "../ingest/deviceState";
import { csvLines } from "../store/csvExport";
import { querySeries } from "../store/historyQueries";
import { StoredDevice, storedDeviceOf, storedDevices } from "../store/historyQueries";
import type { HistoryStore, StoreHealth } from "../store/historyStore";
import type { DeviceTrust } from "../trust/deviceTrust";
import type { DashboardState } from "../view/dashboardData";
import { DeviceView, inGroup, knownGroups } from "../view/deviceView";
import type { PageAssets } from "./buildPage";
import { BadRequest, DEFAULT_PAGE, onlyParams, PageParams, pageParams, pointsParam, timeRange } from "./queryParams";
import type { SseHub } from "./sseHub";

export interface DashboardContext {
  page: PageAssets;
  fleet: FleetState;
  store: HistoryStore;
  hub: SseHub;
  client: MqttClient;
  waiter: ReplyWaiter;
  root: string;
  /** the keyring's judge (fingerprints of devices known only from the store) */
  trust: DeviceTrust | null;
  /** commands are signed for their target with its key */
  signing: CommandSigning;
  brokerLabel: string;
  commandTimeoutMs: number;
  now: () => number;
  isConnected: () => boolean;
  /** the store's health (the page shows a banner while it fails) */
  storeHealth?: () => StoreHealth | null;
  /** accepted Host headers (DNS-rebinding guard); null = any (the user chose a non-loopback address) */
  allowedHosts: Set<string> | null;
}

const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  // scripts only from us; uPlot sets element styles from script, which CSP does not block
  "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
};

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...SECURITY_HEADERS });
  res.end(body);
}
function json(res: ServerResponse, status: number, data: unknown): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(data));
}

function storeOnlyView(ctx: DashboardContext, s: StoredDevice): DeviceView {
  return {
    id: s.id, online: s.status === null ? null : s.status === "online", statusAt: s.statusAt, info: s.info, lastSeen: s.lastSeen,
    lastReading: null, lastReadingAt: null, lastGood: null, boot: s.info ? s.info.boot : null, seq: null, readings: 0, gaps: 0,
    duplicates: 0, late: 0, restarts: 0, errors: { checksum: 0, timeout: 0, range: 0 }, rejected: { total: 0, byReason: {}, recent: [] },
    trust: "unsigned", keyFingerprint: ctx.trust ? ctx.trust.fingerprintOf(s.id) : null,
  };
}

/** the store's device rows are read at most this often (a store of 20,000 devices takes tens of ms to read) */
const STORE_DEVICES_TTL_MS = 5_000;
/** store-only devices listed at most (the most recently seen): a long flood may have left millions of rows */
export const MAX_STORED_DEVICES_LISTED = 20_000;
const storeDevicesCache = new WeakMap<HistoryStore, { at: number; devices: StoredDevice[] }>();

function storedDevicesOf(ctx: DashboardContext): StoredDevice[] {
  const hit = storeDevicesCache.get(ctx.store);
  const now = Date.now();
  if (hit && now - hit.at < STORE_DEVICES_TTL_MS) return hit.devices;
  const devices = storedDevices(ctx.store.db, MAX_STORED_DEVICES_LISTED);
  storeDevicesCache.set(ctx.store, { at: now, devices });
  return devices;
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The devices the fleet knows and the store's most recently seen whose id contains `filter` (and whose info lists
 * `group`, when given): proven devices first, then those known only from the store, then unproven newcomers (in a
 * flood, strangers), each part sorted by id.
 */
function deviceDirectory(ctx: DashboardContext, filter: string, group: string | null = null): (DeviceView | StoredDevice)[] {
  const proven: DeviceView[] = [];
  const newcomers: DeviceView[] = [];
  for (const d of ctx.fleet.list()) if (d.id.includes(filter) && inGroup(d, group)) (ctx.fleet.isEstablished(d.id) ? proven : newcomers).push(d);
  const stored: StoredDevice[] = [];
  for (const s of storedDevicesOf(ctx)) if (s.id.includes(filter) && inGroup(s, group) && !ctx.fleet.get(s.id)) stored.push(s);
  return [...proven, ...stored.sort(byId), ...newcomers];
}

/** One page of the devices the fleet or the store knows (store-only devices from history). */
export function devicePage(ctx: DashboardContext, page: PageParams): { devices: DeviceView[]; total: number } {
  const all = deviceDirectory(ctx, page.filter, page.group ?? null);
  const devices = all.slice(page.offset, page.offset + page.limit).map((d) => ("readings" in d ? d : storeOnlyView(ctx, d)));
  return { devices, total: all.length };
}

/** The one device's view (live, or from the store), or null when neither knows it. */
export function deviceView(ctx: DashboardContext, id: string): DeviceView | null {
  const live = ctx.fleet.get(id);
  if (live) return live;
  const stored = storedDeviceOf(ctx.store.db, id);
  return stored ? storeOnlyView(ctx, stored) : null;
}

export function stateSnapshot(ctx: DashboardContext, page: PageParams = { offset: 0, limit: DEFAULT_PAGE, filter: "" }): DashboardState {
  const { devices, total } = devicePage(ctx, page);
  return {
    now: ctx.now(),
    root: ctx.root,
    broker: ctx.brokerLabel,
    connected: ctx.isConnected(),
    store: ctx.storeHealth?.() ?? null,
    devices,
    total,
    offset: page.offset,
    limit: page.limit,
    filter: page.filter,
    group: page.group ?? null,
    groups: knownGroups([...ctx.fleet.list(), ...storedDevicesOf(ctx)]),
    unattributed: ctx.fleet.unattributed,
    flood: ctx.fleet.flood(),
    live: ctx.hub.stats(),
  };
}

function knownDevice(ctx: DashboardContext, raw: string): string {
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    throw new BadRequest("device id is not valid URL encoding");
  }
  if (!isValidDeviceId(id)) throw new BadRequest("device id must be 1..64 letters, digits, - or _");
  return id;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new BadRequest(`body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

async function handleCommand(ctx: DashboardContext, req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
  if (!(req.headers["content-type"] || "").startsWith("application/json")) throw new BadRequest("send the command as application/json");
  // a page from another origin must not drive the devices
  const origin = req.headers.origin;
  if (origin && origin !== `http://${req.headers.host}`) return json(res, 403, { error: "cross-origin command refused" });
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req, 4096));
  } catch (e) {
    if (e instanceof BadRequest) throw e;
    throw new BadRequest("body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new BadRequest("body must be a JSON object like {\"op\":\"read\"}");
  const { op, ...set } = body as Record<string, unknown>;
  if (typeof op !== "string") throw new BadRequest("op must be a string");
  if (!ctx.isConnected()) return json(res, 503, { error: "not connected to the broker" });
  try {
    const request = { target: id, op, set: Object.keys(set).length ? set : undefined };
    const result = await sendCommand(ctx.client, ctx.waiter, ctx.root, request, ctx.commandTimeoutMs, { signing: ctx.signing });
    if (result.timedOut) return json(res, 504, { id: result.id, error: `no reply from ${id} within ${ctx.commandTimeoutMs / 1000} s` });
    json(res, 200, { id: result.id, reply: result.replies[0].reply, trust: result.replies[0].trust });
  } catch (e) {
    if (e instanceof CommandError) throw new BadRequest(e.message);
    throw e;
  }
}

export async function route(ctx: DashboardContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // a page on another site must not reach us through a DNS name pointed at 127.0.0.1
  if (ctx.allowedHosts && !ctx.allowedHosts.has((req.headers.host || "").toLowerCase())) return json(res, 403, { error: "unexpected Host header" });
  const url = new URL(req.url || "/", "http://localhost");
  const p = url.pathname;
  const q = url.searchParams;
  try {
    if (req.method === "GET" && p === "/") return send(res, 200, "text/html; charset=utf-8", ctx.page.html);
    if (req.method === "GET" && p === "/app.js") return send(res, 200, "text/javascript; charset=utf-8", ctx.page.js);
    if (req.method === "GET" && p === "/app.css") return send(res, 200, "text/css; charset=utf-8", ctx.page.css);
    if (req.method === "GET" && p === "/api/state") {
      onlyParams(q, ["offset", "limit", "q", "group"]);
      return json(res, 200, stateSnapshot(ctx, pageParams(q)));
    }
    if (req.method === "GET" && p === "/api/events") {
      onlyParams(q, ["offset", "limit", "q", "group"]);
      const page = pageParams(q);
      ctx.hub.add(res, () => ({ event: "state", data: stateSnapshot(ctx, page) }));
      return;
    }
    const one = /^\/api\/devices\/([^/]+)$/.exec(p);
    if (one) {
      if (req.method !== "GET") return json(res, 405, { error: "use GET" });
      onlyParams(q, []);
      const id = knownDevice(ctx, one[1]);
      const view = deviceView(ctx, id);
      return view ? json(res, 200, view) : json(res, 404, { error: `unknown device '${id}'` });
    }
    const m = /^\/api\/devices\/([^/]+)\/(series|readings\.csv|command)$/.exec(p);
    if (m) {
      const id = knownDevice(ctx, m[1]);
      if (m[2] === "command") {
        if (req.method !== "POST") return json(res, 405, { error: "use POST" });
        return await handleCommand(ctx, req, res, id);
      }
      if (req.method !== "GET") return json(res, 405, { error: "use GET" });
      if (!deviceView(ctx, id)) return json(res, 404, { error: `unknown device '${id}'` });
      if (m[2] === "series") {
        onlyParams(q, ["range", "from", "to", "points"]);
        const { from, to } = timeRange(q, ctx.now());
        await ctx.store.settle(); // the newest readings belong in the answer
        return json(res, 200, querySeries(ctx.store.db, id, from, to, pointsParam(q)));
      }
      onlyParams(q, ["range", "from", "to"]);
      const { from, to } = timeRange(q, ctx.now(), "24h");
      await ctx.store.settle();
      res.writeHead(200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="${id}-${new Date(from).toISOString().slice(0, 10)}.csv"`,
        ...SECURITY_HEADERS,
      });
      for (const line of csvLines(ctx.store.db, id, from, to)) {
        if (!res.write(line)) await new Promise((r) => res.once("drain", r));
      }
      res.end();
      return;
    }
    json(res, 404, { error: `no route for ${req.method} ${p.slice(0, 100)}` });
  } catch (e) {
    if (e instanceof BadRequest) return json(res, 400, { error: e.message });
    if (!res.headersSent) json(res, 500, { error: (e as Error).message });
    else res.destroy();
  }
}
