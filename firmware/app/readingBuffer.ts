// The offline reading buffer: a ring in typed arrays (docs/espruino.md section 5: arrays of objects cost JsVars).
// It also owns the reading sequence number: every reading it accepts gets the next `seq`.
// Only 16/32-bit integer arrays: Espruino's Float64Array does not keep 13-digit integers exact (checked on 2v29).
// When full with a spill, its oldest readings leave packed: a header and the slots' 12 bytes each in base64 (16 chars a
// reading); a packed block read back from flash is a buffer of its own, so both use the one decoding below.
import { readErrors, ReadError } from "../contract/payloads";
import { FAILED, NO_TS, SPILL_BLOCK, TWO_32 } from "./bufferLayout";

export { SPILL_BLOCK };

export interface BufferedReading {
  /** set on readings read back from flash: the boot they were taken in */
  boot?: number;
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
   * Call it as a method: it counts on `this` (dropped_).
   */
  push_(up: number, ts: number, t: number, h: number, error?: ReadError): BufferedReading;
  /** removes and returns the oldest reading; `nowUp` (ms since boot) recovers `up` past 2^32 ms */
  shift_(nowUp: number): BufferedReading | null;
  /** readings dropped because the buffer was full (and the spill took none), since boot */
  dropped_: number;
}

/** Takes a packed block of the oldest readings when the buffer is full (to flash); false: they are dropped. */
export type Overflow = (packed: string) => boolean;

/**
 * `overflow`: when full, up to SPILL_BLOCK of the oldest readings go to it packed; without, the oldest one is dropped.
 * `packed`: a block packed by another buffer, read back (its readings keep their seq, up and ts; shift_ needs no nowUp).
 */
export function createReadingBuffer(capacity: number, overflow?: Overflow | 0, packed?: string): ReadingBuffer {
  // the oldest reading's seq, the epoch and (a packed block's header) the newest up: numbers, not the header's array,
  // which this scope would keep for as long as the buffer lives
  let firstSeq = 0;
  let epoch = 0;
  let newestUp = 0;
  let count = 0;
  if (packed) {
    const i = packed.indexOf("]") + 1;
    const head3 = JSON.parse(packed.slice(0, i));
    firstSeq = head3[0];
    epoch = head3[1];
    newestUp = head3[2];
    packed = atob(packed.slice(i)) as string;
    capacity = count = packed.length / 12;
  }
  // 12 bytes a slot in one buffer, column after column (a packed block has the same layout):
  // up modulo 2^32 ms; ts as its distance from the epoch (Unix ms at up = 0), set by the first timestamp; t; h
  const bytes = new Uint8Array(capacity * 12);
  for (let k = 0; k < count * 12; k++) bytes[k] = (packed as string).charCodeAt(k);
  const up = new Uint32Array(bytes.buffer, 0, capacity);
  const ts = new Int32Array(bytes.buffer, capacity * 4, capacity);
  const t = new Int16Array(bytes.buffer, capacity * 8, capacity);
  const h = new Int16Array(bytes.buffer, capacity * 10, capacity);
  let head = 0;
  /** the k-th oldest reading; `remove` (with k 0): the oldest, which leaves */
  const get = (k: number, nowUp: number, remove?: boolean) => {
    const i = (head + k) % capacity;
    // nowUp is never before the reading, so the difference is >= 0
    const u = nowUp - ((nowUp - up[i]) % TWO_32);
    const s = ts[i];
    const r: BufferedReading = { seq: firstSeq + k, up: u, ts: s === NO_TS ? null : u + epoch + s };
    if (t[i] === FAILED) r.error = readErrors()[h[i]];
    else {
      r.temperature = t[i] / 100;
      r.humidity = h[i] / 100;
    }
    if (remove) {
      head = (head + 1) % capacity;
      firstSeq++;
      count--;
    }
    return r;
  };
  return {
    push_(u, stamp, tc, hc, error) {
      if (count === capacity) {
        if (overflow) {
          // the oldest readings packed, and removed: each column's bytes in turn (packed here, not in a closure of its own: RAM)
          const n = Math.min(SPILL_BLOCK, count);
          let s = "";
          [0, 4, 8, 10].forEach((at) => {
            // the column starts at at * capacity; up and ts take 4 bytes a slot, t and h 2
            const w = at < 8 ? 4 : 2;
            for (let k = 0; k < n * w; k++) s += String.fromCharCode(bytes[at * capacity + w * ((head + ((k / w) | 0)) % capacity) + (k % w)]);
          });
          s = JSON.stringify([firstSeq, epoch, u]) + btoa(s);
          head = (head + n) % capacity;
          firstSeq += n;
          count -= n;
          if (!overflow(s)) this.dropped_ += n;
        } else {
          get(0, u, true);
          this.dropped_++;
        }
      }
      const i = (head + count++) % capacity;
      up[i] = u % TWO_32;
      if (stamp && !epoch) epoch = stamp - u;
      // clock corrections after the first stamp fit 32 bits up to +-24 days
      ts[i] = stamp ? stamp - u - epoch : NO_TS;
      t[i] = error ? FAILED : tc;
      h[i] = error ? readErrors().indexOf(error) : hc;
      return get(count - 1, u);
    },
    shift_: (nowUp) => (count ? get(0, nowUp || newestUp, true) : null),
    // a count, not a getter: a closure costs more RAM than a number
    dropped_: 0,
  };
}
