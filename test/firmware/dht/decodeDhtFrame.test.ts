import { describe, expect, it } from "vitest";
import { decodeDhtFrame } from "../../../firmware/dht/decodeDhtFrame";
import { frameBits, train41, train42, withChecksum } from "./dhtFrames";

describe("decodeDhtFrame: DHT22", () => {
  const cases: [string, number[], number, number][] = [
    // name, bytes (RH hi, RH lo, T hi, T lo), temperature, humidity
    ["21.4 C 48.2 %", withChecksum(0x01, 0xe2, 0x00, 0xd6), 21.4, 48.2],
    ["sign-magnitude -10.1 C", withChecksum(0x02, 0x8a, 0x80, 0x65), -10.1, 65],
    ["sign-magnitude -40.0 C", withChecksum(0x00, 0x64, 0x81, 0x90), -40, 10],
    ["two's complement clone -10.0 C", withChecksum(0x01, 0xf4, 0xff, 0x9c), -10, 50],
    ["0 % and 80 C (limits)", withChecksum(0x00, 0x00, 0x03, 0x20), 80, 0],
    ["100.0 %", withChecksum(0x03, 0xe8, 0x00, 0xc8), 20, 100],
  ];
  for (const [name, bytes, t, h] of cases) {
    it(`${name} from a 42-edge train`, () => {
      expect(decodeDhtFrame(train42(bytes), 42, "dht22")).toEqual({ ok: true, temperature: t, humidity: h });
    });
    it(`${name} from a 41-edge train`, () => {
      expect(decodeDhtFrame(train41(bytes), 41, "dht22")).toEqual({ ok: true, temperature: t, humidity: h });
    });
  }

  it("decodes exactly 40 edges", () => {
    const bytes = withChecksum(0x01, 0xe2, 0x00, 0xd6);
    expect(decodeDhtFrame(frameBits(bytes), 40, "dht22")).toEqual({ ok: true, temperature: 21.4, humidity: 48.2 });
  });

  it("reports a checksum error when one bit flipped", () => {
    const edges = train42(withChecksum(0x01, 0xe2, 0x00, 0xd6));
    edges[20] = edges[20] === 70 ? 27 : 70;
    expect(decodeDhtFrame(edges, 42, "dht22")).toEqual({ ok: false, error: "checksum" });
  });

  it("reports a checksum error when the wrong 40 edges are taken (the stock module's fixed offset bug)", () => {
    const edges = train42(withChecksum(0x01, 0xe2, 0x00, 0xd6)).concat([70]);
    expect(decodeDhtFrame(edges, 43, "dht22")).toEqual({ ok: false, error: "checksum" });
  });

  it("reports a timeout for a short frame", () => {
    const edges = train42(withChecksum(0x01, 0xe2, 0x00, 0xd6)).slice(0, 39);
    expect(decodeDhtFrame(edges, 39, "dht22")).toEqual({ ok: false, error: "timeout" });
    expect(decodeDhtFrame([], 0, "dht22")).toEqual({ ok: false, error: "timeout" });
  });

  it("rejects humidity above 100 % and temperature beyond -40..80 C", () => {
    expect(decodeDhtFrame(train42(withChecksum(0x03, 0xe9, 0x00, 0xc8)), 42, "dht22")).toEqual({ ok: false, error: "range" });
    expect(decodeDhtFrame(train42(withChecksum(0x01, 0xe2, 0x03, 0x21)), 42, "dht22")).toEqual({ ok: false, error: "range" });
    // 0xFFFC: -3276.4 C as sign-magnitude is impossible, so the clone's two's complement -0.4 C is taken
    expect(decodeDhtFrame(train42(withChecksum(0x01, 0xe2, 0xff, 0xfc)), 42, "dht22")).toEqual({ ok: true, temperature: -0.4, humidity: 48.2 });
    // 0xFE0C: -3226.8 C sign-magnitude, -50.0 C two's complement: impossible either way
    expect(decodeDhtFrame(train42(withChecksum(0x01, 0xe2, 0xfe, 0x0c)), 42, "dht22")).toEqual({ ok: false, error: "range" });
  });

  it("accepts an all-zero frame as 0 C 0 % (checksum 0 is valid, values possible)", () => {
    expect(decodeDhtFrame(train42([0, 0, 0, 0, 0]), 42, "dht22")).toEqual({ ok: true, temperature: 0, humidity: 0 });
  });
});

describe("decodeDhtFrame: DHT11", () => {
  it("reads integer and decimal bytes", () => {
    expect(decodeDhtFrame(train42(withChecksum(45, 3, 23, 7)), 42, "dht11")).toEqual({ ok: true, temperature: 23.7, humidity: 45.3 });
  });
  it("reads old parts without decimals", () => {
    expect(decodeDhtFrame(train41(withChecksum(15, 0, 19, 0)), 41, "dht11")).toEqual({ ok: true, temperature: 19, humidity: 15 });
  });
  it("keeps 15 % (below the accuracy range, still possible)", () => {
    expect(decodeDhtFrame(train42(withChecksum(15, 2, 25, 1)), 42, "dht11")).toEqual({ ok: true, temperature: 25.1, humidity: 15.2 });
  });
  it("rejects values the part cannot produce", () => {
    expect(decodeDhtFrame(train42(withChecksum(101, 0, 25, 0)), 42, "dht11")).toEqual({ ok: false, error: "range" });
    expect(decodeDhtFrame(train42(withChecksum(40, 0, 61, 0)), 42, "dht11")).toEqual({ ok: false, error: "range" });
    expect(decodeDhtFrame(train42(withChecksum(40, 0, 2, 0x85)), 42, "dht11")).toEqual({ ok: false, error: "range" });
  });
  it("reports checksum and timeout errors", () => {
    const bytes = withChecksum(45, 3, 23, 7);
    bytes[4] ^= 1;
    expect(decodeDhtFrame(train42(bytes), 42, "dht11")).toEqual({ ok: false, error: "checksum" });
    expect(decodeDhtFrame(train42(bytes).slice(0, 20), 20, "dht11")).toEqual({ ok: false, error: "timeout" });
  });
});

describe("decodeDhtFrame: ring buffer input", () => {
  it("decodes from a 48-slot ring after noise wrapped it", () => {
    const edges = [70, 27, 70, 27, 70, 27, 70, 27, 70, 30, 80].concat(frameBits(withChecksum(0x01, 0xe2, 0x80, 0x65)));
    const ring = new Uint8Array(48);
    edges.forEach((us, i) => { ring[i % 48] = us; });
    expect(decodeDhtFrame(ring, edges.length, "dht22")).toEqual({ ok: true, temperature: -10.1, humidity: 48.2 });
  });
});
