import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCliToEnd as runCli, tempUserEnv as tempHome } from "../support/runCli";

describe("espdht init / config", () => {
  it("writes a valid config from flags and never prints secrets", async () => {
    const { env } = tempHome();
    const r = await runCli(["init", "--yes", "--wifi-ssid", "home", "--wifi-password", "wifisecret1", "--password", "brokersecret", "--model", "dht11", "--pin", "16", "--home-assistant"], env);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain("wifisecret1");
    expect(r.stdout + r.stderr).not.toContain("brokersecret");
    const saved = JSON.parse(fs.readFileSync(env.ESPDHT_CONFIG!, "utf8"));
    expect(saved).toMatchObject({ model: "dht11", pin: 16, homeAssistant: true, wifi: { ssid: "home", password: "wifisecret1" }, password: "brokersecret" });
    expect(saved.root).toMatch(/^espdht\/[0-9a-f]{10}$/);

    const shown = await runCli(["config", "--json"], env);
    expect(shown.code).toBe(0);
    const masked = JSON.parse(shown.stdout);
    expect(masked.wifi.password).toBe("********");
    expect(masked.password).toBe("********");
    expect(shown.stdout).not.toContain("wifisecret1");
  });

  it("says that flash gives each board its own key, kept in keys.json next to the config (mode 600); config shows where", async () => {
    const { dir, env } = tempHome();
    const r = await runCli(["init", "-y"], env);
    expect(r.code).toBe(0);
    const keyring = path.join(dir, "keys.json");
    expect(r.stderr).toContain(`'espdht flash' gives each board its own secret key`);
    expect(r.stderr).toContain(`${keyring} (mode 600), next to this config`);
    // init makes no key itself: flash and sim do
    expect(fs.existsSync(keyring)).toBe(false);
    const shown = await runCli(["config"], env);
    expect(shown.stdout).toContain(`# board keys: ${keyring}`);
    expect((await runCli(["init", "--help"], env)).stdout).toContain("keys.json");
  });

  it("takes a WebSocket broker for the PC programs and says that boards need mqtt:// or mqtts:// for it", async () => {
    const { env } = tempHome();
    const r = await runCli(["init", "-y", "--broker", "ws://127.0.0.1:9001"], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(env.ESPDHT_CONFIG!, "utf8")).broker).toBe("ws://127.0.0.1:9001");
    expect(r.stderr).toContain("a board speaks mqtt:// or mqtts:// only, so 'espdht flash' and 'espdht sim' need --broker mqtt://HOST:1883");
    const plain = await runCli(["init", "-y", "--broker", "mqtt://127.0.0.1:1883"], env);
    expect(plain.stderr).not.toContain("WebSocket URL");
  });

  it("keeps the home across runs and changes only what flags say", async () => {
    const { env } = tempHome();
    await runCli(["init", "-y"], env);
    const before = JSON.parse(fs.readFileSync(env.ESPDHT_CONFIG!, "utf8"));
    const r = await runCli(["init", "-y", "--interval", "30"], env);
    expect(r.code).toBe(0);
    const after = JSON.parse(fs.readFileSync(env.ESPDHT_CONFIG!, "utf8"));
    expect(after.root).toBe(before.root);
    expect(after.interval).toBe(30);
  });

  it.each([
    [["--pin", "35"], /pin: must be an ESP32 GPIO/],
    [["--pin", "x"], /--pin: 'x' is not a number/],
    [["--broker", "http://nope"], /broker: must be a URL/],
    [["--topic-root", "a/#"], /root: topic root: 1..128 chars, no '\+', '#' or empty level/],
    [["--bogus"], /Unknown option '--bogus'/],
  ])("rejects %j with a clear error and writes nothing", async (args, message) => {
    const { env } = tempHome();
    const r = await runCli(["init", "-y", ...args], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(fs.existsSync(env.ESPDHT_CONFIG!)).toBe(false);
  });

  it("config says how to create one when there is none", async () => {
    const { env } = tempHome();
    const r = await runCli(["config"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("espdht init");
  });
});
