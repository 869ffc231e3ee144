// The store the product runs (writes on a worker thread), through its whole interface: batching, de-duplication,
// timing, queries, retention, devices, CSV.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WorkerStore, StoreOptions } from "../../../host/store/workerStore";
import { countReadings, iterateReadings, querySeries } from "../../../host/store/historyQueries";
import { CSV_HEADER, csvLines } from "../../../host/store/csvExport";
import { Reading } from "../../../firmware/contract";
import { until } from "../../support/until";

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
function good(seq: number, ts: number | null, temperature: number, humidity: number, boot = 1, id = "sim-a"): Reading {
  return { v: 1, id, boot, seq, up: seq * 10_000, ts, temperature, humidity };
}

const dirs: string[] = [];
const stores: WorkerStore[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-store-"));
  dirs.push(d);
  return d;
}
async function openStore(opts: StoreOptions = {}, dir = tempDir()): Promise<WorkerStore> {
  const s = await WorkerStore.open(dir, opts);
  stores.push(s);
  return s;
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("WorkerStore", () => {
  it("writes batches off-thread, de-duplicates, and settle() makes them readable; this thread only reads", async () => {
    const errors: Error[] = [];
    const store = await openStore({ batchRows: 100, onError: (e) => errors.push(e) });
    for (let seq = 0; seq < 250; seq++) store.add(good(seq, T0 + seq * 1000, 20 + (seq % 5), 50), T0);
    for (let seq = 0; seq < 10; seq++) store.add(good(seq, T0 + seq * 1000, 99, 50), T0); // redelivered
    store.add({ v: 1, id: "sim-a", boot: 2, seq: 0, up: 1, ts: null, error: "timeout" }, T0 + 5);
    store.setStatus("sim-a", true, T0);
    store.noteSeen("sim-a", T0 + 9);
    await store.settle();
    expect(countReadings(store.db, "sim-a")).toBe(251);
    expect(store.inserted).toBe(251);
    expect(store.duplicatesIgnored).toBe(10);
    const s = querySeries(store.db, "sim-a", T0, T0 + 250_000, 1);
    expect([s.tempMin[0], s.tempMax[0]]).toEqual([20, 24]);
    const failed = store.db.prepare("SELECT t, ts, temperature, error FROM readings WHERE boot = 2").get();
    expect(failed).toEqual({ t: T0 + 5, ts: null, temperature: null, error: "timeout" });
    expect(store.devices()).toEqual([{ id: "sim-a", status: "online", statusAt: T0, info: null, infoAt: null, lastSeen: T0 + 9 }]);
    expect(() => store.db.prepare("DELETE FROM reading_rows").run()).toThrow(/readonly|query_only|attempt to write/i);
    await store.close();
    expect(errors).toEqual([]);
  });

  it("hands a batch to the writer once batchRows are queued, and de-duplicates on (device, boot, seq)", async () => {
    const s = await openStore({ batchRows: 3, flushMs: 60_000 });
    s.add(good(1, T0, 20, 50), T0);
    s.add(good(2, T0 + 1, 20, 50), T0);
    expect(countReadings(s.db)).toBe(0); // still queued
    s.add(good(1, T0, 99, 99), T0 + 5); // the same reading delivered twice (QoS 1 redelivery)
    await until(() => s.inserted + s.duplicatesIgnored === 3, 5000, "the batch of 3");
    expect(countReadings(s.db)).toBe(2); // batch of 3 written, one ignored
    expect(s.duplicatesIgnored).toBe(1);
    s.add(good(1, T0, 20, 50, 2), T0); // same seq, new boot: a different reading
    s.add(good(1, T0, 20, 50, 1, "sim-b"), T0); // same seq, other device
    await s.settle();
    expect(countReadings(s.db)).toBe(4);
    expect(s.inserted).toBe(4);
  });

  it("de-duplicates against an earlier session's rows, with late and out-of-order seqs", async () => {
    const dir = tempDir();
    const first = await WorkerStore.open(dir);
    for (const seq of [1, 2, 3, 4, 6, 7, 8, 9, 10, 20]) first.add(good(seq, T0 + seq, 20, 50), T0);
    await first.close();
    const second = await openStore({}, dir);
    for (const seq of [5, 3, 20, 21, 11, 5]) second.add(good(seq, T0 + seq + 1000, 30, 50), T0 + 5000);
    await second.settle();
    expect([second.inserted, second.duplicatesIgnored]).toEqual([3, 3]);
    expect(countReadings(second.db)).toBe(13);
    expect(second.db.prepare("SELECT lo, hi FROM seq_ranges ORDER BY lo").raw().all()).toEqual([[1, 11], [20, 21]]);
    // the first stored copy wins
    expect(second.db.prepare("SELECT t FROM readings WHERE seq = 3").pluck().get()).toBe(T0 + 3);
  });

  it("times a reading by ts, else by its receive time, and keeps both", async () => {
    const s = await openStore();
    s.add(good(1, null, 20, 50), T0 + 123);
    s.add(good(2, T0 + 7, 20, 50), T0 + 999);
    await s.settle();
    const rows = s.db.prepare("SELECT seq, t, ts, received FROM readings ORDER BY seq").all();
    expect(rows).toEqual([
      { seq: 1, t: T0 + 123, ts: null, received: T0 + 123 },
      { seq: 2, t: T0 + 7, ts: T0 + 7, received: T0 + 999 },
    ]);
  });

  it("flushes on its timer", async () => {
    const s = await openStore({ flushMs: 10 });
    s.add(good(1, T0, 20, 50), T0);
    await until(() => countReadings(s.db) === 1, 5000, "the timed flush");
  });

  it("downsamples to min/avg/max per bucket", async () => {
    const s = await openStore();
    // bucket 0 (0..59 s): 20, 22, 24 and one failed read; bucket 2 (120..179 s): 30
    s.add(good(1, T0 + 0, 20, 40), T0);
    s.add(good(2, T0 + 10_000, 22, 50), T0);
    s.add(good(3, T0 + 59_999, 24, 60), T0);
    s.add({ v: 1, id: "sim-a", boot: 1, seq: 4, up: 1, ts: T0 + 30_000, error: "checksum" }, T0);
    s.add(good(5, T0 + 130_000, 30, 70), T0);
    s.add(good(6, T0 + 180_000, 99, 99), T0); // outside [from, to)
    await s.settle();
    const series = querySeries(s.db, "sim-a", T0, T0 + 180_000, 3);
    expect(series.bucketMs).toBe(60_000);
    expect(series.t).toEqual([T0, T0 + 120_000]);
    expect(series.count).toEqual([4, 1]);
    expect(series.errors).toEqual([1, 0]);
    expect(series.tempMin).toEqual([20, 30]);
    expect(series.tempAvg).toEqual([22, 30]);
    expect(series.tempMax).toEqual([24, 30]);
    expect(series.humMin).toEqual([40, 70]);
    expect(series.humAvg).toEqual([50, 70]);
    expect(series.humMax).toEqual([60, 70]);
  });

  it("draws a week of 10 s readings in at most the requested points", async () => {
    const s = await openStore();
    const week = 7 * DAY;
    for (let i = 0; i < week / 10_000; i++) s.add(good(i, T0 + i * 10_000, 20 + (i % 10), 50), T0);
    await s.settle();
    const started = performance.now();
    const series = querySeries(s.db, "sim-a", T0, T0 + week, 1000);
    const ms = performance.now() - started;
    expect(series.t.length).toBe(1000);
    expect(series.count.reduce((a, b) => a + b, 0)).toBe(60_480);
    expect(series.tempMin[0]).toBe(20);
    expect(series.tempMax[0]).toBe(29);
    console.log(`week of 60,480 readings -> 1000 points in ${ms.toFixed(1)} ms`);
  });

  it("deletes readings older than the retention period when it opens, then every retentionEveryMs", async () => {
    const dir = tempDir();
    let now = T0 + 10 * DAY;
    const first = await WorkerStore.open(dir);
    first.add(good(1, T0, 20, 50), T0); // 10 days old
    first.add(good(2, T0 + 4 * DAY, 20, 50), T0); // 6 days old
    await first.close();
    const second = await openStore({ retentionDays: 7, retentionEveryMs: 20, now: () => now }, dir);
    expect(countReadings(second.db)).toBe(1); // open() waits for the worker, which ran retention first
    now += 2 * DAY;
    await until(() => countReadings(second.db) === 0, 5000, "the next retention run");
  });

  it("keeps devices with status, info and last seen (never moved back)", async () => {
    const s = await openStore();
    s.setStatus("sim-a", true, 5);
    const info = { v: 1, id: "sim-a", fw: "<b>x</b>", model: "dht22" as const, pin: 4, interval: 10, ip: null, boot: 3, root: "r", caps: [], dropped: 0, configError: null };
    s.setInfo("sim-a", info, 6);
    s.noteSeen("sim-a", 9);
    await s.settle();
    s.noteSeen("sim-a", 7);
    s.setStatus("sim-a", false, 10);
    await s.settle();
    expect(s.devices()).toEqual([{ id: "sim-a", status: "offline", statusAt: 10, info, infoAt: 6, lastSeen: 9 }]);
  });

  it("exports a device's range as CSV", async () => {
    const s = await openStore();
    s.add(good(1, T0, 21.5, 40.25), T0 + 1);
    s.add({ v: 1, id: "sim-a", boot: 1, seq: 2, up: 20_000, ts: null, error: "timeout" }, T0 + 2_000);
    s.add(good(3, T0 + 500_000, 22, 41), T0);
    s.add(good(1, T0, 1, 1, 1, "sim-b"), T0);
    await s.settle();
    const lines = [...csvLines(s.db, "sim-a", T0, T0 + 10_000)];
    expect(lines).toEqual([
      CSV_HEADER + "\r\n",
      `sim-a,1,1,${new Date(T0).toISOString()},${T0},${T0 + 1},10000,21.5,40.25,\r\n`,
      `sim-a,1,2,${new Date(T0 + 2000).toISOString()},,${T0 + 2000},20000,,,timeout\r\n`,
    ]);
  });

  it("pages through readings in time order, including ties on time", async () => {
    const s = await openStore();
    for (let seq = 0; seq < 7; seq++) s.add(good(seq, T0 + (seq < 4 ? 0 : seq), 20, 50, seq % 2 ? 2 : 1), T0);
    await s.settle();
    const seen = [...iterateReadings(s.db, "sim-a", T0, T0 + 100, 2)].map((r) => `${r.t - T0}/${r.boot}/${r.seq}`);
    expect(seen).toEqual(["0/1/0", "0/1/2", "0/2/1", "0/2/3", "4/1/4", "5/2/5", "6/1/6"]);
  });
});
