// Parses the packets a broker receives (client -> broker), and any packet by its type: used by the tests and
// by any Node-side tool; the device never receives these, so its bundle leaves this file out.
import { ConnectPacket, Packet, PacketType, SubscribePacket, UnsubscribePacket } from "./codec";
import { parseFromBroker, throwMalformed } from "./parseFromBroker";
import { reader } from "./reader";

export function parseToBroker(header: number, body: Uint8Array): Packet {
  const type = header >> 4;
  const r = reader(body);
  let p: Packet;
  if (type == PacketType.Connect) {
    if (r.str() != "MQTT" || r.u8() != 4) throwMalformed("unsupported protocol (MQTT 3.1.1 only)");
    const f = r.u8();
    const wq = (f >> 3) & 3;
    // reserved bit 0, will QoS 3, will QoS/retain without a will, password without user name
    if (f & 1 || wq == 3 || (!(f & 4) && f & 56) || (f & 64 && !(f & 128))) throwMalformed("bad CONNECT flags");
    const c: ConnectPacket = { type: PacketType.Connect, clean: !!(f & 2), keepalive: r.u16(), clientId: r.str() };
    if (f & 4) c.will = { topic: r.str(), payload: r.str(), qos: wq as 0 | 1, retain: !!(f & 32) };
    if (f & 128) c.username = r.str();
    if (f & 64) c.password = r.str();
    p = c;
  } else if (type == PacketType.Subscribe) {
    const s: SubscribePacket = { type: PacketType.Subscribe, id: r.id(), subs: [] };
    do {
      const filter = r.str();
      const qos = r.u8();
      if (qos > 2) throwMalformed("bad SUBSCRIBE QoS");
      s.subs.push({ filter, qos });
    } while (r.more());
    p = s;
  } else if (type == PacketType.Unsubscribe) {
    const u: UnsubscribePacket = { type: PacketType.Unsubscribe, id: r.id(), filters: [] };
    do u.filters.push(r.str());
    while (r.more());
    p = u;
  } else if (type == PacketType.Pingreq || type == PacketType.Disconnect) p = { type } as Packet;
  else if (type == PacketType.Pubrec || type == PacketType.Pubcomp) p = { type, id: r.id() };
  else if (type == PacketType.Publish || type == PacketType.Puback || type == PacketType.Pubrel) return parseFromBroker(header, body);
  else return throwMalformed("unexpected type " + type);
  if (r.more()) throwMalformed("extra bytes in type " + type);
  return p;
}

/** parses a packet of either direction, by its type */
export function parseAnyPacket(header: number, body: Uint8Array): Packet {
  const t = header >> 4;
  return t == PacketType.Connect || t == PacketType.Subscribe || t == PacketType.Unsubscribe || t == PacketType.Pingreq || t == PacketType.Disconnect ||
    t == PacketType.Pubrec || t == PacketType.Pubcomp
    ? parseToBroker(header, body)
    : parseFromBroker(header, body);
}

