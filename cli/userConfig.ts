// The user's config file, shared by every command (`sim`, `watch`, `dashboard`, `send`, `flash`) so a
// flashed board, the simulator and the dashboard meet under the same topic root with no extra flags.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import crypto from "node:crypto";
import { isUsableDhtPin, SENSOR_MODELS, SensorModel, validateTopicRoot } from "../firmware/contract";
import { brokerUrlProblem } from "../provisioning/brokerUrl";
import { maskUrlCredentials } from "../provisioning/urlCredentials";
import { groupListProblem, type DeviceSettings } from "../provisioning/deviceConfig";

/** The device-side settings (broker URL: mqtt://, mqtts://, ws:// or wss://) plus what only the PC side uses. */
export interface UserConfig extends DeviceSettings {
  /** CA file for TLS on the host side */
  ca: string | null;
  /** each board logs in to the broker as its device id with a password of its own (device-logins.json; docs/mosquitto.md) */
  deviceLogins: boolean;
}

export const DEFAULT_BROKER = "mqtt://test.mosquitto.org:1883";

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ESPDHT_CONFIG) return path.resolve(env.ESPDHT_CONFIG);
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
  return path.join(base, "espdht", "config.json");
}

/** Per-user data folder (the dashboard's SQLite store, simulator Storage files). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ESPDHT_DATA) return path.resolve(env.ESPDHT_DATA);
  const base = env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.join(base, "espdht");
}

export function randomHomeId(): string {
  return crypto.randomBytes(5).toString("hex");
}

export function newUserConfig(): UserConfig {
  return {
    broker: DEFAULT_BROKER,
    root: "espdht/" + randomHomeId(),
    username: null,
    password: null,
    ca: null,
    deviceLogins: false,
    wifi: null,
    model: "dht22",
    pin: 4,
    homeAssistant: false,
    interval: 10,
    groups: [],
  };
}

const NOT_AN_OBJECT = "config must be a JSON object";

/** Returns the list of problems (empty when valid), each naming the field. */
export function validateUserConfig(c: unknown): string[] {
  const errors: string[] = [];
  if (typeof c !== "object" || c === null || Array.isArray(c)) return [NOT_AN_OBJECT];
  const o = c as Record<string, unknown>;
  const known = Object.keys(newUserConfig());
  for (const k of Object.keys(o)) if (!known.includes(k)) errors.push(`${k}: unknown setting`);
  const brokerErr = typeof o.broker === "string" ? brokerUrlProblem(o.broker, "host") : "not a string";
  if (brokerErr) errors.push(`broker: must be a URL like mqtt://host:1883; ${brokerErr}`);
  const rootErr = validateTopicRoot(o.root);
  if (rootErr) errors.push(`root: ${rootErr}`);
  for (const k of ["username", "password", "ca"]) if (o[k] !== null && o[k] !== undefined && typeof o[k] !== "string") errors.push(`${k}: must be a string or null`);
  if (o.wifi !== null && o.wifi !== undefined) {
    const w = o.wifi as Record<string, unknown>;
    if (typeof w !== "object" || typeof w.ssid !== "string" || w.ssid.length < 1 || w.ssid.length > 32) errors.push("wifi.ssid: must be 1..32 characters");
    else if (typeof w.password !== "string" || w.password.length > 63 || (w.password.length > 0 && w.password.length < 8)) errors.push("wifi.password: must be empty (open network) or 8..63 characters");
  }
  if (!SENSOR_MODELS.includes(o.model as SensorModel)) errors.push("model: must be dht22 or dht11");
  if (typeof o.pin !== "number" || !isUsableDhtPin(o.pin)) errors.push("pin: must be an ESP32 GPIO that can drive and be watched (not 6-11, not 34-39)");
  if (typeof o.homeAssistant !== "boolean") errors.push("homeAssistant: must be true or false");
  if (typeof o.deviceLogins !== "boolean") errors.push("deviceLogins: must be true or false");
  if (typeof o.interval !== "number" || o.interval < 2 || o.interval > 86400) errors.push("interval: must be 2..86400 seconds");
  const groupsErr = o.groups === undefined ? null : groupListProblem(o.groups);
  if (groupsErr) errors.push(`groups: ${groupsErr}`);
  return errors;
}

export class ConfigError extends Error {}

export function readUserConfig(file = configPath()): UserConfig | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  // checked before the merge: spread over the defaults, [] or null would pass as the default config
  const shape = validateUserConfig(parsed);
  if (shape.length === 1 && shape[0] === NOT_AN_OBJECT) throw new ConfigError(`${file}:\n  ${NOT_AN_OBJECT}`);
  const merged = { ...newUserConfig(), ...(parsed as object) };
  const errors = validateUserConfig(merged);
  if (errors.length) throw new ConfigError(`${file}:\n  ${errors.join("\n  ")}`);
  return merged as UserConfig;
}

export function writeUserConfig(config: UserConfig, file = configPath()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = file + ".tmp";
  fs.writeFileSync(tmp, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Reads the config, creating it with a random home on first use (and saying where, on stderr). */
export function loadOrCreateUserConfig(file = configPath(), log: (m: string) => void = (m) => process.stderr.write(m + "\n")): UserConfig {
  const existing = readUserConfig(file);
  if (existing) return existing;
  const fresh = newUserConfig();
  writeUserConfig(fresh, file);
  log(`espdht: created ${file} with topic root ${fresh.root} (run 'espdht init' to change it)`);
  return fresh;
}

/** The config for display: secrets masked. */
export function maskSecrets(c: UserConfig): Record<string, unknown> {
  const mask = (s: string | null | undefined) => (s ? "********" : s ?? null);
  const broker = maskUrlCredentials(c.broker);
  return { ...c, broker, password: mask(c.password), wifi: c.wifi ? { ssid: c.wifi.ssid, password: mask(c.wifi.password) } : null };
}
