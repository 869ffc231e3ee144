// A store writer thread that dies (an uncaught exception, or an exit as after OOM) is reported on the store's
// health, restarted with backoff, and loses nothing: the batch it was writing stays in the journal and is replayed.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Reading } from "../../../firmware/contract";
import { countReadings } from "../../../host/store/historyQueries";
import type { StoreHealth } from "../../../host/store/historyStore";
import { JOURNAL_DIR } from "../../../host/store/ingestJournal";
import { WorkerStore } from "../../../host/store/workerStore";
import { until } from "../../support/until";
/** the file crashingStoreWorker.ts looks for before each batch */
const CRASH_FILE = "crash-once";

const T0 = 1_700_000_000_000;
const good = (seq: number): Reading => ({ v: 1, id: "sim-a", boot: 1, seq, up: seq * 10_000, ts: T0 + seq * 10_000, temperature: 21, humidity: 45 });
const CRASHING_WORKER = new URL("./crashingStoreWorker.ts", import.meta.url);

const dirs: string[] = [];
const stores: WorkerStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("WorkerStore when its writer thread dies", () => {
  it.each([
    ["throws", "throw", /injected crash in the store's writer/],
    ["exits (as after OOM)", "exit", /exited with code 3/],
  ])("restarts a writer that %s, reports it, and stores every reading once", async (_name, how, reason) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-restart-"));
    dirs.push(dir);
    const healths: StoreHealth[] = [];
    const errors: string[] = [];
    const s = await WorkerStore.open(dir, { flushMs: 20, workerEntry: CRASHING_WORKER, onHealth: (h) => healths.push({ ...h }), onError: (e) => errors.push(e.message) });
    stores.push(s);
    for (let seq = 1; seq <= 100; seq++) s.add(good(seq), T0);
    await s.settle();
    fs.writeFileSync(path.join(dir, CRASH_FILE), how);
    for (let seq = 101; seq <= 200; seq++) s.add(good(seq), T0); // this batch kills the thread
    await until(() => !s.health().ok, 15_000, "the store to report the dead writer");
    expect(s.health().problem).toMatch(reason);
    expect(s.health().problem).toMatch(/writer thread stopped.*restart/);
    // meanwhile readings are journalled, so acknowledged (on this host's disk); status is written after the restart
    for (let seq = 201; seq <= 300; seq++) s.add(good(seq), T0);
    expect(s.whenDurable()).toBeNull();
    s.setStatus("sim-a", false, T0 + 7);
    await until(() => s.health().ok, 30_000, "the restarted writer to take the journal");
    await s.settle();
    expect(s.db.prepare("SELECT seq FROM readings ORDER BY seq").pluck().all()).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(s.duplicatesIgnored).toBe(0);
    expect(fs.readdirSync(path.join(dir, JOURNAL_DIR))).toEqual([]);
    // failing (stopped, then restarted and replaying) until OK once
    expect(healths.map((h) => h.ok)).toEqual([...healths.slice(0, -1).map(() => false), true]);
    expect(healths.map((h) => h.problem).join("\n")).toMatch(/restarting in 0.25 s[^]*was restarted: replaying the journal/);
    expect(errors.join("\n")).toMatch(reason);
    expect(s.devices()).toMatchObject([{ id: "sim-a", status: "offline", statusAt: T0 + 7 }]);
    // and the restarted writer keeps working
    for (let seq = 301; seq <= 310; seq++) s.add(good(seq), T0);
    await s.settle();
    expect(countReadings(s.db)).toBe(310);
  }, 60_000);

  it("backs off between restarts while the writer keeps dying, and says so", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-restart-"));
    dirs.push(dir);
    const problems: string[] = [];
    const s = await WorkerStore.open(dir, { flushMs: 20, workerEntry: CRASHING_WORKER, onHealth: (h) => problems.push(h.problem ?? "ok") });
    stores.push(s);
    const crash = path.join(dir, CRASH_FILE);
    const started = Date.now();
    // each restarted writer dies on the journal's replay batch, three times over
    for (let round = 0; round < 3; round++) {
      fs.writeFileSync(crash, "throw");
      if (round === 0) s.add(good(1), T0);
      await until(() => !fs.existsSync(crash), 30_000, `crash ${round + 1}`);
    }
    await until(() => s.health().ok, 30_000, "the writer to stay up");
    const restarts = problems.map((p) => /restarting in ([\d.]+) s/.exec(p)?.[1]).filter((x): x is string => !!x).map(Number);
    console.log(`writer died 3 times: restarts after ${restarts.join(", ")} s; recovered in ${Date.now() - started} ms`);
    expect(restarts.length).toBe(3);
    expect(restarts[1]).toBeGreaterThan(restarts[0]);
    expect(restarts[2]).toBeGreaterThan(restarts[1]);
    await s.settle();
    expect(countReadings(s.db)).toBe(1);
  }, 60_000);
});
