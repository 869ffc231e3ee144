// Decodes the HIGH times of a DHT22/DHT11 edge train into values or a typed error (ESPRUINO.md section 3).
import type { ReadError, SensorModel } from "../contract/payloads";

export type DhtResult = { ok: true; temperature: number; humidity: number } | { ok: false; error: ReadError };

/** A HIGH longer than this many microseconds is a 1 bit (0 is ~27 us, 1 is ~70 us). */
export const ONE_THRESHOLD_US = 48;
export const FRAME_BITS = 40;

function failure(error: ReadError): DhtResult {
  return { ok: false, error };
}

/**
 * `highUs` holds `count` HIGH durations (one per falling edge) in order; when `count` exceeds its length
 * it is a ring buffer whose last write was at (count-1) % length. The LAST 40 are the frame: the ESP32
 * delivers 41 or 42 edges (start pulse and response) or, when it drops one, fewer leading edges.
 */
export function decodeDhtFrame(highUs: ArrayLike<number>, count: number, model: SensorModel): DhtResult {
  if (count < FRAME_BITS) return failure("timeout");
  const size = highUs.length;
  const b = [0, 0, 0, 0, 0];
  for (let i = 0; i < FRAME_BITS; i++) {
    const us = highUs[(count - FRAME_BITS + i) % size];
    b[i >> 3] = (b[i >> 3] << 1) | (us > ONE_THRESHOLD_US ? 1 : 0);
  }
  if (((b[0] + b[1] + b[2] + b[3]) & 255) !== b[4]) return failure("checksum");
  return model === "dht11" ? dht11(b) : dht22(b);
}

function result(temperature: number, humidity: number, minT: number, maxT: number): DhtResult {
  if (humidity > 100 || temperature < minT || temperature > maxT) return failure("range");
  return { ok: true, temperature, humidity };
}

/** DHT22: tenths; negative temperature in sign-magnitude, or two's complement on some clones. */
function dht22(b: number[]): DhtResult {
  const humidity = ((b[0] << 8) | b[1]) / 10;
  const raw = (b[2] << 8) | b[3];
  let temperature = (raw & 0x7fff) / 10;
  if (raw & 0x8000) {
    temperature = -temperature;
    if (temperature < -40) temperature = (raw - 65536) / 10;
  }
  return result(temperature, humidity, -40, 80);
}

/** DHT11: integer and decimal bytes; newer parts set bit 7 of the decimal for negative temperatures. */
function dht11(b: number[]): DhtResult {
  const humidity = (b[0] * 10 + b[1]) / 10;
  let temperature = (b[2] * 10 + (b[3] & 0x7f)) / 10;
  if (b[3] & 0x80) temperature = -temperature;
  return result(temperature, humidity, 0, 60);
}
