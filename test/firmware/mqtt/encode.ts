// Encodes any MQTT 3.1.1 packet, for the tests: made of the device's own pieces (codec.ts frame and connectPacket),
// so the byte fixtures check what the device sends too.
import { AckPacket, connectPacket, frame, HeaderFlag, Packet, PacketType, Part } from "../../../firmware/mqtt/codec";

/** a packet of just a packet id (PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK) */
const idPacket = (h: number, id: number) => frame(h, [[id >> 8, id]]);

/** Encodes any packet. */
export function encode(p: Packet): Uint8Array {
  const t = p.type;
  if (t == PacketType.Connect) return connectPacket(p);
  if (t == PacketType.Connack) return frame(PacketType.Connack << 4, [[p.sessionPresent_ ? 1 : 0, p.returnCode_]]);
  if (t == PacketType.Publish) {
    const id = p.id as number;
    return frame((PacketType.Publish << 4) | (p.dup ? HeaderFlag.Dup : 0) | (p.qos << 1) | (p.retain ? HeaderFlag.Retain : 0), [p.topic, p.qos ? [id >> 8, id] : [], p.payload]);
  }
  if (t == PacketType.Subscribe || t == PacketType.Unsubscribe) {
    const parts: Part[] = [[p.id >> 8, p.id]];
    if (t == PacketType.Subscribe) for (let i = 0; i < p.subs.length; i++) parts.push(p.subs[i].filter, [p.subs[i].qos]);
    else for (let i = 0; i < p.filters.length; i++) parts.push(p.filters[i]);
    return frame((t << 4) | HeaderFlag.Required, parts);
  }
  if (t == PacketType.Suback) return frame(PacketType.Suback << 4, [[p.id >> 8, p.id], p.granted_]);
  if (t == PacketType.Pingreq || t == PacketType.Pingresp || t == PacketType.Disconnect) return frame(t << 4, []);
  // the id-only acks; PUBREL carries the required flags
  return idPacket((t << 4) | (t == PacketType.Pubrel ? HeaderFlag.Required : 0), (p as AckPacket).id);
}
