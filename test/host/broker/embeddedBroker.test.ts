import net from "node:net";
import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { startEmbeddedBroker } from "../../../host/broker/embeddedBroker";
import { connectBroker } from "../../../host/mqtt/connectBroker";

describe("embedded broker", () => {
  it("relays messages on loopback and takes a free port when the asked one is taken", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const broker = await startEmbeddedBroker({ port: taken });
    try {
      expect(broker.port).not.toBe(taken);
      expect(broker.host).toBe("127.0.0.1");
      const sub = await mqtt.connectAsync(broker.url);
      const pub = await mqtt.connectAsync(broker.url);
      await sub.subscribeAsync("t/#");
      const got = new Promise<string>((r) => sub.on("message", (_t, p) => r(p.toString())));
      await pub.publishAsync("t/1", "hello", { qos: 1 });
      expect(await got).toBe("hello");
      expect(broker.clients()).toBe(2);
      await sub.endAsync();
      await pub.endAsync();
    } finally {
      await broker.close();
      blocker.close();
    }
  });

  it("serves MQTT over WebSocket on its own port: a host program falls back to 3.1.1 there and talks with TCP clients", async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    try {
      expect(broker.wsPort).not.toBe(broker.port);
      expect(broker.wsUrl).toBe(`ws://127.0.0.1:${broker.wsPort}`);
      const logs: string[] = [];
      const overWs = await connectBroker({ url: broker.wsUrl, username: null, password: null, ca: null }, { clientId: "ws-host", clean: true, log: (m) => logs.push(m) });
      expect(logs).toEqual(["the broker does not speak MQTT 5: using MQTT 3.1.1"]);
      const overTcp = await mqtt.connectAsync(broker.url, { clientId: "tcp-board" });
      await overWs.subscribeAsync("t/#", { qos: 1 });
      await overTcp.subscribeAsync("back/#", { qos: 1 });
      const atWs = new Promise<string>((r) => overWs.on("message", (t, p) => r(`${t} ${p}`)));
      const atTcp = new Promise<string>((r) => overTcp.on("message", (t, p) => r(`${t} ${p}`)));
      await overTcp.publishAsync("t/reading", "21.5", { qos: 1 });
      await overWs.publishAsync("back/cmd", "ping", { qos: 1 });
      expect(await atWs).toBe("t/reading 21.5");
      expect(await atTcp).toBe("back/cmd ping");
      expect(broker.clients()).toBe(2);
      // a browser pointed at the port gets an answer instead of a hang
      const res = await fetch(`http://127.0.0.1:${broker.wsPort}/`);
      expect(res.status).toBe(426);
      expect(await res.text()).toContain(broker.wsUrl);
      await overTcp.endAsync();
      // close ends the WebSocket clients too
      const closed = new Promise<void>((r) => overWs.once("close", () => r()));
      overWs.options.reconnectPeriod = 0;
      await broker.close();
      await closed;
      overWs.end(true);
    } finally {
      await broker.close().catch(() => {});
    }
  });

  it("puts the WebSocket port next to a fixed TCP port, or on a free one when that is taken; an asked one is kept", async () => {
    const tcp = await freeTwo();
    const broker = await startEmbeddedBroker({ port: tcp });
    try {
      expect(broker.port).toBe(tcp);
      expect(broker.wsPort).toBe(tcp + 1);
    } finally {
      await broker.close();
    }
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(tcp + 1, "127.0.0.1", r));
    const next = await startEmbeddedBroker({ port: tcp });
    try {
      expect(next.wsPort).not.toBe(tcp + 1);
      expect(next.wsPort).toBeGreaterThan(0);
    } finally {
      await next.close();
      blocker.close();
    }
    const asked = await startEmbeddedBroker({ port: 0, wsPort: tcp });
    try {
      expect(asked.wsPort).toBe(tcp);
    } finally {
      await asked.close();
    }
  });
});

/** A port P such that P and P+1 are both free right now. */
async function freeTwo(): Promise<number> {
  for (;;) {
    const a = net.createServer();
    await new Promise<void>((r) => a.listen(0, "127.0.0.1", r));
    const p = (a.address() as net.AddressInfo).port;
    const b = net.createServer();
    const ok = p < 65535 && await new Promise<boolean>((r) => { b.once("error", () => r(false)); b.listen(p + 1, "127.0.0.1", () => r(true)); });
    await new Promise((r) => a.close(r));
    if (ok) await new Promise((r) => b.close(r));
    if (ok) return p;
  }
}
