// Decodes the HIGH times of a DHT22/DHT11 edge train into values or a typed error (docs/espruino.md section 3).
import { invalid, ReadError, SensorModel } from "../contract/payloads";
import { FRAME_BITS, ONE_THRESHOLD_US } from "./dhtTiming";

export type DhtResult = { ok: true; temperature: number; humidity: number } | { ok: false; error: ReadError };

export { FRAME_BITS, ONE_THRESHOLD_US };

/**
 * `highUs` holds `count` HIGH durations (one per falling edge) in order; when `count` exceeds its length
 * it is a ring buffer whose last write was at (count-1) % length. The LAST 40 are the frame: the ESP32
 * delivers 41 or 42 edges (start pulse and response) or, when it drops one, fewer leading edges.
 * DHT22: tenths, negative temperature in sign-magnitude (two's complement on some clones);
 * DHT11: integer and decimal bytes, bit 7 of the temperature decimal is the sign on newer parts.
 * Only impossible values are a range error: RH above 100, T outside -40..80 (DHT22) / 0..60 (DHT11).
 */

export function decodeDhtFrame(highUs: ArrayLike<number>, count: number, model: SensorModel): DhtResult {
  if (count < FRAME_BITS) return invalid("timeout");
  // bytes fill from undefined (undefined << 1 is 0)
  const b: number[] = [];
  for (let i = 0; i < FRAME_BITS; i++) b[i >> 3] = (b[i >> 3] << 1) | +(highUs[(count - FRAME_BITS + i) % highUs.length] > ONE_THRESHOLD_US);
  if (((b[0] + b[1] + b[2] + b[3]) & 255) !== b[4]) return invalid("checksum");
  const dht11 = model === "dht11";
  const humidity = (dht11 ? b[0] * 10 + b[1] : (b[0] << 8) | b[1]) / 10;
  const raw = (b[2] << 8) | b[3];
  let temperature = (dht11 ? b[2] * 10 + (b[3] & 127) : raw & 32767) / 10;
  if (raw & (dht11 ? 128 : 32768)) {
    temperature = -temperature;
    if (temperature < -40) temperature = (raw - 65536) / 10;
  }
  return humidity > 100 || temperature < (dht11 ? 0 : -40) || temperature > (dht11 ? 60 : 80)
    ? invalid("range")
    : { ok: true, temperature, humidity };
}
