import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadOrCreateUserConfig, maskSecrets, newUserConfig, readUserConfig, validateUserConfig } from "../../cli/userConfig";
import { tempUserEnv as tempHome } from "../support/runCli";

describe("user config", () => {
  it("is created on first use with a random home and reused afterwards", () => {
    const { dir } = tempHome();
    const file = path.join(dir, "config.json");
    const logs: string[] = [];
    const first = loadOrCreateUserConfig(file, (m) => logs.push(m));
    expect(first.root).toMatch(/^espdht\/[0-9a-f]{10}$/);
    expect(logs[0]).toContain(file);
    expect(loadOrCreateUserConfig(file, (m) => logs.push(m)).root).toBe(first.root);
    expect(logs).toHaveLength(1);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it("two fresh configs never share a home", () => {
    expect(newUserConfig().root).not.toBe(newUserConfig().root);
  });

  it.each([
    [{ broker: "http://x" }, "broker"],
    [{ broker: "mqtt://" }, "broker"],
    [{ root: "a/+/b" }, "root"],
    [{ pin: 34 }, "pin"],
    [{ pin: 7 }, "pin"],
    [{ model: "dht33" }, "model"],
    [{ interval: 1 }, "interval"],
    [{ wifi: { ssid: "", password: "" } }, "wifi.ssid"],
    [{ wifi: { ssid: "home", password: "short" } }, "wifi.password"],
    [{ colour: "red" }, "colour"],
  ])("rejects %j naming the field", (patch, field) => {
    const errors = validateUserConfig({ ...newUserConfig(), ...patch });
    expect(errors.some((e) => e.startsWith(field))).toBe(true);
  });

  it("reports a broken file with its path instead of overwriting it", () => {
    const { dir } = tempHome();
    const file = path.join(dir, "config.json");
    fs.writeFileSync(file, "{ not json");
    expect(() => readUserConfig(file)).toThrow(ConfigError);
    expect(() => readUserConfig(file)).toThrow(file);
    expect(fs.readFileSync(file, "utf8")).toBe("{ not json");
  });

  // spread over the defaults, these became the default config and the file's mistake went unnoticed
  it.each(["[]", "null", "\"text\"", "42", "[1, 2]"])("refuses a file holding %s (not an object), naming the file", (text) => {
    const { dir } = tempHome();
    const file = path.join(dir, "config.json");
    fs.writeFileSync(file, text);
    expect(() => readUserConfig(file)).toThrow(ConfigError);
    expect(() => readUserConfig(file)).toThrow(`${file}:\n  config must be a JSON object`);
  });

  it("masks every secret", () => {
    const c = { ...newUserConfig(), password: "brokerpw", wifi: { ssid: "home", password: "wifipass1" } };
    const text = JSON.stringify(maskSecrets(c));
    expect(text).not.toContain("brokerpw");
    expect(text).not.toContain("wifipass1");
    expect(text).toContain("home");
  });

  // `espdht init` and `espdht config` print this: a password inside the broker URL is a secret too
  it("masks a password inside the broker URL", () => {
    const masked = maskSecrets({ ...newUserConfig(), broker: "mqtt://me:hunter22@broker.example:1883" });
    expect(masked.broker).toBe("mqtt://***@broker.example:1883"); // the one masking every command uses
    expect(maskSecrets({ ...newUserConfig(), broker: "mqtt://me:p@ss@broker.example:1883" }).broker).toBe("mqtt://***@broker.example:1883");
    expect(maskSecrets({ ...newUserConfig(), broker: "mqtt://broker.example" }).broker).toBe("mqtt://broker.example");
  });
});

describe("a user config's broker", () => {
  // the same URL serves the PC side, which also speaks WebSocket; flash and sim check it for a board
  it("may be a WebSocket URL", () => {
    expect(validateUserConfig({ ...newUserConfig(), broker: "wss://broker.example/mqtt" })).toEqual([]);
  });

  it("names the URL and what is wrong with it", () => {
    expect(validateUserConfig({ ...newUserConfig(), broker: "http://x" })).toEqual(["broker: must be a URL like mqtt://host:1883; 'http:' is not supported in 'http://x' (use mqtt, mqtts, ws or wss)"]);
  });

  it("has device logins off by default and checks the setting", () => {
    expect(newUserConfig().deviceLogins).toBe(false);
    expect(validateUserConfig({ ...newUserConfig(), deviceLogins: "yes" })).toEqual(["deviceLogins: must be true or false"]);
  });
});
