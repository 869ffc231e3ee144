// Parses the packets a broker receives (client -> broker), and any packet by its type: the tests' second half of
// the codec (the device only ever parses what a broker sends: firmware/mqtt/parseFromBroker.ts).
import { ConnectFlag, ConnectPacket, Packet, PacketType, SubscribePacket, UnsubscribePacket } from "../../../firmware/mqtt/codec";
import { parseFromBroker } from "../../../firmware/mqtt/parseFromBroker";
import { utf8Decode } from "../../../firmware/mqtt/utf8";

/** Throws the reason a packet is malformed, as the device's parser does. */
function throwMalformed(why: string): never {
  throw why;
}

/** Bounds-checked reading of one packet body; every problem throws a string, as the device's parser does. */
function bodyReader(b: Uint8Array) {
  let pos = 0;
  const take = (n: number) => {
    if ((pos += n) > b.length) throwMalformed("truncated");
    return b.subarray(pos - n, pos);
  };
  const u16 = () => {
    const x = take(2);
    return (x[0] << 8) | x[1];
  };
  return {
    u8: () => take(1)[0],
    u16,
    /** a packet id: 1..65535 */
    id: () => u16() || throwMalformed("packet id 0"),
    /** a length-prefixed UTF-8 string */
    str: () => {
      const s = utf8Decode(take(u16()));
      return s == null ? throwMalformed("bad UTF-8") : s;
    },
    more: () => pos < b.length,
  };
}

export function parseToBroker(header: number, body: Uint8Array): Packet {
  const type = header >> 4;
  const r = bodyReader(body);
  let p: Packet;
  if (type == PacketType.Connect) {
    if (r.str() != "MQTT" || r.u8() != 4) throwMalformed("unsupported protocol (MQTT 3.1.1 only)");
    const f = r.u8();
    const wq = (f >> 3) & 3;
    // reserved bit 0, will QoS 3, will QoS (bits 3-4) or retain without a will, password without user name
    const willFlags = (3 << 3) | ConnectFlag.WillRetain;
    if (f & 1 || wq == 3 || (!(f & ConnectFlag.Will) && f & willFlags) || (f & ConnectFlag.Password && !(f & ConnectFlag.Username))) throwMalformed("bad CONNECT flags");
    const c: ConnectPacket = { type: PacketType.Connect, clean: !!(f & ConnectFlag.Clean), keepalive: r.u16(), clientId: r.str() };
    if (f & ConnectFlag.Will) c.will = { topic: r.str(), payload: r.str(), qos: wq as 0 | 1, retain: !!(f & ConnectFlag.WillRetain) };
    if (f & ConnectFlag.Username) c.username = r.str();
    if (f & ConnectFlag.Password) c.password = r.str();
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

