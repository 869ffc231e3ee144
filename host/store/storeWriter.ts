// Every write to the store, on one connection: batches of reading rows (one transaction each, de-duplicated
// by the primary key), device status/info/last seen, and retention. Used in-thread and by the store worker.
import type Database from "better-sqlite3";
import { SeqDedup } from "./seqDedup";
import { Info, isFailedReading, READ_ERRORS, ReadError, Reading } from "../../firmware/contract";

/** numbers per row in a packed batch: boot, seq, t, ts, received, up, temperature, humidity */
export const NUMS_PER_ROW = 8;

/**
 * Reading rows packed for cheap hand-over between threads: numbers in one Float64Array (NaN = SQL NULL),
 * device ids once per batch with an index per row, read errors as codes (0 = none).
 */
export interface PackedRows {
  n: number;
  /** distinct device ids of this batch */
  ids: string[];
  /** per row: index into ids */
  device: Uint32Array;
  nums: Float64Array;
  errors: Uint8Array;
}

export function emptyRows(): PackedRows {
  return { n: 0, ids: [], device: new Uint32Array(0), nums: new Float64Array(0), errors: new Uint8Array(0) };
}

/** rows a fresh batch has room for; it doubles up to the packer's capacity as rows come */
const FIRST_ROOM = 256;

function withRoom(b: PackedRows, room: number): PackedRows {
  const r = { n: b.n, ids: b.ids, device: new Uint32Array(room), nums: new Float64Array(room * NUMS_PER_ROW), errors: new Uint8Array(room) };
  r.device.set(b.device.subarray(0, b.n));
  r.nums.set(b.nums.subarray(0, b.n * NUMS_PER_ROW));
  r.errors.set(b.errors.subarray(0, b.n));
  return r;
}

export class RowPacker {
  private rows: PackedRows;
  private index = new Map<string, number>();
  constructor(private readonly capacity: number) {
    this.rows = this.fresh();
  }
  private fresh(): PackedRows {
    this.index = new Map();
    return withRoom(emptyRows(), Math.min(FIRST_ROOM, this.capacity));
  }
  get length(): number {
    return this.rows.n;
  }
  get full(): boolean {
    return this.rows.n >= this.capacity;
  }
  add(r: Reading, receivedAt: number): void {
    if (this.rows.n === this.rows.device.length) this.rows = withRoom(this.rows, Math.min(this.rows.n * 2, this.capacity));
    const b = this.rows;
    const o = b.n * NUMS_PER_ROW;
    const failed = isFailedReading(r);
    let d = this.index.get(r.id);
    if (d === undefined) {
      d = b.ids.length;
      b.ids.push(r.id);
      this.index.set(r.id, d);
    }
    b.device[b.n] = d;
    b.nums[o] = r.boot;
    b.nums[o + 1] = r.seq;
    b.nums[o + 2] = r.ts ?? receivedAt;
    b.nums[o + 3] = r.ts ?? NaN;
    b.nums[o + 4] = receivedAt;
    b.nums[o + 5] = r.up;
    b.nums[o + 6] = failed ? NaN : r.temperature;
    b.nums[o + 7] = failed ? NaN : r.humidity;
    b.errors[b.n] = failed ? READ_ERRORS.indexOf(r.error) + 1 : 0;
    b.n++;
  }
  /** Hands out the packed rows and starts a new batch. */
  take(): PackedRows {
    const b = this.rows;
    this.rows = this.fresh();
    return b;
  }
}

const orNull = (x: number) => (Number.isNaN(x) ? null : x);

/** parameters per row: device key, t, boot, seq, lag, up, temperature, humidity, error */
const PARAMS_PER_ROW = 9;
/** rows per multi-row INSERT: fewer statement runs per batch (well under SQLite's parameter limit) */
const ROWS_PER_INSERT = 64;
// OR IGNORE only as a safety net: SeqDedup already dropped the duplicates
const INSERT_SQL = "INSERT OR IGNORE INTO reading_rows (device, t, boot, seq, lag, up, temperature, humidity, error) VALUES ";
const ROW_PARAMS = "(?,?,?,?,?,?,?,?,?)";

