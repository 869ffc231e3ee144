// Ingest benchmark: readings/s validated + stored by our ingest vs a bare MQTT.js subscriber that only
// JSON-parses, through a local Mosquitto, in the same run; plus a sustained-rate run with RSS samples.
// Run: npx tsx bench/ingestBench.ts [--count N] [--rate R] [--seconds S] [--rounds N] [--page-rate R (0 = no page)]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import mqtt from "mqtt";
import { startMosquitto, LocalMosquitto } from "../host/broker/mosquitto";
import { MqttIngest } from "../host/ingest/ingest";
import { WorkerStore } from "../host/store/workerStore";
import { everyDeviceFilter } from "../firmware/contract";
import { publishReadings } from "./ingestPublisherProcess";
import { formatPageBench, PageBenchResult, runPageBench } from "./ingestPageBench";

const ROOT = "espdht/bench";

export interface IngestBenchOptions {
  /** readings per backlog phase */
  count?: number;
  publishers?: number;
  devicesPerPublisher?: number;
  /** readings/s for the sustained phase (0 = skip it) */
  sustainedRate?: number;
  sustainedSeconds?: number;
  /** rounds per QoS (the best round counts; the median is printed too) */
  rounds?: number;
  /** also measure the dashboard page in Chromium at this many readings/s (0 = skip) */
  pageRate?: number;
  log?: (m: string) => void;
}

export interface DrainFigures {
  qos: 0 | 1;
  /** medians over the rounds */
  bare: PhaseFigures;
  ingest: PhaseFigures;
  /** ingest rate / bare rate (medians) */
  ratio: number;
  /** bare main-thread µs / ingest main-thread µs: the ratio on an otherwise idle machine */
  mainThreadRatio: number;
  bareRounds: PhaseFigures[];
  ingestRounds: PhaseFigures[];
}

export interface IngestBenchResult {
  count: number;
  drain: DrainFigures[];
  sustained: null | { targetRate: number; seconds: number; published: number; offeredRate: number; stored: number; achievedRate: number; maxLagMs: number; rssStartMb: number; rssPeakMb: number; rssEndMb: number };
  rssBeforeMb: number;
  rssAfterMb: number;
  page: PageBenchResult | null;
}

const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
const rss = () => process.memoryUsage().rss;

/** Establishes a persistent session for `clientId` (so the broker queues for it), then disconnects. */
export async function primeSession(broker: LocalMosquitto, clientId: string): Promise<void> {
  const c = await mqtt.connectAsync(broker.url, { clientId, clean: false, reconnectPeriod: 0 });
  await c.subscribeAsync(everyDeviceFilter(ROOT, "reading"), { qos: 1 });
  await c.endAsync();
}

/** Bare subscriber: resumes the session and only JSON-parses until `count` messages arrived. */
async function drainBare(broker: LocalMosquitto, clientId: string, count: number): Promise<number> {
  let n = 0;
  // timed from before the connect, like the ingest
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(broker.url, { clientId, clean: false, reconnectPeriod: 0 });
    c.on("message", (_t, payload) => {
      JSON.parse(payload.toString());
      if (++n === count) {
        const ms = performance.now() - started;
        c.end(true, () => resolve((count / ms) * 1000));
      }
    });
    c.on("error", reject);
  });
}

/** Opens the store (not timed: a dashboard opens it once), then measures the drain; `journal` false for the comparison. */
export async function measureIngest(broker: LocalMosquitto, clientId: string, count: number, dir: string, journal = true): Promise<PhaseFigures> {
  const store = await WorkerStore.open(dir, { journal });
  try {
    return await measure(count, () => drainIngest(broker, clientId, count, store), store);
  } finally {
    await store.close();
  }
}

