// The seqs stored for one (device, boot) as sorted, disjoint, non-adjacent intervals [lo, hi]: readings
// arrive mostly in order, so a few intervals record what a per-row unique index would, at a fraction of the cost.

export type Interval = [lo: number, hi: number];

/** Whether `seq` lies in one of `ranges` (sorted by lo, disjoint). */
export function covers(ranges: Interval[], seq: number): boolean {
  let a = 0;
  let b = ranges.length - 1;
  while (a <= b) {
    const m = (a + b) >> 1;
    if (seq < ranges[m][0]) b = m - 1;
    else if (seq > ranges[m][1]) a = m + 1;
    else return true;
  }
  return false;
}

/** The union of `ranges` (sorted, disjoint) and `seqs` (any order), adjacent intervals joined. */
export function withSeqs(ranges: Interval[], seqs: number[]): Interval[] {
  const sorted = Float64Array.from(seqs).sort();
  const out: Interval[] = [];
  const push = (lo: number, hi: number) => {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  };
  let i = 0;
  for (const [lo, hi] of ranges) {
    while (i < sorted.length && sorted[i] < lo) push(sorted[i], sorted[i++]);
    push(lo, hi);
  }
  while (i < sorted.length) push(sorted[i], sorted[i++]);
  return out;
}
