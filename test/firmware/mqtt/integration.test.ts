// The device client (unchanged firmware code over the node:net HAL adapter) against real brokers:
// in-process aedes AND a Mosquitto the test starts, the same cases for both. MQTT.js is the other party.
import mqtt, { MqttClient as MqttJsClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket, SocketFactory } from "../../../firmware/hal/hal";
import { MqttClient } from "../../../firmware/mqtt/client";
import type { IncomingMessage, MqttClientOptions } from "../../../firmware/mqtt/types";
import { NodeClock } from "../../support/nodeHal/nodeClock";
import { nodeSocketFactory } from "../../support/nodeHal/nodeSockets";
import { BROKERS, RunningBroker } from "../../support/brokers";

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** a device client whose sockets the test can cut like a network failure */
function device(broker: RunningBroker, opts: Partial<MqttClientOptions> & { clientId: string }) {
  const sockets: Socket[] = [];
  const base = nodeSocketFactory();
  const factory: SocketFactory = (t, h) => {
    const s = base(t, h);
    sockets.push(s);
    return s;
  };
  const log = { connects: [] as boolean[], closes: [] as string[], messages: [] as IncomingMessage[], errors: [] as string[], published: [] as number[] };
  const client = new MqttClient(
    { host: broker.host, port: broker.port, tls: false },
    { clean: true, keepalive: 30, reconnectMinMs: 100, reconnectMaxMs: 1000, ...opts },
    {
      onConnect: (s) => log.connects.push(s),
      onClose: (r) => log.closes.push(r),
      onMessage: (m) => log.messages.push(m),
      onError: (e) => log.errors.push(e),
      onPublished: (t) => log.published.push(t),
    },
    factory,
    new NodeClock(),
    Math.random,
    () => Date.now() / 1000,
  );
  /** closes the TCP connection under the client, without DISCONNECT */
  const cut = () => sockets[sockets.length - 1].close();
  return { client, log, cut };
}

/** an MQTT.js client that records what it receives */
async function watcher(broker: RunningBroker, topics: string[]) {
  const got: { topic: string; payload: string; qos: number }[] = [];
  const c: MqttJsClient = await mqtt.connectAsync(broker.url, { clientId: "watch-" + Math.random().toString(16).slice(2), clean: true, reconnectPeriod: 0 });
  c.on("message", (topic, payload, packet) => got.push({ topic, payload: payload.toString("hex"), qos: packet.qos }));
  await c.subscribeAsync(topics, { qos: 1 });
  return { c, got };
}

const text = (m: IncomingMessage) => Buffer.from(m.payload).toString();

