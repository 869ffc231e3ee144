// User settings -> the JSON a board finds in Storage (CONFIG_FILE). The one builder behind `espdht flash` and
// the simulator (`sim`, `start`), so a flashed board, a virtual board and the dashboard share one broker and root.
import { DeviceConfig, resolveDeviceConfig, SensorModel } from "../firmware/contract";
import { BrokerUrlError, parseBrokerUrl } from "./brokerUrl";

/** What a board is provisioned from: the user config's device-side settings. */
export interface DeviceSettings {
  /** broker URL; a board accepts mqtt:// and mqtts:// only */
  broker: string;
  /** used when the URL carries no credentials */
  username: string | null;
  password: string | null;
  /** topic root, `espdht/<home>` */
  root: string;
  model: SensorModel;
  pin: number;
  /** seconds between readings */
  interval: number;
  homeAssistant: boolean;
  wifi: { ssid: string; password: string } | null;
}

export class DeviceConfigError extends Error {}

/** Only the keys that differ from the firmware's defaults go into Storage; throws, naming the field, what a board would reject. */
export function buildDeviceConfig(s: DeviceSettings): Partial<DeviceConfig> {
  let b;
  try {
    b = parseBrokerUrl(s.broker, "board");
  } catch (e) {
    if (e instanceof BrokerUrlError) throw new DeviceConfigError(`broker: ${e.message}`);
    throw e;
  }
  const out: Partial<DeviceConfig> = {
    // the host side (MQTT.js) honours credentials in the URL: the board must get the same ones
    broker: { host: b.host, port: b.port, tls: b.tls, username: b.username ?? s.username, password: b.password ?? s.password },
    root: s.root,
    model: s.model,
    pin: s.pin,
    interval: s.interval,
    homeAssistant: s.homeAssistant,
  };
  if (s.wifi) out.wifi = s.wifi;
  const check = resolveDeviceConfig(out);
  if (!check.ok) throw new DeviceConfigError(`the board would reject this config: ${check.error}`);
  return out;
}
