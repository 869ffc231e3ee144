// The incremental decoder: any split of the stream gives the same packets; every malformed input becomes
// exactly one protocol error (never a throw), after which all input is ignored (the client starts a new decoder
// with each connection).
import { describe, expect, it } from "vitest";
import { Packet, PublishPacket } from "../../../firmware/mqtt/codec";
import { encode } from "./encode";
import { createDecoder } from "../../../firmware/mqtt/decoder";
import { parseFromBroker } from "../../../firmware/mqtt/parseFromBroker";
import { parseAnyPacket } from "./parseToBroker";
import { FIXTURES } from "./fixtures";
import { comparable, concat, decodeChunks, randomPacket, seededRandom } from "./support";

describe("decoder: split and merged input", () => {
  const rnd = seededRandom(7);
  const packets: Packet[] = FIXTURES.filter((f) => f[2].length < 1000).map((f) => f[1]);
  for (let i = 0; i < 300; i++) packets.push(randomPacket(rnd, 1 + Math.floor(rnd() * 14)));
  const stream = concat(packets.map(encode));

  it("gives the same packets for 200 random splits of one stream", () => {
    for (let run = 0; run < 200; run++) {
      const sizes = Array.from({ length: 50 }, () => 1 + Math.floor(rnd() * (rnd() < 0.5 ? 8 : 400)));
      const r = decodeChunks(stream, sizes);
      expect(r.errors).toEqual([]);
      expect(r.packets.length).toBe(packets.length);
      if (run % 20 == 0) expect(comparable(r.packets)).toEqual(comparable(packets));
    }
  });

  it("splits inside the remaining length field", () => {
    // a 200-byte PUBLISH: header 30, length C8 01; cut between C8 and 01
    const bytes = new Uint8Array(FIXTURES.find((f) => f[0].startsWith("PUBLISH with a 2-byte"))![2]);
    const r = decodeChunks(bytes, [2, 1, 5, 1000]);
    expect(r.errors).toEqual([]);
    expect(r.packets).toHaveLength(1);
  });
});

// [name, bytes, part of the expected error]; every case is also fed one byte at a time
const MALFORMED: [string, number[], string][] = [
  ["packet type 0", [0x00, 0x00], "unknown type 0"],
  ["packet type 15 (MQTT 5 AUTH)", [0xf0, 0x00], "unknown type 15"],
  ["PUBREL with flags 0000", [0x60, 2, 0, 1], "bad flags in type"],
  ["SUBSCRIBE with flags 0000", [0x80, 5, 0, 1, 0, 1, 0x61], "bad flags in type"],
  ["PUBLISH with QoS 3", [0x36, 5, 0, 1, 0x61, 0, 1], "bad flags in type"],
  ["remaining length of 5 bytes", [0x30, 0xff, 0xff, 0xff, 0xff, 0x01], "bad length"],
  ["a packet other than PUBLISH over the size limit", [0x90, 0x88, 0x27 /* 5000 */], "too big: 5003"],
  // an oversized PUBLISH is read past, but what it says about its topic and packet id must hold
  ["oversized PUBLISH QoS 1 whose topic runs past the packet", [0x32, 0x88, 0x27, 0x13, 0x88 /* topic of 5000 */, ...new Array(4998).fill(0x61)], "bad publish"],
  ["oversized PUBLISH QoS 1 with packet id 0", [0x32, 0x88, 0x27, 0, 1, 0x61, 0, 0, ...new Array(4995).fill(0)], "bad publish"],
  ["PUBLISH topic length beyond the packet", [0x30, 3, 0, 10, 0x61], "truncated"],
  ["PUBLISH QoS 1 without a packet id", [0x32, 3, 0, 1, 0x61], "truncated"],
  ["PUBLISH QoS 1 with packet id 0", [0x32, 5, 0, 1, 0x61, 0, 0], "packet id 0"],
  ["PUBLISH topic that is not UTF-8", [0x30, 4, 0, 2, 0xc3, 0x28], "bad UTF-8"],
  ["PUBLISH topic with an overlong encoding", [0x30, 4, 0, 2, 0xc0, 0xaf], "bad UTF-8"],
  ["CONNACK of 1 byte", [0x20, 1, 0], "truncated"],
  ["PUBACK of 1 byte", [0x40, 1, 0], "truncated"],
  ["UNSUBACK with packet id 0", [0xb0, 2, 0, 0], "packet id 0"],
  ["SUBACK without return codes", [0x90, 2, 0, 1], "truncated"],
  ["CONNECT for MQTT 3.1 (MQIsdp)", [0x10, 14, 0, 6, 0x4d, 0x51, 0x49, 0x73, 0x64, 0x70, 3, 2, 0, 60, 0, 0], "unsupported protocol"],
  ["CONNECT with the reserved flag bit", [0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 3, 0, 60, 0, 0], "bad CONNECT flags"],
  ["CONNECT with a password but no user name", [0x10, 14, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x42, 0, 60, 0, 0, 0, 0], "bad CONNECT flags"],
  ["SUBSCRIBE with QoS 3", [0x82, 6, 0, 1, 0, 1, 0x61, 3], "bad SUBSCRIBE QoS"],
  ["UNSUBSCRIBE with no filter", [0xa2, 2, 0, 1], "truncated"],
];