for (const { name, start } of BROKERS) {
  describe(`device MQTT client against ${name}`, () => {
    let broker: RunningBroker;
    const closers: (() => unknown)[] = [];
    beforeAll(async () => {
      broker = await start();
    });
    afterAll(async () => {
      for (const c of closers) await c();
      await broker?.stop();
    });
    const root = () => `itest/${name}/${Math.random().toString(16).slice(2)}`;

    it("connects with a will, publishes QoS 0 and 1, and the will is delivered when the connection is cut", async () => {
      const r = root();
      const w = await watcher(broker, [`${r}/#`]);
      closers.push(() => w.c.endAsync());
      const d = device(broker, { clientId: "dev-will-" + name, will: { topic: `${r}/status`, payload: "offline", qos: 1, retain: false } });
      closers.push(() => d.client.stop(false));
      d.client.start();
      await until("CONNACK", () => d.client.connected);
      d.client.publish(`${r}/status`, "online", 1, true);
      d.client.publish(`${r}/reading`, '{"t":21.5}', 0, false);
      const token = d.client.publish(`${r}/reading`, new Uint8Array([0, 1, 255]), 1, false);
      await until("PUBACKs", () => d.log.published.length == 2);
      expect(d.log.published).toEqual([token - 1, token]);
      await until("the watcher to see 3 messages", () => w.got.length == 3);
      // MQTT orders messages per QoS level only (aedes may pass the QoS 0 one first)
      const seen = w.got.map((m) => [m.topic, m.payload, m.qos].join(" "));
      expect(seen.sort()).toEqual([
        `${r}/reading ${Buffer.from([0, 1, 255]).toString("hex")} 1`,
        `${r}/reading ${Buffer.from('{"t":21.5}').toString("hex")} 0`,
        `${r}/status ${Buffer.from("online").toString("hex")} 1`,
      ]);
      d.cut(); // the TCP connection ends without DISCONNECT, as when the network fails
      const offline = Buffer.from("offline").toString("hex");
      await until("the will", () => w.got.some((m) => m.payload == offline));
      expect(w.got.at(-1)).toEqual({ topic: `${r}/status`, payload: offline, qos: 1 });
      // and the device comes back by itself
      await until("the reconnect", () => d.log.connects.length == 2 && d.client.connected);
      d.client.stop(false); // a board losing power: no DISCONNECT either
      await until("the second will", () => w.got.filter((m) => m.payload == offline).length == 2);
    });

    it("stops gracefully with DISCONNECT: the broker drops the will", async () => {
      const r = root();
      const w = await watcher(broker, [`${r}/#`]);
      closers.push(() => w.c.endAsync());
      const d = device(broker, { clientId: "dev-bye-" + name, will: { topic: `${r}/status`, payload: "offline", qos: 1, retain: false } });
      d.client.start();
      await until("CONNACK", () => d.client.connected);
      d.client.publish(`${r}/status`, "bye", 1, false);
      await until("the last message", () => w.got.length == 1);
      d.client.stop(true);
      // a marker published after the stop arrives after any will the broker would have sent
      await w.c.publishAsync(`${r}/marker`, "m", { qos: 1 });
      await until("the marker", () => w.got.length >= 2);
      await new Promise((res) => setTimeout(res, 200));
      expect(w.got.map((m) => m.topic)).toEqual([`${r}/status`, `${r}/marker`]);
    });

    it("subscribes and receives; after a cut it reconnects, resubscribes and receives again", async () => {
      const r = root();
      const d = device(broker, { clientId: "dev-sub-" + name, clean: true });
      closers.push(() => d.client.stop(false));
      d.client.subscribe(`${r}/cmd`, 1);
      d.client.subscribe(`${r}/all/+`, 0);
      d.client.start();
      await until("CONNACK", () => d.client.connected);
      const w = await watcher(broker, [`${r}/none`]);
      closers.push(() => w.c.endAsync());
      // the SUBACK is not visible from outside: publish until the device sees a command
      await until("the first command", () => {
        if (!d.log.messages.length) w.c.publish(`${r}/cmd`, '{"id":"1","op":"ping"}', { qos: 1 });
        return d.log.messages.length > 0;
      });
      expect(text(d.log.messages[0])).toBe('{"id":"1","op":"ping"}');
      expect(d.log.messages[0].qos).toBe(1);

      d.cut();
      await until("the close", () => d.log.closes.length == 1);
      expect(d.log.closes[0]).toBe("closed by peer");
      await until("the reconnect", () => d.log.connects.length == 2 && d.client.connected);
      const before = d.log.messages.length;
      await until("a command after reconnect", () => {
        w.c.publish(`${r}/all/x`, "group", { qos: 0 });
        return d.log.messages.length > before;
      });
      expect(text(d.log.messages.at(-1)!)).toBe("group");
      expect(d.client.stats.connects).toBe(2);
      expect(d.client.stats.protocolErrors).toBe(0);
    });

    it("with clean=false gets the QoS 1 messages sent while it was offline", async () => {
      const r = root();
      const id = "dev-persist-" + name;
      const first = device(broker, { clientId: id, clean: false });
      first.client.subscribe(`${r}/cmd`, 1);
      first.client.start();
      await until("CONNACK", () => first.client.connected);
      const w = await watcher(broker, [`${r}/none`]);
      closers.push(() => w.c.endAsync());
      // make sure the subscription is in place: a round trip through the broker
      await until("the subscription", () => {
        if (!first.log.messages.length) w.c.publish(`${r}/cmd`, "probe", { qos: 1 });
        return first.log.messages.length > 0;
      });
      first.client.stop(true);
      await until("the close", () => !first.client.connected && first.log.closes.length == 1);

      await w.c.publishAsync(`${r}/cmd`, "while-away-1", { qos: 1 });
      await w.c.publishAsync(`${r}/cmd`, "while-away-2", { qos: 1 });

      const again = device(broker, { clientId: id, clean: false });
      closers.push(() => again.client.stop(false));
      again.client.start();
      await until("the queued messages", () => again.log.messages.filter((m) => text(m).startsWith("while-away")).length == 2);
      expect(again.log.connects).toEqual([true]);
      expect(again.log.messages.map(text).filter((t) => t != "probe")).toEqual(["while-away-1", "while-away-2"]);
    });

    it("reads past an oversized message queued for its session, acknowledges it, and it is not redelivered", async () => {
      const r = root();
      const id = "dev-big-" + name;
      const first = device(broker, { clientId: id, clean: false, maxPacketSize: 1024 });
      first.client.subscribe(`${r}/cmd`, 1);
      first.client.start();
      await until("CONNACK", () => first.client.connected);
      const w = await watcher(broker, [`${r}/none`]);
      closers.push(() => w.c.endAsync());
      await until("the subscription", () => {
        if (!first.log.messages.length) w.c.publish(`${r}/cmd`, "probe", { qos: 1 });
        return first.log.messages.length > 0;
      });
      first.client.stop(true);
      await until("the close", () => first.log.closes.length == 1);
      await w.c.publishAsync(`${r}/cmd`, Buffer.alloc(20_000, 0x7b), { qos: 1 });
      await w.c.publishAsync(`${r}/cmd`, "after-the-big-one", { qos: 1 });

      const again = device(broker, { clientId: id, clean: false, maxPacketSize: 1024 });
      closers.push(() => again.client.stop(false));
      again.client.start();
      await until("the small message behind it", () => again.log.messages.some((m) => text(m) == "after-the-big-one"));
      expect(again.client.stats.skipped_).toBe(1);
      expect(again.client.stats.protocolErrors).toBe(0);
      // a reconnect on the same session: the broker has nothing left to redeliver
      again.cut();
      await until("the reconnect", () => again.log.connects.length == 2 && again.client.connected);
      await until("a round trip", () => {
        if (!again.log.messages.some((m) => text(m) == "probe-2")) w.c.publish(`${r}/cmd`, "probe-2", { qos: 1 });
        return again.log.messages.some((m) => text(m) == "probe-2");
      });
      expect(again.client.stats.skipped_).toBe(1);
      expect(again.log.closes).toEqual(["closed by peer"]);
    });
  });
}
