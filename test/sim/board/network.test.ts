// Socket data reaches the firmware in arbitrary chunks: every split point is possible, nothing is lost.
import { describe, expect, it } from "vitest";
import { splitChunks } from "../../../sim/board/network";
import { createPrng } from "../../../sim/prng";

describe("socket chunking", () => {
  it("splits at random points, down to single bytes, and reassembles exactly", () => {
    const prng = createPrng(11);
    const sizes = new Set<number>();
    let wholes = 0;
    for (let n = 0; n < 2000; n++) {
      const buf = Buffer.from(Array.from({ length: 1 + (n % 97) }, (_, i) => (i * 31 + n) & 0xff));
      const chunks = splitChunks(buf, prng);
      expect(chunks.join("")).toBe(buf.toString("latin1"));
      expect(chunks.every((c) => c.length > 0)).toBe(true);
      if (chunks.length === 1) wholes++;
      for (const c of chunks) sizes.add(c.length);
    }
    expect(sizes.has(1)).toBe(true);
    expect(sizes.size).toBeGreaterThan(50);
    // some packets arrive whole, most do not
    expect(wholes).toBeGreaterThan(100);
    expect(wholes).toBeLessThan(1500);
  });
});
