// The device's config: defaults in code, overridden by a JSON file in Storage written at upload time
// (`espdht flash`). Shared by firmware, simulator and host tools; Espruino-safe.
import { SENSOR_MODELS, SensorModel, Settings, SETTING_KEYS, validateSetting } from "./payloads";
import { UNCONFIGURED_TOPIC_ROOT, validateTopicRoot } from "./topics";

/** Storage file names (<= 28 chars). */
export const CONFIG_FILE = "espdht.json";
export const BOOT_COUNT_FILE = "espdht.boot";
export const SETTINGS_FILE = "espdht.set";

export interface DeviceConfig extends Settings {
  wifi: { ssid: string; password: string } | null;
  broker: { host: string; port: number; tls: boolean; username: string | null; password: string | null };
  root: string;
  model: SensorModel;
  pin: number;
  /** readings kept in RAM while offline */
  bufferSize: number;
  /** publish Home Assistant discovery configs */
  homeAssistant: boolean;
  /** leave the Wi-Fi telnet console (port 23, unauthenticated) on */
  telnet: boolean;
  ntpServer: string;
  /** MQTT keepalive, seconds */
  keepalive: number;
}

export function defaultDeviceConfig(): DeviceConfig {
  return {
    wifi: null,
    broker: { host: "test.mosquitto.org", port: 1883, tls: false, username: null, password: null },
    root: UNCONFIGURED_TOPIC_ROOT,
    model: "dht22",
    pin: 4,
    interval: 10,
    tempOffset: 0,
    humOffset: 0,
    tempDelta: 0,
    humDelta: 0,
    heartbeat: 0,
    bufferSize: 200,
    homeAssistant: false,
    telnet: false,
    ntpServer: "pool.ntp.org",
    keepalive: 30,
  };
}

/** GPIOs a DHT data line can use on an ESP32: watchable and able to drive (not 6-11 flash, not 34-39 input-only). */
export function isUsableDhtPin(pin: number): boolean {
  if (Math.floor(pin) !== pin || pin < 0 || pin > 33) return false;
  if (pin >= 6 && pin <= 11) return false;
  return pin !== 20 && pin !== 24 && pin !== 28 && pin !== 29 && pin !== 30 && pin !== 31;
}

function isObj(x: unknown): x is { [k: string]: unknown } {
  return typeof x === "object" && x !== null && !(x instanceof Array);
}

export type ConfigResult = { ok: true; config: DeviceConfig } | { ok: false; error: string; config: DeviceConfig };

/**
 * Merges a stored override over the defaults. Any invalid field rejects the whole override (defaults are
 * used, the error is reported in `info`): never a half-applied config, never a boot loop.
 */
export function resolveDeviceConfig(stored: unknown): ConfigResult {
  const c = defaultDeviceConfig();
  if (stored === undefined || stored === null) return { ok: true, config: c };
  const err = applyOverride(c, stored);
  if (err) return { ok: false, error: err, config: defaultDeviceConfig() };
  return { ok: true, config: c };
}

function applyOverride(c: DeviceConfig, o: unknown): string | null {
  if (!isObj(o)) return "config is not a JSON object";
  for (const key in o) {
    const v = o[key];
    if (key === "wifi") {
      if (v === null) { c.wifi = null; continue; }
      if (!isObj(v) || typeof v.ssid !== "string" || v.ssid.length === 0 || v.ssid.length > 32) return "wifi.ssid must be 1..32 chars";
      if (v.password !== undefined && (typeof v.password !== "string" || v.password.length > 64)) return "wifi.password must be a string of at most 64 chars";
      c.wifi = { ssid: v.ssid, password: (v.password as string) || "" };
    } else if (key === "broker") {
      if (!isObj(v)) return "broker must be an object";
      if (typeof v.host !== "string" || v.host.length === 0) return "broker.host must be a non-empty string";
      const port = v.port === undefined ? (v.tls ? 8883 : 1883) : v.port;
      if (typeof port !== "number" || Math.floor(port) !== port || port < 1 || port > 65535) return "broker.port must be 1..65535";
      if (v.tls !== undefined && typeof v.tls !== "boolean") return "broker.tls must be true or false";
      if (v.username !== undefined && v.username !== null && typeof v.username !== "string") return "broker.username must be a string";
      if (v.password !== undefined && v.password !== null && typeof v.password !== "string") return "broker.password must be a string";
      c.broker = { host: v.host, port, tls: !!v.tls, username: (v.username as string) || null, password: (v.password as string) || null };
    } else if (key === "root") {
      const e = validateTopicRoot(v);
      if (e) return e;
      c.root = v as string;
    } else if (key === "model") {
      if (SENSOR_MODELS.indexOf(v as SensorModel) < 0) return "model must be dht22 or dht11";
      c.model = v as SensorModel;
    } else if (key === "pin") {
      if (typeof v !== "number" || !isUsableDhtPin(v)) return "pin " + String(v) + " cannot carry DHT data on an ESP32 (avoid 6-11 and 34-39)";
      c.pin = v;
    } else if (SETTING_KEYS.indexOf(key as keyof Settings) >= 0) {
      const e = validateSetting(key as keyof Settings, v);
      if (e) return e;
      c[key as keyof Settings] = v as number;
    } else if (key === "bufferSize") {
      if (typeof v !== "number" || Math.floor(v) !== v || v < 1 || v > 2000) return "bufferSize must be 1..2000";
      c.bufferSize = v;
    } else if (key === "homeAssistant" || key === "telnet") {
      if (typeof v !== "boolean") return key + " must be true or false";
      c[key] = v;
    } else if (key === "ntpServer") {
      if (typeof v !== "string" || v.length === 0) return "ntpServer must be a non-empty string";
      c.ntpServer = v;
    } else if (key === "keepalive") {
      if (typeof v !== "number" || Math.floor(v) !== v || v < 5 || v > 3600) return "keepalive must be 5..3600 seconds";
      c.keepalive = v;
    } else {
      return "unknown config key '" + key + "'";
    }
  }
  return null;
}
