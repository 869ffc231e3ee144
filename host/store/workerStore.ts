// The reading history: readings are queued (writeQueue.ts) and written in batches, one transaction each,
// de-duplicated on (device, boot, seq), plus device status/info/last seen and retention. The writes run on a
// worker thread (its own SQLite connection), so the MQTT thread only validates and queues: SQLite inserts cost
// several µs per row, more than MQTT.js's own work per message. Queries read through a second connection on
// this thread (WAL lets readers and the writer overlap).
import type Database from "better-sqlite3";
import type { EventLoopUtilization } from "node:perf_hooks";
import type { Worker } from "node:worker_threads";
import type { Info, Reading } from "../../firmware/contract";
import { StoredDevice, storedDevices } from "./historyQueries";
import type { HistoryStore } from "./historyStore";
import { openDatabase } from "./openDatabase";
import type { PackedRows } from "./rowFormat";
import { startTsWorker } from "./tsWorker";
import type { StoreRequest, StoreResponse } from "./workerProtocol";
import { WriteQueue } from "./writeQueue";

export interface StoreOptions {
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

export class WorkerStore implements HistoryStore {
  readonly db: Database.Database;
  inserted = 0;
  duplicatesIgnored = 0;
  private readonly queue: WriteQueue;
  private readonly retentionDays: number;
  private readonly now: () => number;
  private readonly onError: (e: Error) => void;
  private retentionTimer: NodeJS.Timeout | null = null;
  private serial = 0;
  private waiting = new Map<number, () => void>();
  private closed: Promise<void> | null = null;
  private dead: Error | null = null;

  private constructor(dir: string, opts: StoreOptions, private readonly worker: Worker) {
    this.db = openDatabase(dir);
    this.db.pragma("query_only = true");
    // 8000-row batches rewrite fewer partly filled pages per commit than 2000: ~25% less writer CPU per row
    this.queue = new WriteQueue(opts.batchRows ?? 8000, opts.flushMs ?? 200, (rows, seen) => this.commit(rows, seen));
    this.retentionDays = opts.retentionDays ?? 0;
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => {});
    worker.on("message", (m: StoreResponse) => this.onResponse(m));
    worker.on("error", (e) => {
      this.dead = e;
      this.onError(new Error(`store worker failed: ${e.message}`));
      for (const w of this.waiting.values()) w();
      this.waiting.clear();
    });
    if (this.retentionDays > 0) {
      this.runRetention();
      this.retentionTimer = setInterval(() => this.runRetention(), opts.retentionEveryMs ?? 3_600_000);
      this.retentionTimer.unref();
    }
  }

  /** Opens the store in `dir` and waits until its worker is ready. */
  static async open(dir: string, opts: StoreOptions = {}): Promise<WorkerStore> {
    openDatabase(dir).close(); // create the file and schema before two connections race for it
    const worker = startTsWorker(new URL("./storeWorker.ts", import.meta.url), { dir });
    const store = new WorkerStore(dir, opts, worker);
    await store.settle();
    if (store.dead) throw store.dead;
    return store;
  }

  /** The worker's event-loop utilisation (busy vs idle time), for benchmarks: pass an earlier value to get the delta. */
  workerUtilization(since?: EventLoopUtilization): EventLoopUtilization {
    return this.worker.performance.eventLoopUtilization(since);
  }

  add(r: Reading, receivedAt: number): void {
    this.queue.add(r, receivedAt);
  }

  noteSeen(id: string, at: number): void {
    this.queue.noteSeen(id, at);
  }

  flush(): void {
    this.queue.flush();
  }

  setStatus(id: string, online: boolean, at: number): void {
    this.post({ kind: "status", id, online, at });
  }

  setInfo(id: string, info: Info, at: number): void {
    this.post({ kind: "info", id, info, at });
  }

  devices(): StoredDevice[] {
    return storedDevices(this.db);
  }

  settle(): Promise<void> {
    this.flush();
    if (this.dead) return Promise.resolve();
    const serial = ++this.serial;
    return new Promise((resolve) => {
      this.waiting.set(serial, resolve);
      this.post({ kind: "sync", serial });
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.flush();
      if (this.retentionTimer) clearInterval(this.retentionTimer);
      this.retentionTimer = null;
      this.closed = new Promise<void>((resolve) => {
        if (this.dead) return resolve();
        this.worker.once("exit", () => resolve());
        this.post({ kind: "close" });
      }).then(() => {
        this.db.close();
      });
    }
    return this.closed;
  }

  private commit(rows: PackedRows, seen: [string, number][]): void {
    this.post({ kind: "batch", serial: ++this.serial, rows, seen });
  }

  private runRetention(): void {
    this.post({ kind: "retention", cutoff: this.now() - this.retentionDays * 86_400_000 });
  }

  private post(m: StoreRequest): void {
    if (this.dead) {
      this.onError(new Error(`store worker is down: ${this.dead.message}`));
      return;
    }
    this.worker.postMessage(m, m.kind === "batch" ? [m.rows.nums.buffer as ArrayBuffer, m.rows.errors.buffer as ArrayBuffer, m.rows.device.buffer as ArrayBuffer] : []);
  }

  private onResponse(m: StoreResponse): void {
    if (m.kind === "ack") {
      this.inserted += m.inserted;
      this.duplicatesIgnored += m.rows - m.inserted;
      const w = this.waiting.get(m.serial);
      this.waiting.delete(m.serial);
      w?.();
    } else if (m.kind === "error") {
      this.onError(new Error(`store: ${m.message}`));
      if (m.serial !== undefined) {
        const w = this.waiting.get(m.serial);
        this.waiting.delete(m.serial);
        w?.();
      }
    }
  }
}
