// A store whose writes run on a worker thread (its own SQLite connection), so the MQTT thread only
// validates and queues: SQLite inserts cost several µs per row, more than MQTT.js's own work per message.
// Queries read through a second connection on this thread (WAL lets readers and the writer overlap).
import type { EventLoopUtilization } from "node:perf_hooks";
import type { Worker } from "node:worker_threads";
import type { Info } from "../../firmware/contract";
import { openDatabase } from "./openDatabase";
import { BatchingStore, ReadingStoreOptions } from "./readingStore";
import type { PackedRows } from "./storeWriter";
import { startTsWorker } from "./tsWorker";
import type { StoreRequest, StoreResponse } from "./workerProtocol";

export class WorkerStore extends BatchingStore {
  private serial = 0;
  private waiting = new Map<number, () => void>();
  private closed: Promise<void> | null = null;
  private dead: Error | null = null;

  private constructor(dir: string, opts: ReadingStoreOptions, private readonly worker: Worker) {
    super(openDatabase(dir), opts);
    this.db.pragma("query_only = true");
    worker.on("message", (m: StoreResponse) => this.onResponse(m));
    worker.on("error", (e) => {
      this.dead = e;
      this.opts.onError?.(new Error(`store worker failed: ${e.message}`));
      for (const w of this.waiting.values()) w();
      this.waiting.clear();
    });
    this.startRetention();
  }

  /** Opens the store in `dir` and waits until its worker is ready. */
  static async open(dir: string, opts: ReadingStoreOptions = {}): Promise<WorkerStore> {
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

  private post(m: StoreRequest): void {
    if (this.dead) {
      this.opts.onError?.(new Error(`store worker is down: ${this.dead.message}`));
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
      this.opts.onError?.(new Error(`store: ${m.message}`));
      if (m.serial !== undefined) {
        const w = this.waiting.get(m.serial);
        this.waiting.delete(m.serial);
        w?.();
      }
    }
  }

  protected commit(rows: PackedRows, seen: [string, number][]): void {
    this.post({ kind: "batch", serial: ++this.serial, rows, seen });
  }

  setStatus(id: string, online: boolean, at: number): void {
    this.post({ kind: "status", id, online, at });
  }

  setInfo(id: string, info: Info, at: number): void {
    this.post({ kind: "info", id, info, at });
  }

  protected runRetention(): void {
    this.post({ kind: "retention", cutoff: this.retentionCutoff() });
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
      this.stopTimers();
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
}
