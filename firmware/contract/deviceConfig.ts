// The device's config: defaults in code, overridden by a JSON file in Storage written at upload time
// (`espdht flash`). Shared by firmware, simulator and host tools; Espruino-safe and kept small (it ships).
import { checkNumber, SENSOR_MODELS, SensorModel, Settings } from "./payloads";
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
  return Math.floor(pin) === pin && pin >= 0 && pin <= 33 && (pin < 6 || pin > 11) && [20, 24, 28, 29, 30, 31].indexOf(pin) < 0;
}

function isObj(x: unknown): x is { [k: string]: unknown } {
  return typeof x === "object" && x !== null && !(x instanceof Array);
}
function isStr(x: unknown, min: number, max: number): x is string {
  return typeof x === "string" && x.length >= min && x.length <= max;
}
/** absent, null or a string */
function optStr(x: unknown): boolean {
  return x === undefined || x === null || typeof x === "string";
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
  return err ? { ok: false, error: err, config: defaultDeviceConfig() } : { ok: true, config: c };
}

/** Checks one config field; returns the error, or null after storing the normalised value in `c`. */
function applyField(c: { [k: string]: unknown }, key: string, v: unknown): string | null {
  const numErr = checkNumber(key, v);
  if (numErr !== undefined) {
    if (numErr) return numErr;
    if (key === "pin" && !isUsableDhtPin(v as number)) return "pin " + v + " cannot carry DHT data on an ESP32 (avoid 6-11 and 34-39)";
  } else if (key === "wifi") {
    if (v !== null) {
      if (!isObj(v) || !isStr(v.ssid, 1, 32) || !(v.password === undefined || isStr(v.password, 0, 64))) return "wifi needs ssid (1..32 chars) and password (<= 64 chars)";
      v = { ssid: v.ssid, password: v.password || "" };
    }
  } else if (key === "broker") {
    if (!isObj(v) || !isStr(v.host, 1, 253)) return "broker.host must be a host name";
    const port = v.port === undefined ? (v.tls ? 8883 : 1883) : v.port;
    if (typeof port !== "number" || Math.floor(port) !== port || port < 1 || port > 65535) return "broker.port must be 1..65535";
    if (!(v.tls === undefined || typeof v.tls === "boolean") || !optStr(v.username) || !optStr(v.password)) return "broker.tls must be a boolean, username and password strings";
    v = { host: v.host, port, tls: !!v.tls, username: v.username || null, password: v.password || null };
  } else if (key === "root") {
    const e = validateTopicRoot(v);
    if (e) return e;
  } else if (key === "model") {
    if (SENSOR_MODELS.indexOf(v as SensorModel) < 0) return "model must be dht22 or dht11";
  } else if (key === "homeAssistant" || key === "telnet") {
    if (typeof v !== "boolean") return key + " must be true or false";
  } else if (key === "ntpServer") {
    if (!isStr(v, 1, 253)) return "ntpServer must be a host name";
  } else {
    return "unknown config key '" + key + "'";
  }
  c[key] = v;
  return null;
}

function applyOverride(c: DeviceConfig, o: unknown): string | null {
  if (!isObj(o)) return "config is not a JSON object";
  for (const key in o) {
    const err = applyField(c as unknown as { [k: string]: unknown }, key, o[key]);
    if (err) return err;
  }
  return null;
}
