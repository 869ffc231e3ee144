// MQTT 3.1.1 packet shapes and the encoder (packet -> bytes). The decoder lives in decoder.ts.
import type { Will } from "./types";
import { utf8Encode } from "./utf8";

export const enum PacketType {
  Connect = 1, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp,
  Subscribe, Suback, Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect,
}

export interface ConnectPacket {
  type: PacketType.Connect;
  clientId: string;
  clean: boolean;
  keepalive: number;
  username?: string | null;
  password?: string | null;
  will?: Will | null;
}
export interface ConnackPacket {
  type: PacketType.Connack;
  sessionPresent: boolean;
  returnCode: number;
}
export interface PublishPacket {
  type: PacketType.Publish;
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  /** packet id, only when qos > 0 */
  id?: number;
}
/** PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK carry only a packet id. */
export interface AckPacket {
  type: PacketType.Puback | PacketType.Pubrec | PacketType.Pubrel | PacketType.Pubcomp | PacketType.Unsuback;
  id: number;
}
export interface SubscribePacket {
  type: PacketType.Subscribe;
  id: number;
  subs: { filter: string; qos: number }[];
}
export interface SubackPacket {
  type: PacketType.Suback;
  id: number;
  /** granted QoS per filter, 0x80 = refused */
  granted: number[];
}
export interface UnsubscribePacket {
  type: PacketType.Unsubscribe;
  id: number;
  filters: string[];
}
export interface EmptyPacket {
  type: PacketType.Pingreq | PacketType.Pingresp | PacketType.Disconnect;
}
export type Packet = ConnectPacket | ConnackPacket | PublishPacket | AckPacket | SubscribePacket | SubackPacket | UnsubscribePacket | EmptyPacket;

/** CONNACK return codes 1..5, index = code - 1 */
export const CONNACK_REASONS = ["unacceptable protocol version", "identifier rejected", "server unavailable", "bad user name or password", "not authorized"];

export function connackReason(code: number): string {
  return CONNACK_REASONS[code - 1] || "refused, code " + code;
}

/** largest remaining length that fits the 4-byte variable length field */
export const MAX_REMAINING = 268435455;

/** Encodes one packet. Throws only for values the protocol cannot carry (caller bugs, not peer input). */
export function encode(p: Packet): Uint8Array {
  const parts: Uint8Array[] = [];
  let len = 0;
  const add = (b: Uint8Array) => {
    parts.push(b);
    len += b.length;
  };
  const u16 = (n: number) => add(new Uint8Array([n >> 8, n & 255]));
  const blob = (b: Uint8Array) => {
    if (b.length > 65535) throw new Error("MQTT string too long");
    u16(b.length);
    add(b);
  };
  const str = (s: string) => blob(utf8Encode(s));
  let flags = 0;
  switch (p.type) {
    case PacketType.Connect: {
      const w = p.will;
      const user = p.username != null;
      const pass = p.password != null;
      const f = (p.clean ? 2 : 0) | (w ? 4 | (w.qos << 3) | (w.retain ? 32 : 0) : 0) | (pass ? 64 : 0) | (user ? 128 : 0);
      // protocol name "MQTT", level 4, connect flags, keepalive
      add(new Uint8Array([0, 4, 77, 81, 84, 84, 4, f]));
      u16(p.keepalive);
      str(p.clientId);
      if (w) {
        str(w.topic);
        str(w.payload);
      }
      if (user) str(p.username as string);
      if (pass) str(p.password as string);
      break;
    }
    case PacketType.Connack:
      add(new Uint8Array([p.sessionPresent ? 1 : 0, p.returnCode]));
      break;
    case PacketType.Publish:
      flags = (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
      str(p.topic);
      if (p.qos) u16(p.id as number);
      add(p.payload);
      break;
    case PacketType.Subscribe:
      flags = 2;
      u16(p.id);
      for (let i = 0; i < p.subs.length; i++) {
        str(p.subs[i].filter);
        add(new Uint8Array([p.subs[i].qos]));
      }
      break;
    case PacketType.Suback:
      u16(p.id);
      add(new Uint8Array(p.granted));
      break;
    case PacketType.Unsubscribe:
      flags = 2;
      u16(p.id);
      for (let i = 0; i < p.filters.length; i++) str(p.filters[i]);
      break;
    case PacketType.Pingreq:
    case PacketType.Pingresp:
    case PacketType.Disconnect:
      break;
    default:
      // the id-only acks; PUBREL has the reserved flags 0010
      if (p.type == PacketType.Pubrel) flags = 2;
      u16(p.id);
  }
  if (len > MAX_REMAINING) throw new Error("MQTT packet too large");
  // fixed header: type and flags, then the remaining length, 7 bits per byte, low groups first
  const head = [(p.type << 4) | flags];
  let n = len;
  do {
    head.push((n & 127) | (n > 127 ? 128 : 0));
    n = n >> 7;
  } while (n > 0);
  const out = new Uint8Array(head.length + len);
  out.set(head);
  let pos = head.length;
  for (let i = 0; i < parts.length; i++) {
    out.set(parts[i], pos);
    pos += parts[i].length;
  }
  return out;
}
