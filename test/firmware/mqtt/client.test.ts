// The session logic of the device client with a fake clock and a scripted network: no real time, no sockets.
import { describe, expect, it } from "vitest";
import { Packet, PacketType, PublishPacket } from "../../../firmware/mqtt/codec";
import { KICK_LOOP_CLOSE, MqttClient } from "../../../firmware/mqtt/client";
import type { IncomingMessage, MqttClientOptions } from "../../../firmware/mqtt/types";
import { FakeClock } from "../../support/fakeClock";
import { FakeNetwork, FakeSocket } from "./fakeTransport";

const TARGET = { host: "broker.test", port: 1883, tls: false };

function setup(opts: Partial<MqttClientOptions> = {}, random: () => number = () => 0) {
  const clock = new FakeClock(1000);
  const net = new FakeNetwork(clock);
  const log = { connects: [] as boolean[], closes: [] as string[], messages: [] as IncomingMessage[], errors: [] as string[], published: [] as number[] };
  const client = new MqttClient(
    TARGET,
    { clientId: "esp32-test", clean: false, keepalive: 60, ...opts },
    {
      onConnect: (s) => log.connects.push(s),
      onClose: (r) => log.closes.push(r),
      onMessage: (m) => log.messages.push(m),
      onError: (e) => log.errors.push(e),
      onPublished: (t) => log.published.push(t),
    },
    net.factory,
    clock,
    random,
    () => clock.now() / 1000,
  );
  /** the broker side of a successful connect on the newest socket */
  const accept = (present = false): FakeSocket => {
    const s = net.last;
    expect(s.written, "accept() needs a fresh socket").toEqual([]);
    s.accept();
    expect(s.written[0].type).toBe(PacketType.Connect);
    s.send({ type: PacketType.Connack, sessionPresent_: present, returnCode_: 0 });
    return s;
  };
  return { clock, net, log, client, accept };
}

const text = (b: Uint8Array) => Buffer.from(b).toString();
const publishes = (s: FakeSocket) => s.sent(PacketType.Publish) as PublishPacket[];

describe("MqttClient: connecting", () => {
  it("sends CONNECT with client id, session flag, keepalive, credentials and will", () => {
    const will = { topic: "r/d/status", payload: "offline", qos: 1 as const, retain: true };
    const { net, client, log } = setup({ username: "u", password: "p", will });
    client.start();
    const s = net.last;
    expect(s.target).toEqual(TARGET);
    s.accept();
    expect(s.written).toEqual([{ type: PacketType.Connect, clientId: "esp32-test", clean: false, keepalive: 60, username: "u", password: "p", will }]);
    expect(client.connected).toBe(false);
    s.send({ type: PacketType.Connack, sessionPresent_: true, returnCode_: 0 });
    expect(client.connected).toBe(true);
    expect(log.connects).toEqual([true]);
    expect(client.stats.connects).toBe(1);
  });

  for (let code = 1; code <= 5; code++) {
    it(`closes and retries on CONNACK refusal ${code}`, () => {
      const { net, client, log, clock } = setup();
      client.start();
      net.last.accept();
      net.last.send({ type: PacketType.Connack, sessionPresent_: false, returnCode_: code });
      expect(client.connected).toBe(false);
      expect(net.last.closedByClient).toBe(true);
      expect(log.closes).toEqual([`connack: refused, code ${code}`]);
      expect(log.connects).toEqual([]);
      clock.advance(1000);
      expect(net.sockets).toHaveLength(2);
    });
  }

  it("gives up on a connection without CONNACK after connectTimeoutMs", () => {
    const { net, client, log, clock } = setup({ connectTimeoutMs: 5000 });
    client.start();
    net.last.accept();
    clock.advance(4999);
    expect(log.closes).toEqual([]);
    clock.advance(1);
    expect(log.closes).toEqual(["timeout"]);
    expect(net.last.closedByClient).toBe(true);
  });

  it("also times out a TCP connect that never completes", () => {
    const { net, client, log, clock } = setup();
    client.start();
    clock.advance(10_000);
    expect(log.closes).toEqual(["timeout"]);
    expect(net.last.closedByClient).toBe(true);
  });

  it("reports the socket error as the close reason and retries when the socket factory throws", () => {
    const { net, client, log, clock } = setup();
    net.failNextOpen = "getaddrinfo ENOTFOUND";
    client.start();
    expect(log.closes[0]).toContain("ENOTFOUND");
    clock.advance(1000);
    net.last.drop("ECONNREFUSED");
    expect(log.closes[1]).toBe("ECONNREFUSED");
  });

  it("copes with a socket that fails inside the factory call", () => {
    const clock = new FakeClock();
    const closes: string[] = [];
    let opened = 0;
    const client = new MqttClient(TARGET, { clientId: "c", clean: true, keepalive: 0 }, { onClose: (r) => closes.push(r) }, (_t, h) => {
      opened++;
      h.onError("no route to host");
      h.onClose();
      return { write: () => { throw new Error("write on a dead socket"); }, close: () => {} };
    }, clock, () => 0, () => 0);
    client.start();
    expect(closes).toEqual(["no route to host"]);
    client.subscribe("a", 0);
    client.publish("a", "x", 0, false);
    clock.advance(1000);
    expect(opened).toBe(2);
    client.stop(false);
    expect(closes).toEqual(["no route to host", "no route to host"]);
    expect(clock.pending).toBe(0);
  });

  it("treats a packet before CONNACK and garbage as protocol errors that close the connection", () => {
    const { net, client, log, clock } = setup();
    client.start();
    net.last.accept();
    net.last.send({ type: PacketType.Pingresp });
    expect(log.closes).toEqual(["protocol error: unexpected type 13"]);
    clock.advance(1000);
    net.last.accept();
    net.last.sendBytes([0x20, 2, 0, 0, 0xf0, 0]);
    expect(log.closes[1]).toBe("protocol error: unknown type 15");
    clock.advance(2000);
    net.last.accept();
    net.last.sendBytes([0x20, 2, 0, 0, 0x20, 2, 0, 0]); // a second CONNACK
    expect(log.closes[2]).toBe("protocol error: unexpected type 2");
    expect(client.stats.protocolErrors).toBe(3);
    expect(net.last.closedByClient).toBe(true);
  });
});

