// Translates between our packet shapes and mqtt-packet's, so mqtt-packet can be the second opinion.
import mqttPacket from "mqtt-packet";
import { Packet, PacketType } from "../../../firmware/mqtt/codec";

const CMDS = ["", "connect", "connack", "publish", "puback", "pubrec", "pubrel", "pubcomp", "subscribe", "suback", "unsubscribe", "unsuback", "pingreq", "pingresp", "disconnect"] as const;

export function toMqttPacket(p: Packet): mqttPacket.Packet {
  const cmd = CMDS[p.type];
  switch (p.type) {
    case PacketType.Connect: {
      const o: mqttPacket.IConnectPacket = { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: p.clientId, clean: p.clean, keepalive: p.keepalive };
      if (p.will) o.will = { topic: p.will.topic, payload: Buffer.from(p.will.payload, "utf8"), qos: p.will.qos, retain: p.will.retain };
      if (p.username != null) o.username = p.username;
      if (p.password != null) o.password = Buffer.from(p.password, "utf8");
      return o;
    }
    case PacketType.Connack:
      return { cmd: "connack", sessionPresent: p.sessionPresent_, returnCode: p.returnCode_ };
    case PacketType.Publish:
      return { cmd: "publish", topic: p.topic, payload: Buffer.from(p.payload), qos: p.qos, retain: p.retain, dup: p.dup, messageId: p.id };
    case PacketType.Subscribe:
      return { cmd: "subscribe", messageId: p.id, subscriptions: p.subs.map((s) => ({ topic: s.filter, qos: s.qos as 0 | 1 | 2 })) };
    case PacketType.Suback:
      return { cmd: "suback", messageId: p.id, granted: p.granted_ };
    case PacketType.Unsubscribe:
      return { cmd: "unsubscribe", messageId: p.id, unsubscriptions: p.filters };
    case PacketType.Pingreq:
    case PacketType.Pingresp:
    case PacketType.Disconnect:
      return { cmd } as mqttPacket.Packet;
    default:
      return { cmd, messageId: p.id } as mqttPacket.Packet;
  }
}

// mqtt-packet's parsed objects carry extra fields (length, retain/qos/dup on every packet): keep only ours
export function fromMqttPacket(o: mqttPacket.Packet): Packet {
  const type = CMDS.indexOf(o.cmd as (typeof CMDS)[number]);
  const a = o as unknown as Record<string, never>;
  switch (type) {
    case PacketType.Connect: {
      const c = o as mqttPacket.IConnectPacket;
      const p: Packet = { type, clientId: c.clientId, clean: !!c.clean, keepalive: c.keepalive! };
      if (c.will) p.will = { topic: c.will.topic, payload: c.will.payload.toString(), qos: c.will.qos as 0 | 1, retain: !!c.will.retain };
      if (c.username != null) p.username = c.username;
      if (c.password != null) p.password = c.password.toString("utf8");
      return p;
    }
    case PacketType.Connack:
      return { type, sessionPresent_: a.sessionPresent, returnCode_: a.returnCode };
    case PacketType.Publish: {
      const m = o as mqttPacket.IPublishPacket;
      const p: Packet = { type, topic: m.topic, payload: new Uint8Array(m.payload as Buffer), qos: m.qos as 0 | 1 | 2, retain: m.retain, dup: m.dup };
      if (m.qos) p.id = m.messageId;
      return p;
    }
    case PacketType.Subscribe:
      return { type, id: a.messageId, subs: (o as mqttPacket.ISubscribePacket).subscriptions.map((s) => ({ filter: s.topic, qos: s.qos })) };
    case PacketType.Suback:
      return { type, id: a.messageId, granted_: a.granted };
    case PacketType.Unsubscribe:
      return { type, id: a.messageId, filters: a.unsubscriptions };
    case PacketType.Pingreq:
    case PacketType.Pingresp:
    case PacketType.Disconnect:
      return { type } as Packet;
    default:
      return { type, id: a.messageId } as Packet;
  }
}

/** parses bytes with mqtt-packet (MQTT 3.1.1) */
export function parseWithMqttPacket(bytes: Uint8Array): { packets: mqttPacket.Packet[]; errors: string[] } {
  const out = { packets: [] as mqttPacket.Packet[], errors: [] as string[] };
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", (p) => out.packets.push(p));
  parser.on("error", (e) => out.errors.push(e.message));
  parser.parse(Buffer.from(bytes));
  return out;
}

export function generateWithMqttPacket(p: Packet): Uint8Array {
  return new Uint8Array(mqttPacket.generate(toMqttPacket(p)));
}
