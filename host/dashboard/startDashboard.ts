// The dashboard's composition root: store + persistent-session ingest (verifying signatures against the
// keyring) + batched SSE + HTTP server + signed commands.
import http from "node:http";
import net from "node:net";
import type { Keyring } from "../../provisioning/keyring";
import { ReplyWaiter } from "../commands/replyWaiter";
import { CommandCounter } from "../commands/sendCommand";
import { dashboardIds } from "../ingest/dashboardClientId";
import { MqttIngest } from "../ingest/ingest";
import { BrokerSettings, displayUrl } from "../mqtt/connectBroker";
import { clearLegacyHostHealth, publishHostHealth } from "../ingest/hostHealth";
import type { HistoryStore, StoreHealth } from "../store/historyStore";
import { WorkerStore } from "../store/workerStore";
import { DeviceTrust } from "../trust/deviceTrust";
import { buildPage, PageAssets } from "./buildPage";
import { LiveBatcher } from "./liveBatcher";
import { DashboardContext, route } from "./routes";
import { SseHub, SseHubOptions } from "./sseHub";

export interface DashboardOptions {
  broker: BrokerSettings;
  root: string;
  dataDir: string;
  host?: string;
  /** 0 = any free port */
  port?: number;
  /** when the port is taken, take a free one instead of failing */
  fallbackPort?: boolean;
  retentionDays?: number;
  /** SSE batch cadence */
  batchMs?: number;
  commandTimeoutMs?: number;
  /** device keys: readings are verified and commands signed with them; none = every device unsigned */
  keyring?: Keyring | null;
  /** bound on the ingest journal while the store fails (default 64 MB); past it readings are not acknowledged */
  journalLimitBytes?: number;
  /** live connections (SSE): how many at most, and how far behind one may fall before it is cut off */
  live?: SseHubOptions;
  log?: (m: string) => void;
}

export interface RunningDashboard {
  url: string;
  port: number;
  ingest: MqttIngest;
  store: HistoryStore;
  close(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      server.removeListener("listening", onListening);
      reject(e);
    };
    const onListening = () => {
      server.removeListener("error", onError);
      resolve((server.address() as net.AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + "\n"));
  const host = opts.host ?? "127.0.0.1";
  let healthChanged = (_h: StoreHealth) => {};
  // first: a folder another dashboard writes is refused before anything connects (no session kicked off)
  const store = await WorkerStore.open(opts.dataDir, {
    retentionDays: opts.retentionDays ?? 0,
    journalLimitBytes: opts.journalLimitBytes,
    onError: (e) => log(`espdht dashboard: store error: ${e.message}`),
    onHealth: (h) => {
      log(h.ok ? "espdht dashboard: the store takes readings again" : `espdht dashboard: ${h.problem}`);
      healthChanged(h);
    },
  });
  let page: PageAssets;
  try {
    page = await buildPage();
  } catch (e) {
    await store.close();
    throw e;
  }
  const { clientId, hostId, upgraded } = dashboardIds(opts.dataDir);
  const trust = new DeviceTrust(opts.keyring ?? null, {
    onError: (m) => log(`espdht dashboard: ${m}`),
    onBind: (id, fp) => log(`espdht dashboard: key ${fp} from the keyring's pending keys now belongs to ${id}`),
  });
  let ingest: MqttIngest;
  try {
    ingest = await MqttIngest.start({ broker: opts.broker, root: opts.root, clientId, clean: false, store, trust, log });
  } catch (e) {
    await store.close();
    throw e;
  }
  const waiter = new ReplyWaiter();
  const hub = new SseHub(opts.live);
  const batcher = new LiveBatcher(ingest.fleet.unattributed, () => ({ flood: ingest.fleet.flood(), live: hub.stats() }));
  let connected = true;
  ingest.on((e) => {
    if (e.kind === "reply") waiter.offer(e.deviceId, e.reply, Date.now(), e.trust);
    if (e.kind === "connection") connected = e.connected;
    batcher.add(e);
  });
  healthChanged = (h) => {
    hub.send("health", h);
    void publishHostHealth(ingest.client, opts.root, hostId, h);
  };
  if (upgraded) void clearLegacyHostHealth(ingest.client, opts.root, clientId);
  void publishHostHealth(ingest.client, opts.root, hostId, store.health());
  const tick = setInterval(() => {
    const batch = batcher.take(Date.now());
    if (batch) hub.send("batch", batch);
  }, opts.batchMs ?? 300);

  const ctx: DashboardContext = {
    page, fleet: ingest.fleet, store, hub, client: ingest.client, waiter, root: opts.root, trust,
    signing: { keys: trust, counter: new CommandCounter() },
    brokerLabel: displayUrl(opts.broker.url), commandTimeoutMs: opts.commandTimeoutMs ?? 10_000,
    now: Date.now, isConnected: () => connected, storeHealth: () => store.health?.() ?? null, allowedHosts: null,
  };
  const server = http.createServer((req, res) => void route(ctx, req, res));
  let port: number;
  try {
    try {
      port = await listen(server, opts.port ?? 8080, host);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || !opts.fallbackPort) throw e;
      log(`espdht dashboard: port ${opts.port} is taken, using a free one`);
      port = await listen(server, 0, host);
    }
  } catch (e) {
    clearInterval(tick);
    hub.close();
    await ingest.close();
    await store.close();
    throw new Error(`cannot listen on ${host}:${opts.port}: ${(e as Error).message}`);
  }
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;
  // the address listened on is allowed too (127.0.0.2 is loopback as well)
  if (isLoopback(host)) ctx.allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, new URL(url).host]);
  return {
    url,
    port,
    ingest,
    store,
    close: async () => {
      clearInterval(tick);
      waiter.cancelAll();
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await publishHostHealth(ingest.client, opts.root, hostId, null);
      await ingest.close();
      await store.close();
    },
  };
}