describe("decoder: malformed input becomes one protocol error", () => {
  for (const [name, bytes, why] of MALFORMED) {
    it(name, () => {
      for (const chunk of [bytes.length, 1]) {
        const r = decodeChunks(new Uint8Array(bytes), [chunk], 4096);
        expect(r.packets).toEqual([]);
        expect(r.errors).toHaveLength(1);
        expect(r.errors[0]).toContain(why);
      }
    });
  }

  it("refuses packets a client must never receive when it parses as a client", () => {
    for (const f of FIXTURES.filter((x) => ["CONNECT", "SUBSCRIBE", "UNSUBSCRIBE", "PINGREQ", "DISCONNECT", "PUBREC", "PUBCOMP"].some((n) => x[0].startsWith(n)))) {
      const errors: string[] = [];
      const dec = createDecoder(4096, parseFromBroker, () => errors.push("a packet was delivered"), (e) => errors.push(e));
      dec.feed_(new Uint8Array(f[2]));
      expect(errors, f[0]).toEqual([`unexpected type ${f[1].type}`]);
    }
  });

  it("does not check what the client does not need: extra bytes, reserved flags of other types, SUBACK codes", () => {
    // PUBACK of 3 bytes, PINGRESP with flags 1000, CONNACK with reserved flags, SUBACK with code 3
    const r = decodeChunks(new Uint8Array([0x40, 3, 0, 1, 9, 0xd8, 0, 0x20, 2, 3, 0, 0x90, 3, 0, 1, 3]), [1], 4096);
    expect(r.errors).toEqual([]);
    expect(r.packets).toEqual([
      { type: 4, id: 1 },
      { type: 13 },
      { type: 2, sessionPresent_: true, returnCode_: 0 },
      { type: 9, id: 1, granted_: [3] },
    ]);
  });

  it("ignores all input after an error, even valid packets; a new decoder decodes them", () => {
    const got: Packet[] = [];
    const errors: string[] = [];
    const dec = createDecoder(4096, parseAnyPacket, (p) => got.push(p), (e) => errors.push(e));
    dec.feed_(new Uint8Array([0x00, 0x00, 0xc0, 0x00]));
    dec.feed_(new Uint8Array([0xd0, 0x00]));
    dec.feed_(new Uint8Array([0xf0, 0x00]));
    expect(errors).toHaveLength(1);
    expect(got).toEqual([]);
    expect(dec.buffered_()).toBe(0);
    const fresh = createDecoder(4096, parseAnyPacket, (p) => got.push(p), (e) => errors.push(e));
    fresh.feed_(new Uint8Array([0xd0, 0x00]));
    expect(got).toEqual([{ type: 13 }]);
    expect(errors).toHaveLength(1);
  });

  it("buffers at most one packet body, within the limit, and frees it on error", () => {
    const errors: string[] = [];
    const dec = createDecoder(100, parseAnyPacket, () => {}, (e) => errors.push(e));
    dec.feed_(new Uint8Array([0x30, 98, 0, 1, 0x61])); // 100-byte packet: exactly the limit
    expect(dec.buffered_()).toBe(98);
    dec.feed_(new Uint8Array(95)); // the rest of that packet: delivered and freed
    expect(dec.buffered_()).toBe(0);
    dec.feed_(new Uint8Array([0x90, 99])); // a 101-byte SUBACK: over
    expect(errors).toEqual(["too big: 101"]);
    expect(dec.buffered_()).toBe(0);
    const bad = createDecoder(100, parseAnyPacket, () => {}, (e) => errors.push(e));
    bad.feed_(new Uint8Array([0x30, 98, 0, 200])); // a topic longer than the packet: found when the body is complete
    expect(bad.buffered_()).toBe(98);
    bad.feed_(new Uint8Array(96));
    expect(errors[1]).toContain("truncated");
    expect(bad.buffered_()).toBe(0);
  });

  it("keeps a throwing packet handler from corrupting its state", () => {
    let calls = 0;
    const dec = createDecoder(4096, parseAnyPacket, () => {
      calls++;
      if (calls == 1) throw new Error("app bug");
    }, () => {});
    expect(() => dec.feed_(new Uint8Array([0xd0, 0x00]))).toThrow("app bug");
    dec.feed_(new Uint8Array([0xd0, 0x00]));
    expect(calls).toBe(2);
  });
});

