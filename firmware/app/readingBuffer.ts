// The offline reading buffer: a ring in typed arrays (docs/espruino.md section 5: arrays of objects cost JsVars).
// It also owns the reading sequence number: every reading it accepts gets the next `seq`.
// Only 16/32-bit integer arrays: Espruino's Float64Array does not keep 13-digit integers exact (checked on 2v29).
import { READ_ERRORS, ReadError } from "../contract/payloads";

export interface BufferedReading {
  seq: number;
  up: number;
  ts: number | null;
  temperature?: number;
  humidity?: number;
  error?: ReadError;
}

export interface ReadingBuffer {
  /**
   * Stores a reading (dropping the oldest when full) and returns it as stored. `ts` is Unix ms, 0 while the
   * clock is not set; `t` and `h` are in hundredths (integers); with an error they are ignored.
   */
  push_(up: number, ts: number, t: number, h: number, error?: ReadError): BufferedReading;
  /** removes and returns the oldest reading; `nowUp` (ms since boot) recovers `up` past 2^32 ms */
  shift_(nowUp: number): BufferedReading | null;
  /** readings dropped because the buffer was full, since boot */
  dropped_(): number;
}

/** Marks a failed reading in the temperature column; the humidity column then holds the error index. */
const FAILED = -32768;
/** Marks "clock not set" in the ts column. */
const NO_TS = -2147483648;
const TWO_32 = 4294967296;

export function createReadingBuffer(capacity: number): ReadingBuffer {
  // up modulo 2^32 ms; ts as its distance from the boot epoch (Unix ms at up = 0), set by the first timestamp
  const up = new Uint32Array(capacity);
  const ts = new Int32Array(capacity);
  const t = new Int16Array(capacity);
  const h = new Int16Array(capacity);
  let epoch = 0;
  let head = 0;
  let count = 0;
  let firstSeq = 0;
  let lost = 0;
  /** the k-th oldest reading */
  const get = (k: number, nowUp: number) => {
    const i = (head + k) % capacity;
    // nowUp is never before the reading, so the difference is >= 0
    const u = nowUp - ((nowUp - up[i]) % TWO_32);
    const s = ts[i];
    const r: BufferedReading = { seq: firstSeq + k, up: u, ts: s === NO_TS ? null : u + epoch + s };
    if (t[i] === FAILED) r.error = READ_ERRORS[h[i]];
    else {
      r.temperature = t[i] / 100;
      r.humidity = h[i] / 100;
    }
    return r;
  };
  /** removes and returns the oldest */
  const take = (nowUp: number) => {
    const r = get(0, nowUp);
    head = (head + 1) % capacity;
    firstSeq++;
    count--;
    return r;
  };
  return {
    push_(u, stamp, tc, hc, error) {
      if (count === capacity) {
        take(u);
        lost++;
      }
      const i = (head + count++) % capacity;
      up[i] = u % TWO_32;
      if (stamp && !epoch) epoch = stamp - u;
      // clock corrections after the first stamp fit 32 bits up to +-24 days
      ts[i] = stamp ? stamp - u - epoch : NO_TS;
      t[i] = error ? FAILED : tc;
      h[i] = error ? READ_ERRORS.indexOf(error) : hc;
      return get(count - 1, u);
    },
    shift_: (nowUp) => (count ? take(nowUp) : null),
    dropped_: () => lost,
  };
}
