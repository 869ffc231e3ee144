// History queries: a device's readings over a range, downsampled in SQL to at most `points` buckets
// (min/avg/max per bucket) so a week of 10 s readings draws fast; raw readings page by page; the devices table.
import type Database from "better-sqlite3";
import type { Info } from "../../firmware/contract";
import type { Series } from "../view/dashboardData";

export const MAX_POINTS = 5000;

/** a device id's number in reading_rows (no row when the store never saw it) */
const DEVICE_KEY = "SELECT key FROM device_keys WHERE id = ?";

/** Downsampled series of one device over [from, to). */
export function querySeries(db: Database.Database, device: string, from: number, to: number, points: number): Series {
  const buckets = Math.max(1, Math.min(MAX_POINTS, Math.floor(points)));
  const bucketMs = Math.max(1, Math.ceil((to - from) / buckets));
  const rows = db
    .prepare(
      `SELECT CAST((t - @from) / @bucket AS INTEGER) AS b, count(*) AS n,
              min(temperature) AS tmin, avg(temperature) AS tavg, max(temperature) AS tmax,
              min(humidity) AS hmin, avg(humidity) AS havg, max(humidity) AS hmax,
              sum(error IS NOT NULL) AS errs
         FROM reading_rows WHERE device = (${DEVICE_KEY.replace("?", "@device")}) AND t >= @from AND t < @to
        GROUP BY b ORDER BY b`,
    )
    .all({ device, from, to, bucket: bucketMs }) as {
      b: number; n: number; tmin: number | null; tavg: number | null; tmax: number | null; hmin: number | null; havg: number | null; hmax: number | null; errs: number;
    }[];
  const s: Series = { from, to, bucketMs, t: [], count: [], tempMin: [], tempAvg: [], tempMax: [], humMin: [], humAvg: [], humMax: [], errors: [] };
  for (const r of rows) {
    s.t.push(from + r.b * bucketMs);
    s.count.push(r.n);
    s.tempMin.push(r.tmin);
    s.tempAvg.push(r.tavg);
    s.tempMax.push(r.tmax);
    s.humMin.push(r.hmin);
    s.humAvg.push(r.havg);
    s.humMax.push(r.hmax);
    s.errors.push(r.errs);
  }
  return s;
}

export interface StoredReading {
  device: string;
  boot: number;
  seq: number;
  t: number;
  ts: number | null;
  received: number;
  up: number;
  temperature: number | null;
  humidity: number | null;
  error: string | null;
}

/**
 * Raw readings of one device over [from, to), oldest first, fetched a page at a time (keyset paging), so
 * no statement stays open between rows and a caller may await between them.
 */
export function* iterateReadings(db: Database.Database, device: string, from: number, to: number, pageSize = 5000): Generator<StoredReading> {
  const cols = `SELECT ? AS device, boot, seq, t, CASE WHEN lag IS NULL THEN NULL ELSE t END AS ts, t + coalesce(lag, 0) AS received,
                       up, temperature, humidity, error FROM reading_rows`;
  const first = db.prepare(`${cols} WHERE device = (${DEVICE_KEY}) AND t >= ? AND t < ? ORDER BY t, boot, seq LIMIT ?`);
  const next = db.prepare(`${cols} WHERE device = (${DEVICE_KEY}) AND t < ? AND (t, boot, seq) > (?, ?, ?) AND t >= ? ORDER BY t, boot, seq LIMIT ?`);
  let page = first.all(device, device, from, to, pageSize) as StoredReading[];
  while (page.length > 0) {
    yield* page;
    if (page.length < pageSize) return;
    const last = page[page.length - 1];
    page = next.all(device, device, to, last.t, last.boot, last.seq, from, pageSize) as StoredReading[];
  }
}

/** The readings of each device in turn (in the order given), each device's oldest first, a page at a time. */
export function* iterateReadingsOf(db: Database.Database, devices: readonly string[], from: number, to: number, pageSize = 5000): Generator<StoredReading> {
  for (const device of devices) yield* iterateReadings(db, device, from, to, pageSize);
}

export function countReadings(db: Database.Database, device?: string): number {
  const row = (device === undefined
    ? db.prepare("SELECT count(*) AS n FROM reading_rows").get()
    : db.prepare(`SELECT count(*) AS n FROM reading_rows WHERE device = (${DEVICE_KEY})`).get(device)) as { n: number };
  return row.n;
}

export interface StoredDevice {
  id: string;
  status: "online" | "offline" | null;
  statusAt: number | null;
  info: Info | null;
  infoAt: number | null;
  lastSeen: number | null;
}

/** Ids of devices with readings in the store, most recently seen first, at most `limit`. */
export function readingDeviceIds(db: Database.Database, limit: number): string[] {
  return db.prepare("SELECT k.id FROM device_keys k LEFT JOIN devices d ON d.id = k.id ORDER BY d.last_seen DESC LIMIT ?").pluck().all(limit) as string[];
}

/** Every device id the store has readings, status, info or a last-seen time for, sorted. */
export function knownDeviceIds(db: Database.Database): string[] {
  const rows = db.prepare("SELECT id FROM device_keys UNION SELECT id FROM devices").pluck().all() as string[];
  return rows.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The devices the store has status, info or a last-seen time for, by id: every one, or the `limit` most recently seen. */
export function storedDevices(db: Database.Database, limit?: number): StoredDevice[] {
  const rows = (limit === undefined
    ? db.prepare("SELECT id, status, status_at, info, info_at, last_seen FROM devices ORDER BY id").all()
    : db.prepare("SELECT * FROM (SELECT id, status, status_at, info, info_at, last_seen FROM devices ORDER BY last_seen DESC LIMIT ?) ORDER BY id").all(limit)) as StoredRow[];
  return rows.map(storedDevice);
}

/** One device's row, or null when the store has none. */
export function storedDeviceOf(db: Database.Database, id: string): StoredDevice | null {
  const row = db.prepare("SELECT id, status, status_at, info, info_at, last_seen FROM devices WHERE id = ?").get(id) as StoredRow | undefined;
  return row ? storedDevice(row) : null;
}

interface StoredRow {
  id: string; status: string | null; status_at: number | null; info: string | null; info_at: number | null; last_seen: number | null;
}

function storedDevice(r: StoredRow): StoredDevice {
  return {
    id: r.id,
    status: r.status === "online" || r.status === "offline" ? r.status : null,
    statusAt: r.status_at,
    info: r.info ? (JSON.parse(r.info) as Info) : null,
    infoAt: r.info_at,
    lastSeen: r.last_seen,
  };
}
