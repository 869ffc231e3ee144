// mqtt-packet as the second opinion, both ways, for every packet type: ours generates and mqtt-packet
// parses; mqtt-packet generates and ours parses. Fixtures first, then seeded random packets of each type.
import { describe, expect, it } from "vitest";
import { Packet } from "../../../firmware/mqtt/codec";
import { encode } from "./encode";
import { FIXTURES } from "./fixtures";
import { fromMqttPacket, generateWithMqttPacket, parseWithMqttPacket } from "./mqttPacketBridge";
import { comparable, decodeChunks, randomPacket, seededRandom } from "./support";

const TYPE_NAMES = ["", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT"];
const RANDOM_PER_TYPE = 300;

function oursToTheirs(p: Packet): void {
  const ours = encode(p);
  const theirs = parseWithMqttPacket(ours);
  expect(theirs.errors).toEqual([]);
  expect(comparable(theirs.packets.map(fromMqttPacket))).toEqual(comparable([p]));
}

function theirsToOurs(p: Packet): void {
  const bytes = generateWithMqttPacket(p);
  const ours = decodeChunks(bytes);
  expect(ours.errors).toEqual([]);
  expect(comparable(ours.packets)).toEqual(comparable([p]));
  // and both generators agree to the byte
  expect(Buffer.from(encode(p)).equals(Buffer.from(bytes))).toBe(true);
}

describe("differential against mqtt-packet", () => {
  for (const [name, packet] of FIXTURES) {
    it(`${name}: ours -> mqtt-packet`, () => oursToTheirs(packet));
    it(`${name}: mqtt-packet -> ours`, () => theirsToOurs(packet));
  }

  for (let type = 1; type <= 14; type++) {
    it(`${RANDOM_PER_TYPE} random ${TYPE_NAMES[type]} packets, both ways`, () => {
      const rnd = seededRandom(1000 + type);
      for (let i = 0; i < RANDOM_PER_TYPE; i++) {
        const p = randomPacket(rnd, type);
        oursToTheirs(p);
        theirsToOurs(p);
      }
    });
  }
});
