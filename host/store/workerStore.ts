// The reading history: readings are queued (writeQueue.ts) and written in batches, one transaction each,
// de-duplicated on (device, boot, seq), plus device status/info/last seen and retention. The writes run on a
// worker thread (its own SQLite connection), so the MQTT thread only validates and queues: SQLite inserts cost
// several µs per row, more than MQTT.js's own work per message. Queries read through a second connection on
// this thread (WAL lets readers and the writer overlap).
import type Database from "better-sqlite3";
import type { EventLoopUtilization } from "node:perf_hooks";
import type { Worker } from "node:worker_threads";
import type { Info, Reading } from "../../firmware/contract";
import { DataFolderLock } from "./dataFolderLock";
import { StoredDevice, storedDevices } from "./historyQueries";
import { HistoryStore, sizeText, StoreHealth } from "./historyStore";
import { DEFAULT_JOURNAL_LIMIT_BYTES, IngestJournal, SegmentContents } from "./ingestJournal";
import { openDatabase } from "./openDatabase";
import { makePrivateDir } from "./privateFiles";
import { PackedRows, RowPacker } from "./rowFormat";
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
  /** journal every reading before it is acknowledged (default: on; off only for benchmarks comparing the two) */
  journal?: boolean;
  /** bound on the journal while the store fails; past it readings are held unacknowledged */
  journalLimitBytes?: number;
  /** how often a failing store (or journal) is tried again */
  retryMs?: number;
  /** called when the health changes (failing, holding, recovered) */
  onHealth?: (h: StoreHealth) => void;
  /** the writer thread's module (tests substitute one that dies) */
  workerEntry?: URL;
}

/** while the store fails, segments are sealed at this size (~15,000 readings), so each replays as one modest batch */
const FAILING_SEGMENT_BYTES = 1024 * 1024;
const STORE_WORKER = new URL("./storeWorker.ts", import.meta.url);
/** first wait before restarting a writer thread that died; doubled for each death before the journal is drained */
const RESTART_FIRST_MS = 250;
const RESTART_MAX_MS = 30_000;

/** A reading that is neither journalled nor committed yet: its MQTT acknowledgement waits. */
interface HeldReading {
  reading: Reading;
  receivedAt: number;
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
  /** why the writer thread stopped, until it is restarted */
  private workerDown: Error | null = null;
  private worker!: Worker;
  private opened = false;
  private restartMs = RESTART_FIRST_MS;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly journal: IngestJournal | null;
  /** batch serial -> the journal segment holding its readings */
  private readonly segmentOf = new Map<number, number>();
  /** serials of batches replayed from the journal, and their segment */
  private readonly replaying = new Map<number, number>();
  /** replayed batches the store committed, until their replay sees it */
  private readonly replayed = new Set<number>();
  /** last-seen times not committed yet (the journal has only readings): kept while the store fails */
  private pendingSeen = new Map<string, number>();
  /** batch serial -> the last-seen times it carries, given back to pendingSeen if it fails */
  private readonly seenOf = new Map<number, [string, number][]>();
  /** the last status and info per device sent while the writer thread was down */
  private readonly pendingDevice = new Map<string, StoreRequest>();
  private draining = false;
  private failure: { message: string; since: number } | null = null;
  /** the failure whose last journal segment is being replayed: new readings are queued again, not yet OK */
  private catchingUp: { message: string; since: number } | null = null;
  private held: HeldReading[] = [];
  private heldSince = 0;
  private heldWaiters: (() => void)[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly retryMs: number;
  private readonly onHealth: (h: StoreHealth) => void;
  private lastHealth = "";

  private constructor(private readonly dir: string, opts: StoreOptions, private readonly workerEntry: URL, private readonly lock: DataFolderLock | null) {
    this.db = openDatabase(dir);
    this.db.pragma("query_only = true");
    this.journal = opts.journal === false || dir === ":memory:" ? null : new IngestJournal(dir, opts.journalLimitBytes ?? DEFAULT_JOURNAL_LIMIT_BYTES);
    this.retryMs = opts.retryMs ?? 2000;
    this.onHealth = opts.onHealth ?? (() => {});
    // 8000-row batches rewrite fewer partly filled pages per commit than 2000: ~25% less writer CPU per row
    this.queue = new WriteQueue(opts.batchRows ?? 8000, opts.flushMs ?? 200, (rows, seen) => this.commit(rows, seen));
    this.retentionDays = opts.retentionDays ?? 0;
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => {});
    this.attach(startTsWorker(workerEntry, { dir }));
    if (this.retentionDays > 0) {
      this.runRetention();
      this.retentionTimer = setInterval(() => this.runRetention(), opts.retentionEveryMs ?? 3_600_000);
      this.retentionTimer.unref();
    }
  }

