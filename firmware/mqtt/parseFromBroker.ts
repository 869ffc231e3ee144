// Parses the packets a client receives (broker -> client). Throws a string naming what is wrong.
import { Packet, PacketType, PublishPacket } from "./codec";
import { fail, Reader, reader } from "./reader";

/** PUBLISH is the same in both directions */
export function parsePublish(header: number, r: Reader): PublishPacket {
  const qos = ((header >> 1) & 3) as 0 | 1 | 2;
  const p: PublishPacket = { type: PacketType.Publish, topic: r.str(), qos, retain: !!(header & 1), dup: !!(header & 8), payload: new Uint8Array(0) };
  if (qos) p.id = r.id();
  p.payload = r.rest();
  return p;
}

export function parseFromBroker(header: number, body: Uint8Array): Packet {
  const type = header >> 4;
  const r = reader(body);
  let p: Packet;
  if (type == PacketType.Connack) {
    const f = r.u8();
    if (f > 1) fail("bad CONNACK flags");
    p = { type: PacketType.Connack, sessionPresent: f == 1, returnCode: r.u8() };
  } else if (type == PacketType.Publish) p = parsePublish(header, r);
  else if (type == PacketType.Suback) {
    const id = r.id();
    const granted: number[] = [];
    do {
      const g = r.u8();
      if (g > 2 && g != 0x80) fail("bad SUBACK code " + g);
      granted.push(g);
    } while (r.more());
    p = { type: PacketType.Suback, id, granted };
  } else if (type == PacketType.Pingresp) p = { type: PacketType.Pingresp };
  else if (type == PacketType.Unsuback || (type >= PacketType.Puback && type <= PacketType.Pubcomp)) p = { type, id: r.id() } as Packet;
  else return fail("unexpected packet type " + type);
  if (r.more()) fail("extra bytes at the end of packet type " + type);
  return p;
}
