// Simulated device ids: `sim-<12 hex>`, derived from the seed and the board index, so the same seed gives
// the same ids (and the same retained topics) run after run. getSerial() returns it; the firmware uses it as is.
import { createHash } from "node:crypto";

export function simDeviceId(seed: number | string, index: number): string {
  return "sim-" + createHash("sha256").update(`espdht-sim/${seed}/${index}`).digest("hex").slice(0, 12);
}
