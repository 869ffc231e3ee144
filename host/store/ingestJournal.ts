// The ingest journal: every reading the host accepts is appended here (one write(2) per reading, before MQTT.js
// sends its PUBACK) and stays until the store has committed it, so "acknowledged" means "on this host's disk".
// Segments are files <data>/journal/<n>.jsonl: the writer seals one per store batch (per MB while the store fails)
// and deletes it once the store acknowledges that batch; segments left by a crash are replayed at the next start.
// No fsync: a write(2) that returned is in the kernel's page cache, which survives kill -9 of the process but
// not a power cut (the store's synchronous=NORMAL makes the same trade for its last commit).
import fs from "node:fs";
import path from "node:path";
import { isFailedReading, PAYLOAD_VERSION, READ_ERRORS, ReadError, Reading } from "../../firmware/contract";
import { FILE_MODE, makePrivateDir } from "./privateFiles";

export const JOURNAL_DIR = "journal";
/** default bound on the journal (sealed and open segments): ~900,000 readings while the store is failing */
export const DEFAULT_JOURNAL_LIMIT_BYTES = 64 * 1024 * 1024;

export interface JournalEntry {
  reading: Reading;
  receivedAt: number;
}

export interface SegmentContents {
  entries: JournalEntry[];
  /** lines that were not a whole record (a torn last write after a crash, or damage) */
  skipped: number;
}

const SEGMENT_NAME = /^(\d{12})\.jsonl$/;
const segmentName = (n: number) => String(n).padStart(12, "0") + ".jsonl";

/** One line per reading: [id, boot, seq, up, ts, temperature, humidity, error, receivedAt] (nulls where absent). */
export function encodeEntry(r: Reading, receivedAt: number): string {
  const failed = isFailedReading(r);
  return JSON.stringify([r.id, r.boot, r.seq, r.up, r.ts, failed ? null : r.temperature, failed ? null : r.humidity, failed ? r.error : null, receivedAt]) + "\n";
}

const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** The entry of one line, or null when the line is not a whole record. */
export function decodeEntry(line: string): JournalEntry | null {
  let a: unknown;
  try {
    a = JSON.parse(line);
  } catch {
    return null;
  }
  if (!Array.isArray(a) || a.length !== 9) return null;
  const [id, boot, seq, up, ts, temperature, humidity, error, receivedAt] = a as unknown[];
  if (typeof id !== "string" || !isNum(boot) || !isNum(seq) || !isNum(up) || !(ts === null || isNum(ts)) || !isNum(receivedAt)) return null;
  const base = { v: PAYLOAD_VERSION, id, boot, seq, up, ts: ts as number | null };
  if (error !== null) {
    if (!READ_ERRORS.includes(error as ReadError)) return null;
    return { reading: { ...base, error: error as ReadError }, receivedAt };
  }
  if (!isNum(temperature) || !isNum(humidity)) return null;
  return { reading: { ...base, temperature, humidity }, receivedAt };
}

export class IngestJournal {
  readonly dir: string;
  /** bytes in unreleased segments (sealed and open) */
  bytes = 0;
  /** the last write that failed (ENOSPC, EFBIG, EIO...), cleared by the next successful one */
  lastError: Error | null = null;
  private readonly sizes = new Map<number, number>();
  private next: number;
  private fd: number | null = null;
  private open: number | null = null;
  private openSize = 0;

  /** the bound, in whole bytes (health reports it, and readers take only integers) */
  readonly limitBytes: number;

  /** Opens the journal of data folder `dataDir`; segments already there (a previous run's) are sealed and listed by `sealed()`. */
  constructor(dataDir: string, limitBytes = DEFAULT_JOURNAL_LIMIT_BYTES) {
    this.limitBytes = Math.floor(limitBytes);
    this.dir = path.join(dataDir, JOURNAL_DIR);
    makePrivateDir(this.dir);
    let last = 0;
    for (const name of fs.readdirSync(this.dir)) {
      const m = SEGMENT_NAME.exec(name);
      if (!m) continue;
      const n = Number(m[1]);
      const size = fs.statSync(path.join(this.dir, name)).size;
      this.sizes.set(n, size);
      this.bytes += size;
      last = Math.max(last, n);
    }
    this.next = last + 1;
  }

  /** Appends one reading; false when it is not on disk (the bound is reached, or the write failed: see lastError). */
  append(r: Reading, receivedAt: number): boolean {
    const line = encodeEntry(r, receivedAt);
    const len = Buffer.byteLength(line);
    if (this.bytes + len > this.limitBytes) return false;
    try {
      if (this.fd === null) {
        this.open = this.next++;
        this.fd = fs.openSync(this.file(this.open), "wx", FILE_MODE);
        this.openSize = 0;
        this.sizes.set(this.open, 0);
      }
      // positioned write: after a short or failed write the next one overwrites the torn tail
      const written = fs.writeSync(this.fd, line, this.openSize, "utf8");
      if (written !== len) throw new Error(`short write to the journal (${written} of ${len} bytes)`);
    } catch (e) {
      this.lastError = e as Error;
      if (this.fd !== null) {
        try {
          fs.ftruncateSync(this.fd, this.openSize);
        } catch {
          // the torn tail is skipped on replay
        }
      }
      return false;
    }
    this.lastError = null;
    this.openSize += len;
    this.bytes += len;
    this.sizes.set(this.open!, this.openSize);
    return true;
  }

  /** bytes in the open segment */
  get openBytes(): number {
    return this.fd === null ? 0 : this.openSize;
  }

  /** Closes the open segment; returns its number (null when nothing was appended since the last seal). */
  seal(): number | null {
    if (this.fd === null) return null;
    fs.closeSync(this.fd);
    this.fd = null;
    const n = this.open!;
    this.open = null;
    if (this.openSize === 0) {
      this.release(n);
      return null;
    }
    return n;
  }

  /** Sealed segments not released yet, oldest first. */
  sealed(): number[] {
    return [...this.sizes.keys()].filter((n) => n !== this.open).sort((a, b) => a - b);
  }

  /** Reads a sealed segment, skipping lines that are not whole records. */
  read(n: number): SegmentContents {
    const text = fs.readFileSync(this.file(n), "utf8");
    const entries: JournalEntry[] = [];
    let skipped = 0;
    let start = 0;
    while (start < text.length) {
      const end = text.indexOf("\n", start);
      // a line without its newline is a write cut short
      const e = end < 0 ? null : decodeEntry(text.slice(start, end));
      if (e) entries.push(e);
      else skipped++;
      if (end < 0) break;
      start = end + 1;
    }
    return { entries, skipped };
  }

  /** Deletes a segment whose readings the store has committed. */
  release(n: number): void {
    const size = this.sizes.get(n);
    if (size === undefined) return;
    fs.rmSync(this.file(n), { force: true });
    this.sizes.delete(n);
    this.bytes -= size;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.open = null;
  }

  private file(n: number): string {
    return path.join(this.dir, segmentName(n));
  }
}
