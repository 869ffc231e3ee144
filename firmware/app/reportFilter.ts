// Report-on-change (ESPHome's delta + heartbeat filters): decides whether a new reading is published.
import type { ReadError, Settings } from "../contract/payloads";

/** What was last published: values in hundredths (integers, as the buffer keeps them); `at` is ms since boot. */
export interface LastReport {
  t: number;
  h: number;
  error?: ReadError;
  at: number;
}

/** |a - b| >= delta: a and b in hundredths, the delta in units (rounded to hundredths: 0.29 * 100 is not 29). */
const moved = (a: number, b: number, delta: number) => Math.abs(a - b) >= Math.round(delta * 100);

/**
 * `t` and `h` in hundredths. A delta of 0 publishes every reading (failed ones too); a changed error state
 * always publishes; so does the heartbeat.
 */
export function shouldReport(s: Settings, last: LastReport | undefined, now: number, t: number, h: number, error: ReadError | undefined): boolean {
  if (!last || (s.heartbeat && now - last.at >= s.heartbeat * 1000)) return true;
  if (error || last.error) return error !== last.error || !s.tempDelta || !s.humDelta;
  return moved(t, last.t, s.tempDelta) || moved(h, last.h, s.humDelta);
}
