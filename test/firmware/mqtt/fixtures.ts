// MQTT 3.1.1 packets and their exact bytes, one comment per byte line: [name, packet, bytes].
// Used by the codec tests (four ways) and as the corpus the fuzz test mutates.
import { Packet, PacketType } from "../../../firmware/mqtt/codec";

export type Fixture = [name: string, packet: Packet, bytes: number[]];

const ascii = (s: string) => Array.from(Buffer.from(s, "utf8"));
const bytes = (a: number[]) => new Uint8Array(a);

export const FIXTURES: Fixture[] = [
  [
    "CONNECT minimal, clean session",
    { type: PacketType.Connect, clientId: "dev1", clean: true, keepalive: 60 },
    [
      0x10, 16, // CONNECT, remaining length 16
      0, 4, ...ascii("MQTT"), // protocol name
      4, // protocol level 4 = MQTT 3.1.1
      0b0000_0010, // connect flags: clean session
      0, 60, // keepalive 60 s
      0, 4, ...ascii("dev1"), // client id
    ],
  ],
  [
    "CONNECT with will (QoS 1, retained), user name, password, persistent session",
    {
      type: PacketType.Connect, clientId: "esp32-a", clean: false, keepalive: 300,
      will: { topic: "d/status", payload: "offline", qos: 1, retain: true }, username: "rw", password: "readwrite",
    },
    [
      0x10, 53, // CONNECT, remaining length 53
      0, 4, ...ascii("MQTT"), // protocol name
      4, // protocol level
      0b1110_1100, // flags: user name, password, will retain, will QoS 01, will; clean off
      1, 44, // keepalive 300 s
      0, 7, ...ascii("esp32-a"), // client id
      0, 8, ...ascii("d/status"), // will topic
      0, 7, ...ascii("offline"), // will payload
      0, 2, ...ascii("rw"), // user name
      0, 9, ...ascii("readwrite"), // password
    ],
  ],
  [
    "CONNECT with an empty client id and will QoS 0 not retained",
    { type: PacketType.Connect, clientId: "", clean: true, keepalive: 0, will: { topic: "w", payload: "", qos: 0, retain: false } },
    [
      0x10, 17, // CONNECT, remaining length 17
      0, 4, ...ascii("MQTT"), // protocol name
      4, // protocol level
      0b0000_0110, // flags: will, clean session
      0, 0, // keepalive off
      0, 0, // empty client id
      0, 1, ...ascii("w"), // will topic
      0, 0, // empty will payload
    ],
  ],
  [
    "CONNACK accepted, session present",
    { type: PacketType.Connack, sessionPresent_: true, returnCode_: 0 },
    [
      0x20, 2, // CONNACK, remaining length 2
      1, // acknowledge flags: session present
      0, // return code 0: accepted
    ],
  ],
  ...[1, 2, 3, 4, 5].map((code): Fixture => [
    `CONNACK refused, return code ${code}`,
    { type: PacketType.Connack, sessionPresent_: false, returnCode_: code },
    [
      0x20, 2, // CONNACK, remaining length 2
      0, // no session present
      code, // return code: 1 protocol version, 2 identifier, 3 server unavailable, 4 credentials, 5 not authorized
    ],
  ]),
  [
    "PUBLISH QoS 0",
    { type: PacketType.Publish, topic: "a/b", payload: bytes(ascii("hi")), qos: 0, retain: false, dup: false },
    [
      0x30, 7, // PUBLISH, no flags, remaining length 7
      0, 3, ...ascii("a/b"), // topic
      ...ascii("hi"), // payload (no packet id at QoS 0)
    ],
  ],
  [
    "PUBLISH QoS 1, DUP, retained, binary payload",
    { type: PacketType.Publish, topic: "t", payload: bytes([0, 255, 128, 10]), qos: 1, retain: true, dup: true, id: 10 },
    [
      0x3b, 9, // PUBLISH, flags DUP 1 QoS 01 RETAIN 1, remaining length 9
      0, 1, ...ascii("t"), // topic
      0, 10, // packet id 10
      0, 255, 128, 10, // payload bytes as they are
    ],
  ],
  [
    "PUBLISH QoS 2, packet id 65535, empty payload",
    { type: PacketType.Publish, topic: "q2", payload: bytes([]), qos: 2, retain: false, dup: false, id: 65535 },
    [
      0x34, 6, // PUBLISH, QoS 10, remaining length 6
      0, 2, ...ascii("q2"), // topic
      0xff, 0xff, // packet id 65535
    ],
  ],
  [
    "PUBLISH with a UTF-8 topic (2-, 3- and 4-byte characters)",
    { type: PacketType.Publish, topic: "température/€/😀", payload: bytes(ascii("x")), qos: 0, retain: false, dup: false },
    [
      0x30, 24, // PUBLISH, remaining length 24
      0, 21, // topic length in bytes, not characters
      ...ascii("temp"), 0xc3, 0xa9, ...ascii("rature/"), // "é" is C3 A9
      0xe2, 0x82, 0xac, 0x2f, // "€" is E2 82 AC, then "/"
      0xf0, 0x9f, 0x98, 0x80, // "😀" (a surrogate pair in JS) is F0 9F 98 80
      ...ascii("x"), // payload
    ],
  ],
  [
    "PUBLISH with a 2-byte remaining length (200)",
    { type: PacketType.Publish, topic: "big", payload: bytes(new Array(195).fill(7)), qos: 0, retain: false, dup: false },
    [
      0x30, 0xc8, 0x01, // PUBLISH, remaining length 200 = 0x48 + 1*128 (C8 01)
      0, 3, ...ascii("big"), // topic
      ...new Array(195).fill(7), // payload
    ],
  ],
  [
    "PUBLISH with a 3-byte remaining length (16384)",
    { type: PacketType.Publish, topic: "big", payload: bytes(new Array(16379).fill(1)), qos: 0, retain: false, dup: false },
    [
      0x30, 0x80, 0x80, 0x01, // PUBLISH, remaining length 16384 = 1*128*128 (80 80 01)
      0, 3, ...ascii("big"), // topic
      ...new Array(16379).fill(1), // payload
    ],
  ],
  [
    "PUBLISH with a 4-byte remaining length (2097152)",
    { type: PacketType.Publish, topic: "big", payload: bytes(new Array(2097147).fill(2)), qos: 0, retain: false, dup: false },
    [
      0x30, 0x80, 0x80, 0x80, 0x01, // PUBLISH, remaining length 2097152 = 128^3 (80 80 80 01)
      0, 3, ...ascii("big"), // topic
      ...new Array(2097147).fill(2), // payload
    ],
  ],
  [
    "PUBACK",
    { type: PacketType.Puback, id: 42 },
    [
      0x40, 2, // PUBACK, remaining length 2
      0, 42, // packet id 42
    ],
  ],
  [
    "PUBREC",
    { type: PacketType.Pubrec, id: 258 },
    [
      0x50, 2, // PUBREC, remaining length 2
      1, 2, // packet id 258
    ],
  ],
  [
    "PUBREL (reserved flags 0010)",
    { type: PacketType.Pubrel, id: 258 },
    [
      0x62, 2, // PUBREL, flags 0010, remaining length 2
      1, 2, // packet id 258
    ],
  ],
  [
    "PUBCOMP",
    { type: PacketType.Pubcomp, id: 1 },
    [
      0x70, 2, // PUBCOMP, remaining length 2
      0, 1, // packet id 1
    ],
  ],
  [
    "SUBSCRIBE one filter",
    { type: PacketType.Subscribe, id: 1, subs: [{ filter: "espdht/+/cmd", qos: 1 }] },
    [
      0x82, 17, // SUBSCRIBE, flags 0010, remaining length 17
      0, 1, // packet id 1
      0, 12, ...ascii("espdht/+/cmd"), // topic filter
      1, // requested QoS 1
    ],
  ],
  [
    "SUBSCRIBE two filters",
    { type: PacketType.Subscribe, id: 300, subs: [{ filter: "a/#", qos: 0 }, { filter: "b", qos: 2 }] },
    [
      0x82, 12, // SUBSCRIBE, flags 0010, remaining length 12
      1, 44, // packet id 300
      0, 3, ...ascii("a/#"), 0, // filter "a/#", QoS 0
      0, 1, ...ascii("b"), 2, // filter "b", QoS 2
    ],
  ],
  [
    "SUBACK with a failure (0x80)",
    { type: PacketType.Suback, id: 300, granted_: [0, 1, 0x80] },
    [
      0x90, 5, // SUBACK, remaining length 5
      1, 44, // packet id 300
      0, 1, 0x80, // granted QoS 0, granted QoS 1, refused
    ],
  ],
  [
    "UNSUBSCRIBE two filters",
    { type: PacketType.Unsubscribe, id: 7, filters: ["a/#", "b"] },
    [
      0xa2, 10, // UNSUBSCRIBE, flags 0010, remaining length 10
      0, 7, // packet id 7
      0, 3, ...ascii("a/#"), // filter
      0, 1, ...ascii("b"), // filter
    ],
  ],
  [
    "UNSUBACK",
    { type: PacketType.Unsuback, id: 7 },
    [
      0xb0, 2, // UNSUBACK, remaining length 2
      0, 7, // packet id 7
    ],
  ],
  ["PINGREQ", { type: PacketType.Pingreq }, [0xc0, 0 /* PINGREQ, remaining length 0 */]],
  ["PINGRESP", { type: PacketType.Pingresp }, [0xd0, 0 /* PINGRESP, remaining length 0 */]],
  ["DISCONNECT", { type: PacketType.Disconnect }, [0xe0, 0 /* DISCONNECT, remaining length 0 */]],
];
