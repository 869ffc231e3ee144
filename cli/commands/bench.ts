// `espdht bench`: the performance benchmarks, each printing figures with a baseline measured in the same run.
// Load goes to brokers started on this machine's loopback only, never to a public broker.
import { CommandSpec, numberOption, parseCommandArgs, UsageError } from "../args";

const WHICH = ["ingest", "journal", "sim", "all"];

const spec: CommandSpec = {
  name: "bench",
  usage: "bench [ingest|journal|sim|all] [options]",
  summary: "Run the benchmarks against a Mosquitto started on 127.0.0.1: 'ingest' (readings/s validated and stored vs a bare JSON-parsing MQTT.js subscriber, memory, the dashboard page under load in Chromium) 'journal' (the ingest rate with and without the ingest journal, interleaved rounds) and 'sim' (how many virtual boards one process runs at a reading every 2 s, with RSS and CPU per board).",
  options: {
    count: { type: "string", value: "N", help: "ingest, journal: queued readings per run", default: "100000" },
    rounds: { type: "string", value: "N", help: "journal: rounds with and without the journal (interleaved)", default: "5" },
    rate: { type: "string", value: "R", help: "ingest: readings/s of the sustained run", default: "25000" },
    "page-rate": { type: "string", value: "R", help: "ingest: readings/s while measuring the page in Chromium (0 = skip)", default: "5000" },
    steps: { type: "string", value: "N,N,...", help: "sim: board counts to try", default: "100,250,500,1000" },
    seconds: { type: "string", value: "S", help: "seconds measured per run", default: "10" },
  },
  epilog: "Needs mosquitto (and chromium for the page figures). Example:\n  espdht bench sim --steps 250,1000",
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv, true);
  if (!args) return 0;
  const which = args.positionals[0] ?? "all";
  if (!WHICH.includes(which) || args.positionals.length > 1) throw new UsageError(`expected one of ${WHICH.join(", ")} (got '${args.positionals.join(" ")}')`);
  const seconds = numberOption(args.values, "seconds", 1, 3600)!;
  // every option is checked before the first (minutes-long) run starts
  const count = numberOption(args.values, "count", 1000, 10_000_000, true)!;
  const sustainedRate = numberOption(args.values, "rate", 0, 1_000_000)!;
  const pageRate = numberOption(args.values, "page-rate", 0, 100_000)!;
  const rounds = numberOption(args.values, "rounds", 1, 100, true)!;
  const steps = String(args.values.steps).split(",").map(Number);
  if (steps.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--steps: '${args.values.steps}' must be whole numbers like 100,250,500`);
  const log = (m: string) => process.stderr.write(m + "\n");
  if (which === "ingest" || which === "all") {
    const { runIngestBench, formatIngestBench } = await import("../../bench/ingestBench");
    log("espdht bench: ingest (this takes a few minutes)");
    const r = await runIngestBench({ count, sustainedRate, sustainedSeconds: seconds, pageRate, log });
    process.stdout.write(formatIngestBench(r) + "\n");
  }
  if (which === "journal" || which === "all") {
    const { runJournalBench, formatJournalBench } = await import("../../bench/journalBench");
    log("espdht bench: ingest journal (this takes a few minutes)");
    const r = await runJournalBench({ count, rounds, log });
    process.stdout.write(formatJournalBench(r) + "\n");
  }
  if (which === "sim" || which === "all") {
    const { runSimBench, formatSimBench } = await import("../../bench/simBench");
    log("espdht bench: simulator (this takes a few minutes)");
    const r = await runSimBench({ steps, seconds });
    process.stdout.write(formatSimBench(r) + "\n");
  }
  return 0;
}
