// Seeded fuzzing of the decoder with random bytes and mutated valid packets, fed in random chunks:
// it must never throw, never hold more than maxPacketSize + 5 bytes, and whatever it accepts must be
// a packet our encoder can write back and read again identically.
import { describe, expect, it } from "vitest";
import { Packet } from "../../../firmware/mqtt/codec";
import { encode } from "./encode";
import { createDecoder } from "../../../firmware/mqtt/decoder";
import { parseFromBroker } from "../../../firmware/mqtt/parseFromBroker";
import { parseAnyPacket } from "./parseToBroker";
import { FIXTURES } from "./fixtures";
import { comparable, decodeChunks, randomPacket, seededRandom } from "./support";

const CASES = 12_000;
const MAX_PACKET = 512;

function mutate(rnd: () => number, input: Uint8Array): Uint8Array {
  const b = Array.from(input);
  const int = (n: number) => Math.floor(rnd() * n);
  const edits = 1 + int(4);
  for (let e = 0; e < edits; e++) {
    const at = int(b.length + 1);
    switch (int(7)) {
      case 0: b[at] = int(256); break; // overwrite a byte
      case 1: b.splice(at, 0, int(256)); break; // insert a byte
      case 2: b.splice(at, 1); break; // delete a byte
      case 3: b.length = int(b.length + 1); break; // truncate
      case 4: b[int(2)] = [0x7f, 0xff, 0x80, 0][int(4)]; break; // damage the header / remaining length
      case 5: b.push(...b.slice(0, int(b.length + 1))); break; // repeat a prefix (merged packets)
      default: b[at] ^= 1 << int(8); // flip a bit
    }
  }
  return new Uint8Array(b.map((x) => (x ?? 0) & 255));
}

describe("decoder fuzz", () => {
  it(`survives ${CASES} random and mutated inputs within its memory bound`, () => {
    const rnd = seededRandom(20261123);
    const int = (n: number) => Math.floor(rnd() * n);
    const corpus = FIXTURES.filter((f) => f[2].length < 1000).map((f) => new Uint8Array(f[2]));
    let accepted = 0;
    let errors = 0;
    let maxBuffered = 0;
    for (let c = 0; c < CASES; c++) {
      let input: Uint8Array;
      const kind = c % 3;
      if (kind == 0) input = new Uint8Array(Array.from({ length: int(300) }, () => int(256)));
      else if (kind == 1) input = mutate(rnd, corpus[int(corpus.length)]);
      else input = mutate(rnd, encode(randomPacket(rnd, 1 + int(14))));
      const got: Packet[] = [];
      let errorCount = 0;
      const dec = createDecoder(MAX_PACKET, c % 2 ? parseAnyPacket : parseFromBroker, (p) => got.push(p), () => errorCount++);
      for (let pos = 0; pos < input.length; ) {
        const n = 1 + int(64);
        expect(() => dec.feed_(input.subarray(pos, pos + n))).not.toThrow();
        pos += n;
        maxBuffered = Math.max(maxBuffered, dec.buffered_());
        expect(dec.buffered_()).toBeLessThanOrEqual(MAX_PACKET + 5);
      }
      expect(errorCount).toBeLessThanOrEqual(1);
      errors += errorCount;
      accepted += got.length;
      // whatever was accepted is a well-formed packet: it re-encodes and decodes to the same thing; an oversized
      // PUBLISH read past carries only what acknowledging it needs
      for (const p of got) {
        if ("skipped_" in p) expect(p.qos === 0 || (p.id! >= 1 && p.id! <= 65535)).toBe(true);
        else expect(comparable(decodeChunks(encode(p)).packets)).toEqual(comparable([p]));
      }
    }
    console.log(`decoder fuzz: ${CASES} cases, ${accepted} packets accepted, ${errors} protocol errors, largest buffer ${maxBuffered} bytes (limit ${MAX_PACKET})`);
    expect(errors).toBeGreaterThan(CASES / 3);
    expect(accepted).toBeGreaterThan(CASES / 10);
  });
});
