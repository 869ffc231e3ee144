// What the virtual sensor measures: a plausible room (day cycle, slow drift, noise) or a CSV replay.
import type { Prng } from "../prng";
import type { DhtValues } from "./encode";
import type { CsvSeries } from "./csvReplay";
import { sampleSeries } from "./csvReplay";

export interface EnvironmentOptions {
  /** daily mean, degrees C */
  baseTemperature: number;
  /** daily mean, %RH */
  baseHumidity: number;
  /** half the day-night swing */
  dayAmplitude: number;
  /** a room that warms and cools over this many seconds (a heater cycling, the sun on a window), on top of the day; absent: none */
  cycleSeconds?: number;
  /** half that swing, degrees C (default 2) */
  cycleAmplitude?: number;
  /** replay instead of the model */
  series?: CsvSeries;
}

export const DEFAULT_ENVIRONMENT: EnvironmentOptions = { baseTemperature: 21, baseHumidity: 48, dayAmplitude: 2.5 };

export interface Environment {
  /** the true air at this instant (before the part quantises it) */
  sample(unixMs: number): DhtValues;
}

/** RH drops about 3 % per degree of warming at constant moisture (near room conditions). */
const RH_PER_DEGREE = -3;
/** drift relaxes back to the mean over hours */
const DRIFT_TAU_MS = 6 * 3600_000;
const DRIFT_SIGMA_T = 0.6;
const DRIFT_SIGMA_H = 3;

export function createEnvironment(opts: EnvironmentOptions, prng: Prng, startMs: number): Environment {
  if (opts.series) {
    const series = opts.series;
    return { sample: (unixMs) => sampleSeries(series, (unixMs - startMs) / 1000) };
  }
  let driftT = prng.gaussian() * DRIFT_SIGMA_T;
  let driftH = prng.gaussian() * DRIFT_SIGMA_H;
  let lastMs = startMs;
  return {
    sample(unixMs) {
      // Ornstein-Uhlenbeck drift: stationary spread SIGMA, correlation time TAU
      const dt = Math.max(0, unixMs - lastMs);
      lastMs = Math.max(lastMs, unixMs);
      const keep = Math.exp(-dt / DRIFT_TAU_MS);
      const spread = Math.sqrt(1 - keep * keep);
      driftT = driftT * keep + DRIFT_SIGMA_T * spread * prng.gaussian();
      driftH = driftH * keep + DRIFT_SIGMA_H * spread * prng.gaussian();
      // warmest mid-afternoon (15:00 UTC), coolest before dawn
      const hours = (unixMs / 3600_000) % 24;
      // the cycle starts at the mean, warming first
      const cycle = opts.cycleSeconds ? (opts.cycleAmplitude ?? 2) * Math.sin((2 * Math.PI * (unixMs - startMs)) / (opts.cycleSeconds * 1000)) : 0;
      const day = opts.dayAmplitude * Math.sin((2 * Math.PI * (hours - 9)) / 24) + cycle;
      const temperature = opts.baseTemperature + day + driftT + 0.05 * prng.gaussian();
      const humidity = opts.baseHumidity + RH_PER_DEGREE * (day + driftT) + driftH + 0.3 * prng.gaussian();
      return { temperature, humidity: Math.min(100, Math.max(0, humidity)) };
    },
  };
}
