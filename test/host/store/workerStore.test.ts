import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WorkerStore } from "../../../host/store/workerStore";
import { countReadings, querySeries } from "../../../host/store/historyQueries";
import { Reading } from "../../../firmware/contract";

const T0 = 1_700_000_000_000;
const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-wstore-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function good(seq: number, ts: number | null, temperature: number, boot = 1): Reading {
  return { v: 1, id: "sim-a", boot, seq, up: seq, ts, temperature, humidity: 50 };
}

describe("WorkerStore (writes on a worker thread)", () => {
  it("writes batches off-thread, de-duplicates, and settle() makes them readable", async () => {
    const errors: Error[] = [];
    const store = await WorkerStore.open(tempDir(), { batchRows: 100, onError: (e) => errors.push(e) });
    for (let seq = 0; seq < 250; seq++) store.add(good(seq, T0 + seq * 1000, 20 + (seq % 5)), T0);
    for (let seq = 0; seq < 10; seq++) store.add(good(seq, T0 + seq * 1000, 99), T0); // redelivered
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

  it("applies retention on the worker", async () => {
    const now = T0 + 10 * 86_400_000;
    const dir = tempDir();
    const first = await WorkerStore.open(dir);
    first.add(good(1, T0, 20), T0);
    first.add(good(2, now - 1000, 20), T0);
    await first.close();
    const second = await WorkerStore.open(dir, { retentionDays: 7, now: () => now });
    await second.settle();
    expect(countReadings(second.db)).toBe(1);
    await second.close();
  });
});
