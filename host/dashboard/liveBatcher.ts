// Collects ingest events and hands them out in batches at a fixed cadence (SSE pushes one batch per tick,
// never one message per reading). Bounded: at most MAX_POINTS_PER_BATCH points per device per batch.
import { isFailedReading } from "../../firmware/contract";
import type { IngestEvent } from "../ingest/ingest";
import type { LiveBatch, LivePoint } from "../view/dashboardData";
import type { DeviceView, RejectionLog } from "../view/deviceView";

export const MAX_POINTS_PER_BATCH = 500;

export class LiveBatcher {
  private changed = new Map<string, DeviceView>();
  private points = new Map<string, LivePoint[]>();
  private unattributedChanged = false;
  private connected: boolean | undefined;
  /** points dropped because a batch was full (the store still has them) */
  dropped = 0;

  constructor(private readonly unattributed: RejectionLog) {}

  add(e: IngestEvent): void {
    switch (e.kind) {
      case "reading": {
        this.changed.set(e.device.id, e.device);
        let list = this.points.get(e.device.id);
        if (!list) this.points.set(e.device.id, (list = []));
        const r = e.reading;
        list.push(isFailedReading(r) ? [r.ts ?? e.receivedAt, null, null] : [r.ts ?? e.receivedAt, r.temperature, r.humidity]);
        if (list.length > MAX_POINTS_PER_BATCH) {
          list.shift();
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
    if (this.changed.size === 0 && !this.unattributedChanged && this.connected === undefined) return null;
    const batch: LiveBatch = { now, devices: [...this.changed.values()], points: Object.fromEntries(this.points) };
    if (this.unattributedChanged) batch.unattributed = this.unattributed;
    if (this.connected !== undefined) batch.connected = this.connected;
    this.changed = new Map();
    this.points = new Map();
    this.unattributedChanged = false;
    this.connected = undefined;
    return batch;
  }
}
