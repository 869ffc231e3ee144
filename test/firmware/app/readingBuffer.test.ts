import { describe, expect, it } from "vitest";
import { createReadingBuffer, ReadingBuffer } from "../../../firmware/app/readingBuffer";

/** Shifts until empty: the seqs left, oldest first. */
function drain(b: ReadingBuffer, nowUp: number): number[] {
  const seqs: number[] = [];
  for (let r = b.shift_(nowUp); r; r = b.shift_(nowUp)) seqs.push(r.seq);
  return seqs;
}

describe("createReadingBuffer", () => {
  it("returns readings oldest first with their seq, values from hundredths and errors", () => {
    const b = createReadingBuffer(5);
    expect(b.push_(1000, 0, 2145, 4820).seq).toBe(0);
    expect(b.push_(2000, 0, NaN, NaN, "checksum").seq).toBe(1);
    expect(b.push_(3000, 0, -3999, 10000).seq).toBe(2);
    expect(b.shift_(3000)).toEqual({ seq: 0, up: 1000, ts: null, temperature: 21.45, humidity: 48.2 });
    expect(b.shift_(3000)).toEqual({ seq: 1, up: 2000, ts: null, error: "checksum" });
    expect(b.shift_(3000)).toEqual({ seq: 2, up: 3000, ts: null, temperature: -39.99, humidity: 100 });
    expect(b.shift_(3000)).toBeNull();
    expect(b.push_(4000, 0, 100, 100).seq).toBe(3);
  });

  it("push returns the reading as stored, and leaves it in place", () => {
    const b = createReadingBuffer(2);
    b.push_(1000, 0, 2000, 5000);
    expect(b.push_(2000, 1_763_000_000_123, 0, 0, "timeout")).toEqual({ seq: 1, up: 2000, ts: 1_763_000_000_123, error: "timeout" });
    expect(b.push_(3000, 1_763_000_001_123, -50, 9999)).toEqual({ seq: 2, up: 3000, ts: 1_763_000_001_123, temperature: -0.5, humidity: 99.99 });
    expect(b.shift_(3000)!.seq).toBe(1);
    expect(b.shift_(3000)).toEqual({ seq: 2, up: 3000, ts: 1_763_000_001_123, temperature: -0.5, humidity: 99.99 });
    expect(b.shift_(3000)).toBeNull();
  });

  it("drops the oldest when full and counts the drops", () => {
    const b = createReadingBuffer(3);
    for (let i = 0; i < 7; i++) b.push_(i * 1000, 0, i * 100, i * 100);
    expect(b.dropped_).toBe(4);
    expect(drain(b, 7000)).toEqual([4, 5, 6]);
  });

  it("keeps exact Unix-ms timestamps (13 digits) in 32-bit columns, including clock corrections", () => {
    const b = createReadingBuffer(4);
    b.push_(500, 0, 100, 100);
    b.push_(10_000, 1_763_000_000_123, 100, 100);
    b.push_(20_000, 1_763_000_010_123 + 750, 100, 100); // SNTP nudged the clock by 750 ms
    b.push_(30_000, 1_763_000_020_123 - 2_000_000, 100, 100); // a big step back
    expect(b.shift_(30_000)!.ts).toBeNull();
    expect(b.shift_(30_000)!.ts).toBe(1_763_000_000_123);
    expect(b.shift_(30_000)!.ts).toBe(1_763_000_010_873);
    expect(b.shift_(30_000)!.ts).toBe(1_762_998_020_123);
  });

  it("recovers uptimes past 2^32 ms (49.7 days) from the current uptime", () => {
    const b = createReadingBuffer(2);
    const day60 = 60 * 86_400_000;
    b.push_(day60, 0, 100, 100);
    b.push_(day60 + 10_000, 0, 100, 100);
    expect(b.shift_(day60 + 20_000)!.up).toBe(day60);
    expect(b.shift_(day60 + 20_000)!.up).toBe(day60 + 10_000);
  });
});
