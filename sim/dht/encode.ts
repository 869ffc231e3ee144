// A DHT22/DHT11 measurement as the part sends it: quantised, then packed into 5 bytes with a checksum.
import type { SensorModel } from "../../firmware/contract";

export interface DhtValues {
  temperature: number;
  humidity: number;
}

export interface DhtPart {
  model: SensorModel;
  /** newer DHT11 parts send tenths in the decimal bytes; older ones send 0 */
  dht11Decimals: boolean;
}

/** Range the part can report (values beyond are clipped by the part itself). */
export function partLimits(part: DhtPart): { tMin: number; tMax: number; hMin: number; hMax: number } {
  if (part.model === "dht22") return { tMin: -40, tMax: 80, hMin: 0, hMax: 99.9 };
  // DHT11: 0..50 C (0..60 on parts that send tenths); below 0 it reads 0 (docs/espruino.md section 3)
  return part.dht11Decimals ? { tMin: 0, tMax: 60, hMin: 0, hMax: 95 } : { tMin: 0, tMax: 50, hMin: 5, hMax: 95 };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** The values the part will report: clipped to its range, 0.1 steps (DHT22, newer DHT11) or whole units. */
export function quantise(part: DhtPart, v: DhtValues): DhtValues {
  const l = partLimits(part);
  const step = part.model === "dht22" || part.dht11Decimals ? 10 : 1;
  const q = (x: number) => Math.round(x * step) / step + 0; // + 0 turns -0 into 0
  return { temperature: q(clamp(v.temperature, l.tMin, l.tMax)), humidity: q(clamp(v.humidity, l.hMin, l.hMax)) };
}

/** The 5 bytes on the wire (docs/espruino.md section 3); DHT22 negatives are sign-magnitude. */
export function encodeDhtFrame(part: DhtPart, v: DhtValues): Uint8Array {
  const q = quantise(part, v);
  const b = new Uint8Array(5);
  if (part.model === "dht22") {
    const h = Math.round(q.humidity * 10);
    const t = Math.round(Math.abs(q.temperature) * 10);
    b[0] = h >> 8;
    b[1] = h & 0xff;
    b[2] = ((t >> 8) & 0x7f) | (q.temperature < 0 ? 0x80 : 0);
    b[3] = t & 0xff;
  } else {
    const h = Math.round(q.humidity * 10);
    const t = Math.round(Math.abs(q.temperature) * 10);
    b[0] = Math.floor(h / 10);
    b[1] = part.dht11Decimals ? h % 10 : 0;
    b[2] = Math.floor(t / 10);
    b[3] = (part.dht11Decimals ? t % 10 : 0) | (q.temperature < 0 ? 0x80 : 0);
  }
  b[4] = (b[0] + b[1] + b[2] + b[3]) & 0xff;
  return b;
}