/** Our ingest (validation, fleet state, SQLite store on its worker): resumes the session until `count` are stored. */
async function drainIngest(broker: LocalMosquitto, clientId: string, count: number, store: WorkerStore): Promise<number> {
  const started = performance.now();
  const ingest = await MqttIngest.start({ broker: { url: broker.url, username: null, password: null, ca: null }, root: ROOT, clientId, clean: false, store, log: () => {} });
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (ingest.accepted + ingest.duplicates + ingest.rejected >= count) {
        clearInterval(check);
        resolve();
      }
    }, 2);
  });
  await store.settle();
  const ms = performance.now() - started;
  if (ingest.rejected > 0) throw new Error(`${ingest.rejected} valid readings were rejected`);
  if (store.inserted < count) throw new Error(`only ${store.inserted} of ${count} readings stored`);
  await ingest.close();
  return (count / ms) * 1000;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface PhaseFigures {
  /** readings per second of wall time */
  rate: number;
  /** CPU time of this whole process (all threads) per reading, µs */
  cpuUsPerReading: number;
  /** main-thread busy time (event-loop utilisation) per reading, µs: what bounds the rate when the CPU is free */
  mainUsPerReading: number;
  /** store worker busy time per reading, µs (0 for the bare subscriber) */
  workerUsPerReading: number;
}

/** Runs one drain, measuring wall time, process CPU and main-thread busy time. */
async function measure(count: number, drain: () => Promise<number>, store?: WorkerStore): Promise<PhaseFigures> {
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const worker0 = store?.workerUtilization();
  const rate = await drain();
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  const worker = store ? store.workerUtilization(worker0).active : 0;
  return { rate, cpuUsPerReading: (cpu.user + cpu.system) / count, mainUsPerReading: (elu.active * 1000) / count, workerUsPerReading: (worker * 1000) / count };
}

