// MQTT 3.1.1 packet shapes and the pieces the device builds its packets from (frame, connectPacket). The decoder
// lives in decoder.ts; the tests' encoder of every packet type (test/firmware/mqtt/encode.ts) is made of these
// same pieces, so the fixtures check the device's bytes too.
import type { MqttClientOptions } from "./types";
import { utf8Encode } from "./utf8";

/** The packet type: the high 4 bits of a packet's first byte (const enums: the build inlines the numbers). */
export const enum PacketType {
  Connect = 1, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp,
  Subscribe, Suback, Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect,
}

/**
 * The low 4 bits of a packet's first byte: PUBLISH's retain and dup (its QoS sits in bits 1-2), and the fixed
 * 0010 that SUBSCRIBE, UNSUBSCRIBE and PUBREL must carry.
 */
export const enum HeaderFlag {
  Retain = 1, Required = 2, Dup = 8,
}

/** CONNECT's flags byte (the will's QoS sits in bits 3-4). */
export const enum ConnectFlag {
  Clean = 2, Will = 4, WillRetain = 32, Password = 64, Username = 128,
}

/** CONNECT carries the session options of the client. */
export interface ConnectPacket extends Pick<MqttClientOptions, "clientId" | "clean" | "keepalive" | "username" | "password" | "will"> {
  type: PacketType.Connect;
}
/** Fields that only the client reads end in `_`: the build shortens those names in the artifact. */
export interface ConnackPacket {
  type: PacketType.Connack;
  sessionPresent_: boolean;
  returnCode_: number;
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
  /** an oversized PUBLISH the decoder read past without buffering: only qos and id are set */
  skipped_?: boolean;
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
  granted_: number[];
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

/** A part of a packet: bytes, or a string that goes as a 2-byte length and its UTF-8 bytes (callers keep it under 64 KB). */
export type Part = ArrayLike<number> | string;

/** One packet: the first header byte, the remaining length (7 bits per byte, low groups first), then the parts. */
export function frame(h: number, parts: Part[]): Uint8Array {
  const all: ArrayLike<number>[] = [[h]]; // the header (its length bytes are added below), then each part
  let n = 0;
  parts.forEach((x) => {
    if (typeof x == "string") {
      x = utf8Encode(x);
      all.push([x.length >> 8, x.length]);
      n += 2;
    }
    all.push(x);
    n += x.length;
  });
  const head = all[0] as number[];
  let x = n;
  do {
    head.push(x > 127 ? (x & 127) | 128 : x);
    x >>= 7;
  } while (x);
  const out = new Uint8Array(n + head.length);
  n = 0;
  // typed array set() stores each number modulo 256, so parts may hold [id >> 8, id]
  all.forEach((p) => {
    out.set(p, n);
    n += p.length;
  });
  return out;
}

/** CONNECT: protocol "MQTT" level 4, flags, keepalive, client id, then will topic and message, user name, password. */
export function connectPacket(c: Omit<ConnectPacket, "type">): Uint8Array {
  const w = c.will;
  const user = c.username;
  const pass = c.password;
  const parts: Part[] = [
    "MQTT",
    [
      4,
      (c.clean ? ConnectFlag.Clean : 0) |
        (w ? ConnectFlag.Will | (w.qos << 3) | (w.retain ? ConnectFlag.WillRetain : 0) : 0) |
        (pass != null ? ConnectFlag.Password : 0) |
        (user != null ? ConnectFlag.Username : 0),
      c.keepalive >> 8,
      c.keepalive,
    ],
    c.clientId,
  ];
  if (w) parts.push(w.topic, w.payload);
  if (user != null) parts.push(user);
  if (pass != null) parts.push(pass);
  return frame(PacketType.Connect << 4, parts);
}
