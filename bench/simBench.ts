// Simulator benchmark: how many virtual boards (each running dist/firmware.js, one reading every 2 s, the
// DHT's fastest rate) one process keeps on time, with RSS and CPU per board, against a broker on loopback.
// Run: npx tsx bench/simBench.ts [--steps 100,250,500,1000] [--seconds 20] [--warmup 8] [--broker mosquitto|aedes] [--firmware FILE]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay, performance, PerformanceObserver } from "node:perf_hooks";
import { startEmbeddedBroker } from "../host/broker/embeddedBroker";
import { startMosquitto } from "../host/broker/mosquitto";
import { FIRMWARE_OUT } from "../tools/buildFirmware";
import { startFleet } from "../sim/fleet/fleet";

export interface SimBenchOptions {
  /** fleet sizes to try, in order */
  steps?: number[];
  /** seconds measured per step, after the warm-up */
  seconds?: number;
  /** seconds for every board to boot, join Wi-Fi, connect and settle */
  warmup?: number;
  /** the firmware bundle (default dist/firmware.js), copied once so every step runs the same bytes */
  firmwareFile?: string;
  /** mosquitto runs in its own process (default); aedes (the embedded broker) shares this one */
  broker?: "mosquitto" | "aedes";
  log?: (m: string) => void;
}

export interface SimStepFigures {
  boards: number;
  /** readings published per board per second, over the expected 0.5 */
  onTimeRatio: number;
  readings: number;
  errorReadings: number;
  /** lateness of each reading after its predecessor (interval - 2000 ms) */
  latenessP50Ms: number;
  latenessP99Ms: number;
  latenessMaxMs: number;
  /** readings more than 500 ms late */
  lateOver500: number;
  loopLagP50Ms: number;
  loopLagP99Ms: number;
  loopLagMaxMs: number;
  rssMb: number;
  rssPerBoardKb: number;
  /** share of one core over the measured window */
  cpuPercent: number;
  cpuPerBoardPercent: number;
  mqttConnected: number;
  uncaught: number;
  /** time spent in garbage collection over the window, and the longest single pause */
  gcMs: number;
  gcMaxPauseMs: number;
  /** 1-minute load average of the machine at the end of the step (2 cores, shared with other work) */
  loadAverage: number;
  keptUp: boolean;
}

export interface SimBenchResult {
  broker: string;
  baselineRssMb: number;
  steps: SimStepFigures[];
}

const INTERVAL_S = 2;
const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function settleMemory(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(200);
  }
  return process.memoryUsage().rss;
}

interface StepSettings {
  seconds: number;
  warmup: number;
  firmwareFile: string;
}

async function runStep(brokerUrl: string, boards: number, o: StepSettings, baseline: number, log: (m: string) => void): Promise<SimStepFigures> {
  const fleet = await startFleet({
    broker: brokerUrl, root: `espdht/bench-${boards}`, devices: boards, interval: INTERVAL_S, model: "dht22", pin: 4,
    seed: `bench-${boards}`, dataDir: null, firmwareFile: o.firmwareFile, log,
  });
  const lastAt = new Array<number>(boards).fill(0);
  const lateness: number[] = [];
  let measuring = false;
  let readings = 0;
  let errorReadings = 0;
  fleet.boards.forEach((b, i) => b.on("reading", (error) => {
    const now = performance.now();
    if (measuring) {
      readings++;
      if (error) errorReadings++;
      if (lastAt[i]) lateness.push(now - lastAt[i] - INTERVAL_S * 1000);
    }
    lastAt[i] = now;
  }));
  await sleep(o.warmup * 1000);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let gcMs = 0;
  let gcMax = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcMax = Math.max(gcMax, e.duration);
    }
  });
  gcObserver.observe({ entryTypes: ["gc"] });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  let rssPeak = 0;
  for (let s = 0; s < o.seconds; s++) {
    await sleep(1000);
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lag.disable();
  gcObserver.disconnect();
  const stats = fleet.stats();
  await fleet.stop();
  lateness.sort((a, b) => a - b);
  const onTimeRatio = readings / (boards * (elapsed / INTERVAL_S));
  const cpuPercent = ((cpu.user + cpu.system) / 1000 / (elapsed * 1000)) * 100;
  const f: SimStepFigures = {
    boards,
    onTimeRatio: Math.round(onTimeRatio * 1000) / 1000,
    readings,
    errorReadings,
    latenessP50Ms: Math.round(percentile(lateness, 50)),
    latenessP99Ms: Math.round(percentile(lateness, 99)),
    latenessMaxMs: Math.round(lateness[lateness.length - 1] ?? NaN),
    loopLagP50Ms: Math.round(lag.percentile(50) / 1e5) / 10,
    loopLagP99Ms: Math.round(lag.percentile(99) / 1e5) / 10,
    loopLagMaxMs: Math.round(lag.max / 1e5) / 10,
    rssMb: mb(rssPeak),
    rssPerBoardKb: Math.round((rssPeak - baseline) / 1024 / boards),
    lateOver500: lateness.filter((x) => x > 500).length,
    cpuPercent: Math.round(cpuPercent),
    cpuPerBoardPercent: Math.round((cpuPercent / boards) * 1000) / 1000,
    mqttConnected: stats.mqtt,
    uncaught: stats.uncaught,
    loadAverage: Math.round(os.loadavg()[0] * 10) / 10,
    gcMs: Math.round(gcMs),
    gcMaxPauseMs: Math.round(gcMax),
    keptUp: false,
  };
  // on time: (almost) every reading published, none failed because the DHT frame or its 30 ms listening window
  // was delayed, timers late by well under a DHT frame's margin, every board connected. (A gap of ~1 s between two
  // readings also happens with one idle board: the firmware's read scheduling at interval == the 2 s DHT gap.)
  f.keptUp = f.onTimeRatio >= 0.95 && errorReadings === 0 && f.loopLagP99Ms < 50 && stats.mqtt === boards;
  return f;
}

