// The edge train a DHT puts on its data line after the host's start pulse, with datasheet timings and jitter.
import type { DeviceTransition } from "../board/gpio";
import type { Prng } from "../prng";

/** Datasheet timings in microseconds, as [min, max] the jitter stays within. */
export const DHT_TIMING = {
  /** pull-up raises the line before the sensor answers */
  releaseGap: [20, 40],
  responseLow: [78, 85],
  responseHigh: [78, 85],
  bitLow: [48, 55],
  zeroHigh: [24, 30],
  oneHigh: [68, 75],
  endLow: [48, 55],
} as const;

export interface WaveformOptions {
  /** ESP32 quirk: the interrupt for the response's falling edge is missed, giving a 41-edge train */
  dropFirstEdge: boolean;
}

function span(prng: Prng, t: readonly [number, number]): number {
  return prng.range(t[0], t[1]);
}

/** Transitions (device side) starting after the host released the line at `releaseUs`. */
export function dhtWaveform(bytes: Uint8Array, releaseUs: number, prng: Prng, opts: WaveformOptions): DeviceTransition[] {
  const out: DeviceTransition[] = [];
  let t = releaseUs + span(prng, DHT_TIMING.releaseGap);
  out.push({ us: t, level: 0, lost: opts.dropFirstEdge });
  t += span(prng, DHT_TIMING.responseLow);
  out.push({ us: t, level: 1 });
  t += span(prng, DHT_TIMING.responseHigh);
  for (let i = 0; i < 40; i++) {
    const bit = (bytes[i >> 3] >> (7 - (i & 7))) & 1;
    out.push({ us: t, level: 0 });
    t += span(prng, DHT_TIMING.bitLow);
    out.push({ us: t, level: 1 });
    t += span(prng, bit ? DHT_TIMING.oneHigh : DHT_TIMING.zeroHigh);
  }
  out.push({ us: t, level: 0 });
  t += span(prng, DHT_TIMING.endLow);
  out.push({ us: t, level: 1 });
  return out;
}
