// The store as export opens it: read-only beside a WorkerStore that keeps writing, never created or upgraded,
// clear errors naming the folder or file; and the devices an export covers.
import Database from "better-sqlite3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Reading } from "../../../firmware/contract";
import { exportLines } from "../../../host/store/exportReadings";
import { exportDevices, ExportStoreError, openStoreReadOnly } from "../../../host/store/exportStore";
import { countReadings } from "../../../host/store/historyQueries";
import { SCHEMA_VERSION, STORE_FILE } from "../../../host/store/openDatabase";
import { WorkerStore } from "../../../host/store/workerStore";

const T0 = 1_700_000_000_000;
const dirs: string[] = [];
const closers: (() => unknown)[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-exportstore-"));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function reading(id: string, seq: number): Reading {
  return { v: 1, id, boot: 1, seq, up: seq * 1000, ts: T0 + seq * 1000, temperature: 20, humidity: 50 };
}
function openReadOnly(dir: string): Database.Database {
  const db = openStoreReadOnly(dir);
  closers.push(() => db.close());
  return db;
}

describe("openStoreReadOnly", () => {
  it("reads what a running WorkerStore has committed, while it keeps writing, and cannot write itself", async () => {
    const dir = tempDir();
    const writer = await WorkerStore.open(dir);
    closers.push(() => writer.close());
    for (let seq = 0; seq < 100; seq++) writer.add(reading("sim-a", seq), T0);
    await writer.settle();
    const db = openReadOnly(dir);
    expect(countReadings(db, "sim-a")).toBe(100);
    const rows = exportLines(db, "csv", ["sim-a"], 0, 8.64e15).rows[Symbol.iterator]();
    rows.next(); // an export half way through (waiting for a slow reader, say)
    for (let seq = 100; seq < 200; seq++) writer.add(reading("sim-a", seq), T0);
    await writer.settle();
    expect(writer.inserted).toBe(200);
    expect(countReadings(db, "sim-a")).toBe(200);
    // it holds no read transaction between pages, so the WAL can still be checkpointed and reset (an open one
    // would keep it growing for as long as the export waits)
    const checkpointer = new Database(path.join(dir, STORE_FILE));
    closers.push(() => checkpointer.close());
    expect(checkpointer.pragma("wal_checkpoint(TRUNCATE)")).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
    expect(rows.next().done).toBe(false);
    expect(() => db.prepare("DELETE FROM reading_rows").run()).toThrow(/readonly/i);
  });

  it("names the folder when it does not exist, and the file when the folder has no store; creates nothing", () => {
    const parent = tempDir();
    const missing = path.join(parent, "nope");
    expect(() => openStoreReadOnly(missing)).toThrow(new ExportStoreError(`no data folder ${missing} (the dashboard records history there; pass --data DIR for another folder)`));
    expect(fs.existsSync(missing)).toBe(false);
    expect(() => openStoreReadOnly(parent)).toThrow(`no history store in ${parent} (${STORE_FILE} is missing`);
    expect(fs.readdirSync(parent)).toEqual([]);
  });

  it("refuses an older store without upgrading it, and a newer one", () => {
    const dir = tempDir();
    const file = path.join(dir, STORE_FILE);
    const old = new Database(file);
    old.exec("CREATE TABLE readings (device TEXT, boot INTEGER, seq INTEGER, t INTEGER); PRAGMA user_version = 2;");
    old.close();
    const before = fs.readFileSync(file);
    expect(() => openStoreReadOnly(dir)).toThrow(`${file}: store schema 2 is older than this espdht's ${SCHEMA_VERSION}; run 'espdht dashboard --data ${dir}' once to upgrade it`);
    expect(fs.readFileSync(file).equals(before)).toBe(true);

    const newer = new Database(file);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    expect(() => openStoreReadOnly(dir)).toThrow(`${file}: store schema ${SCHEMA_VERSION + 1} is newer than this espdht understands`);
  });

  it("names a file that is not a database", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, STORE_FILE), "device,boot\nsim-a,1\n".repeat(200));
    expect(() => openStoreReadOnly(dir)).toThrow(new RegExp(`^${path.join(dir, STORE_FILE).replace(/[.\\/]/g, "\\$&")} is not an espdht store: file is not a database`));
  });
});

describe("exportDevices", () => {
  it("is every known device sorted by id when none is named, else the named ones sorted once each; an unknown id is named", async () => {
    const dir = tempDir();
    const writer = await WorkerStore.open(dir);
    closers.push(() => writer.close());
    writer.add(reading("sim-b", 1), T0);
    writer.add(reading("sim-a", 1), T0);
    writer.setStatus("sim-quiet", true, T0); // known from its status only: no readings, still a device
    await writer.settle();
    const db = openReadOnly(dir);
    expect(exportDevices(db, [], "store.sqlite")).toEqual(["sim-a", "sim-b", "sim-quiet"]);
    expect(exportDevices(db, ["sim-b", "sim-a", "sim-b"], "store.sqlite")).toEqual(["sim-a", "sim-b"]);
    expect(exportDevices(db, ["sim-quiet"], "store.sqlite")).toEqual(["sim-quiet"]);
    expect(() => exportDevices(db, ["sim-a", "sim-x"], "store.sqlite")).toThrow(new ExportStoreError("unknown device 'sim-x' in store.sqlite (devices there: sim-a, sim-b, sim-quiet)"));
    expect(() => exportDevices(db, ["sim-y", "sim-x"], "store.sqlite")).toThrow("unknown devices 'sim-y', 'sim-x' in store.sqlite");
  });

  it("says the store has no devices when an id is named in an empty store", async () => {
    const dir = tempDir();
    await (await WorkerStore.open(dir)).close();
    const db = openReadOnly(dir);
    expect(exportDevices(db, [], "s")).toEqual([]);
    expect(() => exportDevices(db, ["sim-a"], "s")).toThrow("unknown device 'sim-a' in s (it has no devices)");
  });
});
