// `espdht export`'s output: the readings of several devices as CSV (the dashboard's columns, through csvExport.ts)
// or JSON lines, written to a stream in chunks that wait for 'drain', so memory stays flat for any row count.
import type Database from "better-sqlite3";
import type { Writable } from "node:stream";
import { CSV_HEADER, csvRows } from "./csvExport";
import { iterateReadingsOf, StoredReading } from "./historyQueries";

export const EXPORT_FORMATS = ["csv", "jsonl"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One reading as a JSON line: values when the read succeeded, the error when it failed. */
export function jsonlLine(r: StoredReading): string {
  const time = new Date(r.t).toISOString();
  const line =
    r.error === null
      ? { device: r.device, boot: r.boot, seq: r.seq, up: r.up, ts: r.ts, time, received: r.received, temperature: r.temperature, humidity: r.humidity }
      : { device: r.device, boot: r.boot, seq: r.seq, up: r.up, ts: r.ts, time, received: r.received, error: r.error };
  return JSON.stringify(line) + "\n";
}

export interface ExportLines {
  /** written once before the rows (CSV), or null (JSON lines have none) */
  header: string | null;
  /** one line per reading: by device in the order given, then time, boot, seq */
  rows: Iterable<string>;
}

/** The lines of an export over [from, to) (reading time, Unix ms). */
export function exportLines(db: Database.Database, format: ExportFormat, devices: readonly string[], from: number, to: number): ExportLines {
  if (format === "csv") return { header: CSV_HEADER + "\r\n", rows: csvRows(db, devices, from, to) };
  return { header: null, rows: jsonl(db, devices, from, to) };
}

function* jsonl(db: Database.Database, devices: readonly string[], from: number, to: number): Generator<string> {
  for (const r of iterateReadingsOf(db, devices, from, to)) yield jsonlLine(r);
}

export interface WriteOptions {
  /** stop between chunks when aborted (Ctrl-C) */
  signal?: AbortSignal;
  /** called with the rows written so far, at most every `progressEveryMs` */
  onProgress?: (rows: number) => void;
  progressEveryMs?: number;
  now?: () => number;
  /** lines are joined into writes of about this many characters (one write per line costs more than the CSV itself) */
  chunkChars?: number;
}

/** done: every line written; aborted: the signal fired; closed: the reader went away (EPIPE, as `| head` does). */
export type WriteOutcome = "done" | "aborted" | "closed";

/**
 * Writes the header and rows to `out`, waiting for 'drain' whenever write() says the buffer is full and yielding
 * to the event loop after every chunk (so a signal or a stream error is seen promptly). Does not end `out`.
 * A stream error other than EPIPE rejects.
 */
export async function writeExport(out: Writable, lines: ExportLines, opts: WriteOptions = {}): Promise<{ outcome: WriteOutcome; rows: number }> {
  const now = opts.now ?? Date.now;
  const every = opts.progressEveryMs ?? 2000;
  const chunkChars = opts.chunkChars ?? 64 * 1024;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const onError = (e: Error) => {
    failure = e;
    wake?.();
  };
  const onAbort = () => wake?.();
  out.on("error", onError);
  opts.signal?.addEventListener("abort", onAbort);
  let rows = 0;
  let lastProgress = now();
  /** the outcome when writing must stop, else null */
  const stopped = (): WriteOutcome | null => {
    if (failure) {
      if ((failure as NodeJS.ErrnoException).code === "EPIPE") return "closed";
      throw failure;
    }
    return opts.signal?.aborted ? "aborted" : null;
  };
  const flush = async (chunk: string): Promise<WriteOutcome | null> => {
    const full = !out.write(chunk);
    let onDrain: (() => void) | null = null;
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (full) out.once("drain", (onDrain = resolve));
      else setImmediate(resolve);
      if (failure || opts.signal?.aborted) resolve();
    });
    wake = null;
    if (onDrain) out.removeListener("drain", onDrain);
    return stopped();
  };
  try {
    let stop = stopped();
    if (stop) return { outcome: stop, rows };
    let chunk = lines.header ?? "";
    for (const line of lines.rows) {
      chunk += line;
      rows++;
      if (chunk.length < chunkChars) continue;
      stop = await flush(chunk);
      chunk = "";
      if (stop) return { outcome: stop, rows };
      if (opts.onProgress && now() - lastProgress >= every) {
        lastProgress = now();
        opts.onProgress(rows);
      }
    }
    if (chunk) stop = await flush(chunk);
    return { outcome: stop ?? "done", rows };
  } finally {
    out.removeListener("error", onError);
    opts.signal?.removeEventListener("abort", onAbort);
  }
}