describe("decoder: a PUBLISH over the size limit is read past, not buffered", () => {
  const LIMIT = 100;
  /** a PUBLISH header: type and flags, then the remaining length (7 bits a byte) */
  const head = (flags: number, remaining: number) => {
    const out = [0x30 | flags];
    do out.push((remaining > 127 ? 128 : 0) | (remaining & 127));
    while ((remaining >>= 7));
    return out;
  };
  const CASES: [string, number[], PublishPacket][] = [
    // QoS 1, topic "a/cmd" (5), packet id 0x1234, 200 payload bytes: 209 bytes of body
    ["QoS 1", [...head(0x02, 209), 0, 5, ...Buffer.from("a/cmd"), 0x12, 0x34, ...new Array(200).fill(0x7b)], { type: 3, qos: 1, id: 0x1234, skipped_: true } as PublishPacket],
    // QoS 0 with the retain flag: no packet id, nothing to acknowledge
    ["QoS 0, retained", [...head(0x01, 207), 0, 5, ...Buffer.from("a/cmd"), ...new Array(200).fill(0x7b)], { type: 3, qos: 0, id: 0x7b7b, skipped_: true } as PublishPacket],
    // QoS 2, a topic of 300 bytes (the id comes after it), 1 payload byte
    ["QoS 2, long topic", [...head(0x04, 305), 0x01, 0x2c, ...new Array(300).fill(0x74), 0, 7, 0x7b], { type: 3, qos: 2, id: 7, skipped_: true } as PublishPacket],
    // 64 KB of payload: read past in whole chunks
    ["QoS 1, 64 KB", [...head(0x02, 65545), 0, 5, ...Buffer.from("a/cmd"), 0xff, 0xfe, ...new Array(65536).fill(0)], { type: 3, qos: 1, id: 0xfffe, skipped_: true } as PublishPacket],
  ];
  // a PINGRESP after each, to show the stream goes on
  for (const [name, bytes, skipped] of CASES) {
    it(name, () => {
      for (const chunk of [bytes.length + 2, 1, 7, 1000]) {
        const got: Packet[] = [];
        const errors: string[] = [];
        const dec = createDecoder(LIMIT, parseFromBroker, (p) => got.push(p), (e) => errors.push(e));
        const all = new Uint8Array([...bytes, 0xd0, 0]);
        for (let pos = 0; pos < all.length; pos += chunk) {
          dec.feed_(all.subarray(pos, pos + chunk));
          expect(dec.buffered_()).toBe(0);
        }
        expect(errors).toEqual([]);
        const want = skipped.qos ? skipped : { ...skipped, id: got[0] && (got[0] as { id?: number }).id };
        expect(got).toEqual([want, { type: 13 }]);
      }
    });
  }

  it("a PUBLISH of exactly the limit is still delivered whole", () => {
    const r = decodeChunks(new Uint8Array([...head(0x02, 98), 0, 1, 0x61, 0, 9, ...new Array(93).fill(0x20)]), [1], LIMIT);
    expect(r.errors).toEqual([]);
    expect(r.packets).toMatchObject([{ type: 3, topic: "a", qos: 1, id: 9 }]);
    expect((r.packets[0] as { payload: Uint8Array }).payload.length).toBe(93);
  });
});
