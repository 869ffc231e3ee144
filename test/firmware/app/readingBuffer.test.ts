import { describe, expect, it } from "vitest";
import { createReadingBuffer } from "../../../firmware/app/readingBuffer";

describe("createReadingBuffer", () => {
  it("returns readings oldest first with their seq, values in hundredths and errors", () => {
    const b = createReadingBuffer(5);
    expect(b.push_(1000, null, 21.45, 48.2, null)).toBe(0);
    expect(b.push_(2000, null, 0, 0, "checksum")).toBe(1);
    expect(b.push_(3000, null, -39.99, 100, null)).toBe(2);
    expect(b.size_()).toBe(3);
    expect(b.shift_(3000)).toEqual({ seq: 0, up: 1000, ts: null, temperature: 21.45, humidity: 48.2 });
    expect(b.shift_(3000)).toEqual({ seq: 1, up: 2000, ts: null, error: "checksum" });
    expect(b.shift_(3000)).toEqual({ seq: 2, up: 3000, ts: null, temperature: -39.99, humidity: 100 });
    expect(b.shift_(3000)).toBeNull();
    expect(b.push_(4000, null, 1, 1, null)).toBe(3);
  });

  it("shows the newest reading without removing it", () => {
    const b = createReadingBuffer(2);
    b.push_(1000, null, 20, 50, null);
    b.push_(2000, 1_763_000_000_123, 0, 0, "timeout");
    expect(b.newest_(2000)).toEqual({ seq: 1, up: 2000, ts: 1_763_000_000_123, error: "timeout" });
    b.push_(3000, 1_763_000_001_123, -0.5, 99.99, null);
    expect(b.newest_(3000)).toEqual({ seq: 2, up: 3000, ts: 1_763_000_001_123, temperature: -0.5, humidity: 99.99 });
    expect(b.size_()).toBe(2);
    expect(b.shift_(3000)!.seq).toBe(1);
  });

  it("drops the oldest when full and counts the drops", () => {
    const b = createReadingBuffer(3);
    for (let i = 0; i < 7; i++) b.push_(i * 1000, null, i, i, null);
    expect(b.dropped_()).toBe(4);
    expect(b.size_()).toBe(3);
    expect([b.shift_(7000)!.seq, b.shift_(7000)!.seq, b.shift_(7000)!.seq]).toEqual([4, 5, 6]);
  });

  it("keeps exact Unix-ms timestamps (13 digits) in 32-bit columns, including clock corrections", () => {
    const b = createReadingBuffer(4);
    b.push_(500, null, 1, 1, null);
    b.push_(10_000, 1_763_000_000_123, 1, 1, null);
    b.push_(20_000, 1_763_000_010_123 + 750, 1, 1, null); // SNTP nudged the clock by 750 ms
    b.push_(30_000, 1_763_000_020_123 - 2_000_000, 1, 1, null); // a big step back
    expect(b.shift_(30_000)!.ts).toBeNull();
    expect(b.shift_(30_000)!.ts).toBe(1_763_000_000_123);
    expect(b.shift_(30_000)!.ts).toBe(1_763_000_010_873);
    expect(b.shift_(30_000)!.ts).toBe(1_762_998_020_123);
  });

  it("recovers uptimes past 2^32 ms (49.7 days) from the current uptime", () => {
    const b = createReadingBuffer(2);
    const day60 = 60 * 86_400_000;
    b.push_(day60, null, 1, 1, null);
    b.push_(day60 + 10_000, null, 1, 1, null);
    expect(b.shift_(day60 + 20_000)!.up).toBe(day60);
    expect(b.shift_(day60 + 20_000)!.up).toBe(day60 + 10_000);
  });
});
