// Opens (and creates) the host's SQLite store in the data folder, in WAL mode, with the schema in place.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";

export const STORE_FILE = "espdht.sqlite";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS readings (
  device TEXT NOT NULL,
  boot INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  -- time of the reading: ts when the device clock was set, else the receive time
  t INTEGER NOT NULL,
  ts INTEGER,
  received INTEGER NOT NULL,
  up INTEGER NOT NULL,
  temperature REAL,
  humidity REAL,
  error TEXT,
  PRIMARY KEY (device, boot, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_by_time ON readings (device, t);
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  status TEXT,
  status_at INTEGER,
  info TEXT,
  info_at INTEGER,
  last_seen INTEGER
);
`;

/** `dir` is the data folder; ":memory:" opens a throwaway store for tests. */
export function openDatabase(dir: string): Database.Database {
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
  db.exec(SCHEMA);
  return db;
}
