// Helpers shared by the MQTT codec tests: decode through the real incremental decoder.
import { Packet, PacketType } from "../../../firmware/mqtt/codec";
import { createDecoder } from "../../../firmware/mqtt/decoder";
import { parseAnyPacket } from "./parseToBroker";

export interface DecodeResult {
  packets: Packet[];
  errors: string[];
}

/** feeds `data` in chunks of the given sizes (cycled), collecting packets and errors */
export function decodeChunks(data: Uint8Array, chunkSizes: number[] = [data.length || 1], maxPacketSize = 4 * 1024 * 1024): DecodeResult {
  const out: DecodeResult = { packets: [], errors: [] };
  const dec = createDecoder(maxPacketSize, parseAnyPacket, (p) => out.packets.push(p), (e) => out.errors.push(e));
  for (let pos = 0, k = 0; pos < data.length; k++) {
    const n = Math.max(1, chunkSizes[k % chunkSizes.length]);
    dec.feed_(data.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** packets with payloads as hex strings: quick to compare even for megabyte payloads */
export function comparable(packets: Packet[]): unknown[] {
  return packets.map((p) => ("payload" in p ? { ...p, payload: Buffer.from(p.payload).toString("hex") } : p));
}

/** a small seeded PRNG (mulberry32): the same seed gives the same cases on every run */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ["a", "b", "/", "z", "0", "-", "_", " ", "é", "€", "😀", "ü", "中"];

/** a random valid packet of the given type (1..14) */
export function randomPacket(rnd: () => number, type: number): Packet {
  const int = (n: number) => Math.floor(rnd() * n);
  const text = (max: number) => Array.from({ length: int(max + 1) }, () => ALPHABET[int(ALPHABET.length)]).join("");
  const topic = () => "t" + text(20);
  const id = () => 1 + int(65535);
  const payload = () => new Uint8Array(Array.from({ length: int(rnd() < 0.1 ? 600 : 40) }, () => int(256)));
  const bool = () => rnd() < 0.5;
  switch (type) {
    case PacketType.Connect: {
      const clean = bool();
      // an empty client id needs a clean session (mqtt-packet refuses to generate anything else)
      const p: Packet = { type, clientId: (clean ? "" : "c") + text(22), clean, keepalive: int(65536) };
      if (bool()) p.will = { topic: topic(), payload: text(30), qos: int(2) as 0 | 1, retain: bool() };
      if (bool()) {
        p.username = text(12);
        if (bool()) p.password = text(12);
      }
      return p;
    }
    case PacketType.Connack:
      return { type, sessionPresent_: bool(), returnCode_: int(6) };
    case PacketType.Publish: {
      const qos = int(3) as 0 | 1 | 2;
      const p: Packet = { type, topic: topic(), payload: payload(), qos, retain: bool(), dup: qos > 0 && bool() };
      if (qos) p.id = id();
      return p;
    }
    case PacketType.Subscribe:
      return { type, id: id(), subs: Array.from({ length: 1 + int(4) }, () => ({ filter: topic(), qos: int(3) })) };
    case PacketType.Suback:
      return { type, id: id(), granted_: Array.from({ length: 1 + int(4) }, () => [0, 1, 2, 0x80][int(4)]) };
    case PacketType.Unsubscribe:
      return { type, id: id(), filters: Array.from({ length: 1 + int(4) }, topic) };
    case PacketType.Pingreq:
    case PacketType.Pingresp:
    case PacketType.Disconnect:
      return { type } as Packet;
    default:
      return { type, id: id() } as Packet;
  }
}
