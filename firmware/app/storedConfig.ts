// Config, settings and the boot counter in Storage. A bad file never stops the boot: defaults are used and
// the reason is reported in `info.configError`.
import { BOOT_COUNT_FILE, CONFIG_FILE, DeviceConfig, resolveDeviceConfig, SETTINGS_FILE } from "../contract/deviceConfig";
import { Settings, SETTING_KEYS, validateSetting } from "../contract/payloads";
import type { KeyValueStore } from "../hal/hal";

function readSafely(store: KeyValueStore, name: string): { value?: unknown; error?: string } {
  try {
    return { value: store.readJSON(name) };
  } catch (e) {
    return { error: name + " is not valid JSON" };
  }
}

/** The effective config: defaults, the uploaded config file, then settings saved by `set`. */
export function loadConfig(store: KeyValueStore): { config: DeviceConfig; error: string | null } {
  const file = readSafely(store, CONFIG_FILE);
  const resolved = resolveDeviceConfig(file.error ? null : file.value);
  const config = resolved.config;
  let error = file.error || (resolved.ok ? null : CONFIG_FILE + ": " + resolved.error);
  const saved = readSafely(store, SETTINGS_FILE);
  const settingsError = saved.error || applySettings(config, saved.value);
  if (settingsError) error = (error ? error + "; " : "") + SETTINGS_FILE + ": " + settingsError;
  return { config, error };
}

/** Applies stored settings all-or-nothing; returns an error or null. */
function applySettings(config: DeviceConfig, saved: unknown): string | null {
  if (saved === undefined || saved === null) return null;
  if (typeof saved !== "object") return "not a JSON object";
  const s = saved as { [k: string]: unknown };
  for (const key in s) {
    if (SETTING_KEYS.indexOf(key as keyof Settings) < 0) return "unknown setting '" + key + "'";
    const err = validateSetting(key as keyof Settings, s[key]);
    if (err) return err;
  }
  for (const key in s) config[key as keyof Settings] = s[key] as number;
  return null;
}

/** The settings `set` may change, copied out of the config. */
export function settingsOf(config: Settings): Settings {
  const out = {} as Settings;
  for (let i = 0; i < SETTING_KEYS.length; i++) out[SETTING_KEYS[i]] = config[SETTING_KEYS[i]];
  return out;
}

/** Increments and returns the boot counter (1 on the first boot; a damaged counter restarts at 1). */
export function countBoot(store: KeyValueStore): number {
  const n = readSafely(store, BOOT_COUNT_FILE).value;
  const boot = (typeof n === "number" && n >= 0 && Math.floor(n) === n ? n : 0) + 1;
  store.writeJSON(BOOT_COUNT_FILE, boot);
  return boot;
}
