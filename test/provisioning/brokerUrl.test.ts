// The one broker-URL parser: schemes a board and the PC side accept, port defaults, TLS, URL credentials,
// and errors that name the URL.
import { describe, expect, it } from "vitest";
import { brokerUrlProblem, parseBrokerUrl } from "../../provisioning/brokerUrl";

describe("parseBrokerUrl", () => {
  it.each([
    ["mqtt://h", "board", { scheme: "mqtt", host: "h", port: 1883, tls: false }],
    ["mqtts://h", "board", { scheme: "mqtts", host: "h", port: 8883, tls: true }],
    ["mqtt://h:1999", "board", { scheme: "mqtt", host: "h", port: 1999, tls: false }],
    ["mqtt://h", "host", { scheme: "mqtt", host: "h", port: 1883, tls: false }],
    ["ws://h:8080/mqtt", "host", { scheme: "ws", host: "h", port: 8080, tls: false }],
    ["ws://h", "host", { scheme: "ws", host: "h", port: 80, tls: false }],
    ["wss://h", "host", { scheme: "wss", host: "h", port: 443, tls: true }],
  ] as const)("%s for a %s", (url, client, expected) => {
    expect(parseBrokerUrl(url, client)).toEqual({ ...expected, username: null, password: null });
  });

  // watch and dashboard (MQTT.js) log in with URL credentials: a board given the same URL must too
  it("decodes the credentials a URL carries", () => {
    expect(parseBrokerUrl("mqtt://me:p%40ss@h:1884", "board")).toEqual({ scheme: "mqtt", host: "h", port: 1884, tls: false, username: "me", password: "p@ss" });
    expect(parseBrokerUrl("mqtt://me@h", "host")).toMatchObject({ username: "me", password: null });
  });

  it.each([
    ["ws://h:8080", "board", "'ws://h:8080': a board speaks mqtt:// or mqtts:// only (WebSocket is for host programs: the board's Espruino has no WebSocket client worth its RAM, so it stays on TCP/TLS); give --broker mqtt://HOST:1883 (or mqtts://HOST:8883) for the boards, the same broker's TCP listener"],
    ["wss://h/mqtt", "board", "'wss://h/mqtt': a board speaks mqtt:// or mqtts:// only (WebSocket is for host programs: the board's Espruino has no WebSocket client worth its RAM, so it stays on TCP/TLS); give --broker mqtt://HOST:1883 (or mqtts://HOST:8883) for the boards, the same broker's TCP listener"],
    ["http://x", "board", "'http://x': a board speaks mqtt:// or mqtts:// only"],
    ["http://x", "host", "'http:' is not supported in 'http://x' (use mqtt, mqtts, ws or wss)"],
    ["not a url", "host", "'not a url' is not a URL (expected e.g. mqtt://host:1883)"],
    ["mqtt://h:70000", "board", "'mqtt://h:70000': port 70000 is out of range 1..65535"],
    ["ws://127.0.0.1:99999/mqtt", "host", "'ws://127.0.0.1:99999/mqtt': port 99999 is out of range 1..65535"],
    ["wss://h:8x", "host", "'wss://h:8x' is not a URL (expected e.g. mqtt://host:1883)"],
    ["ws://bad host:8080", "host", "'ws://bad host:8080' is not a URL (expected e.g. mqtt://host:1883)"],
    ["mqtt://", "host", "'mqtt://' has no host"],
    // MQTT.js reads 'ws:/h:18831' as a path and dials port 80
    ["ws:/127.0.0.1:18831", "host", "'ws:/127.0.0.1:18831': write ws:// (two slashes) before the host, e.g. ws://127.0.0.1:1883"],
    ["mqtt:127.0.0.1", "board", "'mqtt:127.0.0.1': write mqtt:// (two slashes) before the host, e.g. mqtt://127.0.0.1:1883"],
    ["wss:///h", "host", "'wss:///h': write wss:// (two slashes) before the host, e.g. wss://127.0.0.1:1883"],
    ["mqtt://h:0", "board", "'mqtt://h:0': port 0 is out of range 1..65535"],
  ] as const)("refuses %s for a %s, naming the URL", (url, client, message) => {
    expect(() => parseBrokerUrl(url, client)).toThrow(message);
    expect(brokerUrlProblem(url, client)).toBe(message);
  });

  it("has no problem with a usable URL", () => {
    expect(brokerUrlProblem("mqtts://broker.example:8883", "board")).toBeNull();
    expect(brokerUrlProblem("wss://broker.example/mqtt", "host")).toBeNull();
  });
});
