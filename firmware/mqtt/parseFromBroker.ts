// Parses the packets a client receives (broker -> client). Throws a string naming what is wrong.
import { Packet, PacketType, PublishPacket } from "./codec";
import { fail, Reader, reader } from "./reader";

/** PUBLISH is the same in both directions */
export function parsePublish(header: number, r: Reader): PublishPacket {
  const qos = ((header >> 1) & 3) as 0 | 1 | 2;
  const p = { type: PacketType.Publish, topic: r.str(), qos, retain: !!(header & 1), dup: !!(header & 8) } as PublishPacket;
  if (qos) p.id = r.id();
  p.payload = r.rest();
  return p;
}

export function parseFromBroker(header: number, body: Uint8Array): Packet {
  const type = header >> 4;
  const r = reader(body);
  // built up by type; the shapes are those of codec.ts
  const p = { type } as Packet & { [k: string]: unknown };
  if (type == PacketType.Connack) {
    const f = r.u8();
    if (f > 1) fail("bad CONNACK flags");
    p.sessionPresent = f > 0;
    p.returnCode = r.u8();
  } else if (type == PacketType.Publish) return parsePublish(header, r);
  else if (type == PacketType.Suback) {
    p.id = r.id();
    const granted: number[] = (p.granted = []);
    do {
      const g = r.u8();
      if (g > 2 && g != 0x80) fail("bad SUBACK code " + g);
      granted.push(g);
    } while (r.more());
  } else if (type == PacketType.Unsuback || (type > PacketType.Publish && type < PacketType.Subscribe)) p.id = r.id();
  else if (type != PacketType.Pingresp) fail("unexpected packet type " + type);
  if (r.more()) fail("extra bytes at the end of packet type " + type);
  return p;
}
