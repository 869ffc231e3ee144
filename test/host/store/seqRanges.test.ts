import { describe, expect, it } from "vitest";
import { covers, Interval, withSeqs } from "../../../host/store/seqRanges";

describe("seq ranges", () => {
  it("joins seqs into intervals, adjacent ones merged", () => {
    expect(withSeqs([], [3, 1, 2, 7, 5])).toEqual([[1, 3], [5, 5], [7, 7]]);
    expect(withSeqs([[1, 3], [7, 7]], [4, 6])).toEqual([[1, 4], [6, 7]]);
    expect(withSeqs([[1, 3], [5, 9]], [4])).toEqual([[1, 9]]);
    expect(withSeqs([[10, 20]], [0, 15, 30])).toEqual([[0, 0], [10, 20], [30, 30]]);
  });

  it("tells covered seqs from others", () => {
    const r: Interval[] = [[0, 0], [10, 20], [30, 31]];
    expect([-1, 0, 1, 9, 10, 15, 20, 21, 29, 30, 31, 32].map((s) => covers(r, s))).toEqual([false, true, false, false, true, true, true, false, false, true, true, false]);
    expect(covers([], 0)).toBe(false);
  });

  it("agrees with a plain set over random arrivals", () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    let ranges: Interval[] = [];
    const set = new Set<number>();
    for (let batch = 0; batch < 200; batch++) {
      const seqs = Array.from({ length: 1 + rand(30) }, () => rand(400));
      for (let s = 0; s < 400; s++) expect(covers(ranges, s)).toBe(set.has(s));
      ranges = withSeqs(ranges, seqs);
      for (const s of seqs) set.add(s);
      for (let k = 1; k < ranges.length; k++) expect(ranges[k][0]).toBeGreaterThan(ranges[k - 1][1] + 1);
    }
  });
});