describe("MqttClient: keepalive", () => {
  it("pings after the keepalive period of idleness and closes when PINGRESP does not come", () => {
    const { net, client, log, clock, accept } = setup({ keepalive: 60, connectTimeoutMs: 10_000 });
    client.start();
    const s = accept();
    clock.advance(59_999);
    expect(s.sent(PacketType.Pingreq)).toHaveLength(0);
    clock.advance(1);
    expect(s.sent(PacketType.Pingreq)).toHaveLength(1);
    s.send({ type: PacketType.Pingresp });
    clock.advance(60_000);
    expect(s.sent(PacketType.Pingreq)).toHaveLength(2);
    clock.advance(9_999);
    expect(log.closes).toEqual([]);
    clock.advance(1);
    expect(log.closes).toEqual(["timeout"]);
    expect(s.closedByClient).toBe(true);
    expect(client.connected).toBe(false);
  });

  it("still pings when it only sends (a dead link must be noticed), and not at all when keepalive is 0", () => {
    const a = setup({ keepalive: 60 });
    a.client.start();
    const s = a.accept();
    for (let i = 0; i < 4; i++) {
      a.clock.advance(20_000);
      a.client.publish("r/d/x", "v", 0, false);
    }
    expect(s.sent(PacketType.Pingreq)).toHaveLength(1);

    const b = setup({ keepalive: 0 });
    b.client.start();
    const t = b.accept();
    b.clock.advance(3_600_000);
    expect(t.sent(PacketType.Pingreq)).toHaveLength(0);
    expect(b.clock.pending).toBe(0);
  });
});

