// The offline reading buffer: a ring in typed arrays (ESPRUINO.md section 5: arrays of objects cost JsVars).
// It also owns the reading sequence number: every reading it accepts gets the next `seq`.
import { READ_ERRORS, ReadError } from "../contract/payloads";

export interface BufferedReading {
  seq: number;
  up: number;
  ts: number | null;
  /** values in hundredths are exact after offsets were applied and rounded */
  temperature?: number;
  humidity?: number;
  error?: ReadError;
}

export interface ReadingBuffer {
  /** stores a reading (dropping the oldest when full) and returns its seq */
  push(up: number, ts: number | null, temperature: number, humidity: number, error: ReadError | null): number;
  /** removes and returns the oldest reading */
  shift(): BufferedReading | null;
  size(): number;
  /** readings dropped because the buffer was full, since boot */
  dropped(): number;
}

/** Marks a failed reading in the temperature column; the humidity column then holds the error index. */
const FAILED = -32768;

export function createReadingBuffer(capacity: number): ReadingBuffer {
  const up = new Float64Array(capacity);
  const ts = new Float64Array(capacity);
  const t = new Int16Array(capacity);
  const h = new Int16Array(capacity);
  let head = 0;
  let count = 0;
  let firstSeq = 0;
  let lost = 0;
  return {
    push(u, stamp, temperature, humidity, error) {
      if (count === capacity) {
        head = (head + 1) % capacity;
        firstSeq++;
        count--;
        lost++;
      }
      const i = (head + count) % capacity;
      up[i] = u;
      ts[i] = stamp === null ? NaN : stamp;
      t[i] = error ? FAILED : Math.round(temperature * 100);
      h[i] = error ? READ_ERRORS.indexOf(error) : Math.round(humidity * 100);
      count++;
      return firstSeq + count - 1;
    },
    shift() {
      if (!count) return null;
      const stamp = ts[head];
      const r: BufferedReading = { seq: firstSeq, up: up[head], ts: isNaN(stamp) ? null : stamp };
      if (t[head] === FAILED) r.error = READ_ERRORS[h[head]];
      else {
        r.temperature = t[head] / 100;
        r.humidity = h[head] / 100;
      }
      head = (head + 1) % capacity;
      firstSeq++;
      count--;
      return r;
    },
    size: () => count,
    dropped: () => lost,
  };
}
