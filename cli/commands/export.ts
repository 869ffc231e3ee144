// `espdht export`: stored readings of one, several or all devices as CSV or JSON lines, streamed from the data
// folder's store (read-only, so a running dashboard keeps writing) to stdout or a file.
import fs from "node:fs";
import path from "node:path";
import type { Writable } from "node:stream";
import { EXPORT_FORMATS, ExportFormat, exportLines, writeExport } from "../../host/store/exportReadings";
import { ExportStoreError, exportDevices, openStoreReadOnly } from "../../host/store/exportStore";
import { STORE_FILE } from "../../host/store/openDatabase";
import { CommandSpec, parseCommandArgs, UsageError } from "../args";
import { defaultDataDir } from "../userConfig";

const TIME_FORMS = "ISO 8601 (2024-05-01, 2024-05-01T12:00, 2024-05-01T12:00:00Z, 2024-05-01T12:00+02:00) or Unix ms (1714564800000)";

const spec: CommandSpec = {
  name: "export",
  usage: "export [DEVICE...] [--format csv|jsonl] [--from TIME] [--to TIME] [--out FILE] [options]",
  summary:
    "Write the stored readings (one row per reading: device, boot, seq, up, ts, time, received, temperature and humidity or the error) " +
    "of the devices named (default: all), by device, then time. Reads the data folder's store without changing it, also while a dashboard runs.",
  options: {
    data: { type: "string", value: "DIR", help: "data folder holding the store (default: $ESPDHT_DATA, else espdht/ in $XDG_DATA_HOME or ~/.local/share)" },
    device: { type: "string", value: "ID", help: "a device to export (repeatable; the same as naming it as an argument)", multiple: true },
    format: { type: "string", value: "FORMAT", help: "csv (the dashboard's CSV columns) or jsonl (one JSON object per line)", default: "csv" },
    from: { type: "string", value: "TIME", help: "first reading time to include: ISO 8601 or Unix ms (default: the oldest)" },
    to: { type: "string", value: "TIME", help: "readings before this time (excluded): ISO 8601 or Unix ms (default: the newest)" },
    out: { type: "string", short: "o", value: "FILE", help: "write to FILE (through FILE.tmp, renamed when complete) instead of stdout" },
    progress: { type: "boolean", help: "print rows so far on stderr every 2 s (on by default when stderr is a terminal and the rows go elsewhere)" },
  },
  epilog: [
    "Times without Z or an offset are local time. Readings are selected by their time (the device clock when it was set, else the time received).",
    "",
    "Examples:",
    "  espdht export > all.csv",
    "  espdht export esp32-a1b2c3d4e5f6 --from 2024-05-01 --to 2024-05-08 -o week.csv",
    "  espdht export --device sim-a --device sim-b --format jsonl --from 1714564800000 | jq .temperature",
    "  espdht export --data /srv/espdht --format jsonl -o history.jsonl --progress",
  ].join("\n"),
};

