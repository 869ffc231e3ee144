// What the ingest journal costs: the same QoS 1 backlog drained by the dashboard's ingest and store with the
// journal (one write(2) per reading before its PUBACK) and without it, rounds interleaved with the order
// alternating, through a local Mosquitto. Run: npx tsx bench/journalBench.ts [--count N] [--rounds N]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startMosquitto } from "../host/broker/mosquitto";
import { measureIngest, median, PhaseFigures, primeSession } from "./ingestBench";
import { publishReadings } from "./ingestPublisherProcess";

const ROOT = "espdht/bench";

export interface JournalBenchOptions {
  /** readings queued per run */
  count?: number;
  /** rounds of each side (at least 5 for a median worth reading) */
  rounds?: number;
  log?: (m: string) => void;
}

export interface JournalBenchSide {
  rates: number[];
  median: number;
  min: number;
  max: number;
  mainUsPerReading: number;
  cpuUsPerReading: number;
}

export interface JournalBenchResult {
  count: number;
  rounds: number;
  withJournal: JournalBenchSide;
  withoutJournal: JournalBenchSide;
  /** median with / median without */
  ratio: number;
}

function side(rs: PhaseFigures[]): JournalBenchSide {
  const rates = rs.map((r) => r.rate);
  return {
    rates, median: median(rates), min: Math.min(...rates), max: Math.max(...rates),
    mainUsPerReading: median(rs.map((r) => r.mainUsPerReading)), cpuUsPerReading: median(rs.map((r) => r.cpuUsPerReading)),
  };
}

export async function runJournalBench(opts: JournalBenchOptions = {}): Promise<JournalBenchResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + "\n"));
  const rounds = Math.max(1, opts.rounds ?? 5);
  const publishers = 4;
  const devicesPerPublisher = 5;
  const perDevice = Math.ceil((opts.count ?? 50_000) / (publishers * devicesPerPublisher));
  const total = perDevice * publishers * devicesPerPublisher;
  const broker = await startMosquitto(["max_inflight_messages 1000", "max_queued_messages 0"]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-journal-bench-"));
  const runs = { with: [] as PhaseFigures[], without: [] as PhaseFigures[] };
  let tag = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (["with", "without"] as const) : (["without", "with"] as const);
      for (const kind of order) {
        const clientId = `bench-journal-${kind}-${++tag}`;
        await primeSession(broker, clientId);
        await publishReadings({ url: broker.url, root: ROOT, publishers, devicesPerPublisher, perDevice, qos: 1, rate: 0, tag: `j${tag}` });
        const f = await measureIngest(broker, clientId, total, path.join(tmp, `db-${tag}`), kind === "with");
        runs[kind].push(f);
        log(`  round ${round + 1} ${kind === "with" ? "with journal   " : "without journal"}: ${Math.round(f.rate).toLocaleString("en")} readings/s, main thread ${f.mainUsPerReading.toFixed(2)} µs/reading, process CPU ${f.cpuUsPerReading.toFixed(2)} µs/reading`);
      }
    }
    const withJournal = side(runs.with);
    const withoutJournal = side(runs.without);
    return { count: total, rounds, withJournal, withoutJournal, ratio: withJournal.median / withoutJournal.median };
  } finally {
    await broker.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function formatJournalBench(r: JournalBenchResult): string {
  const n = (x: number) => Math.round(x).toLocaleString("en");
  const line = (name: string, s: JournalBenchSide) =>
    `  ${name}: median ${n(s.median)}/s (spread ${n(s.min)}..${n(s.max)}), main thread ${s.mainUsPerReading.toFixed(2)} µs, process CPU ${s.cpuUsPerReading.toFixed(2)} µs per reading`;
  return [
    `Ingest journal benchmark (local Mosquitto, QoS 1, ${r.count.toLocaleString("en")} queued readings drained per run, ${r.rounds} interleaved rounds each)`,
    line("with the journal   ", r.withJournal),
    line("without the journal", r.withoutJournal),
    `  with / without: ${r.ratio.toFixed(2)} (medians)`,
  ].join("\n");
}

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n < 1) throw new Error(`--${name}: '${process.argv[i + 1]}' is not a positive number`);
  return n;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  runJournalBench({ count: argNumber("count", 50_000), rounds: argNumber("rounds", 5) })
    .then((r) => process.stdout.write(formatJournalBench(r) + "\n"))
    .catch((e) => {
      process.stderr.write(`journalBench: ${(e as Error).message}\n`);
      process.exit(1);
    });
}
