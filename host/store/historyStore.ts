// What the ingest and the dashboard need from the reading history, wherever its writes happen
// (WorkerStore is the implementation). Queries (historyQueries.ts, csvExport.ts) read through `db`.
import type Database from "better-sqlite3";
import type { Info, Reading } from "../../firmware/contract";
import type { StoredDevice } from "./historyQueries";
import type { StoreHealth } from "./storeHealth";

export type { StoreHealth } from "./storeHealth";
export { sizeText } from "./storeHealth";

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
