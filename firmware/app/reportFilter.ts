// Report-on-change (ESPHome's delta + heartbeat filters): decides whether a new reading is published.
import type { ReadError, Settings } from "../contract/payloads";

/** What was last published; `at` is ms since boot. */
export interface LastReport {
  t: number;
  h: number;
  error: ReadError | null;
  at: number;
}

/** |a - b| >= delta, in hundredths: the values were rounded to hundredths, floats would miss exact deltas. */
const moved = (a: number, b: number, delta: number) => Math.round(Math.abs(a - b) * 100) >= Math.round(delta * 100);

/** A delta of 0 publishes every reading (failed ones too); a changed error state always publishes; so does the heartbeat. */
export function shouldReport(s: Settings, last: LastReport | null, now: number, t: number, h: number, error: ReadError | null): boolean {
  if (!last || (s.heartbeat > 0 && now - last.at >= s.heartbeat * 1000)) return true;
  if (error || last.error) return error !== last.error || !s.tempDelta || !s.humDelta;
  return moved(t, last.t, s.tempDelta) || moved(h, last.h, s.humDelta);
}
