// De-duplicates a batch of reading rows on (device, boot, seq) against seq_ranges and records the new seqs
// there; runs inside the batch's transaction, one small range lookup per device and boot in the batch.
import type Database from "better-sqlite3";
import { covers, Interval, withSeqs } from "./seqRanges";
import { NUMS_PER_ROW, PackedRows, ROW } from "./rowFormat";

export class SeqDedup {
  private readonly load: Database.Statement;
  private readonly drop: Database.Statement;
  private readonly put: Database.Statement;

  constructor(db: Database.Database) {
    // the last range starting at or before `from`, and every later one starting by `to`: all that may hold or touch [from, to]
    this.load = db
      .prepare(
        `SELECT lo, hi FROM seq_ranges WHERE device = @d AND boot = @b AND lo <= @to
           AND lo >= coalesce((SELECT max(lo) FROM seq_ranges WHERE device = @d AND boot = @b AND lo <= @from), @from)
         ORDER BY lo`,
      )
      .raw();
    this.drop = db.prepare("DELETE FROM seq_ranges WHERE device = ? AND boot = ? AND lo = ?");
    this.put = db.prepare("INSERT INTO seq_ranges (device, boot, lo, hi) VALUES (?, ?, ?, ?)");
  }

  /**
   * The rows whose (device, boot, seq) is not stored yet (the first of repeats within the batch), device by
   * device (consecutive inserts then land on the same pages), and records their seqs as stored. `keys` maps
   * the batch's device index to the device key.
   */
  select(rows: PackedRows, keys: number[]): number[] {
    const groups = new Map<number, Map<number, number[]>>();
    for (let i = 0; i < rows.n; i++) {
      const d = rows.device[i];
      const boot = rows.nums[i * NUMS_PER_ROW + ROW.boot];
      let byBoot = groups.get(d);
      if (!byBoot) groups.set(d, (byBoot = new Map()));
      const idx = byBoot.get(boot);
      if (idx) idx.push(i);
      else byBoot.set(boot, [i]);
    }
    const keep: number[] = [];
    for (const [d, byBoot] of groups) for (const [boot, idx] of byBoot) this.selectGroup(rows, keys[d], boot, idx, keep);
    return keep;
  }

  private selectGroup(rows: PackedRows, key: number, boot: number, idx: number[], keep: number[]): void {
    let min = Infinity;
    let max = -Infinity;
    for (const i of idx) {
      const seq = rows.nums[i * NUMS_PER_ROW + ROW.seq];
      if (seq < min) min = seq;
      if (seq > max) max = seq;
    }
    const ranges = this.load.all({ d: key, b: boot, from: min - 1, to: max + 1 }) as Interval[];
    const added = new Set<number>();
    for (const i of idx) {
      const seq = rows.nums[i * NUMS_PER_ROW + ROW.seq];
      if (covers(ranges, seq) || added.has(seq)) continue;
      added.add(seq);
      keep.push(i);
    }
    if (added.size === 0) return;
    for (const [lo] of ranges) this.drop.run(key, boot, lo);
    for (const [lo, hi] of withSeqs(ranges, [...added])) this.put.run(key, boot, lo, hi);
  }
}
