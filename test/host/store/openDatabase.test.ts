import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, SCHEMA_VERSION, STORE_FILE } from "../../../host/store/openDatabase";
import { WorkerStore } from "../../../host/store/workerStore";
import { countReadings, iterateReadings } from "../../../host/store/historyQueries";

const T0 = 1_700_000_000_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A data folder as the previous version (schema 1) left it. */
function schema1Folder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-v1-"));
  dirs.push(dir);
  const db = new Database(path.join(dir, STORE_FILE));
  db.exec(`
    CREATE TABLE readings (device TEXT NOT NULL, boot INTEGER NOT NULL, seq INTEGER NOT NULL, t INTEGER NOT NULL, ts INTEGER,
      received INTEGER NOT NULL, up INTEGER NOT NULL, temperature REAL, humidity REAL, error TEXT, PRIMARY KEY (device, boot, seq)) WITHOUT ROWID;
    CREATE INDEX readings_by_time ON readings (device, t);
    CREATE TABLE devices (id TEXT PRIMARY KEY, status TEXT, status_at INTEGER, info TEXT, info_at INTEGER, last_seen INTEGER);
    INSERT INTO devices (id, status, status_at) VALUES ('sim-a', 'online', 5);`);
  const ins = db.prepare("INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  ins.run("sim-a", 1, 1, T0, T0, T0 + 40, 1000, 21.5, 40, null);
  ins.run("sim-a", 1, 2, T0 + 900, null, T0 + 900, 2000, null, null, "timeout");
  ins.run("sim-b", 3, 1, T0 + 5, T0 + 5, T0 + 6, 10, 19, 55, null);
  db.close();
  return dir;
}

/** A data folder as schema 2 left it (device keys, rows keyed by (device, boot, seq), a time index). */
function schema2Folder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-v2-"));
  dirs.push(dir);
  const db = new Database(path.join(dir, STORE_FILE));
  db.exec(`
    CREATE TABLE device_keys (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
    CREATE TABLE reading_rows (device INTEGER NOT NULL, boot INTEGER NOT NULL, seq INTEGER NOT NULL, t INTEGER NOT NULL, lag INTEGER,
      up INTEGER NOT NULL, temperature REAL, humidity REAL, error TEXT, PRIMARY KEY (device, boot, seq)) WITHOUT ROWID;
    CREATE INDEX reading_rows_by_time ON reading_rows (device, t);
    CREATE VIEW readings AS SELECT k.id AS device, r.boot, r.seq, r.t, CASE WHEN r.lag IS NULL THEN NULL ELSE r.t END AS ts,
      r.t + coalesce(r.lag, 0) AS received, r.up, r.temperature, r.humidity, r.error FROM reading_rows r JOIN device_keys k ON k.key = r.device;
    CREATE TABLE devices (id TEXT PRIMARY KEY, status TEXT, status_at INTEGER, info TEXT, info_at INTEGER, last_seen INTEGER);
    INSERT INTO device_keys VALUES (1, 'sim-a');
    PRAGMA user_version = 2;`);
  const ins = db.prepare("INSERT INTO reading_rows VALUES (1, 1, ?, ?, ?, 10, 20, 50, NULL)");
  for (const seq of [1, 2, 3, 5]) ins.run(seq, T0 + seq, seq === 5 ? null : 4);
  db.close();
  return dir;
}

describe("openDatabase", () => {
  it("opens a WAL database in the data folder", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-store-"));
    dirs.push(dir);
    const db = openDatabase(dir);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
    expect(fs.existsSync(path.join(dir, STORE_FILE))).toBe(true);
  });

  it("upgrades a schema-2 store in place, rebuilding the seq ranges from the rows", async () => {
    const log: string[] = [];
    const dir = schema2Folder();
    const db = openDatabase(dir, (m) => log.push(m));
    expect(log).toEqual([`espdht: upgrading the store to schema ${SCHEMA_VERSION} (4 readings kept)...`]);
    expect(db.prepare("SELECT lo, hi FROM seq_ranges ORDER BY lo").raw().all()).toEqual([[1, 3], [5, 5]]);
    expect([...iterateReadings(db, "sim-a", T0, T0 + 10)].map((r) => [r.seq, r.ts, r.received])).toEqual([
      [1, T0 + 1, T0 + 5], [2, T0 + 2, T0 + 6], [3, T0 + 3, T0 + 7], [5, null, T0 + 5],
    ]);
    db.close();
    const store = await WorkerStore.open(dir);
    for (const seq of [3, 4, 5]) store.add({ v: 1, id: "sim-a", boot: 1, seq, up: 1, ts: null, temperature: 1, humidity: 1 }, T0 + 99);
    await store.settle();
    expect([store.inserted, store.duplicatesIgnored]).toEqual([1, 2]);
    await store.close();
  });

  it("upgrades a schema-1 store in place, keeping every reading, and says so", async () => {
    const dir = schema1Folder();
    const log: string[] = [];
    const db = openDatabase(dir, (m) => log.push(m));
    expect(log).toEqual([`espdht: upgrading the store to schema ${SCHEMA_VERSION} (3 readings kept)...`]);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(countReadings(db)).toBe(3);
    expect([...iterateReadings(db, "sim-a", T0, T0 + 1000)]).toEqual([
      { device: "sim-a", boot: 1, seq: 1, t: T0, ts: T0, received: T0 + 40, up: 1000, temperature: 21.5, humidity: 40, error: null },
      { device: "sim-a", boot: 1, seq: 2, t: T0 + 900, ts: null, received: T0 + 900, up: 2000, temperature: null, humidity: null, error: "timeout" },
    ]);
    // de-dup still holds across the upgrade: the same (device, boot, seq) again is ignored
    db.close();
    const store = await WorkerStore.open(dir);
    store.add({ v: 1, id: "sim-b", boot: 3, seq: 1, up: 10, ts: T0 + 5, temperature: 99, humidity: 99 }, T0 + 7);
    store.add({ v: 1, id: "sim-b", boot: 3, seq: 2, up: 20, ts: T0 + 15, temperature: 20, humidity: 50 }, T0 + 17);
    await store.settle();
    expect([store.inserted, store.duplicatesIgnored]).toEqual([1, 1]);
    expect(store.devices().map((d) => [d.id, d.status])).toEqual([["sim-a", "online"]]); // the devices table is kept as it was
    await store.close();
    const again: string[] = [];
    openDatabase(dir, (m) => again.push(m)).close();
    expect(again).toEqual([]); // upgraded once
  });

  it("refuses a store written by a newer version, naming the file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-v9-"));
    dirs.push(dir);
    const db = new Database(path.join(dir, STORE_FILE));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openDatabase(dir)).toThrow(new RegExp(`${STORE_FILE}: store schema ${SCHEMA_VERSION + 1} is newer`));
  });
});
