// The ingest journal on its own (append, seal, read, release, torn tails, the bound) and inside WorkerStore
// (replayed at open exactly once, absorbing a locked store and resuming, holding acknowledgements past its bound).
import Database from "better-sqlite3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Reading } from "../../../firmware/contract";
import { countReadings } from "../../../host/store/historyQueries";
import type { StoreHealth } from "../../../host/store/historyStore";
import { decodeEntry, encodeEntry, IngestJournal, JOURNAL_DIR } from "../../../host/store/ingestJournal";
import { STORE_FILE } from "../../../host/store/openDatabase";
import { WorkerStore } from "../../../host/store/workerStore";
import { until } from "../../support/until";

const T0 = 1_700_000_000_000;
const good = (seq: number, id = "sim-a", boot = 1): Reading => ({ v: 1, id, boot, seq, up: seq * 10_000, ts: T0 + seq * 10_000, temperature: 20 + (seq % 7) / 10, humidity: 45.5 });
const failed = (seq: number): Reading => ({ v: 1, id: "sim-a", boot: 1, seq, up: seq, ts: null, error: "timeout" });

const dirs: string[] = [];
const closers: (() => unknown)[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-journal-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const segmentFiles = (dir: string) => fs.readdirSync(path.join(dir, JOURNAL_DIR)).sort();
const storedSeqs = (db: Database.Database) => db.prepare("SELECT seq FROM readings ORDER BY seq").pluck().all() as number[];

describe("journal entries", () => {
  it.each([
    ["a reading with values", good(7), 123],
    ["a failed reading", failed(3), 456],
    ["a reading without ts", { ...good(1), ts: null }, 789],
  ])("round-trip %s", (_name, r, at) => {
    const line = encodeEntry(r as Reading, at);
    expect(line.endsWith("\n")).toBe(true);
    expect(decodeEntry(line.slice(0, -1))).toEqual({ reading: r, receivedAt: at });
  });

  it.each([
    ["a cut line", encodeEntry(good(1), 1).slice(0, 20)],
    ["zeros (a power cut's tail)", "\0\0\0\0"],
    ["an object", '{"id":"sim-a"}'],
    ["a wrong arity", '["sim-a",1,2]'],
    ["an unknown error", '["sim-a",1,2,3,null,null,null,"melted",5]'],
    ["a missing value", '["sim-a",1,2,3,null,20,null,null,5]'],
  ])("refuse %s", (_name, line) => {
    expect(decodeEntry(line)).toBeNull();
  });
});

describe("IngestJournal", () => {
  it("appends, seals a segment per batch, reads it back and releases it", () => {
    const dir = tempDir();
    const j = new IngestJournal(dir);
    for (let s = 1; s <= 3; s++) expect(j.append(good(s), T0 + s)).toBe(true);
    const first = j.seal()!;
    expect(j.seal()).toBeNull(); // nothing appended since
    j.append(failed(4), T0 + 4);
    const second = j.seal()!;
    expect(j.sealed()).toEqual([first, second]);
    expect(j.read(first).entries.map((e) => e.reading.seq)).toEqual([1, 2, 3]);
    expect(j.read(second)).toEqual({ entries: [{ reading: failed(4), receivedAt: T0 + 4 }], skipped: 0 });
    const size = fs.statSync(path.join(dir, JOURNAL_DIR, segmentFiles(dir)[0])).size;
    j.release(first);
    expect(j.sealed()).toEqual([second]);
    expect(j.bytes).toBe(fs.statSync(path.join(dir, JOURNAL_DIR, segmentFiles(dir)[0])).size);
    expect(size).toBeGreaterThan(0);
    j.release(second);
    expect([j.bytes, segmentFiles(dir)]).toEqual([0, []]);
  });

  it("after a crash finds the segments left, skips a torn last record, and continues numbering after them", () => {
    const dir = tempDir();
    const j = new IngestJournal(dir);
    for (let s = 1; s <= 5; s++) j.append(good(s), T0);
    // kill -9 mid-write: the last record is cut short, the segment never sealed
    const file = path.join(dir, JOURNAL_DIR, segmentFiles(dir)[0]);
    fs.appendFileSync(file, encodeEntry(good(6), T0).slice(0, 17));
    const again = new IngestJournal(dir);
    const [n] = again.sealed();
    const { entries, skipped } = again.read(n);
    expect(entries.map((e) => e.reading.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(skipped).toBe(1);
    expect(again.bytes).toBe(fs.statSync(file).size);
    again.append(good(7), T0);
    expect(again.seal()).toBe(n + 1);
  });

  it("refuses an append past its bound and takes appends again once segments are released", () => {
    const dir = tempDir();
    const line = encodeEntry(good(1), T0).length;
    const j = new IngestJournal(dir, line * 3);
    expect([1, 2, 3, 4].map((s) => j.append(good(s), T0))).toEqual([true, true, true, false]);
    expect(j.lastError).toBeNull(); // the bound, not a failed write
    const n = j.seal()!;
    j.release(n);
    expect(j.append(good(4), T0)).toBe(true);
  });

  it("keeps its bound in whole bytes (a limit given in MB, like 0.03, is not)", () => {
    expect(new IngestJournal(tempDir(), 0.03 * 1024 * 1024).limitBytes).toBe(31457);
  });

  it("creates its folder 0700 and its segments 0600", () => {
    const dir = tempDir();
    const j = new IngestJournal(dir);
    j.append(good(1), T0);
    expect(fs.statSync(path.join(dir, JOURNAL_DIR)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, JOURNAL_DIR, segmentFiles(dir)[0])).mode & 0o777).toBe(0o600);
    j.close();
  });
});

describe("WorkerStore with its journal", () => {
  async function open(dir: string, opts: Parameters<typeof WorkerStore.open>[1] = {}): Promise<WorkerStore> {
    const s = await WorkerStore.open(dir, opts);
    closers.push(() => s.close());
    return s;
  }

  it("journals each reading before it is queued and deletes the segment once the batch is committed", async () => {
    const dir = tempDir();
    const s = await open(dir, { flushMs: 60_000 });
    for (let seq = 1; seq <= 10; seq++) s.add(good(seq), T0);
    expect(s.whenDurable()).toBeNull();
    expect(segmentFiles(dir)).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, JOURNAL_DIR, segmentFiles(dir)[0]), "utf8").split("\n")).toHaveLength(11);
    await s.settle();
    expect(countReadings(s.db)).toBe(10);
    expect(segmentFiles(dir)).toEqual([]);
    expect(s.health()).toMatchObject({ ok: true, problem: null, journalBytes: 0 });
  });

  it("replays what a killed run left in the journal at open, once, next to what the store already had", async () => {
    const dir = tempDir();
    const first = await WorkerStore.open(dir);
    for (let seq = 1; seq <= 4; seq++) first.add(good(seq), T0);
    await first.close(); // 1..4 committed
    const j = new IngestJournal(dir);
    // a killed run: 3..8 journalled (3 and 4 were committed before the kill), the last record torn
    for (let seq = 3; seq <= 8; seq++) j.append(good(seq), T0);
    j.close();
    fs.appendFileSync(path.join(dir, JOURNAL_DIR, segmentFiles(dir)[0]), '["sim-a",1,9');
    const errors: string[] = [];
    const s = await open(dir, { onError: (e) => errors.push(e.message) });
    expect(storedSeqs(s.db)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([s.inserted, s.duplicatesIgnored]).toEqual([4, 2]);
    expect(segmentFiles(dir)).toEqual([]);
    expect(errors.join()).toMatch(/1 line\(s\) that were not whole records/);
    expect(s.health().ok).toBe(true);
  });

  it("keeps readings in the journal while the store is locked, reports it, and stores them all once it is free", async () => {
    const dir = tempDir();
    const healths: StoreHealth[] = [];
    const s = await open(dir, { flushMs: 20, retryMs: 100, onHealth: (h) => healths.push(h) });
    const blocker = new Database(path.join(dir, STORE_FILE));
    closers.push(() => blocker.close());
    blocker.exec("BEGIN IMMEDIATE"); // another writer holds the database (busy_timeout 5 s, then SQLITE_BUSY)
    for (let seq = 1; seq <= 50; seq++) s.add(good(seq), T0);
    await until(() => !s.health().ok, 15_000, "the store to report the lock");
    expect(s.health().problem).toMatch(/the store cannot write \(database is locked\): readings are kept in the journal/);
    for (let seq = 51; seq <= 20_000; seq++) s.add(good(seq), T0);
    expect(s.whenDurable()).toBeNull(); // journalled: acknowledged at once
    expect(s.health().journalBytes).toBeGreaterThan(20_000 * 40);
    // sealed every MB while failing, so each replays as a modest batch
    expect(segmentFiles(dir).length).toBeGreaterThanOrEqual(2);
    blocker.exec("COMMIT");
    await until(() => s.health().ok, 30_000, "the store to recover");
    await s.settle();
    expect(storedSeqs(s.db)).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    await until(() => segmentFiles(dir).length === 0, 5000, "the journal to be emptied");
    expect(healths.map((h) => h.ok)).toEqual([false, true]);
  }, 60_000);

  it("drains readings journalled during a replay too: nothing acknowledged stays in the journal once it is OK", async () => {
    const dir = tempDir();
    const s = await open(dir, { flushMs: 20, retryMs: 100 });
    const blocker = new Database(path.join(dir, STORE_FILE));
    closers.push(() => blocker.close());
    blocker.exec("BEGIN IMMEDIATE");
    s.add(good(1), T0);
    await until(() => !s.health().ok, 15_000, "the store to report the lock");
    // ~4 MB journalled while failing: four sealed 1 MB segments, replayed one batch at a time
    for (let seq = 2; seq <= 60_000; seq++) s.add(good(seq), T0);
    const before = s.health().journalBytes;
    blocker.exec("COMMIT");
    await until(() => s.health().journalBytes < before, 30_000, "the replay's first segment to be committed");
    // mid-replay: more than a segment's worth arrives (sealed at 1 MB) plus a flush
    for (let seq = 60_001; seq <= 80_000; seq++) s.add(good(seq), T0);
    s.flush();
    expect(s.health().ok).toBe(false); // the replay was still running when they came
    await until(() => s.health().ok, 30_000, "the store to recover");
    // OK means everything is in the store: no wait for a next start
    expect(segmentFiles(dir)).toEqual([]);
    expect(countReadings(s.db)).toBe(80_000);
    expect(storedSeqs(s.db)).toEqual(Array.from({ length: 80_000 }, (_, i) => i + 1));
  }, 90_000);

  it("recovers under a steady stream of readings (the drain does not chase it forever)", async () => {
    const dir = tempDir();
    const s = await open(dir, { flushMs: 20, retryMs: 100 });
    const blocker = new Database(path.join(dir, STORE_FILE));
    closers.push(() => blocker.close());
    blocker.exec("BEGIN IMMEDIATE");
    let sent = 0;
    s.add(good(++sent), T0);
    await until(() => !s.health().ok, 15_000, "the store to report the lock");
    for (let k = 0; k < 30_000; k++) s.add(good(++sent), T0);
    // ~2,500 readings/s, as long as it takes
    const stream = setInterval(() => {
      for (let k = 0; k < 5; k++) s.add(good(++sent), T0);
    }, 2);
    try {
      blocker.exec("COMMIT");
      const released = Date.now();
      await until(() => s.health().ok, 15_000, "the store to report OK while readings keep coming");
      console.log(`steady stream: OK ${Date.now() - released} ms after the lock was released, ${sent} readings sent so far`);
    } finally {
      clearInterval(stream);
    }
    await s.settle();
    expect(countReadings(s.db)).toBe(sent);
    await until(() => segmentFiles(dir).length === 0, 5000, "the journal to be emptied");
  }, 60_000);

  it("seals a segment per MB (not per 200 ms flush) while the store fails, and keeps last-seen times", async () => {
    const dir = tempDir();
    let now = T0;
    const s = await open(dir, { flushMs: 200, retryMs: 100, now: () => now });
    const blocker = new Database(path.join(dir, STORE_FILE));
    closers.push(() => blocker.close());
    blocker.exec("BEGIN IMMEDIATE");
    s.add(good(0, "sim-0"), now);
    await until(() => !s.health().ok, 15_000, "the store to report the lock");
    // 10 minutes of failure on an injected clock: 3,000 flush timers of 200 ms, 20 devices reading every 2 s
    // (10 readings/s) and one device that only says it is alive
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let sent = 1;
    try {
      for (let tick = 0; tick < 3000; tick++) {
        now += 200;
        for (let k = 0; k < 2; k++) {
          const d = (tick * 2 + k) % 20;
          s.add(good(Math.floor((tick * 2 + k) / 20) + 1, `sim-${d}`), now);
          sent++;
        }
        s.noteSeen("sim-quiet", now);
        vi.advanceTimersByTime(200);
      }
      vi.advanceTimersByTime(1000); // the last flush timer fires under the fake clock
    } finally {
      vi.useRealTimers();
    }
    const files = segmentFiles(dir).length;
    console.log(`10 minutes of a failing store (3,000 flushes, ${sent} readings, ${(s.health().journalBytes / 1024).toFixed(0)} KB journalled): ${files} segment file(s)`);
    expect(files).toBeLessThanOrEqual(2);
    blocker.exec("COMMIT");
    await until(() => s.health().ok, 30_000, "the store to recover");
    await s.settle();
    expect(countReadings(s.db)).toBe(sent);
    expect(segmentFiles(dir)).toEqual([]);
    expect(s.devices().find((d) => d.id === "sim-quiet")?.lastSeen).toBe(now);
  }, 60_000);

  it("past its bound holds readings unacknowledged (whenDurable waits), then takes them when the store works again", async () => {
    const dir = tempDir();
    let thirty = 0;
    for (let seq = 1; seq <= 30; seq++) thirty += encodeEntry(good(seq), T0).length;
    const s = await open(dir, { flushMs: 20, retryMs: 100, journalLimitBytes: thirty });
    const blocker = new Database(path.join(dir, STORE_FILE));
    closers.push(() => blocker.close());
    blocker.exec("BEGIN IMMEDIATE");
    for (let seq = 1; seq <= 10; seq++) s.add(good(seq), T0);
    await until(() => !s.health().ok, 15_000, "the store to report the lock");
    for (let seq = 11; seq <= 30; seq++) s.add(good(seq), T0);
    expect(s.whenDurable()).toBeNull();
    s.add(good(31), T0); // one past the bound
    const durable = s.whenDurable();
    expect(durable).not.toBeNull();
    expect(s.health()).toMatchObject({ ok: false, holding: true });
    let acknowledged = false;
    void durable!.then(() => { acknowledged = true; });
    await new Promise((r) => setTimeout(r, 500));
    expect(acknowledged).toBe(false);
    blocker.exec("COMMIT");
    await until(() => acknowledged, 30_000, "the held reading to be journalled");
    await until(() => s.health().ok, 30_000, "the store to recover");
    await s.settle();
    expect(countReadings(s.db)).toBe(31);
  }, 60_000);
});
