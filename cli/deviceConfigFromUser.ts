// The JSON a board finds in Storage (CONFIG_FILE): made from the user config by `espdht flash` and by the
// simulator, so a flashed board, a virtual board and the dashboard share one broker and topic root.
import { DeviceConfig, resolveDeviceConfig } from "../firmware/contract";
import type { UserConfig } from "./userConfig";

export class DeviceConfigError extends Error {}

/** Broker URL -> the device's {host, port, tls}; the device speaks TCP and TLS only (no WebSocket). */
/** Host, port and TLS of a board's broker URL, plus the credentials it carries (`mqtt://user:pass@host`), else null. */
export function deviceBroker(url: string): { host: string; port: number; tls: boolean; username: string | null; password: string | null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DeviceConfigError(`broker '${url}' is not a URL (expected mqtt://host:1883 or mqtts://host:8883)`);
  }
  const tls = u.protocol === "mqtts:";
  if (u.protocol !== "mqtt:" && !tls) throw new DeviceConfigError(`broker '${url}': a board speaks mqtt:// or mqtts:// only (WebSocket is for the PC side)`);
  const port = u.port ? Number(u.port) : tls ? 8883 : 1883;
  // the host side (MQTT.js) honours credentials in the URL: the board must get the same ones
  return { host: u.hostname, port, tls, username: u.username ? decodeURIComponent(u.username) : null, password: u.password ? decodeURIComponent(u.password) : null };
}

/** Only the keys that differ from the firmware's defaults go into Storage, keeping the file small. */
export function deviceConfigFromUser(user: UserConfig, overrides: Partial<DeviceConfig> = {}): Partial<DeviceConfig> {
  const b = deviceBroker(user.broker);
  const out: Partial<DeviceConfig> = {
    broker: { host: b.host, port: b.port, tls: b.tls, username: b.username ?? user.username, password: b.password ?? user.password },
    root: user.root,
    model: user.model,
    pin: user.pin,
    interval: user.interval,
    homeAssistant: user.homeAssistant,
    ...(user.wifi ? { wifi: user.wifi } : {}),
    ...overrides,
  };
  const check = resolveDeviceConfig(out);
  if (!check.ok) throw new DeviceConfigError(`the board would reject this config: ${check.error}`);
  return out;
}
