// Parses the packets a client receives (broker -> client), bounds-checked: lengths, packet ids, types and (on Node)
// UTF-8 topics, not every reserved bit. Throws a string naming what is wrong, which the decoder turns into a
// protocol error. (reader.ts does the same for the Node-side parseToBroker.)
import type { Packet } from "./codec";
import { utf8Decode } from "./utf8";

/** the start of the error for a packet type a client must not receive */
export const UNEXPECTED = "unexpected type ";

export function fail(why: string): never {
  throw why;
}

export function parseFromBroker(header: number, body: Uint8Array): Packet {
  const type = header >> 4;
  let pos = 0;
  const take = (n: number) => {
    if ((pos += n) > body.length) fail("truncated");
    return body.subarray(pos - n, pos);
  };
  const u8 = () => take(1)[0];
  const id = () => ((u8() << 8) | u8()) || fail("packet id 0");
  // built up by type; the shapes are those of codec.ts
  const p = { type } as Packet & { [k: string]: unknown };
  if (type == 3) {
    // PUBLISH: topic, packet id when QoS > 0, the rest is the payload
    const topic = utf8Decode(take((u8() << 8) | u8()));
    p.topic = topic == null ? fail("bad UTF-8") : topic;
    p.retain = !!(header & 1);
    p.dup = !!(header & 8);
    if ((p.qos = (header >> 1) & 3)) p.id = id();
    p.payload = take(body.length - pos);
  } else if (type == 2) {
    // the reserved flag bits are not checked: only session present (bit 0) is read
    p.sessionPresent_ = (u8() & 1) > 0;
    p.returnCode_ = u8();
  } else if (type == 9) {
    // at least one return code; their values are not checked (the client looks for 0x80 only)
    p.id = id();
    const granted: number[] = (p.granted_ = []);
    do granted.push(u8());
    while (pos < body.length);
  } else if (type == 11 || type == 4 || type == 6) p.id = id(); // UNSUBACK, PUBACK, PUBREL (no PUBREC/PUBCOMP: we never publish QoS 2)
  else if (type != 13) fail(UNEXPECTED + type);
  // bytes left over after the fields are ignored (MQTT calls it malformed; nothing is misread because of them)
  return p;
}