function pushRowParams(out: unknown[], rows: PackedRows, keys: number[], i: number): void {
  const v = rows.nums;
  const o = i * NUMS_PER_ROW;
  const err = rows.errors[i];
  const ts = v[o + 3];
  out.push(
    keys[rows.device[i]], v[o + 2], v[o], v[o + 1], Number.isNaN(ts) ? null : v[o + 4] - ts, v[o + 5], orNull(v[o + 6]), orNull(v[o + 7]),
    err === 0 ? null : (READ_ERRORS[err - 1] as ReadError),
  );
}

export class StoreWriter {
  private readonly insert: Database.Statement;
  private readonly insertMany: Database.Statement;
  private readonly upsertStatus: Database.Statement;
  private readonly upsertInfo: Database.Statement;
  private readonly touch: Database.Statement;
  private readonly insertBatch: (rows: PackedRows, seen: [string, number][]) => number;
  private readonly addKey: Database.Statement;
  private readonly findKey: Database.Statement;
  private readonly dedup: SeqDedup;
  /** device id -> its number in device_keys (only this connection adds keys) */
  private readonly keys = new Map<string, number>();

  constructor(readonly db: Database.Database) {
    // the writer keeps more pages cached and checkpoints the WAL less often: ~20% faster inserts, bounded
    db.pragma("cache_size = -32768");
    db.pragma("wal_autocheckpoint = 10000");
    this.insert = db.prepare(INSERT_SQL + ROW_PARAMS);
    this.insertMany = db.prepare(INSERT_SQL + new Array(ROWS_PER_INSERT).fill(ROW_PARAMS).join(","));
    this.upsertStatus = db.prepare(
      "INSERT INTO devices (id, status, status_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status, status_at = excluded.status_at",
    );
    this.upsertInfo = db.prepare(
      "INSERT INTO devices (id, info, info_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET info = excluded.info, info_at = excluded.info_at",
    );
    this.touch = db.prepare(
      "INSERT INTO devices (id, last_seen) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET last_seen = max(coalesce(last_seen, 0), excluded.last_seen)",
    );
    this.addKey = db.prepare("INSERT OR IGNORE INTO device_keys (id) VALUES (?)");
    this.findKey = db.prepare("SELECT key FROM device_keys WHERE id = ?").pluck();
    this.dedup = new SeqDedup(db);
    this.insertBatch = db.transaction((rows: PackedRows, seen: [string, number][]) => {
      let inserted = 0;
      const keys = rows.ids.map((id) => this.keyOf(id));
      const params: unknown[] = [];
      for (const i of this.dedup.select(rows, keys)) {
        pushRowParams(params, rows, keys, i);
        if (params.length === ROWS_PER_INSERT * PARAMS_PER_ROW) {
          inserted += this.insertMany.run(params).changes;
          params.length = 0;
        }
      }
      for (let p = 0; p < params.length; p += PARAMS_PER_ROW) inserted += this.insert.run(params.slice(p, p + PARAMS_PER_ROW)).changes;
      for (const [id, at] of seen) this.touch.run(id, at);
      return inserted;
    });
  }

  /** The device's number in device_keys, added on first sight (inside the batch's transaction). */
  private keyOf(id: string): number {
    let k = this.keys.get(id);
    if (k === undefined) {
      this.addKey.run(id);
      k = this.findKey.get(id) as number;
      this.keys.set(id, k);
    }
    return k;
  }

  /** Writes one batch in one transaction; returns the rows inserted (duplicates are ignored). */
  writeBatch(rows: PackedRows, seen: [string, number][]): number {
    try {
      return this.insertBatch(rows, seen);
    } catch (e) {
      this.keys.clear(); // keys added by the rolled-back transaction are gone
      throw e;
    }
  }

  setStatus(id: string, online: boolean, at: number): void {
    this.upsertStatus.run(id, online ? "online" : "offline", at);
  }

  setInfo(id: string, info: Info, at: number): void {
    this.upsertInfo.run(id, JSON.stringify(info), at);
  }

  /** Deletes readings whose time is before `cutoff`; returns how many. */
  deleteBefore(cutoff: number): number {
    // per device, so each delete walks the (device, t) index instead of the whole table
    const del = this.db.prepare("DELETE FROM reading_rows WHERE device = ? AND t < ?");
    const devices = this.db.prepare("SELECT key FROM device_keys").pluck().all() as number[];
    return this.db.transaction(() => devices.reduce((n, d) => n + del.run(d, cutoff).changes, 0))();
  }
}
