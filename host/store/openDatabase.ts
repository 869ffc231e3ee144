// Opens (and creates) the host's SQLite store in the data folder, in WAL mode, with the schema in place;
// migrates a store written by an older version (schema 1: device ids as text in every reading row).
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";

export const STORE_FILE = "espdht.sqlite";
export const SCHEMA_VERSION = 2;

/**
 * Reading rows are keyed by a small device number (device_keys) and keep received as a lag after t: short
 * rows and keys make each insert into the two B-trees (de-dup key, time index) ~30% cheaper than text ids.
 * The `readings` view shows them with the device id, ts and received spelled out.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS device_keys (
  key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS reading_rows (
  device INTEGER NOT NULL,
  boot INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  -- time of the reading: ts when the device clock was set, else the receive time
  t INTEGER NOT NULL,
  -- received - t when the reading had a ts; NULL when it had none (then received = t)
  lag INTEGER,
  up INTEGER NOT NULL,
  temperature REAL,
  humidity REAL,
  error TEXT,
  PRIMARY KEY (device, boot, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reading_rows_by_time ON reading_rows (device, t);
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

/** Copies schema-1 readings (a table of that name) into reading_rows, in one transaction. */
function migrateFromV1(db: Database.Database, log: (m: string) => void): void {
  const old = db.prepare("SELECT type FROM sqlite_master WHERE name = 'readings'").get() as { type: string } | undefined;
  if (old?.type !== "table") return;
  const { n } = db.prepare("SELECT count(*) AS n FROM readings").get() as { n: number };
  log(`espdht: upgrading the store to schema ${SCHEMA_VERSION} (${n.toLocaleString("en")} readings kept)...`);
  db.transaction(() => {
    db.exec("ALTER TABLE readings RENAME TO readings_v1; DROP INDEX IF EXISTS readings_by_time;");
    db.exec(SCHEMA);
    db.exec(`
      INSERT OR IGNORE INTO device_keys (id) SELECT DISTINCT device FROM readings_v1;
      INSERT OR IGNORE INTO reading_rows (device, boot, seq, t, lag, up, temperature, humidity, error)
        SELECT k.key, o.boot, o.seq, o.t, CASE WHEN o.ts IS NULL THEN NULL ELSE o.received - o.t END, o.up, o.temperature, o.humidity, o.error
          FROM readings_v1 o JOIN device_keys k ON k.id = o.device;
      DROP TABLE readings_v1;`);
  })();
}

/** `dir` is the data folder; ":memory:" opens a throwaway store for tests. */
export function openDatabase(dir: string, log: (m: string) => void = (m) => process.stderr.write(m + "\n")): Database.Database {
  let file = ":memory:";
  if (dir !== ":memory:") {
    fs.mkdirSync(dir, { recursive: true });
    file = path.join(dir, STORE_FILE);
  }
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  // WAL + NORMAL survives app crashes; only a power cut may lose the last committed batch
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version < SCHEMA_VERSION) {
    migrateFromV1(db, log);
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  } else if (version > SCHEMA_VERSION) {
    db.close();
    throw new Error(`${file}: store schema ${version} is newer than this espdht understands (${SCHEMA_VERSION}); update espdht`);
  }
  return db;
}