  /**
   * Opens the store in `dir` (taking the data folder's lock: DataFolderInUseError when another process writes
   * there), replays what a previous run left in the journal, and resolves once that is committed or has failed
   * (then health() says why and it is retried).
   */
  static async open(dir: string, opts: StoreOptions = {}): Promise<WorkerStore> {
    let lock: DataFolderLock | null = null;
    if (dir !== ":memory:") {
      makePrivateDir(dir);
      // before the database is touched: a second writer stops here
      lock = DataFolderLock.acquire(dir);
    }
    let store: WorkerStore;
    try {
      openDatabase(dir).close(); // create the file and schema before two connections race for it
      store = new WorkerStore(dir, opts, opts.workerEntry ?? STORE_WORKER, lock);
      await store.settle();
      if (store.workerDown) throw store.workerDown;
    } catch (e) {
      lock?.release();
      throw e;
    }
    store.opened = true;
    if (store.journal && store.journal.sealed().length > 0) {
      store.fail("replaying readings a previous run left in the journal");
      await store.drainJournal();
    }
    return store;
  }

  /** Whether readings reach the store, and how full the journal is. */
  health(): StoreHealth {
    return {
      ok: this.failure === null && this.catchingUp === null && this.held.length === 0,
      problem: (this.failure ?? this.catchingUp)?.message ?? (this.held.length ? this.heldReason() : null),
      since: (this.failure ?? this.catchingUp)?.since ?? (this.held.length ? this.heldSince : null),
      journalBytes: this.journal?.bytes ?? 0,
      journalLimitBytes: this.journal?.limitBytes ?? 0,
      holding: this.held.length > 0,
    };
  }

  /** null when every reading added so far is journalled or committed; else resolves when they are. */
  whenDurable(): Promise<void> | null {
    if (this.held.length === 0) return null;
    return new Promise((resolve) => this.heldWaiters.push(resolve));
  }

  /** The worker's event-loop utilisation (busy vs idle time), for benchmarks: pass an earlier value to get the delta. */
  workerUtilization(since?: EventLoopUtilization): EventLoopUtilization {
    return this.worker.performance.eventLoopUtilization(since);
  }