describe("MqttClient: reconnect backoff", () => {
  /** delays between socket openings while every attempt fails at once */
  function delays(random: () => number, attempts: number, opts: Partial<MqttClientOptions> = {}) {
    const { net, client, clock } = setup(opts, random);
    client.start();
    for (let i = 0; i < attempts; i++) {
      const n = net.sockets.length;
      net.last.drop("ECONNREFUSED");
      while (net.sockets.length == n) clock.advance(1);
    }
    return net.sockets.slice(1).map((s, i) => s.openedAt - net.sockets[i].openedAt);
  }

  it("doubles from 1 s to the 5 min cap (no jitter when random() is 0)", () => {
    expect(delays(() => 0, 12)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300].map((s) => s * 1000));
  });

  it("jitters each delay within (base/2, base]", () => {
    const bases = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300].map((s) => s * 1000);
    expect(delays(() => 0.999999, 12).map((d, i) => d / bases[i])).toEqual(bases.map(() => expect.closeTo(0.5, 2)));
    let seed = 1;
    const lcg = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const got = delays(lcg, 12);
    got.forEach((d, i) => {
      expect(d).toBeGreaterThan(bases[i] / 2);
      expect(d).toBeLessThanOrEqual(bases[i]);
    });
    expect(new Set(got.map((d, i) => d / bases[i])).size).toBeGreaterThan(6);
  });

  it("resets to the first delay after a connection that lasted stableMs, not after a short one", () => {
    const { net, client, clock, accept } = setup({ stableMs: 60_000 });
    client.start();
    const gap = () => {
      const n = net.sockets.length;
      const t = clock.now();
      while (net.sockets.length == n) clock.advance(1);
      return clock.now() - t;
    };
    net.last.drop();
    expect(gap()).toBe(1000);
    net.last.drop();
    expect(gap()).toBe(2000);
    accept();
    clock.advance(59_000); // short connection: backoff keeps growing
    net.last.drop();
    expect(gap()).toBe(4000);
    accept();
    clock.advance(60_000); // stable
    net.last.drop();
    expect(gap()).toBe(1000);
  });

  /** the broker takes each session `after` ms after its CONNACK (a twin with our id connecting); the delays before each reconnect */
  function kickLoop(kicks: number, after: number, random: () => number = () => 0) {
    const t = setup({}, random);
    t.client.start();
    const delays: number[] = [];
    for (let i = 0; i < kicks; i++) {
      t.accept();
      t.clock.advance(after);
      const n = t.net.sockets.length;
      const at = t.clock.now();
      t.net.last.drop();
      while (t.net.sockets.length == n) t.clock.advance(100);
      delays.push(t.clock.now() - at);
    }
    return { ...t, delays };
  }

  it("a kick loop (the broker ends 3 sessions in a row within a minute of CONNACK) backs off from 1 min to 15 min and is reported", () => {
    const { client, delays, clock, log } = kickLoop(9, 2000);
    // the app's log line says so from the third
    expect(log.closes.slice(0, 4)).toEqual(["closed by peer", "closed by peer", KICK_LOOP_CLOSE, KICK_LOOP_CLOSE]);
    expect(KICK_LOOP_CLOSE).toBe("closed by peer: kick loop");
    // the first two kicks: the ordinary backoff; from the third: 1, 2, 4, 8 min, then the 15 min cap
    expect(delays).toEqual([1, 2, 60, 120, 240, 480, 900, 900, 900].map((s) => s * 1000));
    // the last kick's time: the board's clock (setup's time() is the fake clock in seconds)
    expect(client.stats.dup_).toEqual({ n: 9, at: clock.now() - 900_000 });
  });

  it("kick loop delays are jittered within (base/2, base] by the HAL's random", () => {
    let seed = 7;
    const lcg = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const bases = [1, 2, 60, 120, 240, 480, 900, 900].map((s) => s * 1000);
    const { delays } = kickLoop(8, 500, lcg);
    // the fake loop notices a reconnect within 100 ms
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThan(bases[i] / 2);
      expect(d).toBeLessThanOrEqual(bases[i] + 100);
    });
  });

  it("two kicks, timeouts, socket errors and our own closes are no kick loop", () => {
    const { client, delays } = kickLoop(2, 1000);
    expect(delays).toEqual([1000, 2000]);
    expect(client.stats.dup_).toBeUndefined();
    const t = setup();
    const reopened = () => {
      const n = t.net.sockets.length;
      while (t.net.sockets.length == n) t.clock.advance(100);
    };
    t.client.start();
    for (let i = 0; i < 4; i++) {
      t.accept();
      t.clock.advance(1000);
      t.net.last.drop("ECONNRESET"); // a network error, not the broker's clean close
      reopened();
    }
    t.accept();
    t.clock.advance(70_000); // keepalive 60 s: the PINGRESP never comes, a timeout
    expect(t.log.closes).toEqual(["ECONNRESET", "ECONNRESET", "ECONNRESET", "ECONNRESET", "timeout"]);
    expect(t.client.stats.dup_).toBeUndefined();
  });

  it("a session that lasts stableMs ends the kick loop (ordinary backoff again); the report stays for info", () => {
    const { client, net, clock, accept } = kickLoop(4, 1000);
    const report = client.stats.dup_;
    expect(report).toMatchObject({ n: 4 });
    accept();
    clock.advance(60_000);
    const n = net.sockets.length;
    const at = clock.now();
    net.last.drop();
    while (net.sockets.length == n) clock.advance(100);
    expect(clock.now() - at).toBe(1000);
    expect(client.stats.dup_).toBe(report);
    // a new loop counts from one again
    for (let i = 0; i < 2; i++) {
      accept();
      clock.advance(1000);
      const m = net.sockets.length;
      net.last.drop();
      while (net.sockets.length == m) clock.advance(100);
    }
    expect(client.stats.dup_).toBe(report);
    accept();
    clock.advance(1000);
    net.last.drop();
    expect(client.stats.dup_).toEqual({ n: 3, at: clock.now() });
  });

  it("stops for good on stop(): graceful sends DISCONNECT, and no timer is left", () => {
    const { net, client, log, clock, accept } = setup();
    client.start();
    const s = accept();
    client.stop(true);
    expect(s.written.at(-1)).toEqual({ type: PacketType.Disconnect });
    expect(s.closedByClient).toBe(true);
    expect(log.closes).toEqual(["stopped"]);
    expect(clock.pending).toBe(0);
    clock.advance(3_600_000);
    expect(net.sockets).toHaveLength(1);

    client.start();
    const t = accept();
    client.stop(false);
    expect(t.sent(PacketType.Disconnect)).toEqual([]);
  });
});

