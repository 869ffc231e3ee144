// What the dashboard server sends its page: the state snapshot, the SSE live batches, the history series,
// and the range names both understand. Shared with the browser, so it imports nothing server-side.
import type { DeviceView, RejectionLog } from "./deviceView";

/** GET /api/state and the SSE "state" event. */
export interface DashboardState {
  now: number;
  root: string;
  broker: string;
  connected: boolean;
  devices: DeviceView[];
  unattributed: RejectionLog;
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
