// The store as `espdht export` reads it: opened read-only beside a running dashboard (WAL lets a reader and the
// writer overlap), never created or upgraded, and the devices an export covers.
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { knownDeviceIds } from "./historyQueries";
import { SCHEMA_VERSION, STORE_FILE } from "./openDatabase";

/** The store cannot be read as asked; the message names the folder, file or device. */
export class ExportStoreError extends Error {}

/** How many known ids an unknown-device error lists before "..." */
const LISTED_IDS = 20;

/** Opens the history store of data folder `dir` read-only; a missing folder or store, or another schema, is an ExportStoreError. */
export function openStoreReadOnly(dir: string): Database.Database {
  const file = path.join(dir, STORE_FILE);
  if (!fs.existsSync(dir)) throw new ExportStoreError(`no data folder ${dir} (the dashboard records history there; pass --data DIR for another folder)`);
  if (!fs.existsSync(file)) throw new ExportStoreError(`no history store in ${dir} (${STORE_FILE} is missing; run 'espdht dashboard' to record readings)`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new ExportStoreError(`cannot open ${file}: ${(e as Error).message}`);
  }
  try {
    db.pragma("busy_timeout = 5000");
    let version: number;
    try {
      version = db.pragma("user_version", { simple: true }) as number;
    } catch (e) {
      throw new ExportStoreError(`${file} is not an espdht store: ${(e as Error).message}`);
    }
    if (version > SCHEMA_VERSION) throw new ExportStoreError(`${file}: store schema ${version} is newer than this espdht understands (${SCHEMA_VERSION}); update espdht`);
    if (version < SCHEMA_VERSION) {
      // export only reads: upgrading is the writer's job, done when a dashboard opens the folder
      throw new ExportStoreError(`${file}: store schema ${version} is older than this espdht's ${SCHEMA_VERSION}; run 'espdht dashboard --data ${dir}' once to upgrade it, then export`);
    }
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * The devices to export, sorted by id without repeats: `requested`, or every device the store knows when it is
 * empty. An id the store has never seen is an error rather than a silently empty part of the export, so a typo
 * in a script fails instead of producing a file that looks complete.
 */
export function exportDevices(db: Database.Database, requested: readonly string[], storeName: string): string[] {
  const known = knownDeviceIds(db);
  if (requested.length === 0) return known;
  const knownSet = new Set(known);
  const unknown = [...new Set(requested)].filter((id) => !knownSet.has(id));
  if (unknown.length > 0) {
    const listed = known.length === 0 ? "it has no devices" : `devices there: ${known.slice(0, LISTED_IDS).join(", ")}${known.length > LISTED_IDS ? ", ..." : ""}`;
    const names = unknown.map((id) => `'${id.slice(0, 80)}'`).join(", ");
    throw new ExportStoreError(`unknown device${unknown.length > 1 ? "s" : ""} ${names} in ${storeName} (${listed})`);
  }
  return [...new Set(requested)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
