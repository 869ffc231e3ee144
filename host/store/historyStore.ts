// What the ingest and the dashboard need from the reading history, wherever its writes happen
// (WorkerStore is the implementation). Queries (historyQueries.ts, csvExport.ts) read through `db`.
import type Database from "better-sqlite3";
import type { Info, Reading } from "../../firmware/contract";
import type { StoredDevice } from "./historyQueries";

/** Whether readings reach the store; the dashboard shows it and publishes it for `watch`. */
export interface StoreHealth {
  ok: boolean;
  /** what is wrong, for people: null when ok */
  problem: string | null;
  /** since when the store has been failing (Unix ms) */
  since: number | null;
  journalBytes: number;
  journalLimitBytes: number;
  /** readings are held unacknowledged (the journal is full or cannot be written) */
  holding: boolean;
}

/** A journal size for people: KB below 1 MB. */
export function sizeText(bytes: number): string {
  return bytes < 1048576 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

export interface HistoryStore {
  /** connection for queries */
  readonly db: Database.Database;
  add(r: Reading, receivedAt: number): void;
  noteSeen(id: string, at: number): void;
  setStatus(id: string, online: boolean, at: number): void;
  setInfo(id: string, info: Info, at: number): void;
  /** hands queued rows to the writer now */
  flush(): void;
  /** resolves when everything queued so far is committed */
  settle(): Promise<void>;
  devices(): StoredDevice[];
  readonly inserted: number;
  readonly duplicatesIgnored: number;
  /** null when everything added is journalled or committed; else resolves once it is (acknowledge only then) */
  whenDurable?(): Promise<void> | null;
  health?(): StoreHealth;
  close(): Promise<void>;
}
