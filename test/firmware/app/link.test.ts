// The link part alone: the scripted Wi-Fi of the fake board and the fake MQTT client (only start() matters here).
import { describe, expect, it } from "vitest";
import { brokerTarget, keepLinkUp, sessionOptions } from "../../../firmware/app/link";
import { FakeMqttClient } from "./fakeMqttClient";
import { bootFake, ID, R } from "./harness";

function link(config: object = {}) {
  const s = bootFake(config);
  const client = new FakeMqttClient(brokerTarget(s.device.config), sessionOptions(s.hal, s.device), {});
  let starts = 0;
  client.start = () => { starts++; client.started = true; };
  const joins: number[] = [];
  const connect = s.wifi.connect.bind(s.wifi);
  s.wifi.connect = (ssid, options, cb) => { joins.push(s.clock.now()); connect(ssid, options, cb); };
  return { ...s, client, joins, starts: () => starts, up: () => keepLinkUp(s.hal, s.device.config, client) };
}

describe("link: the MQTT session", () => {
  it("targets the configured broker and keeps a persistent session under the device id, with a retained offline will", () => {
    const s = bootFake({ broker: { host: "b.local", port: 8883, tls: true, username: "u", password: "p" }, keepalive: 45 });
    expect(brokerTarget(s.device.config)).toEqual({ host: "b.local", port: 8883, tls: true });
    expect(sessionOptions(s.hal, s.device)).toMatchObject({
      clientId: ID, clean: false, keepalive: 45, username: "u", password: "p",
      will: { topic: `${R}/${ID}/status`, payload: "offline", qos: 1, retain: true },
    });
  });
});

describe("link: Wi-Fi", () => {
  it("joins the configured network, then sets SNTP going and starts the client", () => {
    const l = link({ wifi: { ssid: "home", password: "secret" }, ntpServer: "ntp.example" });
    l.up();
    expect(l.wifi.connects).toEqual(["home/secret"]);
    expect(l.wifi.sntp).toEqual([["ntp.example", "UTC0"]]);
    expect(l.starts()).toBe(1);
  });

  it("retries a failed join after 5 s, 10 s, 20 s, ... up to 60 s, logging why", () => {
    const l = link({ wifi: { ssid: "home", password: "x" } });
    l.wifi.nextResult = "auth failed";
    l.up();
    l.clock.advance(300_000);
    expect(l.joins.slice(0, 7)).toEqual([0, 5000, 15000, 35000, 75000, 135000, 195000]);
    expect(l.board.logs[0]).toBe("wifi: auth failed");
    expect(l.starts()).toBe(0);
  });

  it("after a drop rejoins 5 s later, the backoff starting over", () => {
    const l = link({ wifi: { ssid: "home", password: "x" } });
    l.wifi.nextResult = "auth failed";
    l.up();
    l.clock.advance(15_000); // joins at 0, 5 s and 15 s failed: the next waits 20 s
    l.wifi.nextResult = null;
    l.clock.advance(20_000);
    expect(l.starts()).toBe(1);
    l.wifi.fire("disconnected");
    l.clock.advance(5000);
    expect(l.joins[l.joins.length - 1]).toBe(l.clock.now());
    expect(l.starts()).toBe(2);
  });

  it("without credentials starts at once and follows the board's own Wi-Fi events, never joining", () => {
    const l = link();
    l.up();
    expect(l.starts()).toBe(1);
    l.wifi.fire("disconnected");
    l.clock.advance(120_000);
    l.wifi.fire("connected");
    expect(l.joins).toEqual([]);
    expect(l.starts()).toBe(2);
    expect(l.wifi.sntp.length).toBe(2);
    expect(l.board.logs).toEqual(["wifi: disconnected"]);
  });
});