export interface ParsedTime {
  ms: number;
  /** something the user may not have meant (a number too small for Unix ms) */
  warning: string | null;
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
/** Unix ms below this (March 1973) is more likely Unix seconds */
const SECONDS_LIKE = 1e11;
const MAX_TIME_MS = 8.64e15;

/** A --from/--to value: ISO 8601 (local time without a zone) or Unix ms; a bad one is a UsageError naming the flag. */
export function parseTimeOption(flag: string, raw: string): ParsedTime {
  const bad = (why: string) => new UsageError(`--${flag}: '${raw.slice(0, 60)}' ${why}; use ${TIME_FORMS}`);
  if (/^\d{1,16}$/.test(raw)) {
    const ms = Number(raw);
    if (ms > MAX_TIME_MS) throw bad("is past the year 275760");
    const warning = ms > 0 && ms < SECONDS_LIKE ? `--${flag} ${raw} is read as Unix ms (${new Date(ms).toISOString()}); in Unix seconds it would be ${raw}000` : null;
    return { ms, warning };
  }
  const m = ISO_TIME.exec(raw.trim());
  if (!m) throw bad("is not a time");
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const ms = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  if (mo < 1 || mo > 12) throw bad(`has month ${mo}`);
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d < 1 || d > daysInMonth) throw bad(`has day ${d}, and ${m[1]}-${m[2]} has ${daysInMonth} days`);
  if (h > 23 || mi > 59 || s > 59) throw bad("has an hour, minute or second out of range");
  const zone = m[8];
  let t: number;
  if (zone === undefined) {
    const local = new Date(2000, 0, 1);
    local.setFullYear(y, mo - 1, d);
    local.setHours(h, mi, s, ms);
    t = local.getTime();
  } else {
    const utc = new Date(Date.UTC(2000, 0, 1));
    utc.setUTCFullYear(y, mo - 1, d);
    utc.setUTCHours(h, mi, s, ms);
    let offsetMin = 0;
    if (zone.toUpperCase() !== "Z") {
      const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
      if (Number(z[2]) > 14 || Number(z[3]) > 59) throw bad(`has offset ${zone}`);
      offsetMin = (z[1] === "-" ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
    }
    t = utc.getTime() - offsetMin * 60_000;
  }
  if (!Number.isFinite(t) || Math.abs(t) > MAX_TIME_MS) throw bad("is out of range");
  return { ms: t, warning: null };
}

function formatOption(raw: unknown): ExportFormat {
  const f = String(raw);
  if (!(EXPORT_FORMATS as readonly string[]).includes(f)) throw new UsageError(`--format: '${f.slice(0, 40)}' is not one of ${EXPORT_FORMATS.join(", ")}`);
  return f as ExportFormat;
}

interface Target {
  stream: Writable;
  /** where the rows went, for messages */
  label: string;
  /** everything written: flushed and, for a file, renamed into place */
  finish(): Promise<void>;
  /** stopped early: a partial file is removed */
  discard(): void;
}

function waitFor(stream: Writable, event: "open" | "close" | "drain"): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      stream.removeListener(event, onEvent);
      reject(e);
    };
    const onEvent = () => {
      stream.removeListener("error", onError);
      resolve();
    };
    stream.once("error", onError);
    stream.once(event, onEvent);
  });
}

function stdoutTarget(): Target {
  const out = process.stdout;
  return {
    stream: out,
    label: "stdout",
    finish: async () => {
      if (out.writableNeedDrain) await waitFor(out, "drain");
    },
    discard: () => {},
  };
}

