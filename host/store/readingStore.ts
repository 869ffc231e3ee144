// The reading history: batched, de-duplicated inserts (one transaction per batch), device status/info,
// and retention. Queries live in historyQueries.ts, CSV export in csvExport.ts.
import type Database from "better-sqlite3";
import { Info, isFailedReading, Reading } from "../../firmware/contract";

export interface StoredDevice {
  id: string;
  status: "online" | "offline" | null;
  statusAt: number | null;
  info: Info | null;
  infoAt: number | null;
  lastSeen: number | null;
}

export interface ReadingStoreOptions {
  /** flush when this many rows are queued */
  batchRows?: number;
  /** flush queued rows at least this often */
  flushMs?: number;
  /** keep readings this many days (0 = forever) */
  retentionDays?: number;
  /** how often retention runs */
  retentionEveryMs?: number;
  now?: () => number;
  onError?: (e: Error) => void;
}

type Row = [string, number, number, number, number | null, number, number, number | null, number | null, string | null];

export class ReadingStore {
  private queue: Row[] = [];
  private timer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  /** last seen per device, written with the next batch */
  private seen = new Map<string, number>();
  private readonly insertMany: (rows: Row[], seen: Map<string, number>) => number;
  private readonly upsertStatus: Database.Statement;
  private readonly upsertInfo: Database.Statement;
  private readonly touch: Database.Statement;
  private readonly opts: Required<Omit<ReadingStoreOptions, "onError">> & Pick<ReadingStoreOptions, "onError">;
  /** rows written (not counting duplicates ignored by the UNIQUE key) */
  inserted = 0;
  duplicatesIgnored = 0;

  constructor(readonly db: Database.Database, opts: ReadingStoreOptions = {}) {
    this.opts = { batchRows: 2000, flushMs: 200, retentionDays: 0, retentionEveryMs: 3_600_000, now: Date.now, ...opts };
    const insert = db.prepare(
      "INSERT OR IGNORE INTO readings (device, boot, seq, t, ts, received, up, temperature, humidity, error) VALUES (?,?,?,?,?,?,?,?,?,?)",
    );
    this.insertMany = db.transaction((rows: Row[], seen: Map<string, number>) => {
      let n = 0;
      for (const r of rows) n += insert.run(r).changes;
      for (const [id, at] of seen) this.touch.run(id, at);
      return n;
    });
    this.upsertStatus = db.prepare(
      "INSERT INTO devices (id, status, status_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status, status_at = excluded.status_at",
    );
    this.upsertInfo = db.prepare(
      "INSERT INTO devices (id, info, info_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET info = excluded.info, info_at = excluded.info_at",
    );
    this.touch = db.prepare(
      "INSERT INTO devices (id, last_seen) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET last_seen = max(coalesce(last_seen, 0), excluded.last_seen)",
    );
    if (this.opts.retentionDays > 0) {
      this.applyRetention();
      this.retentionTimer = setInterval(() => this.applyRetention(), this.opts.retentionEveryMs);
      this.retentionTimer.unref();
    }
  }

  /** Queues a reading received at `receivedAt`; written with the next batch. */
  add(r: Reading, receivedAt: number): void {
    const failed = isFailedReading(r);
    this.queue.push([
      r.id, r.boot, r.seq, r.ts ?? receivedAt, r.ts, receivedAt, r.up,
      failed ? null : r.temperature, failed ? null : r.humidity, failed ? r.error : null,
    ]);
    if (this.queue.length >= this.opts.batchRows) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.opts.flushMs);
      this.timer.unref();
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Writes every queued reading in one transaction; returns the rows written. */
  flush(): number {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.queue.length === 0 && this.seen.size === 0) return 0;
    const rows = this.queue;
    const seen = this.seen;
    this.queue = [];
    this.seen = new Map();
    try {
      const n = this.insertMany(rows, seen);
      this.inserted += n;
      this.duplicatesIgnored += rows.length - n;
      return n;
    } catch (e) {
      this.opts.onError?.(e as Error);
      return 0;
    }
  }

  setStatus(id: string, online: boolean, at: number): void {
    this.upsertStatus.run(id, online ? "online" : "offline", at);
  }

  setInfo(id: string, info: Info, at: number): void {
    this.upsertInfo.run(id, JSON.stringify(info), at);
  }

  setLastSeen(id: string, at: number): void {
    this.touch.run(id, at);
  }

  /** Records that a device was seen at `at`; written with the next batch. */
  noteSeen(id: string, at: number): void {
    this.seen.set(id, at);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.opts.flushMs);
      this.timer.unref();
    }
  }

  devices(): StoredDevice[] {
    const rows = this.db.prepare("SELECT id, status, status_at, info, info_at, last_seen FROM devices ORDER BY id").all() as {
      id: string; status: string | null; status_at: number | null; info: string | null; info_at: number | null; last_seen: number | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      status: r.status === "online" || r.status === "offline" ? r.status : null,
      statusAt: r.status_at,
      info: r.info ? (JSON.parse(r.info) as Info) : null,
      infoAt: r.info_at,
      lastSeen: r.last_seen,
    }));
  }

  /** Deletes readings older than the retention period; returns the rows deleted. */
  applyRetention(): number {
    if (this.opts.retentionDays <= 0) return 0;
    const cutoff = this.opts.now() - this.opts.retentionDays * 86_400_000;
    try {
      return this.db.prepare("DELETE FROM readings WHERE t < ?").run(cutoff).changes;
    } catch (e) {
      this.opts.onError?.(e as Error);
      return 0;
    }
  }

  close(): void {
    this.flush();
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    this.db.close();
  }
}