export async function runIngestBench(opts: IngestBenchOptions = {}): Promise<IngestBenchResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + "\n"));
  const count = opts.count ?? 100_000;
  const publishers = opts.publishers ?? 4;
  const devicesPerPublisher = opts.devicesPerPublisher ?? 5;
  const perDevice = Math.ceil(count / (publishers * devicesPerPublisher));
  const total = perDevice * publishers * devicesPerPublisher;
  const rounds = opts.rounds ?? 2;
  const broker = await startMosquitto(["queue_qos0_messages true", "max_inflight_messages 1000", "max_queued_messages 0"]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-bench-"));
  const rssBefore = rss();
  const drain: DrainFigures[] = [];
  let tag = 0;
  try {
    for (const qos of [0, 1] as const) {
      const bareRounds: PhaseFigures[] = [];
      const ingestRounds: PhaseFigures[] = [];
      for (let round = 0; round < rounds; round++) {
        // alternate who goes first so drift in the machine's load does not favour one side
        const order = round % 2 === 0 ? (["bare", "ingest"] as const) : (["ingest", "bare"] as const);
        for (const kind of order) {
          const clientId = `bench-${kind}-${++tag}`;
          await primeSession(broker, clientId);
          const pub = await publishReadings({ url: broker.url, root: ROOT, publishers, devicesPerPublisher, perDevice, qos, rate: 0, tag: String(tag) });
          const dir = path.join(tmp, `db-${tag}`);
          const f = kind === "bare"
            ? await measure(total, () => drainBare(broker, clientId, total))
            : await measureIngest(broker, clientId, total, dir);
          (kind === "bare" ? bareRounds : ingestRounds).push(f);
          log(`  qos ${qos} round ${round + 1} ${kind.padEnd(6)}: ${Math.round(f.rate).toLocaleString("en")} readings/s, main thread ${f.mainUsPerReading.toFixed(2)}${kind === "ingest" ? ` + store worker ${f.workerUsPerReading.toFixed(2)}` : ""} µs/reading, process CPU ${f.cpuUsPerReading.toFixed(2)} µs/reading (${total.toLocaleString("en")} queued by ${publishers} publishers in ${pub.ms} ms)`);
        }
      }
      const med = (rs: PhaseFigures[]): PhaseFigures => ({
        rate: median(rs.map((r) => r.rate)),
        cpuUsPerReading: median(rs.map((r) => r.cpuUsPerReading)),
        mainUsPerReading: median(rs.map((r) => r.mainUsPerReading)),
        workerUsPerReading: median(rs.map((r) => r.workerUsPerReading)),
      });
      const bare = med(bareRounds);
      const ingest = med(ingestRounds);
      drain.push({ qos, bare, ingest, ratio: ingest.rate / bare.rate, mainThreadRatio: bare.mainUsPerReading / ingest.mainUsPerReading, bareRounds, ingestRounds });
    }

    let sustained: IngestBenchResult["sustained"] = null;
    const rate = opts.sustainedRate ?? 25_000;
    const seconds = opts.sustainedSeconds ?? 10;
    if (rate > 0) {
      const store = await WorkerStore.open(path.join(tmp, "sustained"));
      const ingest = await MqttIngest.start({ broker: { url: broker.url, username: null, password: null, ca: null }, root: ROOT, clientId: "bench-sustained", clean: true, store, log: () => {} });
      let maxLag = 0;
      let first = 0;
      ingest.on((e) => {
        if (e.kind !== "reading") return;
        if (first === 0) first = performance.now();
        if (e.reading.ts !== null) maxLag = Math.max(maxLag, e.receivedAt - e.reading.ts);
      });
      const rssStart = rss();
      let rssPeak = rssStart;
      const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rss()); }, 100);
      const perDev = Math.ceil((rate * seconds) / (publishers * devicesPerPublisher));
      const pub = await publishReadings({ url: broker.url, root: ROOT, publishers, devicesPerPublisher, perDevice: perDev, qos: 1, rate, tag: "sustained" });
      const deadline = Date.now() + 30_000;
      while (ingest.accepted < pub.published && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await store.settle();
      const ms = performance.now() - first;
      clearInterval(sampler);
      sustained = {
        targetRate: rate, seconds, published: pub.published, offeredRate: Math.round((pub.published / pub.ms) * 1000), stored: store.inserted, achievedRate: Math.round((store.inserted / ms) * 1000),
        maxLagMs: maxLag, rssStartMb: mb(rssStart), rssPeakMb: mb(rssPeak), rssEndMb: mb(rss()),
      };
      await ingest.close();
      await store.close();
    }
    const rssAfter = rss();
    const page = (opts.pageRate ?? 0) > 0 ? await runPageBench({ rate: opts.pageRate, log }) : null;
    return { count: total, drain, sustained, rssBeforeMb: mb(rssBefore), rssAfterMb: mb(rssAfter), page };
  } finally {
    await broker.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function formatIngestBench(r: IngestBenchResult): string {
  const lines = [`Ingest benchmark (local Mosquitto, ${r.count.toLocaleString("en")} queued readings drained per run; medians over rounds)`];
  const n = (x: number) => Math.round(x).toLocaleString("en");
  for (const d of r.drain) {
    lines.push(
      `  QoS ${d.qos}: bare JSON.parse subscriber ${n(d.bare.rate)}/s (main ${d.bare.mainUsPerReading.toFixed(2)} µs, CPU ${d.bare.cpuUsPerReading.toFixed(2)} µs per reading)` +
        `; ingest validate + state + SQLite ${n(d.ingest.rate)}/s (main ${d.ingest.mainUsPerReading.toFixed(2)} µs, store worker ${d.ingest.workerUsPerReading.toFixed(2)} µs, CPU ${d.ingest.cpuUsPerReading.toFixed(2)} µs)` +
        `; ratio ${d.ratio.toFixed(2)} by rate, ${d.mainThreadRatio.toFixed(2)} by main-thread time`,
    );
  }
  if (r.sustained) {
    const s = r.sustained;
    lines.push(`  sustained QoS 1 at ${s.targetRate.toLocaleString("en")}/s for ${s.seconds} s (publishers managed ${s.offeredRate.toLocaleString("en")}/s): ${s.stored.toLocaleString("en")}/${s.published.toLocaleString("en")} stored, ${s.achievedRate.toLocaleString("en")}/s first reading to last stored, max lag ${s.maxLagMs} ms, RSS ${s.rssStartMb} -> peak ${s.rssPeakMb} -> ${s.rssEndMb} MB`);
  }
  lines.push(`  RSS before ${r.rssBeforeMb} MB, after ${r.rssAfterMb} MB`);
  if (r.page) lines.push(formatPageBench(r.page));
  return lines.join("\n");
}

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: '${process.argv[i + 1]}' is not a non-negative number`);
  return n;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  runIngestBench({ count: argNumber("count", 100_000), sustainedRate: argNumber("rate", 25_000), sustainedSeconds: argNumber("seconds", 10), rounds: argNumber("rounds", 3), pageRate: argNumber("page-rate", 5000) })
    .then((r) => process.stdout.write(formatIngestBench(r) + "\n"))
    .catch((e) => {
      process.stderr.write(`ingestBench: ${(e as Error).message}\n`);
      process.exit(1);
    });
}
