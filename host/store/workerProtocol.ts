// Messages between WorkerStore (main thread) and storeWorker.ts (the writing thread).
import type { Info } from "../../firmware/contract";
import type { PackedRows } from "./rowFormat";

export type StoreRequest =
  | { kind: "batch"; serial: number; rows: PackedRows; seen: [string, number][] }
  | { kind: "status"; id: string; online: boolean; at: number }
  | { kind: "info"; id: string; info: Info; at: number }
  | { kind: "retention"; cutoff: number }
  | { kind: "sync"; serial: number }
  | { kind: "close" };

export type StoreResponse =
  | { kind: "ack"; serial: number; rows: number; inserted: number }
  | { kind: "error"; message: string; serial?: number }
  | { kind: "closed" };