describe("MqttClient: publishing", () => {
  it("retransmits unacknowledged QoS 1 publishes after reconnect, in order, with DUP and the same ids", () => {
    const { client, log, clock, accept } = setup();
    client.start();
    const s = accept();
    const tokens = [1, 2, 3].map((i) => client.publish("r/d/reading", `m${i}`, 1, false));
    expect(tokens).toEqual([1, 2, 3]);
    const first = publishes(s);
    expect(first.map((p) => [p.id, p.dup, text(p.payload)])).toEqual([[1, false, "m1"], [2, false, "m2"], [3, false, "m3"]]);
    s.send({ type: PacketType.Puback, id: 2 });
    expect(log.published).toEqual([2]);
    s.drop();
    expect(client.inflightRoom()).toBe(0);
    clock.advance(1000);
    const t = accept(true);
    expect(publishes(t).map((p) => [p.id, p.dup, text(p.payload)])).toEqual([[1, true, "m1"], [3, true, "m3"]]);
    t.send({ type: PacketType.Puback, id: 3 }, { type: PacketType.Puback, id: 1 });
    expect(log.published).toEqual([2, 3, 1]);
    expect(client.inflightRoom()).toBe(10);
  });

  it("keeps at most maxInflight QoS 1 publishes in flight and sends the rest as acks free the window", () => {
    const { client, accept } = setup({ maxInflight: 2 });
    client.start();
    const s = accept();
    for (let i = 0; i < 4; i++) client.publish("r/d/x", `${i}`, 1, false);
    expect(publishes(s)).toHaveLength(2);
    expect(client.inflightRoom()).toBe(0);
    s.send({ type: PacketType.Puback, id: 1 });
    expect(publishes(s).map((p) => text(p.payload))).toEqual(["0", "1", "2"]);
    s.send({ type: PacketType.Puback, id: 2 }, { type: PacketType.Puback, id: 3 });
    expect(publishes(s)).toHaveLength(4);
    expect(client.inflightRoom()).toBe(1);
  });

  it("queues publishes while offline, drops the oldest when the queue is full and counts them", () => {
    const { client, accept } = setup({ queueLimit: 3 });
    expect(client.inflightRoom()).toBe(0);
    for (let i = 0; i < 5; i++) client.publish("r/d/reply", `${i}`, i % 2 ? 1 : 0, false);
    expect(client.stats.queueDropped).toBe(2);
    client.start();
    const s = accept();
    expect(publishes(s).map((p) => [text(p.payload), p.qos])).toEqual([["2", 0], ["3", 1], ["4", 0]]);
  });

  it("while connected with the window full, drops the oldest queued publish, never one in flight, and ignores a PUBACK for an unsent id", () => {
    const { client, log, accept } = setup({ maxInflight: 2, queueLimit: 2 });
    client.start();
    const s = accept();
    const tokens = [0, 1, 2, 3, 4].map((i) => client.publish("r/d/x", `${i}`, 1, false));
    expect(publishes(s).map((p) => text(p.payload))).toEqual(["0", "1"]);
    expect(client.stats.queueDropped).toBe(1); // "2" went: the queue holds "3" and "4"
    s.send({ type: PacketType.Puback, id: tokens[3] }); // not sent yet: no effect
    expect(log.published).toEqual([]);
    expect(publishes(s)).toHaveLength(2);
    s.send({ type: PacketType.Puback, id: tokens[1] }, { type: PacketType.Puback, id: tokens[0] });
    expect(log.published).toEqual([tokens[1], tokens[0]]);
    expect(publishes(s).map((p) => [text(p.payload), p.id])).toEqual([["0", tokens[0]], ["1", tokens[1]], ["3", tokens[3]], ["4", tokens[4]]]);
    expect(client.inflightRoom()).toBe(0);
  });

  it("publishes retained and binary payloads as given", () => {
    const { client, accept } = setup();
    client.start();
    const s = accept();
    expect(client.publish("r/d/status", "online", 1, true)).toBe(1);
    expect(client.publish("r/d/bin", new Uint8Array([0, 255]), 0, false)).toBe(0);
    expect(publishes(s).map((p) => [p.topic, p.retain, p.qos, Array.from(p.payload)])).toEqual([
      ["r/d/status", true, 1, Array.from(Buffer.from("online"))],
      ["r/d/bin", false, 0, [0, 255]],
    ]);
  });

  it("wraps packet ids after 65535 and skips ids still in flight", () => {
    const { client, accept } = setup();
    client.start();
    const s = accept();
    client.publish("r/d/x", "held", 1, false); // id 1, never acknowledged
    for (let i = 2; i <= 65535; i++) {
      client.publish("r/d/x", "", 1, false);
      s.send({ type: PacketType.Puback, id: i });
      s.written.length = 0;
    }
    client.publish("r/d/x", "next", 1, false);
    expect(publishes(s).map((p) => p.id)).toEqual([2]);
  });
});