export async function runSimBench(opts: SimBenchOptions = {}): Promise<SimBenchResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + "\n"));
  // a snapshot: a rebuild of dist/firmware.js during the run must not change what later steps measure
  const snapshotDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-simbench-"));
  const firmwareFile = path.join(snapshotDir, "firmware.js");
  fs.copyFileSync(opts.firmwareFile ?? FIRMWARE_OUT, firmwareFile);
  const o: StepSettings = { seconds: opts.seconds ?? 20, warmup: opts.warmup ?? 8, firmwareFile };
  const steps = opts.steps ?? [100, 250, 500, 1000];
  const kind = opts.broker ?? "mosquitto";
  const broker = kind === "aedes" ? await startEmbeddedBroker({ port: 0 }) : await startMosquitto(["max_inflight_messages 20"]);
  // warm the code paths (compiled firmware, modules) with one board, so the baseline holds what every run needs
  const warm = await startFleet({ broker: broker.url, root: "espdht/bench-warm", devices: 1, interval: INTERVAL_S, model: "dht22", pin: 4, seed: "warm", dataDir: null, firmwareFile, log });
  await sleep(3000);
  await warm.stop();
  const baseline = await settleMemory();
  log(`sim bench: ${kind} on ${broker.url}; baseline RSS ${mb(baseline)} MB; ${o.warmup} s warm-up + ${o.seconds} s per step; one reading every ${INTERVAL_S} s per board`);
  const results: SimStepFigures[] = [];
  try {
    for (const n of steps) {
      log(`  ${n} boards ...`);
      const f = await runStep(broker.url, n, o, baseline, log);
      results.push(f);
      log(`  ${n} boards: ${f.keptUp ? "kept up" : "FELL BEHIND"}; on-time ${f.onTimeRatio}, lateness p99 ${f.latenessP99Ms} ms, loop lag p99 ${f.loopLagP99Ms} ms, RSS ${f.rssMb} MB, CPU ${f.cpuPercent}%, GC ${f.gcMs} ms (max pause ${f.gcMaxPauseMs} ms), load ${f.loadAverage}`);
      await settleMemory();
      if (!f.keptUp && n !== steps[steps.length - 1]) log("  (continuing to show how it degrades)");
    }
  } finally {
    await broker.close();
    fs.rmSync(snapshotDir, { recursive: true, force: true });
  }
  return { broker: kind, baselineRssMb: mb(baseline), steps: results };
}

export function formatSimBench(r: SimBenchResult): string {
  const head = ["boards", "on-time", "readings", "err", "late p50", "late p99", "late max", ">500ms", "lag p50", "lag p99", "lag max", "RSS MB", "KB/board", "CPU %", "CPU %/board", "GC ms", "GC max", "mqtt", "load", "kept up"];
  const rows = r.steps.map((s) => [s.boards, s.onTimeRatio, s.readings, s.errorReadings, s.latenessP50Ms, s.latenessP99Ms, s.latenessMaxMs, s.lateOver500, s.loopLagP50Ms, s.loopLagP99Ms, s.loopLagMaxMs, s.rssMb, s.rssPerBoardKb, s.cpuPercent, s.cpuPerBoardPercent, s.gcMs, s.gcMaxPauseMs, `${s.mqttConnected}/${s.boards}`, s.loadAverage, s.keptUp ? "yes" : "NO"].map(String));
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(width[i])).join("  ");
  const first = r.steps[0];
  const cpuRatios = r.steps.slice(1).map((s) => `${s.boards}: ${(s.cpuPerBoardPercent / first.cpuPerBoardPercent).toFixed(2)}x`);
  // RSS per board added between two steps: steadier than RSS/board, which carries the baseline's noise
  const added = r.steps.slice(1).map((s, i) => {
    const prev = r.steps[i];
    return `${prev.boards}->${s.boards}: ${Math.round(((s.rssMb - prev.rssMb) * 1024) / (s.boards - prev.boards))} KB`;
  });
  return [
    `Simulator benchmark (${r.broker} broker on loopback; baseline RSS ${r.baselineRssMb} MB; lateness = gap between a board's readings minus 2,000 ms; times in ms; load = 1-min load average of the ${os.cpus().length}-core machine)`,
    line(head),
    ...rows.map(line),
    ...(cpuRatios.length ? [`CPU per board vs the ${first.boards}-board fleet: ${cpuRatios.join(", ")}`, `RSS per added board: ${added.join(", ")}`] : []),
  ].join("\n");
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const steps = arg("steps")?.split(",").map(Number);
  if (steps && steps.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--steps: '${arg("steps")}' must be whole numbers like 100,250,500`);
  const broker = arg("broker");
  if (broker && broker !== "mosquitto" && broker !== "aedes") throw new Error("--broker must be mosquitto or aedes");
  runSimBench({ steps, firmwareFile: arg("firmware"), seconds: arg("seconds") ? Number(arg("seconds")) : undefined, warmup: arg("warmup") ? Number(arg("warmup")) : undefined, broker: broker as "mosquitto" | "aedes" | undefined })
    .then((r) => {
      process.stdout.write(formatSimBench(r) + "\n");
      process.exit(0);
    })
    .catch((e) => {
      process.stderr.write(`sim bench: ${(e as Error).message}\n`);
      process.exit(1);
    });
}
