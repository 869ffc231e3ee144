// Parses the packets a client receives (broker -> client), bounds-checked: lengths, packet ids, types and (on Node)
// UTF-8 topics, not every reserved bit. Throws a string naming what is wrong, which the decoder turns into a
// protocol error.
import { HeaderFlag, Packet, PacketType } from "./codec";
import { utf8Decode } from "./utf8";

export function parseFromBroker(header: number, body: Uint8Array): Packet {
  const type: PacketType = header >> 4;
  let pos = 0;
  // local, not module-level: a top-level function holds JsVars for good, this one only while a packet is parsed
  const throwMalformed = (why: string): never => {
    throw why;
  };
  const take = (n: number) => {
    if ((pos += n) > body.length) throwMalformed("truncated");
    return body.subarray(pos - n, pos);
  };
  const u8 = () => take(1)[0];
  const id = () => ((u8() << 8) | u8()) || throwMalformed("packet id 0");
  // built up by type; the shapes are those of codec.ts
  const p = { type } as Packet & { [k: string]: unknown };
  if (type == PacketType.Publish) {
    // topic, packet id when QoS > 0, the rest is the payload
    const topic = utf8Decode(take((u8() << 8) | u8()));
    p.topic = topic == null ? throwMalformed("bad UTF-8") : topic;
    p.retain = !!(header & HeaderFlag.Retain);
    p.dup = !!(header & HeaderFlag.Dup);
    if ((p.qos = (header >> 1) & 3)) p.id = id();
    p.payload = take(body.length - pos);
  } else if (type == PacketType.Connack) {
    // the reserved flag bits are not checked: only session present (bit 0) is read
    p.sessionPresent_ = (u8() & 1) > 0;
    p.returnCode_ = u8();
  } else if (type == PacketType.Suback) {
    // at least one return code; their values are not checked (the client looks for 0x80 only)
    p.id = id();
    const granted: number[] = (p.granted_ = []);
    do granted.push(u8());
    while (pos < body.length);
  } else if (type == PacketType.Unsuback || type == PacketType.Puback || type == PacketType.Pubrel) p.id = id(); // no PUBREC/PUBCOMP: we never publish QoS 2
  else if (type != PacketType.Pingresp) throwMalformed("unexpected type " + type);
  // bytes left over after the fields are ignored (MQTT calls it malformed; nothing is misread because of them)
  return p;
}
