import { describe, expect, it } from "vitest";
import { defaultDeviceConfig, isUsableDhtPin, resolveDeviceConfig } from "../../../firmware/contract";

describe("device config", () => {
  it("uses the defaults when Storage has no config", () => {
    expect(resolveDeviceConfig(undefined)).toEqual({ ok: true, config: defaultDeviceConfig() });
    expect(defaultDeviceConfig()).toMatchObject({ broker: { host: "test.mosquitto.org", port: 1883, tls: false }, root: "espdht/unconfigured", model: "dht22", pin: 4, interval: 10, bufferSize: 48, telnet: false, homeAssistant: false });
  });

  it("overrides and normalises what the upload wrote", () => {
    const r = resolveDeviceConfig({ broker: { host: "broker.lan", tls: true }, wifi: { ssid: "home" }, root: "espdht/h1", model: "dht11", pin: 16, interval: 30, telnet: true, keepalive: 60 });
    expect(r.ok).toBe(true);
    expect(r.config.broker).toEqual({ host: "broker.lan", port: 8883, tls: true, username: null, password: null });
    expect(r.config.wifi).toEqual({ ssid: "home", password: "" });
    expect(r.config).toMatchObject({ root: "espdht/h1", model: "dht11", pin: 16, interval: 30, telnet: true, keepalive: 60, bufferSize: 48 });
  });

  it("takes a key of 64 hex digits (either case) or null", () => {
    const key = "0123456789abcdefABCDEF".padEnd(64, "7");
    expect(resolveDeviceConfig({ key })).toMatchObject({ ok: true, config: { key } });
    expect(resolveDeviceConfig({ key: null })).toMatchObject({ ok: true, config: { key: null } });
    expect(defaultDeviceConfig().key).toBeNull();
  });

  it.each([
    ["not an object", "oops", /config is not a JSON object/],
    ["unknown key", { colour: "red" }, /unknown config key 'colour'/],
    ["flash pin", { pin: 7 }, /^invalid pin$/],
    ["input-only pin", { pin: 36 }, /^invalid pin$/],
    ["pin as text", { pin: "4" }, /^invalid pin$/],
    ["ntp server as number", { ntpServer: 5 }, /^invalid ntpServer$/],
    ["wifi as text", { wifi: "home" }, /^invalid wifi$/],
    ["short interval", { interval: 1 }, /interval must be 2..86400 seconds/],
    ["fractional buffer", { bufferSize: 10.5 }, /bufferSize must be a whole number 1..2000/],
    ["bad port", { broker: { host: "h", port: 70000 } }, /port must be a whole number 1..65535/],
    ["broker without host", { broker: { port: 1883 } }, /^invalid broker$/],
    ["broker tls as text", { broker: { host: "h", tls: "yes" } }, /^invalid broker$/],
    ["long ssid", { wifi: { ssid: "x".repeat(33) } }, /^invalid wifi$/],
    ["bad root", { root: "a/#" }, /topic root: 1..128 chars/],
    ["bad model", { model: "dht33" }, /^invalid model$/],
    ["telnet as text", { telnet: "on" }, /^invalid telnet$/],
    ["a short key", { key: "ab".repeat(31) }, /^key must be 64 hex digits or null$/],
    ["a key that is not hex", { key: "zz".repeat(32) }, /^key must be 64 hex digits or null$/],
    ["a key as bytes", { key: [1, 2, 3] }, /^key must be 64 hex digits or null$/],
  ])("rejects %s as a whole, falling back to the defaults", (_n, stored, message) => {
    const r = resolveDeviceConfig(stored);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
    expect(r.config).toEqual(defaultDeviceConfig());
  });

  it("never half-applies: a valid field before an invalid one is not kept", () => {
    const r = resolveDeviceConfig({ interval: 30, pin: 7 });
    expect(r.config.interval).toBe(10);
  });

  it.each([[4, true], [0, true], [33, true], [5, true], [6, false], [11, false], [34, false], [39, false], [24, false], [4.5, false], [-1, false]])("GPIO %d usable: %s", (pin, ok) => {
    expect(isUsableDhtPin(pin)).toBe(ok);
  });
});
