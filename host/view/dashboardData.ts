// What the dashboard server sends its page: the state snapshot, the SSE live batches, the history series,
// and the range names both understand. Shared with the browser, so it imports nothing server-side.
import type { StoreHealth } from "../store/storeHealth";
import type { DeviceView, RejectionLog } from "./deviceView";

/** What floods of unknown device ids did (host/ingest/deviceState.ts): shown by watch and the dashboard. */
export interface FloodStats {
  /** devices that proved themselves (never evicted), and their limit */
  established: number;
  maxEstablished: number;
  /** unproven devices, and their limit (the least recently seen is evicted first) */
  newcomers: number;
  maxNewcomers: number;
  /** new devices let in */
  admitted: number;
  /** messages from unknown ids turned away because the admission rate was used up */
  refused: number;
  /** unproven devices dropped to make room */
  evicted: number;
  /** newcomers that proved themselves */
  promoted: number;
  /** the admission rate: new devices per second, and at once after a quiet spell */
  perSecond: number;
  burst: number;
}

/** The live connections (SSE) of the dashboard server. */
export interface LiveStats {
  clients: number;
  maxClients: number;
  /** connections refused because maxClients were open */
  refused: number;
  /** connections dropped because they did not read (backlog past maxBacklogBytes) */
  cutOff: number;
  maxBacklogBytes: number;
}

/** GET /api/state and the SSE "state" event: one page of the device list (sorted by id), with its total. */
export interface DashboardState {
  now: number;
  root: string;
  broker: string;
  connected: boolean;
  /** whether readings reach the store (a banner when not); null without a journal */
  store?: StoreHealth | null;
  /** the devices of this page */
  devices: DeviceView[];
  /** devices matching `filter` in all */
  total: number;
  offset: number;
  limit: number;
  /** the id substring the list was filtered by ("" = none) */
  filter: string;
  /** the named group the list was filtered by (null = none) */
  group: string | null;
  /** every named group the fleet's devices are in (for the page's group filter) */
  groups: string[];
  unattributed: RejectionLog;
  flood: FloodStats;
  live: LiveStats;
}

/** [time ms, temperature, humidity] (null values for a failed read) */
export type LivePoint = [number, number | null, number | null];

/** One SSE live batch: what changed since the previous one. */
export interface LiveBatch {
  now: number;
  /** devices that changed since the last batch */
  devices: DeviceView[];
  /** new points per device since the last batch, oldest first */
  points: Record<string, LivePoint[]>;
  /** present when unattributed rejections changed */
  unattributed?: RejectionLog;
  connected?: boolean;
  /** devices that changed but did not fit in this batch (they follow in the next ones) */
  moreDevices?: number;
  /** present when the flood counters or live connections changed */
  flood?: FloodStats;
  live?: LiveStats;
}

/** A device's history over [from, to), downsampled to min/avg/max per bucket (GET .../series). */
export interface Series {
  from: number;
  to: number;
  /** bucket width in ms (1 when every reading is its own point) */
  bucketMs: number;
  /** bucket start times (ms), ascending */
  t: number[];
  count: number[];
  tempMin: (number | null)[];
  tempAvg: (number | null)[];
  tempMax: (number | null)[];
  humMin: (number | null)[];
  humAvg: (number | null)[];
  humMax: (number | null)[];
  /** failed reads in the bucket */
  errors: number[];
}

/** The named ranges (`range=`), ending now, in ms. */
export const RANGES: Record<string, number> = {
  "15m": 15 * 60_000,
  "1h": 3_600_000,
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
};
