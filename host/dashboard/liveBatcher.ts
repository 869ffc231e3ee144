// Collects ingest events and hands them out in batches at a fixed cadence (SSE pushes one batch per tick,
// never one message per reading). Bounded: at most MAX_DEVICES_PER_BATCH devices (the rest follow in the next
// batches), MAX_POINTS_PER_BATCH points per device and MAX_POINTS_TOTAL points in all per batch.
import { isFailedReading } from "../../firmware/contract";
import type { IngestEvent } from "../ingest/ingest";
import type { FloodStats, LiveBatch, LivePoint, LiveStats } from "../view/dashboardData";
import type { DeviceView, RejectionLog } from "../view/deviceView";

export const MAX_POINTS_PER_BATCH = 500;
export const MAX_POINTS_TOTAL = 10_000;
export const MAX_DEVICES_PER_BATCH = 100;

export interface BatchStats {
  flood: FloodStats;
  live: LiveStats;
}

export class LiveBatcher {
  /** changed devices, oldest change first; those that do not fit a batch wait for the next */
  private changed = new Map<string, DeviceView>();
  private points = new Map<string, LivePoint[]>();
  private pointCount = 0;
  private unattributedChanged = false;
  private connected: boolean | undefined;
  private lastStats = "";
  /** points dropped because a batch was full (the store still has them) */
  dropped = 0;

  constructor(private readonly unattributed: RejectionLog, private readonly stats?: () => BatchStats) {}

  add(e: IngestEvent): void {
    switch (e.kind) {
      case "reading": {
        this.changed.set(e.device.id, e.device);
        let list = this.points.get(e.device.id);
        if (!list) {
          if (this.pointCount >= MAX_POINTS_TOTAL) {
            this.dropped++;
            break;
          }
          this.points.set(e.device.id, (list = []));
        }
        const r = e.reading;
        list.push(isFailedReading(r) ? [r.ts ?? e.receivedAt, null, null] : [r.ts ?? e.receivedAt, r.temperature, r.humidity]);
        this.pointCount++;
        if (list.length > MAX_POINTS_PER_BATCH || this.pointCount > MAX_POINTS_TOTAL) {
          list.shift();
          this.pointCount--;
          this.dropped++;
        }
        break;
      }
      case "device":
        this.changed.set(e.device.id, e.device);
        break;
      case "rejected":
        if (e.device) this.changed.set(e.device.id, e.device);
        else this.unattributedChanged = true;
        break;
      case "connection":
        this.connected = e.connected;
        break;
      case "reply":
        break;
    }
  }

  /** The batch since the last call, or null when nothing changed. */
  take(now: number): LiveBatch | null {
    const stats = this.stats?.();
    const statsText = stats ? JSON.stringify(stats) : "";
    const statsChanged = statsText !== this.lastStats;
    if (this.changed.size === 0 && this.points.size === 0 && !this.unattributedChanged && this.connected === undefined && !statsChanged) return null;
    const devices: DeviceView[] = [];
    for (const [id, d] of this.changed) {
      if (devices.length >= MAX_DEVICES_PER_BATCH) break;
      devices.push(d);
      this.changed.delete(id);
    }
    const batch: LiveBatch = { now, devices, points: Object.fromEntries(this.points) };
    if (this.changed.size > 0) batch.moreDevices = this.changed.size;
    if (this.unattributedChanged) batch.unattributed = this.unattributed;
    if (this.connected !== undefined) batch.connected = this.connected;
    if (stats && statsChanged) {
      batch.flood = stats.flood;
      batch.live = stats.live;
      this.lastStats = statsText;
    }
    this.points = new Map();
    this.pointCount = 0;
    this.unattributedChanged = false;
    this.connected = undefined;
    return batch;
  }
}
