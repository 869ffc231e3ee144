// Host sessions on MQTT 5 with a session expiry, against a real Mosquitto 2 (which speaks 5), and the fallback
// to 3.1.1 against brokers that do not: aedes 1.x (answers "unacceptable protocol version") and one that hangs up.
import net from "node:net";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalMosquitto, startMosquitto } from "../../../host/broker/mosquitto";
import { clientOptions, connectBroker, displayUrl, maskUrlsIn, PERSISTENT_SESSION_EXPIRY_S, protocolOf } from "../../../host/mqtt/connectBroker";
import { startAedes } from "../../support/brokers";
import { until } from "../../support/until";

const settings = (url: string) => ({ url, username: null, password: null, ca: null });

/** Connects as connectBroker does and reports the CONNACK's session-present flag and what arrived. */
async function session(url: string, clientId: string, clean: boolean, sessionExpirySeconds?: number) {
  let sessionPresent: boolean | undefined;
  const got: string[] = [];
  const client = await connectBroker(settings(url), { clientId, clean, sessionExpirySeconds }, (c) => {
    c.once("connect", (p) => { sessionPresent = p.sessionPresent; });
    c.on("message", (_t, payload) => got.push(payload.toString()));
  });
  return { client, sessionPresent: () => sessionPresent, got };
}

describe("clientOptions", () => {
  it("asks for MQTT 5 with no session kept for a clean session and 7 days for a persistent one", () => {
    expect(clientOptions(settings("mqtt://h"), { clientId: "w", clean: true })).toMatchObject({ protocolVersion: 5, clean: true, properties: { sessionExpiryInterval: 0 } });
    expect(clientOptions(settings("mqtt://h"), { clientId: "d", clean: false })).toMatchObject({ protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 7 * 86400 } });
    expect(PERSISTENT_SESSION_EXPIRY_S).toBe(604_800);
    const v4 = clientOptions(settings("mqtt://h"), { clientId: "d", clean: false, protocolVersion: 4 });
    expect(v4.protocolVersion).toBe(4);
    expect(v4.properties).toBeUndefined();
  });

  it("masks credentials in URLs and in text quoting them", () => {
    expect(displayUrl("mqtts://u:p4ss@host:8883")).toBe("mqtts://***@host:8883");
    expect(maskUrlsIn("bad 'mqtt://me:s3cret@h:1' and wss://t0ken@x/y")).toBe("bad 'mqtt://***@h:1' and wss://***@x/y");
  });
});

describe("MQTT 5 sessions on Mosquitto", () => {
  let broker: LocalMosquitto;
  let publisher: MqttClient;
  beforeAll(async () => {
    broker = await startMosquitto(["max_queued_messages 0"]);
    publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await broker?.close();
  });

  it("the dashboard's persistent session is kept across a reconnect: what was published meanwhile arrives", async () => {
    const logs: string[] = [];
    const first = await connectBroker(settings(broker.url), { clientId: "dash-keep", clean: false, log: (m) => logs.push(m) });
    expect(protocolOf(first)).toBe(5);
    expect(logs).toEqual(["MQTT 5, session kept 7 days by the broker"]);
    await first.subscribeAsync("t/keep", { qos: 1 });
    await first.endAsync();
    await publisher.publishAsync("t/keep", "while away", { qos: 1 });
    const again = await session(broker.url, "dash-keep", false);
    expect(again.sessionPresent()).toBe(true);
    await until(() => again.got.includes("while away"), 5000, "the message kept for the session");
    await again.client.endAsync();
  });

  it("a watch session (clean, expiry 0) is not kept", async () => {
    const first = await connectBroker(settings(broker.url), { clientId: "watch-gone", clean: true });
    await first.subscribeAsync("t/gone", { qos: 1 });
    await first.endAsync();
    await publisher.publishAsync("t/gone", "lost", { qos: 1 });
    const again = await session(broker.url, "watch-gone", false);
    expect(again.sessionPresent()).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(again.got).toEqual([]);
    await again.client.endAsync();
  });

  it("the broker ends a persistent session once its expiry has passed", async () => {
    const first = await connectBroker(settings(broker.url), { clientId: "short", clean: false, sessionExpirySeconds: 1 });
    await first.subscribeAsync("t/short", { qos: 1 });
    await first.endAsync();
    await new Promise((r) => setTimeout(r, 3000));
    await publisher.publishAsync("t/short", "after expiry", { qos: 1 });
    const again = await session(broker.url, "short", false);
    expect(again.sessionPresent()).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(again.got).toEqual([]);
    await again.client.endAsync();
  });
});

describe("fallback to MQTT 3.1.1", () => {
  it("aedes 1.x refuses MQTT 5 ('unacceptable protocol version'): the session goes on over 3.1.1 and says so once", async () => {
    const broker = await startAedes();
    try {
      const logs: string[] = [];
      const client = await connectBroker(settings(broker.url), { clientId: "dash-aedes", clean: false, log: (m) => logs.push(m) });
      expect(protocolOf(client)).toBe(4);
      expect(logs).toEqual(["the broker does not speak MQTT 5: using MQTT 3.1.1 (its persistent session has no expiry there)"]);
      // and it works: a round trip through the broker
      const got: string[] = [];
      client.on("message", (_t, p) => got.push(p.toString()));
      await client.subscribeAsync("t/x", { qos: 1 });
      await client.publishAsync("t/x", "hello", { qos: 1 });
      await until(() => got.includes("hello"), 5000, "the round trip");
      await client.endAsync();
    } finally {
      await broker.stop();
    }
  });

  it("a broker that hangs up on an MQTT 5 CONNECT gets a 3.1.1 one", async () => {
    const levels: number[] = [];
    const server = net.createServer((socket) => {
      socket.once("data", (d) => {
        // CONNECT: fixed header, then "\0\4MQTT" and the protocol level
        const level = d[d.indexOf("MQTT") + 4];
        levels.push(level);
        if (level === 5) socket.destroy();
        else socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const logs: string[] = [];
      const client = await connectBroker(settings(`mqtt://127.0.0.1:${port}`), { clientId: "w", clean: true, log: (m) => logs.push(m) });
      expect(protocolOf(client)).toBe(4);
      expect(levels).toEqual([5, 4]);
      expect(logs).toEqual(["the broker does not speak MQTT 5: using MQTT 3.1.1"]);
      client.end(true);
    } finally {
      server.close();
    }
  });

  it("nothing listening is an error that says so, not a fallback", async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    await expect(connectBroker(settings(`mqtt://me:pw@127.0.0.1:${port}`), { clientId: "x", clean: true })).rejects.toThrow(
      new RegExp(`^cannot connect to mqtt://\\*\\*\\*@127\\.0\\.0\\.1:${port}: nothing accepts connections there \\(.*ECONNREFUSED`),
    );
  });
});
