// The one definition of how reading rows travel from the ingest thread to the store writer (another thread):
// numbers in one Float64Array at the offsets below, device ids once per batch, read errors as codes.
import { isFailedReading, READ_ERRORS, Reading } from "../../firmware/contract";

/** where each number of row i sits in `nums`, counted from i * NUMS_PER_ROW; NaN stands for SQL NULL */
export const ROW = { boot: 0, seq: 1, t: 2, ts: 3, received: 4, up: 5, temperature: 6, humidity: 7 } as const;
export const NUMS_PER_ROW = 8;

/** Reading rows packed for cheap hand-over between threads (the typed arrays are transferred, not copied). */
export interface PackedRows {
  n: number;
  /** distinct device ids of this batch */
  ids: string[];
  /** per row: index into ids */
  device: Uint32Array;
  nums: Float64Array;
  /** per row: 0 = a reading with values, else 1 + index into READ_ERRORS */
  errors: Uint8Array;
}

function emptyRows(): PackedRows {
  return { n: 0, ids: [], device: new Uint32Array(0), nums: new Float64Array(0), errors: new Uint8Array(0) };
}

/** rows a fresh batch has room for; it doubles up to the packer's capacity as rows come */
const FIRST_ROOM = 256;

function withRoom(b: PackedRows, room: number): PackedRows {
  const r = { n: b.n, ids: b.ids, device: new Uint32Array(room), nums: new Float64Array(room * NUMS_PER_ROW), errors: new Uint8Array(room) };
  r.device.set(b.device.subarray(0, b.n));
  r.nums.set(b.nums.subarray(0, b.n * NUMS_PER_ROW));
  r.errors.set(b.errors.subarray(0, b.n));
  return r;
}

/** Packs readings into batches of at most `capacity` rows. */
export class RowPacker {
  private rows: PackedRows;
  private index = new Map<string, number>();
  constructor(private readonly capacity: number) {
    this.rows = this.fresh();
  }
  private fresh(): PackedRows {
    this.index = new Map();
    return withRoom(emptyRows(), Math.min(FIRST_ROOM, this.capacity));
  }
  get length(): number {
    return this.rows.n;
  }
  get full(): boolean {
    return this.rows.n >= this.capacity;
  }
  add(r: Reading, receivedAt: number): void {
    if (this.rows.n === this.rows.device.length) this.rows = withRoom(this.rows, Math.min(this.rows.n * 2, this.capacity));
    const b = this.rows;
    const o = b.n * NUMS_PER_ROW;
    const failed = isFailedReading(r);
    let d = this.index.get(r.id);
    if (d === undefined) {
      d = b.ids.length;
      b.ids.push(r.id);
      this.index.set(r.id, d);
    }
    b.device[b.n] = d;
    b.nums[o + ROW.boot] = r.boot;
    b.nums[o + ROW.seq] = r.seq;
    b.nums[o + ROW.t] = r.ts ?? receivedAt;
    b.nums[o + ROW.ts] = r.ts ?? NaN;
    b.nums[o + ROW.received] = receivedAt;
    b.nums[o + ROW.up] = r.up;
    b.nums[o + ROW.temperature] = failed ? NaN : r.temperature;
    b.nums[o + ROW.humidity] = failed ? NaN : r.humidity;
    b.errors[b.n] = failed ? READ_ERRORS.indexOf(r.error) + 1 : 0;
    b.n++;
  }
  /** Hands out the packed rows and starts a new batch. */
  take(): PackedRows {
    const b = this.rows;
    this.rows = this.fresh();
    return b;
  }
}
