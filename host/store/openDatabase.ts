// Opens (and creates) the host's SQLite store in the data folder, in WAL mode, with the schema in place;
// upgrades a store written by an older version (schema 1 or 2) in place.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { FILE_MODE, makePrivateDir, makePrivateFile } from "./privateFiles";

export const STORE_FILE = "espdht.sqlite";
export const SCHEMA_VERSION = 3;

/**
 * Reading rows are keyed by a small device number (device_keys) and keep received as a lag after t: short
 * rows. They are clustered by (device, t) for range queries; de-duplication on (device, boot, seq) uses
 * seq_ranges (intervals of stored seqs per device and boot, updated once per batch) instead of a second
 * per-row B-tree, which halves the cost of an insert. The `readings` view spells the rows out.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS device_keys (
  key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS reading_rows (
  device INTEGER NOT NULL,
  -- time of the reading: ts when the device clock was set, else the receive time
  t INTEGER NOT NULL,
  boot INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  -- received - t when the reading had a ts; NULL when it had none (then received = t)
  lag INTEGER,
  up INTEGER NOT NULL,
  temperature REAL,
  humidity REAL,
  error TEXT,
  PRIMARY KEY (device, t, boot, seq)
) WITHOUT ROWID;
-- seqs lo..hi of (device, boot) are stored (or were, before retention deleted them)
CREATE TABLE IF NOT EXISTS seq_ranges (
  device INTEGER NOT NULL,
  boot INTEGER NOT NULL,
  lo INTEGER NOT NULL,
  hi INTEGER NOT NULL,
  PRIMARY KEY (device, boot, lo)
) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS readings AS
  SELECT k.id AS device, r.boot, r.seq, r.t, CASE WHEN r.lag IS NULL THEN NULL ELSE r.t END AS ts,
         r.t + coalesce(r.lag, 0) AS received, r.up, r.temperature, r.humidity, r.error
    FROM reading_rows r JOIN device_keys k ON k.key = r.device;
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  status TEXT,
  status_at INTEGER,
  info TEXT,
  info_at INTEGER,
  last_seen INTEGER
);
`;

/** seq_ranges from the stored rows: runs of consecutive seqs per (device, boot) ("gaps and islands"). */
const RANGES_FROM_ROWS = `
INSERT INTO seq_ranges (device, boot, lo, hi)
  SELECT device, boot, min(seq), max(seq) FROM (
    SELECT device, boot, seq, seq - row_number() OVER (PARTITION BY device, boot ORDER BY seq) AS island FROM reading_rows)
  GROUP BY device, boot, island;`;

const tableExists = (db: Database.Database, name: string) =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

/**
 * Upgrades an older store (inside the caller's transaction), keeping every reading: schema 1 (text device ids in a
 * `readings` table) or schema 2 (reading_rows keyed by (device, boot, seq) with a time index).
 */
function migrate(db: Database.Database, version: number, log: (m: string) => void): void {
  const v1 = tableExists(db, "readings");
  const v2 = version === 2 && tableExists(db, "reading_rows");
  if (!v1 && !v2) {
    db.exec(SCHEMA);
    return;
  }
  const { n } = db.prepare(`SELECT count(*) AS n FROM ${v1 ? "readings" : "reading_rows"}`).get() as { n: number };
  log(`espdht: upgrading the store to schema ${SCHEMA_VERSION} (${n.toLocaleString("en")} readings kept)...`);
  if (v1) db.exec("ALTER TABLE readings RENAME TO readings_v1;");
  if (v2) db.exec("DROP VIEW IF EXISTS readings; ALTER TABLE reading_rows RENAME TO reading_rows_v2; DROP INDEX IF EXISTS reading_rows_by_time;");
  db.exec(SCHEMA);
  if (v1) {
    db.exec(`
      INSERT OR IGNORE INTO device_keys (id) SELECT DISTINCT device FROM readings_v1;
      INSERT OR IGNORE INTO reading_rows (device, t, boot, seq, lag, up, temperature, humidity, error)
        SELECT k.key, o.t, o.boot, o.seq, CASE WHEN o.ts IS NULL THEN NULL ELSE o.received - o.t END, o.up, o.temperature, o.humidity, o.error
          FROM readings_v1 o JOIN device_keys k ON k.id = o.device;
      DROP TABLE readings_v1;`);
  }
  if (v2) {
    db.exec(`
      INSERT OR IGNORE INTO reading_rows (device, t, boot, seq, lag, up, temperature, humidity, error)
        SELECT device, t, boot, seq, lag, up, temperature, humidity, error FROM reading_rows_v2;
      DROP TABLE reading_rows_v2;`);
  }
  db.exec(RANGES_FROM_ROWS);
}

/** `dir` is the data folder; ":memory:" opens a throwaway store for tests. */
export function openDatabase(dir: string, log: (m: string) => void = (m) => process.stderr.write(m + "\n")): Database.Database {
  let file = ":memory:";
  if (dir !== ":memory:") {
    makePrivateDir(dir);
    file = path.join(dir, STORE_FILE);
    // created 0600 here: SQLite gives its -wal and -shm files the database file's mode
    fs.closeSync(fs.openSync(file, "a", FILE_MODE));
    for (const f of [file, file + "-wal", file + "-shm"]) makePrivateFile(f);
  }
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  // WAL + NORMAL survives app crashes; only a power cut may lose the last committed batch
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  const readVersion = () => db.pragma("user_version", { simple: true }) as number;
  if (readVersion() !== SCHEMA_VERSION) {
    try {
      // one IMMEDIATE transaction: another process opening the same old store waits, then finds it upgraded
      db.transaction(() => {
        const version = readVersion();
        if (version > SCHEMA_VERSION) throw new Error(`${file}: store schema ${version} is newer than this espdht understands (${SCHEMA_VERSION}); update espdht`);
        if (version < SCHEMA_VERSION) {
          migrate(db, version, log);
          db.pragma(`user_version = ${SCHEMA_VERSION}`);
        }
      }).immediate();
    } catch (e) {
      db.close();
      throw e;
    }
  }
  return db;
}
