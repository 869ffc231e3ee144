// CSV export of readings over a range (one device for the dashboard, several for `espdht export`), streamed line by
// line (RFC 4180 quoting).
import type Database from "better-sqlite3";
import { iterateReadingsOf, StoredReading } from "./historyQueries";

export const CSV_HEADER = "device,boot,seq,time_utc,ts,received,up_ms,temperature,humidity,error";

function cell(v: string | number | null): string {
  if (v === null) return "";
  const s = String(v);
  // a leading = + - @ would be run as a formula by spreadsheets; device text never should
  const safe = typeof v === "string" && /^[=+\-@]/.test(s) ? "'" + s : s;
  return /[",\r\n]/.test(safe) ? '"' + safe.replace(/"/g, '""') + '"' : safe;
}

export function csvLine(r: StoredReading): string {
  return [r.device, r.boot, r.seq, new Date(r.t).toISOString(), r.ts, r.received, r.up, r.temperature, r.humidity, r.error].map(cell).join(",");
}

/** One line per reading of each device in turn, each ending in CRLF, without the header (written once by the caller). */
export function* csvRows(db: Database.Database, devices: readonly string[], from: number, to: number): Generator<string> {
  for (const r of iterateReadingsOf(db, devices, from, to)) yield csvLine(r) + "\r\n";
}

/** Yields the header and one line per reading, each ending in CRLF. */
export function* csvLines(db: Database.Database, device: string, from: number, to: number): Generator<string> {
  yield CSV_HEADER + "\r\n";
  yield* csvRows(db, [device], from, to);
}
