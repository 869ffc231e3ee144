// User settings -> the device config a board finds in Storage: accepted by the firmware's own resolver, URL
// credentials over the config's, and what a board would reject refused up front, naming the field.
import { describe, expect, it } from "vitest";
import { resolveDeviceConfig } from "../../firmware/contract";
import { buildDeviceConfig, DeviceConfigError, DeviceSettings } from "../../provisioning/deviceConfig";

const settings: DeviceSettings = {
  broker: "mqtt://test.mosquitto.org:1883", username: null, password: null, root: "espdht/0123456789",
  model: "dht22", pin: 4, interval: 10, homeAssistant: false, wifi: null,
};

describe("buildDeviceConfig", () => {
  it("is accepted by the firmware's own config resolver", () => {
    const s: DeviceSettings = { ...settings, broker: "mqtts://broker.example:8883", wifi: { ssid: "home", password: "secret123" }, pin: 16, model: "dht11" };
    const resolved = resolveDeviceConfig(buildDeviceConfig(s));
    expect(resolved.ok).toBe(true);
    expect(resolved.config.broker).toEqual({ host: "broker.example", port: 8883, tls: true, username: null, password: null });
    expect(resolved.config.root).toBe(s.root);
    expect(resolved.config.model).toBe("dht11");
    expect(resolved.config.pin).toBe(16);
    expect(resolved.config.wifi).toEqual({ ssid: "home", password: "secret123" });
  });

  // the exact bytes written to Storage: key order and no wifi key without Wi-Fi
  it("writes the keys in a fixed order, wifi only when there is one", () => {
    expect(JSON.stringify(buildDeviceConfig(settings))).toBe(
      '{"broker":{"host":"test.mosquitto.org","port":1883,"tls":false,"username":null,"password":null},"root":"espdht/0123456789","model":"dht22","pin":4,"interval":10,"homeAssistant":false}',
    );
    expect(Object.keys(buildDeviceConfig({ ...settings, wifi: { ssid: "a", password: "" } })).pop()).toBe("wifi");
  });

  it("gives the board the credentials of a broker URL, over those of the config", () => {
    const s = { ...settings, broker: "mqtt://me:p%40ss@h", username: "other", password: "otherpw" };
    expect(resolveDeviceConfig(buildDeviceConfig(s)).config.broker).toMatchObject({ username: "me", password: "p@ss" });
    expect(buildDeviceConfig({ ...s, broker: "mqtt://h" }).broker).toMatchObject({ username: "other", password: "otherpw" });
  });

  it.each([
    [{ broker: "ws://h:8080" }, "broker: 'ws://h:8080': a board speaks mqtt:// or mqtts:// only"],
    [{ broker: "nope" }, "broker: 'nope' is not a URL"],
    [{ interval: 1 }, "the board would reject this config: interval must be 2..86400 seconds"],
    [{ pin: 7 }, "the board would reject this config: invalid pin"],
  ])("refuses %j, naming the field", (patch, message) => {
    expect(() => buildDeviceConfig({ ...settings, ...patch })).toThrow(DeviceConfigError);
    expect(() => buildDeviceConfig({ ...settings, ...patch })).toThrow(message);
  });
});
