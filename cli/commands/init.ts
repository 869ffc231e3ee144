// `espdht init`: the guided way to the user config shared by flash, sim, watch, dashboard and send.
import { CommandSpec, groupsOption, numberOption, parseCommandArgs, UsageError } from "../args";
import { ask, askSecret, PromptAborted } from "../prompt";
import { passwordFrom, warnSecretsOnArgv } from "../hostOptions";
import { keyringPathFor } from "../../provisioning/keyring";
import { configPath, maskSecrets, newUserConfig, randomHomeId, readUserConfig, UserConfig, validateUserConfig, writeUserConfig } from "../userConfig";

const spec: CommandSpec = {
  name: "init",
  usage: "init [options]",
  summary: "Create or change your espdht config. Asks for each setting on a terminal; flags answer them for scripts (with --yes, nothing is asked).",
  options: {
    broker: { type: "string", value: "URL", help: "MQTT broker for boards and PC programs, mqtt:// or mqtts:// (default mqtt://test.mosquitto.org:1883); ws:// and wss:// reach it from PC programs only (then give 'espdht flash' and 'espdht sim' --broker mqtt://HOST:1883)" },
    "topic-root": { type: "string", value: "ROOT", help: "topic root (default espdht/<random home id>)" },
    "new-home": { type: "boolean", help: "pick a new random home id for the topic root" },
    username: { type: "string", value: "NAME", help: "broker username" },
    password: { type: "string", value: "SECRET", help: "broker password (visible in 'ps': prefer the prompt, --password-file or ESPDHT_BROKER_PASSWORD)" },
    "password-file": { type: "string", value: "FILE", help: "read the broker password from FILE (first line)" },
    "device-logins": { type: "boolean", help: "each board logs in to the broker as its device id with its own password ('espdht broker-users' writes Mosquitto's files)" },
    "no-device-logins": { type: "boolean", help: "every board logs in with the username and password above" },
    ca: { type: "string", value: "FILE", help: "CA certificate for TLS on the PC side" },
    "wifi-ssid": { type: "string", value: "SSID", help: "Wi-Fi network the board joins" },
    "wifi-password": { type: "string", value: "SECRET", help: "Wi-Fi password (prefer the prompt or ESPDHT_WIFI_PASSWORD)" },
    model: { type: "string", value: "dht22|dht11", help: "sensor model" },
    pin: { type: "string", value: "GPIO", help: "DHT data pin" },
    interval: { type: "string", value: "SECONDS", help: "seconds between readings (>= 2)" },
    groups: { type: "string", value: "NAME,NAME", help: "named groups a flashed board joins (up to 4; empty: none); 'espdht send group:NAME' reaches them" },
    "home-assistant": { type: "boolean", help: "publish Home Assistant discovery" },
    "no-home-assistant": { type: "boolean", help: "do not publish Home Assistant discovery" },
    yes: { type: "boolean", short: "y", help: "do not ask; keep current or default values for what flags do not set" },
  },
  epilog: "A broker URL with credentials (mqtt://user:pass@host) is stored without them: they become the username and password.\nSecrets are stored in the config file (mode 600) and never printed; 'espdht config' shows it masked.\nBoard keys live in keys.json next to it (mode 600): 'espdht flash' and 'espdht sim' add them.",
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv);
  if (!args) return 0;
  const v = args.values;
  const file = configPath();
  const existing = readUserConfig(file);
  const c: UserConfig = existing ?? newUserConfig();
  const interactive = !v.yes && process.stdin.isTTY === true;

  warnSecretsOnArgv(v, "init");
  if (v.broker !== undefined) c.broker = String(v.broker);
  if (v["topic-root"] !== undefined) c.root = String(v["topic-root"]);
  if (v["new-home"]) c.root = "espdht/" + randomHomeId();
  if (v.username !== undefined) c.username = String(v.username) || null;
  const brokerPassword = passwordFrom(v, null);
  if (brokerPassword !== null || v.password !== undefined) c.password = brokerPassword;
  if (v.ca !== undefined) c.ca = String(v.ca) || null;
  const wifiPassword = v["wifi-password"] ?? process.env.ESPDHT_WIFI_PASSWORD;
  if (v["wifi-ssid"] !== undefined) c.wifi = { ssid: String(v["wifi-ssid"]), password: String(wifiPassword ?? c.wifi?.password ?? "") };
  else if (wifiPassword !== undefined && c.wifi) c.wifi.password = String(wifiPassword);
  if (v.model !== undefined) c.model = String(v.model) as UserConfig["model"];
  const pin = numberOption(v, "pin", 0, 39, true);
  if (pin !== undefined) c.pin = pin;
  const interval = numberOption(v, "interval", 2, 86400);
  if (interval !== undefined) c.interval = interval;
  if (v.groups !== undefined) c.groups = groupsOption(String(v.groups));
  if (v["home-assistant"] && v["no-home-assistant"]) throw new UsageError("--home-assistant and --no-home-assistant contradict each other");
  if (v["home-assistant"]) c.homeAssistant = true;
  if (v["no-home-assistant"]) c.homeAssistant = false;
  if (v["device-logins"] && v["no-device-logins"]) throw new UsageError("--device-logins and --no-device-logins contradict each other");
  if (v["device-logins"]) c.deviceLogins = true;
  if (v["no-device-logins"]) c.deviceLogins = false;
  takeCredentialsOutOfUrl(c);

  try {
    if (interactive) await askAll(c, v);
  } catch (e) {
    if (e instanceof PromptAborted) {
      process.stderr.write("espdht init: cancelled, nothing written\n");
      return 130;
    }
    throw e;
  }

  const errors = validateUserConfig(c);
  if (errors.length) {
    process.stderr.write(`espdht init: not saved, the config has problems:\n  ${errors.join("\n  ")}\n`);
    return 2;
  }
  writeUserConfig(c, file);
  process.stderr.write(`espdht init: ${existing ? "updated" : "created"} ${file}\n`);
  for (const [k, val] of Object.entries(maskSecrets(c))) process.stderr.write(`  ${k.padEnd(14)} ${typeof val === "object" && val !== null ? JSON.stringify(val) : String(val)}\n`);
  if (/^wss?:/i.test(c.broker)) {
    // the config's broker serves both sides; a board refuses WebSocket, so say now what flash and sim will need
    process.stderr.write(`Note: ${c.broker} is a WebSocket URL: watch, dashboard and send use it, but a board speaks mqtt:// or mqtts:// only, so 'espdht flash' and 'espdht sim' need --broker mqtt://HOST:1883 (or mqtts://HOST:8883) for the same broker.\n`);
  }
  process.stderr.write(`Keys: 'espdht flash' gives each board its own secret key (and 'espdht sim' each virtual one); the host keeps them in ${keyringPathFor(file)} (mode 600), next to this config, to verify readings and sign commands.\n`);
  process.stderr.write("Next: 'espdht flash --port /dev/ttyUSB0' for a board, 'espdht sim' for a virtual one, 'espdht dashboard' to watch.\n");
  return 0;
}

