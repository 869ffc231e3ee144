// connectBroker over ws:// (issue 12 item 4): the path a ws URL connects to, the connect errors that name a
// wrong port or transport, and a persistent host session (the dashboard's) kept over WebSocket by a real
// Mosquitto (MQTT 5) and by the embedded aedes broker (3.1.1 after the fallback).
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedBroker, EmbeddedBroker } from "../../../host/broker/embeddedBroker";
import { LocalMosquitto, startMosquitto } from "../../../host/broker/mosquitto";
import { clientOptions, connectBroker, explainConnectError, protocolOf } from "../../../host/mqtt/connectBroker";
import { until } from "../../support/until";

const settings = (url: string) => ({ url, username: null, password: null, ca: null });

describe("clientOptions for ws:// and wss://", () => {
  it.each([
    ["ws://h:8080", "/mqtt"],
    ["wss://user:pw@h", "/mqtt"],
    ["ws://h:8080/", undefined],
    ["ws://h:8080/custom/path", undefined],
    ["ws://h:8080?x=1", undefined],
    ["mqtt://h:1883", undefined],
    ["mqtts://h", undefined],
  ])("%s: path option %s (undefined: the URL's own)", (url, path) => {
    expect(clientOptions(settings(url), { clientId: "c", clean: true }).path).toBe(path);
  });
});

describe("explainConnectError for a wrong port or transport", () => {
  const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});
  it.each([
    ["ws://h:1883", err("read ECONNRESET", "ECONNRESET"), "no MQTT-over-WebSocket listener answered there (read ECONNRESET): ws:// and wss:// need the broker's WebSocket port (wss:// its TLS one), not its MQTT TCP port"],
    ["wss://h:443", err("Unexpected server response: 404"), "no MQTT-over-WebSocket listener answered there (Unexpected server response: 404)"],
    ["ws://h:80", err("socket hang up", "ECONNRESET"), "no MQTT-over-WebSocket listener answered there (socket hang up)"],
    ["wss://h:9001", err("write EPROTO 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number", "EPROTO"), "that port does not speak TLS (the handshake got plain data back)"],
    ["mqtts://h:1883", err("write EPROTO 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number", "EPROTO"), "that port does not speak TLS"],
    ["mqtt://h:9001", err("Invalid header flag bits, must be 0x0 for puback packet"), "the answer there is not MQTT (Invalid header flag bits, must be 0x0 for puback packet): if it is a WebSocket port, use ws:// or wss://"],
    ["ws://h:9", err("connect ECONNREFUSED 127.0.0.1:9", "ECONNREFUSED"), "nothing accepts connections there"],
  ] as const)("%s: %s", (url, e, expected) => {
    expect(explainConnectError(e, settings(url))).toContain(expected);
  });

  it("leaves a reset on an mqtt:// URL as it was (no WebSocket hint)", () => {
    expect(explainConnectError(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }), settings("mqtt://h"))).toBe("read ECONNRESET");
  });
});

describe("a persistent host session over WebSocket", () => {
  let mosquitto: LocalMosquitto;
  let aedes: EmbeddedBroker;
  beforeAll(async () => {
    mosquitto = await startMosquitto([], { websockets: true });
    aedes = await startEmbeddedBroker({ port: 0 });
  });
  afterAll(async () => {
    await mosquitto?.close();
    await aedes?.close();
  });

  it.each([
    ["Mosquitto (MQTT 5)", () => ({ ws: mosquitto.wsUrl!, tcp: mosquitto.url }), 5],
    ["the embedded aedes (MQTT 3.1.1)", () => ({ ws: aedes.wsUrl, tcp: aedes.url }), 4],
  ] as const)("%s keeps what a board sent over TCP while the host was away, and hands it over on ws://", async (_name, urls, version) => {
    const { ws, tcp } = urls();
    const clientId = `ws-persist-${version}`;
    const logs: string[] = [];
    const first = await connectBroker(settings(ws), { clientId, clean: false, log: (m) => logs.push(m) });
    expect(protocolOf(first)).toBe(version);
    await first.subscribeAsync("t/ws/#", { qos: 1 });
    await first.endAsync();
    const board = await mqtt.connectAsync(tcp, { clientId: `board-${version}`, protocolVersion: 4 });
    await board.publishAsync("t/ws/reading", "while away", { qos: 1 });
    await board.endAsync();
    const got: string[] = [];
    const again = await connectBroker(settings(ws), { clientId, clean: false, log: () => {} }, (c) => c.on("message", (_t, p) => got.push(p.toString())));
    try {
      await until(() => got.length > 0, 10_000, "the message kept for the session");
      expect(got).toEqual(["while away"]);
    } finally {
      await again.endAsync();
    }
    expect(logs.join("\n")).toContain(version === 5 ? "MQTT 5, session kept 7 days" : "using MQTT 3.1.1");
  });
});
