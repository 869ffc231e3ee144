// Who this board is and how it is configured: settled once at boot from Storage and the HAL, read by every part.
import type { DeviceConfig } from "../contract/deviceConfig";
import { deviceTopicPrefix, DeviceTopicKind } from "../contract/topics";
import type { Hal } from "../hal/hal";
import { countBoot, loadConfig } from "./storedConfig";

export interface Device {
  id: string;
  /** this boot's number (counted in Storage) */
  boot: number;
  /** the effective config; `set` changes its settings in place */
  config: DeviceConfig;
  /** why a stored file was rejected (defaults or the config file in use), else null; reported in info */
  configError: string | null;
  /** `R/D/<kind>`: the device's own topics */
  topic_(kind: DeviceTopicKind): string;
}

/** Loads the config, counts the boot and switches the telnet console as configured (off unless asked for). */
export function bootDevice(hal: Hal): Device {
  const storage = hal.storage_;
  let configError: string | null = null;
  const config = loadConfig(storage, (why) => { configError = (configError ? configError + "; " : "") + why; });
  const boot = countBoot(storage);
  hal.telnet_.setOptions({ mode: config.telnet ? "on" : "off" });
  const id = hal.deviceId_();
  const prefix = deviceTopicPrefix(config.root, id);
  return { id, boot, config, configError, topic_: (kind) => prefix + kind };
}