/** mqtt://user:pass@host: the credentials move to username/password, so the URL (shown, logged) holds no secret. */
export function takeCredentialsOutOfUrl(c: UserConfig): void {
  let u: URL;
  try {
    u = new URL(c.broker);
  } catch {
    // not a URL: validateUserConfig names the problem
    return;
  }
  if (!u.username && !u.password) return;
  if (u.username) c.username = decodeURIComponent(u.username);
  if (u.password) c.password = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  c.broker = u.toString().replace(/\/$/, "");
  process.stderr.write(`espdht init: the broker URL carried credentials: stored as username '${c.username ?? ""}'${u.password || c.password ? " and password (masked)" : ""}, the URL without them (${c.broker})\n`);
}

/** Asks for every setting the flags did not give, re-asking a field until it is valid. */
async function askAll(c: UserConfig, given: Record<string, unknown>): Promise<void> {
  const field = async (flag: string, question: string, get: () => string, set: (s: string) => void, key: string) => {
    if (given[flag] !== undefined) return;
    for (;;) {
      set(await ask(question, get()));
      const problem = validateUserConfig(c).find((e) => e.startsWith(key));
      if (!problem) return;
      process.stderr.write(`  ${problem}\n`);
    }
  };
  await field("broker", "MQTT broker URL", () => c.broker, (s) => { c.broker = s; takeCredentialsOutOfUrl(c); }, "broker");
  if (given.username === undefined) {
    const name = await ask("Broker username (empty: none)", c.username ?? "");
    c.username = name || null;
  }
  if (given.password === undefined && given["password-file"] === undefined && process.env.ESPDHT_BROKER_PASSWORD === undefined && c.username) {
    const pw = await askSecret("Broker password", c.password !== null);
    if (pw !== null) c.password = pw || null;
  }
  await field("topic-root", "Topic root (keep it private to you)", () => c.root, (s) => { c.root = s; }, "root");
  if (given["wifi-ssid"] === undefined) {
    const ssid = await ask("Wi-Fi SSID for the board (empty: none)", c.wifi?.ssid ?? "");
    if (ssid === "") c.wifi = null;
    else {
      const pw = await askSecret("Wi-Fi password", !!c.wifi && c.wifi.ssid === ssid);
      c.wifi = { ssid, password: pw ?? c.wifi?.password ?? "" };
    }
  }
  await field("model", "Sensor model (dht22|dht11)", () => c.model, (s) => { c.model = s as UserConfig["model"]; }, "model");
  await field("pin", "DHT data GPIO", () => String(c.pin), (s) => { c.pin = Number(s); }, "pin");
  await field("interval", "Seconds between readings", () => String(c.interval), (s) => { c.interval = Number(s); }, "interval");
  // a text that is not a list yet: validateUserConfig names what is wrong with it, and the question comes again
  await field("groups", "Groups (comma-separated, up to 4; empty: none)", () => (c.groups ?? []).join(","), (s) => { c.groups = s.trim() ? s.split(",").map((g) => g.trim()) : []; }, "groups");
  if (given["home-assistant"] === undefined && given["no-home-assistant"] === undefined) {
    const ha = await ask("Home Assistant discovery (y/n)", c.homeAssistant ? "y" : "n");
    c.homeAssistant = /^y/i.test(ha);
  }
}
