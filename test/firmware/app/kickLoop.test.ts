// The whole app on the fake board with the real MQTT client over a scripted network: the broker (the test) accepts
// each session and ends it 2 s later, as when another board with the same id connects. From the third such session
// the board logs a kick loop, waits a minute-scale delay instead of seconds, and its next info carries dupId.
import { describe, expect, it } from "vitest";
import { startApp } from "../../../firmware/app/app";
import { PacketType, PublishPacket } from "../../../firmware/mqtt/codec";
import { MqttClient } from "../../../firmware/mqtt/client";
import { FakeNetwork } from "../mqtt/fakeTransport";
import { fakeHal } from "./fakeHal";

const UNIX = 1_764_000_000_000;

describe("app: a kick loop (another board with this id)", () => {
  it("backs off to a minute after the third quick takeover and reports dupId in the next info", () => {
    const set = fakeHal();
    const net = new FakeNetwork(set.clock);
    set.hal.sockets_ = net.factory;
    set.unix.offset = UNIX; // SNTP set the clock
    const app = startApp(set.hal, (target, options, events) => new MqttClient(target, options, events, set.hal.sockets_, set.hal.clock_, set.hal.random_, set.hal.time_));
    const infoOf = (i: number) => {
      const p = net.sockets[i].written.filter((w) => w.type === PacketType.Publish && (w as PublishPacket).topic.endsWith(`/${app.id}/info`)).pop() as PublishPacket;
      return JSON.parse(Buffer.from(p.payload).toString());
    };
    /** the broker accepts the session and acknowledges what the board sent */
    const session = () => {
      const s = net.last;
      s.accept();
      s.send({ type: PacketType.Connack, sessionPresent_: true, returnCode_: 0 });
      for (const w of s.written) if (w.type === PacketType.Publish && (w as PublishPacket).id) s.send({ type: PacketType.Puback, id: (w as PublishPacket).id! });
      return s;
    };
    const gaps: number[] = [];
    let kickedAt = 0;
    for (let i = 0; i < 4; i++) {
      const s = session();
      set.clock.advance(2000);
      kickedAt = set.clock.now();
      s.drop(); // the broker closes it: a newer CONNECT took the client id
      while (net.sockets.length === i + 1) set.clock.advance(100);
      gaps.push(net.last.openedAt - kickedAt);
    }
    expect(net.sockets.slice(0, 4).map((_, i) => infoOf(i).dupId)).toEqual([undefined, undefined, undefined, { n: 3, at: UNIX + kickedAt - 2000 - 45_000 }]);
    // the HAL's random is 0.5: each delay is 3/4 of its base (1 s, 2 s, then 1 min, 2 min)
    expect(gaps).toEqual([750, 1500, 45_000, 90_000]);
    expect(set.board.logs.filter((l) => l.startsWith("mqtt: "))).toEqual(["mqtt: closed by peer", "mqtt: closed by peer", "mqtt: closed by peer: kick loop", "mqtt: closed by peer: kick loop"]);
    session();
    expect(infoOf(4).dupId).toEqual({ n: 4, at: UNIX + kickedAt });
  });
});
