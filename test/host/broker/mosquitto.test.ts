import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { freePort, startMosquitto } from "../../../host/broker/mosquitto";

describe("startMosquitto", () => {
  it("runs a Mosquitto on a free loopback port with the extra config lines, and stops it", async () => {
    const extraPort = await freePort();
    const broker = await startMosquitto([`listener ${extraPort} 127.0.0.1`]);
    try {
      expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
      const sub = await mqtt.connectAsync(broker.url);
      const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${extraPort}`);
      await sub.subscribeAsync("t/#");
      const got = new Promise<string>((r) => sub.on("message", (_t, p) => r(p.toString())));
      await pub.publishAsync("t/1", "hello", { qos: 1 });
      expect(await got).toBe("hello");
      await sub.endAsync();
      await pub.endAsync();
    } finally {
      await broker.close();
    }
    await expect(mqtt.connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 2000 })).rejects.toThrow();
  });
});