  add(r: Reading, receivedAt: number): void {
    if (this.journal) {
      if (this.held.length > 0 || !this.journal.append(r, receivedAt)) {
        if (this.held.length === 0) this.heldSince = this.now();
        this.held.push({ reading: r, receivedAt });
        this.reportHealth();
        this.scheduleRetry();
        return;
      }
      // while the store fails the journal alone keeps it; it is replayed from there, a segment (one batch) at a time
      if (this.failure) {
        if (this.journal.openBytes >= FAILING_SEGMENT_BYTES) this.journal.seal();
        return;
      }
    }
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
    if (this.workerDown) return Promise.resolve();
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
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      if (this.restartTimer) clearTimeout(this.restartTimer);
      this.restartTimer = null;
      // held readings stay unacknowledged (their waiters never resolve): the broker sends them again
      this.held = [];
      this.heldWaiters = [];
      this.closed = this.settle().then(() => new Promise<void>((resolve) => {
        if (this.workerDown) return resolve();
        this.worker.once("exit", () => resolve());
        this.post({ kind: "close" });
      })).then(() => {
        this.db.close();
        this.journal?.close();
        this.lock?.release();
      });
    }
    return this.closed;
  }

  private commit(rows: PackedRows, seen: [string, number][]): void {
    // failing: the rows stay in the journal's open segment (sealed per MB by add(), not per flush, so an hour's
    // outage leaves a few files, not thousands) and are drained into the store once it works again
    if (this.failure) return this.keepSeen(seen);
    const segment = this.journal?.seal() ?? null;
    const serial = ++this.serial;
    if (segment !== null) this.segmentOf.set(serial, segment);
    this.post({ kind: "batch", serial, rows, seen: this.withPendingSeen(serial, seen) });
  }

  private keepSeen(seen: Iterable<[string, number]>): void {
    for (const [id, at] of seen) this.pendingSeen.set(id, Math.max(this.pendingSeen.get(id) ?? 0, at));
  }

  /** `seen` plus the last-seen times kept while the store failed, remembered under `serial` until it commits */
  private withPendingSeen(serial: number, seen: [string, number][]): [string, number][] {
    if (this.pendingSeen.size > 0) {
      this.keepSeen(seen);
      seen = [...this.pendingSeen];
      this.pendingSeen.clear();
    }
    if (seen.length > 0) this.seenOf.set(serial, seen);
    return seen;
  }

  private attach(worker: Worker): void {
    this.worker = worker;
    worker.on("message", (m: StoreResponse) => {
      if (worker === this.worker) this.onResponse(m);
    });
    worker.on("error", (e) => this.onWorkerDown(worker, e));
    worker.on("exit", (code) => this.onWorkerDown(worker, new Error(`the thread exited with code ${code}`)));
  }

  /**
   * The writer thread died (an exception, OOM, an exit): the batches it had not committed stay in the journal and
   * count as not sent, readings keep going to the journal (so they are still acknowledged, up to its bound), and
   * the thread is restarted after a backoff, then drains the journal. The last status and info per device sent
   * meanwhile are written after the restart.
   */
  private onWorkerDown(worker: Worker, e: Error): void {
    if (worker !== this.worker || this.workerDown || this.closed) return;
    this.workerDown = e;
    void worker.terminate();
    this.onError(new Error(`store worker failed: ${e.message}`));
    for (const seen of this.seenOf.values()) this.keepSeen(seen);
    this.seenOf.clear();
    this.segmentOf.clear();
    this.replaying.clear();
    for (const w of this.waiting.values()) w();
    this.waiting.clear();
    if (!this.opened) return; // open() throws it
    const wait = this.restartMs;
    this.restartMs = Math.min(RESTART_MAX_MS, wait * 2);
    this.fail(`the store's writer thread stopped (${e.message}): restarting in ${wait / 1000} s; readings are kept in the journal`);
    this.restartTimer = setTimeout(() => void this.restartWorker(e), wait);
    this.restartTimer.unref();
  }

  private async restartWorker(cause: Error): Promise<void> {
    this.restartTimer = null;
    if (this.closed) return;
    this.workerDown = null;
    this.attach(startTsWorker(this.workerEntry, { dir: this.dir }));
    this.fail(`the store's writer thread stopped (${cause.message}) and was restarted: replaying the journal into the store`);
    for (const m of this.pendingDevice.values()) this.post(m);
    this.pendingDevice.clear();
    await this.settle();
    if (this.workerDown || this.closed) return;
    await this.drainJournal();
  }

  private heldReason(): string {
    const j = this.journal!;
    if (j.lastError) return `cannot write the journal (${j.lastError.message}): readings are not acknowledged until it can`;
    return `the journal is full (${sizeText(j.bytes)} of ${sizeText(j.limitBytes)}): readings are not acknowledged until the store takes them`;
  }

  private fail(message: string): void {
    if (!this.failure) this.failure = { message, since: this.catchingUp?.since ?? this.now() };
    else this.failure.message = message;
    this.reportHealth();
  }

  private reportHealth(): void {
    const h = this.health();
    const key = `${h.ok}|${h.problem}|${h.holding}`;
    if (key === this.lastHealth) return;
    this.lastHealth = key;
    this.onHealth(h);
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.retry();
    }, this.retryMs);
  }

  /** Drains the journal while the store fails, and writes held readings to the journal when it has room again. */
  private async retry(): Promise<void> {
    if (this.failure && !this.workerDown) await this.drainJournal();
    this.journalHeld();
    if (this.failure || this.held.length > 0) this.scheduleRetry();
  }

  private journalHeld(): void {
    while (this.held.length > 0) {
      const h = this.held[0];
      if (!this.journal!.append(h.reading, h.receivedAt)) break;
      this.held.shift();
      if (!this.failure) this.queue.add(h.reading, h.receivedAt);
    }
    if (this.held.length === 0) for (const w of this.heldWaiters.splice(0)) w();
    this.reportHealth();
  }

  /**
   * Replays the journal into the store, one segment per batch, oldest first (the store skips rows it already
   * has): sealed segments, including those sealed during the replay, then the open one (readings journalled
   * while the store failed). From that last one on, new readings go to the queue again (their batches follow
   * it to the writer), so a steady stream cannot keep the drain going; the store is OK once it is committed.
   */
  private async drainJournal(): Promise<void> {
    if (this.draining || this.workerDown) return;
    this.draining = true;
    try {
      const j = this.journal;
      this.queue.flush();
      while (j) {
        if (this.closed || this.workerDown) return;
        // segments of batches still in flight are released (or given back) by their own answer
        const inFlight = new Set(this.segmentOf.values());
        const next = j.sealed().find((n) => !inFlight.has(n));
        if (next === undefined) break;
        if (!(await this.replaySegment(next))) return this.scheduleRetry();
      }
      const rest = j?.seal() ?? null;
      this.catchingUp = this.failure;
      this.failure = null;
      try {
        // a failure here sets `failure` again and schedules the next drain
        if (rest !== null && !(await this.replaySegment(rest))) return;
      } finally {
        this.catchingUp = null;
      }
      this.reportHealth();
    } finally {
      this.draining = false;
    }
  }

  /** Posts one journal segment as a batch; true once committed (then the segment is deleted). */
  private replaySegment(segment: number): Promise<boolean> {
    let contents: SegmentContents;
    try {
      contents = this.journal!.read(segment);
    } catch (e) {
      this.fail(`cannot read the journal (${(e as Error).message})`);
      return Promise.resolve(false);
    }
    const { entries, skipped } = contents;
    if (skipped > 0) this.onError(new Error(`journal segment ${segment}: ${skipped} line(s) that were not whole records (a write cut short by a crash) skipped`));
    const packer = new RowPacker(Math.max(1, entries.length));
    const seen = new Map<string, number>();
    for (const e of entries) {
      packer.add(e.reading, e.receivedAt);
      seen.set(e.reading.id, Math.max(seen.get(e.reading.id) ?? 0, e.receivedAt));
    }
    const serial = ++this.serial;
    this.replaying.set(serial, segment);
    return new Promise<boolean>((resolve) => {
      this.waiting.set(serial, () => resolve(this.replayed.delete(serial)));
      this.post({ kind: "batch", serial, rows: packer.take(), seen: this.withPendingSeen(serial, [...seen]) });
    });
  }

  private runRetention(): void {
    this.post({ kind: "retention", cutoff: this.now() - this.retentionDays * 86_400_000 });
  }

  private post(m: StoreRequest): void {
    if (this.workerDown) {
      // reported once when it stopped; a batch's readings are in the journal
      if (m.kind === "batch") this.keepSeen(m.seen);
      if (m.kind === "status" || m.kind === "info") this.pendingDevice.set(`${m.kind} ${m.id}`, m);
      if ("serial" in m) this.resolveWaiter(m.serial);
      return;
    }
    this.worker.postMessage(m, m.kind === "batch" ? [m.rows.nums.buffer as ArrayBuffer, m.rows.errors.buffer as ArrayBuffer, m.rows.device.buffer as ArrayBuffer] : []);
  }

  private resolveWaiter(serial: number): void {
    const w = this.waiting.get(serial);
    this.waiting.delete(serial);
    w?.();
  }

  private onResponse(m: StoreResponse): void {
    if (m.kind === "ack") {
      // a batch written: a thread that dies again from here is not stuck on one batch, so it restarts soon
      if (m.rows > 0) this.restartMs = RESTART_FIRST_MS;
      this.inserted += m.inserted;
      this.duplicatesIgnored += m.rows - m.inserted;
      // committed: its journal segment is no longer needed
      const segment = this.segmentOf.get(m.serial) ?? this.replaying.get(m.serial);
      if (this.replaying.delete(m.serial)) this.replayed.add(m.serial);
      this.segmentOf.delete(m.serial);
      this.seenOf.delete(m.serial);
      if (segment !== undefined) this.journal?.release(segment);
      this.resolveWaiter(m.serial);
    } else if (m.kind === "error") {
      this.onError(new Error(`store: ${m.message}`));
      if (m.serial !== undefined) {
        this.keepSeen(this.seenOf.get(m.serial) ?? []);
        this.seenOf.delete(m.serial);
        if (this.segmentOf.delete(m.serial) || this.replaying.delete(m.serial)) {
          // the batch's readings stay in the journal; it is replayed once the store works again
          this.fail(`the store cannot write (${m.message}): readings are kept in the journal`);
          this.scheduleRetry();
        }
        this.resolveWaiter(m.serial);
      }
    }
  }
}
