// Every fixture four ways (the mqtt-packet model): encode, decode, round trip, and fed one byte at a time.
import { describe, expect, it } from "vitest";
import { encode } from "./encode";
import { FIXTURES } from "./fixtures";
import { comparable, concat, decodeChunks } from "./support";

describe("MQTT codec fixtures", () => {
  for (const [name, packet, bytes] of FIXTURES) {
    describe(name, () => {
      const expected = new Uint8Array(bytes);
      it("encodes to the exact bytes", () => {
        expect(Buffer.from(encode(packet)).equals(Buffer.from(expected))).toBe(true);
      });
      it("decodes from the bytes", () => {
        const r = decodeChunks(expected);
        expect(r.errors).toEqual([]);
        expect(comparable(r.packets)).toEqual(comparable([packet]));
      });
      it("round-trips", () => {
        expect(comparable(decodeChunks(encode(packet)).packets)).toEqual(comparable([packet]));
      });
      it("decodes when fed one byte at a time", () => {
        // the 2 MB fixture goes in 997-byte chunks to keep the run short; every other one byte by byte
        const r = decodeChunks(expected, [expected.length > 100_000 ? 997 : 1]);
        expect(r.errors).toEqual([]);
        expect(comparable(r.packets)).toEqual(comparable([packet]));
      });
    });
  }

  it("decodes all small fixtures merged into one stream, byte by byte", () => {
    const small = FIXTURES.filter((f) => f[2].length < 1000);
    const r = decodeChunks(concat(small.map((f) => new Uint8Array(f[2]))), [1]);
    expect(r.errors).toEqual([]);
    expect(r.packets).toEqual(small.map((f) => f[1]));
  });
});