describe("MqttClient: subscriptions and incoming messages", () => {
  it("subscribes, resubscribes after every reconnect, and forgets unsubscribed filters", () => {
    const { client, clock, net, accept } = setup();
    client.subscribe("r/d/cmd", 1);
    client.subscribe("r/all/cmd", 1);
    client.start();
    const s = accept();
    const filters = (x: FakeSocket) => x.sent(PacketType.Subscribe).map((p) => (p as { subs: unknown[] }).subs[0]);
    expect(filters(s)).toEqual([{ filter: "r/d/cmd", qos: 1 }, { filter: "r/all/cmd", qos: 1 }]);
    s.drop();
    clock.advance(1000);
    const t = accept();
    expect(filters(t)).toEqual([{ filter: "r/d/cmd", qos: 1 }, { filter: "r/all/cmd", qos: 1 }]);
    client.unsubscribe("r/all/cmd");
    expect(t.sent(PacketType.Unsubscribe)).toEqual([{ type: PacketType.Unsubscribe, id: expect.any(Number), filters: ["r/all/cmd"] }]);
    t.drop();
    clock.advance(2000); // second short connection in a row: the backoff has doubled
    expect(net.sockets).toHaveLength(3);
    expect(filters(accept())).toEqual([{ filter: "r/d/cmd", qos: 1 }]);
  });

  it("reports a refused subscription (SUBACK 0x80) through onError, naming the filter", () => {
    const { client, log, accept } = setup();
    client.start();
    const s = accept();
    client.subscribe("r/secret", 1);
    const sub = s.sent(PacketType.Subscribe)[0] as { id: number };
    s.send({ type: PacketType.Suback, id: sub.id, granted_: [0x80] });
    expect(log.errors).toEqual(["refused: r/secret"]);
    expect(client.connected).toBe(true);
  });

  it("delivers QoS 0 and 1 messages, acknowledging QoS 1", () => {
    const { client, log, accept } = setup();
    client.start();
    const s = accept();
    s.send(
      { type: PacketType.Publish, topic: "r/d/cmd", payload: new Uint8Array([123, 125]), qos: 1, id: 77, retain: false, dup: false },
      { type: PacketType.Publish, topic: "r/all/cmd", payload: new Uint8Array([]), qos: 0, retain: true, dup: false },
    );
    expect(log.messages.map((m) => [m.topic, Array.from(m.payload), m.qos, m.retain])).toEqual([
      ["r/d/cmd", [123, 125], 1, false],
      ["r/all/cmd", [], 0, true],
    ]);
    expect(s.sent(PacketType.Puback)).toEqual([{ type: PacketType.Puback, id: 77 }]);
  });

  it("reads past a PUBLISH over maxPacketSize: acknowledged, counted, not delivered, the connection kept", () => {
    const { client, log, accept } = setup({ maxPacketSize: 100 });
    client.start();
    const s = accept();
    const big = (qos: 0 | 1, id?: number): Packet => ({ type: PacketType.Publish, topic: "r/d/cmd", payload: new Uint8Array(500).fill(0x7b), qos, id, retain: true, dup: false });
    s.send(big(1, 41), big(0), { type: PacketType.Publish, topic: "r/d/cmd", payload: new Uint8Array([123, 125]), qos: 1, id: 42, retain: false, dup: false });
    expect(s.sent(PacketType.Puback)).toEqual([{ type: PacketType.Puback, id: 41 }, { type: PacketType.Puback, id: 42 }]);
    expect(client.stats.skipped_).toBe(2);
    expect(log.messages.map((m) => Array.from(m.payload))).toEqual([[123, 125]]);
    expect(client.connected).toBe(true);
    expect(s.closedByClient).toBe(false);
    expect(client.stats.protocolErrors).toBe(0);
  });

  it("still closes the connection on any other packet over maxPacketSize", () => {
    const { client, log, accept } = setup({ maxPacketSize: 100 });
    client.start();
    const s = accept();
    s.sendBytes([0x90, 0x80, 0x01]); // a SUBACK of 128 bytes
    expect(log.closes).toEqual(["protocol error: too big: 131"]);
    expect(client.stats.skipped_).toBe(0);
  });

  it("handles incoming QoS 2 without breaking the session: PUBREC, PUBREL -> PUBCOMP (no deduplication)", () => {
    const { client, log, accept } = setup();
    client.start();
    const s = accept();
    const msg: Packet = { type: PacketType.Publish, topic: "r/d/cmd", payload: new Uint8Array([1]), qos: 2, id: 9, retain: false, dup: false };
    s.send(msg);
    expect(log.messages).toHaveLength(1);
    expect(s.sent(PacketType.Pubrec)).toEqual([{ type: PacketType.Pubrec, id: 9 }]);
    s.send({ type: PacketType.Pubrel, id: 9 });
    expect(s.sent(PacketType.Pubcomp)).toEqual([{ type: PacketType.Pubcomp, id: 9 }]);
    s.send(msg); // id 9 reused for a new message after the exchange completed
    expect(log.messages).toHaveLength(2);
    expect(s.sent(PacketType.Puback)).toEqual([]);
    expect(client.connected).toBe(true);
  });

  it("survives a throwing message handler without losing the rest of the chunk", () => {
    const clock = new FakeClock();
    const net = new FakeNetwork(clock);
    const errors: string[] = [];
    let n = 0;
    const client = new MqttClient(TARGET, { clientId: "c", clean: true, keepalive: 0 }, {
      onMessage: () => {
        n++;
        if (n == 1) throw new Error("app bug");
      },
      onError: (e) => errors.push(e),
    }, net.factory, clock, () => 0.5, () => 0);
    client.start();
    net.last.accept();
    const pub = (id: number): Packet => ({ type: PacketType.Publish, topic: "t", payload: new Uint8Array(0), qos: 1, id, retain: false, dup: false });
    net.last.send({ type: PacketType.Connack, sessionPresent_: false, returnCode_: 0 }, pub(1), pub(2));
    expect(n).toBe(2);
    expect(errors).toEqual(["handler failed: Error: app bug"]);
    expect(client.connected).toBe(true);
  });
});
