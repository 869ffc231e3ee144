// The app with the real device MQTT client over node:net against real brokers on loopback; an MQTT.js
// subscriber sees what a host would: status, info, readings, replies, and the will when the board dies.
import { afterEach, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { startApp } from "../../../firmware/app/app";
import { CONFIG_FILE } from "../../../firmware/contract/deviceConfig";
import { validateInfo, validateReading, validateReply } from "../../../firmware/contract/payloads";
import type { Clock, Hal, TimerHandle } from "../../../firmware/hal/hal";
import { MqttClient } from "../../../firmware/mqtt/client";
import { NodeClock } from "../../support/nodeHal/nodeClock";
import { nodeSocketFactory } from "../../support/nodeHal/nodeSockets";
import { BROKERS, RunningBroker } from "../../support/brokers";
import { boardFunctions, FakeBoard, FakeDht, FakeWifi, MemoryStore } from "./fakeHal";

/** Real time, but every timer can be cancelled when the test ends (the app has no stop: a board just loses power). */
class DisposableClock implements Clock {
  private inner = new NodeClock();
  private timers = new Set<TimerHandle>();
  private dead = false;
  now(): number { return this.inner.now(); }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (this.dead) return 0;
    const h: TimerHandle = this.inner.setTimeout(() => { this.timers.delete(h); fn(); }, ms);
    this.timers.add(h);
    return h;
  }
  clearTimeout(h: TimerHandle): void { this.timers.delete(h); this.inner.clearTimeout(h); }
  dispose(): void { this.dead = true; for (const h of this.timers) this.inner.clearTimeout(h); this.timers.clear(); }
}

interface Seen { topic: string; text: string; retain: boolean }

function waitFor<T>(what: string, probe: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const v = probe();
      if (v !== undefined) return resolve(v);
      if (Date.now() > deadline) return reject(new Error("timed out waiting for " + what));
      setTimeout(tick, 20);
    };
    tick();
  });
}

for (const b of BROKERS) {
  describe(`app + device MQTT client + ${b.name}`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const c of cleanups.reverse()) await c();
      cleanups.length = 0;
    });

    it("publishes online, info and readings, answers commands, and leaves a will when it dies", async () => {
      const broker: RunningBroker = await b.start();
      cleanups.push(() => broker.stop());
      const root = "espdht/t" + Math.floor(Math.random() * 1e9);
      const seen: Seen[] = [];
      const sub = await mqtt.connectAsync(broker.url, { clean: true, clientId: "t-" + Math.random().toString(16).slice(2) });
      cleanups.push(() => sub.endAsync());
      sub.on("message", (topic, payload, packet) => seen.push({ topic, text: payload.toString(), retain: packet.retain }));
      await sub.subscribeAsync(root + "/#", { qos: 1 });

      const clock = new DisposableClock();
      const storage = new MemoryStore();
      storage.writeJSON(CONFIG_FILE, { broker: { host: broker.host, port: broker.port }, root, interval: 2, keepalive: 10 });
      const dht = new FakeDht(clock);
      dht.temperature = -3.2;
      dht.humidity = 55.5;
      const sockets = nodeSocketFactory();
      const hal: Hal = Object.assign(dht.pins(), boardFunctions(new FakeBoard()), {
        clock_: clock, time_: () => Date.now() / 1000, sockets_: sockets, storage_: storage, wifi_: new FakeWifi(), random_: Math.random,
      });
      let client: MqttClient | null = null;
      const app = startApp(hal, (target, options, events) => (client = new MqttClient(target, options, events, sockets, clock, Math.random, hal.time_)));
      cleanups.push(() => { clock.dispose(); client!.stop(false); });
      const t = (kind: string) => `${root}/${app.id}/${kind}`;

      await waitFor("online", () => seen.find((m) => m.topic === t("status") && m.text === "online"));
      const info = await waitFor("info", () => seen.find((m) => m.topic === t("info")));
      expect(validateInfo(JSON.parse(info.text))).toMatchObject({ ok: true });
      const readings = await waitFor("two readings", () => {
        const rs = seen.filter((m) => m.topic === t("reading"));
        return rs.length >= 2 ? rs : undefined;
      });
      const values = readings.map((m) => validateReading(JSON.parse(m.text)));
      expect(values[0]).toMatchObject({ ok: true, value: { id: app.id, boot: 1, seq: 0, temperature: -3.2, humidity: 55.5 } });
      expect(values[1]).toMatchObject({ ok: true, value: { seq: 1 } });

      await sub.publishAsync(t("cmd"), JSON.stringify({ id: "c-1", op: "ping" }), { qos: 1 });
      await sub.publishAsync(`${root}/all/cmd`, JSON.stringify({ id: "c-2", op: "set", interval: 5 }), { qos: 1 });
      await sub.publishAsync(t("cmd"), "not json", { qos: 1 });
      const replies = await waitFor("three replies", () => {
        const rs = seen.filter((m) => m.topic === t("reply"));
        return rs.length >= 3 ? rs.map((m) => JSON.parse(m.text)) : undefined;
      });
      for (const r of replies) expect(validateReply(r)).toMatchObject({ ok: true });
      expect(replies.map((r) => [r.re, r.ok])).toEqual([["c-1", true], ["c-2", true], [null, false]]);
      expect(app.config.interval).toBe(5);

      // power loss: the socket closes without DISCONNECT, the broker publishes the will
      clock.dispose();
      client!.stop(false);
      const will = await waitFor("will", () => seen.find((m) => m.topic === t("status") && m.text === "offline"));
      expect(will.text).toBe("offline");
    });
  });
}
