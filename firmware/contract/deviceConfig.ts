// The device's config: defaults in code, overridden by a JSON file in Storage written at upload time
// (`espdht flash`). Shared by firmware, simulator and host tools; Espruino-safe and kept small (it ships).
import { checkNumber, isObject, NOT_OBJECT, sensorModels, SensorModel, Settings } from "./payloads";
import { checkGroups, UNCONFIGURED_TOPIC_ROOT, validateTopicRoot } from "./topics";
import { isUsableOutputPin, ruleError } from "./output";
import { fromHex, KEY_BYTES } from "./trust";

/** Storage file names (<= 28 chars). */
export const CONFIG_FILE = "espdht.json";
export const BOOT_COUNT_FILE = "espdht.boot";
export const SETTINGS_FILE = "espdht.set";
/** a key installed by `rekey`: {"from": the config key it replaced, "key": 64 hex} */
export const KEY_FILE = "espdht.key";

export interface DeviceConfig extends Settings {
  wifi: { ssid: string; password: string } | null;
  broker: { host: string; port: number; tls: boolean; username: string | null; password: string | null };
  root: string;
  model: SensorModel;
  pin: number;
  /** readings kept in RAM while offline */
  bufferSize: number;
  /** readings kept in flash (Storage) once the RAM buffer is full; 0: none */
  spillLimit: number;
  /** publish Home Assistant discovery configs */
  homeAssistant: boolean;
  /** leave the Wi-Fi telnet console (port 23, unauthenticated) on */
  telnet: boolean;
  ntpServer: string;
  /** MQTT keepalive, seconds */
  keepalive: number;
  /** the device's secret key, 64 hex digits (docs/trust.md); null: unsigned, as before keys */
  key: string | null;
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
    groups: [],
    rule: "",
    bufferSize: 48,
    // a day at the default interval
    spillLimit: 8640,
    homeAssistant: false,
    telnet: false,
    ntpServer: "pool.ntp.org",
    keepalive: 30,
    key: null,
  };
}

/** GPIOs that exist on an ESP32 and can drive the start pulse and be watched: 0-5, 12-19, 21-23, 25-27, 32, 33, the
 * very GPIOs that can drive a relay (one check, shipped once). */
export const isUsableDhtPin: (pin: number) => boolean = isUsableOutputPin;

function isStr(x: unknown, max: number): x is string {
  return typeof x === "string" && x.length > 0 && x.length <= max;
}
/** absent, null or a string */
function optStr(x: unknown): boolean {
  return x == null || typeof x === "string";
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

/**
 * Checks one config field; returns the error, or null after storing the normalised value in `c`.
 * Terse on purpose (it ships): `espdht init` and `flash` explain each field in detail before upload.
 */
function applyField(c: { [k: string]: unknown }, key: string, v: unknown): string | null {
  let err = checkNumber(key, v);
  if (err !== undefined) return err || ((c[key] = v), null);
  if (!(key in c)) return "unknown config key '" + key + "'";
  const o = isObject(v) ? v : {};
  let ok: unknown = typeof v === typeof c[key];
  if (key === "broker") {
    ok = isStr(o.host, 253) && (o.tls === undefined || typeof o.tls === "boolean") && optStr(o.username) && optStr(o.password);
    v = { host: o.host, port: o.port === undefined ? (o.tls ? 8883 : 1883) : o.port, tls: !!o.tls, username: o.username || null, password: o.password || null };
    err = ok ? checkNumber("port", (v as { port: unknown }).port) : null;
  } else if (key === "wifi") {
    ok = v === null || (isStr(o.ssid, 32) && optStr(o.password));
    if (v) v = { ssid: o.ssid, password: o.password || "" };
  } else if (key === "pin") {
    ok = isUsableDhtPin(v as number);
  } else if (key === "model") {
    ok = sensorModels().indexOf(v as SensorModel) >= 0;
  } else if (key === "root") {
    err = validateTopicRoot(v);
  } else if (key === "key") {
    ok = v === null || !!fromHex(v, KEY_BYTES);
    err = ok ? null : "key must be 64 hex digits or null";
  } else if (key === "rule") {
    err = ruleError(v);
  } else if (key === "groups") {
    err = checkGroups(v);
  } else if (key === "ntpServer") {
    ok = isStr(v, 253);
  }
  err = err || (ok ? null : "invalid " + key);
  if (!err) c[key] = v;
  return err;
}

function applyOverride(c: DeviceConfig, o: unknown): string | null {
  if (!isObject(o)) return "config" + NOT_OBJECT;
  for (const key in o) {
    const err = applyField(c as unknown as { [k: string]: unknown }, key, o[key]);
    if (err) return err;
  }
  return null;
}
