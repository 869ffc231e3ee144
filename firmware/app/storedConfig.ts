// Config, settings and the boot counter in Storage. A bad file never stops the boot: defaults are used and
// the reason is reported (the app puts it in `info.configError`).
import { BOOT_COUNT_FILE, CONFIG_FILE, DeviceConfig, KEY_FILE, resolveDeviceConfig, SETTINGS_FILE } from "../contract/deviceConfig";
import { Settings, settingKeys } from "../contract/payloads";
import { fromHex, KEY_BYTES } from "../contract/trust";
import type { KeyValueStore } from "../hal/hal";

/** readJSON that never throws: undefined for a missing file, or for one that is not JSON (then `bad` hears why). */
export function readJsonSafely(store: KeyValueStore, name: string, bad?: (why: string) => void): unknown {
  try {
    return store.readJSON(name);
  } catch (e) {
    if (bad) bad(name + ": not valid JSON");
  }
}

/** What Storage holds for this board (`bootDevice` adds the rest of the Device). */
export interface StoredDevice {
  /** this boot's number (counted in Storage) */
  boot: number;
  /** the effective config; `set` changes its settings in place */
  config: DeviceConfig;
  /** why a stored file was rejected (defaults or the config file in use), else null; reported in info */
  configError: string | null;
  /** the secret key signing what the device publishes and checking commands (docs/trust.md); null: unsigned */
  key_: Uint8Array | null;
}

/**
 * At boot: the effective config (defaults, the uploaded config file, then settings saved by `set`, all-or-nothing)
 * and why a file was rejected; the boot counter, incremented (1 on the first boot; a counter that is not a positive
 * number restarts at 1); the key in use: the one `rekey` installed while the config still holds the key it replaced
 * (a re-flash with a new key wins over an older rotation), else the config's, null without a key.
 * One function, not one per file: each top-level function holds JsVars for as long as the board runs.
 */
export function loadStored(store: KeyValueStore): StoredDevice {
  const out = <StoredDevice>{ configError: null };
  const bad = (why: string) => {
    out.configError = (out.configError ? out.configError + "; " : "") + why;
  };
  const resolved = resolveDeviceConfig(readJsonSafely(store, CONFIG_FILE, bad));
  if (!resolved.ok) bad(CONFIG_FILE + ": " + resolved.error);
  const config = (out.config = resolved.config);
  const saved = readJsonSafely(store, SETTINGS_FILE, bad);
  if (saved != null) {
    // checked as a config file holding these keys; only the settings are taken from it
    const s = resolveDeviceConfig(saved);
    if (s.ok) Object.assign(config, settingsOf(s.config));
    else bad(SETTINGS_FILE + ": " + s.error);
  }
  const n = readJsonSafely(store, BOOT_COUNT_FILE) as number;
  store.writeJSON(BOOT_COUNT_FILE, (out.boot = (n > 0 ? n | 0 : 0) + 1));
  const rotated = readJsonSafely(store, KEY_FILE) as { from?: unknown; key?: unknown } | undefined;
  out.key_ = (rotated && rotated.from === config.key && fromHex(rotated.key, KEY_BYTES)) || fromHex(config.key, KEY_BYTES);
  return out;
}

/** The settings `set` may change, copied out of the config. */
export function settingsOf(config: Settings): Settings {
  const out = {} as { [k: string]: unknown };
  settingKeys().forEach((key) => { out[key] = config[key]; });
  return out as unknown as Settings;
}
