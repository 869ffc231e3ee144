// Seeded pseudo-random numbers, so a simulator run is reproducible from its --seed.
import { createHash } from "node:crypto";

export interface Prng {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform in [min, max) */
  range(min: number, max: number): number;
  /** integer in [min, max] */
  int(min: number, max: number): number;
  /** standard normal (Box-Muller) */
  gaussian(): number;
  /** true with probability p */
  chance(p: number): boolean;
}

/** mulberry32: small, fast and good enough for jitter and fault dice. */
export function createPrng(seed: number): Prng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    range: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    gaussian: () => {
      const u = 1 - next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    chance: (p) => next() < p,
  };
}

/** A stable 32-bit seed derived from a parent seed and labels (one stream per board and purpose). */
export function deriveSeed(seed: number | string, ...labels: (string | number)[]): number {
  const h = createHash("sha256").update([seed, ...labels].join("/")).digest();
  return h.readUInt32LE(0);
}