/** A regular file is written as FILE.tmp and renamed when complete; /dev/null, a FIFO and the like are written in place. */
async function fileTarget(file: string): Promise<Target> {
  const dir = path.dirname(file);
  let st: fs.Stats | null = null;
  try {
    st = fs.statSync(file);
  } catch {
    // a new file
  }
  if (st?.isDirectory()) throw new UsageError(`--out: ${file} is a folder`);
  if (!fs.existsSync(dir)) throw new UsageError(`--out: the folder ${dir} does not exist`);
  const inPlace = st !== null && !st.isFile();
  const written = inPlace ? file : file + ".tmp";
  const stream = fs.createWriteStream(written, { flush: !inPlace });
  let failure: Error | null = null;
  // kept for the stream's whole life: a late write error is reported by finish(), never left unhandled
  stream.on("error", (e) => (failure ??= e));
  try {
    await waitFor(stream, "open");
  } catch (e) {
    throw new UsageError(`--out: cannot write ${written} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return {
    stream,
    label: file,
    finish: async () => {
      if (!stream.destroyed) {
        const closed = new Promise<void>((resolve) => stream.once("close", () => resolve()));
        stream.end();
        await closed;
      }
      if (failure) throw failure;
      if (!inPlace) fs.renameSync(written, file);
    },
    discard: () => {
      stream.destroy();
      if (!inPlace) fs.rmSync(written, { force: true });
    },
  };
}

class ProgressLine {
  private readonly start = Date.now();
  private shown = false;
  constructor(private readonly tty: boolean) {}

  update(rows: number): void {
    const seconds = (Date.now() - this.start) / 1000;
    const rate = seconds > 0 ? Math.round(rows / seconds) : 0;
    const text = `espdht export: ${rows.toLocaleString("en")} rows (${rate.toLocaleString("en")} rows/s)`;
    process.stderr.write(this.tty ? `\r${text}\x1b[K` : text + "\n");
    this.shown = true;
  }

  /** ends the line a terminal progress display left open */
  end(): void {
    if (this.tty && this.shown) process.stderr.write("\n");
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv, true);
  if (!args) return 0;
  const v = args.values;
  const format = formatOption(v.format);
  const from = typeof v.from === "string" ? parseTimeOption("from", v.from) : null;
  const to = typeof v.to === "string" ? parseTimeOption("to", v.to) : null;
  if (from && to && from.ms >= to.ms) {
    throw new UsageError(`--from ${v.from} (${new Date(from.ms).toISOString()}) must be before --to ${v.to} (${new Date(to.ms).toISOString()})`);
  }
  const requested = [...args.positionals, ...((v.device as string[] | undefined) ?? [])];
  for (const id of requested) if (id.trim() === "") throw new UsageError("a device id is empty");
  const dataDir = path.resolve(typeof v.data === "string" ? v.data : defaultDataDir());
  const log = (m: string) => process.stderr.write(`espdht export: ${m}\n`);
  for (const t of [from, to]) if (t?.warning) log(`warning: ${t.warning}`);

  let db;
  try {
    db = openStoreReadOnly(dataDir);
  } catch (e) {
    if (e instanceof ExportStoreError) {
      log(e.message);
      return 1;
    }
    throw e;
  }
  try {
    let devices: string[];
    try {
      devices = exportDevices(db, requested, path.join(dataDir, STORE_FILE));
    } catch (e) {
      if (e instanceof ExportStoreError) throw new UsageError(e.message);
      throw e;
    }
    if (devices.length === 0) log(`the store in ${dataDir} has no devices yet`);
    const target = typeof v.out === "string" ? await fileTarget(path.resolve(v.out)) : stdoutTarget();
    const aborter = new AbortController();
    let signal: NodeJS.Signals | null = null;
    const onSignal = (s: NodeJS.Signals) => {
      signal = s;
      aborter.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    // on a terminal that also shows the rows, progress lines would land between them
    const rowsOnTerminal = target.label === "stdout" && process.stdout.isTTY === true;
    const showProgress = v.progress === true || (process.stderr.isTTY === true && !rowsOnTerminal);
    const progress = new ProgressLine(process.stderr.isTTY === true);
    try {
      const lines = exportLines(db, format, devices, from?.ms ?? -MAX_TIME_MS, to?.ms ?? MAX_TIME_MS + 1);
      let result;
      try {
        result = await writeExport(target.stream, lines, { signal: aborter.signal, onProgress: showProgress ? (n) => progress.update(n) : undefined });
      } catch (e) {
        progress.end();
        target.discard();
        log(`cannot write ${target.label}: ${(e as Error).message}`);
        return 1;
      }
      progress.end();
      if (result.outcome === "closed") return 0; // the reader stopped early (`| head`): its choice, not an error
      if (result.outcome === "aborted") {
        target.discard();
        log(`interrupted after ${result.rows.toLocaleString("en")} rows${target.label === "stdout" ? "" : `; ${target.label} not written`}`);
        return signal === "SIGTERM" ? 143 : 130;
      }
      try {
        await target.finish();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EPIPE") return 0;
        target.discard();
        log(`cannot write ${target.label}: ${(e as Error).message}`);
        return 1;
      }
      if (showProgress || target.label !== "stdout") {
        const of = devices.length === 1 ? devices[0] : `${devices.length} devices`;
        log(`${result.rows.toLocaleString("en")} rows of ${of} written to ${target.label}`);
      }
      return 0;
    } finally {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
  } finally {
    db.close();
  }
}
