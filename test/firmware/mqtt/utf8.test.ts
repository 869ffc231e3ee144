// Our UTF-8 against Node's (Buffer) for UTF-16 strings, the byte pass-through used on Espruino (unchecked there),
// and the ill-formed sequences MQTT says must close the connection (refused on Node).
import { describe, expect, it } from "vitest";
import { utf8Decode, utf8Encode, WIDE_STRINGS } from "../../../firmware/mqtt/utf8";
import { seededRandom } from "./support";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("utf8 with UTF-16 strings (Node: simulator and tests)", () => {
  it("knows it runs on wide strings here", () => {
    expect(WIDE_STRINGS).toBe(true);
  });

  it("matches Buffer on 2,000 random strings with 1- to 4-byte characters", () => {
    const rnd = seededRandom(99);
    const pick = [0x41, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x20ac, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff];
    for (let n = 0; n < 2000; n++) {
      const cps = Array.from({ length: Math.floor(rnd() * 12) }, () => (rnd() < 0.5 ? pick[Math.floor(rnd() * pick.length)] : Math.floor(rnd() * 0x110000)))
        .filter((c) => c < 0xd800 || c > 0xdfff);
      const s = String.fromCodePoint(...cps);
      const bytes = utf8Encode(s);
      expect(hex(bytes)).toBe(Buffer.from(s, "utf8").toString("hex"));
      expect(utf8Decode(bytes)).toBe(s);
    }
  });

  it("encodes lone surrogates as U+FFFD, like Buffer", () => {
    for (const s of ["\ud83d", "a\ude00b", "\ude00\ud83d"]) expect(hex(utf8Encode(s))).toBe(Buffer.from(s, "utf8").toString("hex"));
  });
});

describe("utf8 on 8-bit strings (Espruino): bytes pass through", () => {
  it("encodes each char as its byte and decodes bytes back to chars", () => {
    const bytes = [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80];
    const s = String.fromCharCode(...bytes);
    expect(Array.from(utf8Encode(s, true))).toEqual(bytes);
    expect(utf8Decode(new Uint8Array(bytes), true)).toBe(s);
  });

  it("does not check them: ill-formed bytes pass through too (the lead's size cut; Node still refuses them)", () => {
    expect(utf8Decode(new Uint8Array([0xc3, 0x28]), true)).toBe("\xc3(");
    expect(utf8Decode(new Uint8Array([0xc3, 0x28]))).toBeNull();
  });
});

describe("utf8Decode refuses ill-formed input", () => {
  const BAD: [string, number[]][] = [
    ["a lone continuation byte", [0x80]],
    ["a truncated 2-byte character", [0xc3]],
    ["a truncated 4-byte character", [0xf0, 0x9f, 0x98]],
    ["a bad continuation", [0xe2, 0x28, 0xa1]],
    ["an overlong '/' (C0 AF)", [0xc0, 0xaf]],
    ["an overlong 3-byte form", [0xe0, 0x80, 0xaf]],
    ["an overlong 4-byte form", [0xf0, 0x80, 0x80, 0xaf]],
    ["an encoded surrogate (U+D800)", [0xed, 0xa0, 0x80]],
    ["a code point above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["byte F5", [0xf5, 0x80, 0x80, 0x80]],
    ["byte FF", [0xff]],
  ];
  for (const [name, bytes] of BAD) {
    it(name, () => {
      expect(utf8Decode(new Uint8Array(bytes))).toBeNull();
      expect(() => new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes))).toThrow();
    });
  }

  it("agrees with a fatal TextDecoder on 20,000 random byte strings (the 8-bit path passes every one through)", () => {
    const rnd = seededRandom(5);
    const fatal = new TextDecoder("utf-8", { fatal: true });
    // bytes near the boundaries of the lead and continuation ranges, so that most strings are close calls
    const pick = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff];
    let valid = 0;
    for (let n = 0; n < 20_000; n++) {
      let b = new Uint8Array(Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => pick[Math.floor(rnd() * pick.length)]));
      if (n % 2) {
        // a valid string of 1- to 4-byte characters, one byte of it replaced half the time
        const cps = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => [0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x10ffff][Math.floor(rnd() * 9)]);
        b = new Uint8Array(Buffer.from(String.fromCodePoint(...cps), "utf8"));
        if (rnd() < 0.5) b[Math.floor(rnd() * b.length)] = pick[Math.floor(rnd() * pick.length)];
      }
      let expected: string | null = null;
      try {
        expected = fatal.decode(b);
      } catch {
        expected = null;
      }
      if (expected != null) valid++;
      expect(utf8Decode(b), hex(b)).toBe(expected);
      expect(utf8Decode(b, true), hex(b)).toBe(Buffer.from(b).toString("latin1"));
    }
    expect(valid).toBeGreaterThan(4000);
    expect(valid).toBeLessThan(16_000);
  });
});
