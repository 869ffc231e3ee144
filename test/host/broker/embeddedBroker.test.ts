import net from "node:net";
import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { startEmbeddedBroker } from "../../../host/broker/embeddedBroker";

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
});
