// User settings -> the JSON a board finds in Storage (CONFIG_FILE). The one builder behind `espdht flash` and
// the simulator (`sim`, `start`), so a flashed board, a virtual board and the dashboard share one broker and root.
import { checkGroups, DeviceConfig, GROUP_SEGMENT, MAX_GROUPS, resolveDeviceConfig, SensorModel } from "../firmware/contract";
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
  /** named groups (R/group/<name>/cmd); absent or empty: none. A board's saved `set groups` wins over these */
  groups?: string[];
}

export class DeviceConfigError extends Error {}

/** Why `name` cannot be a group (the device's rule, said in full): a topic level the device could subscribe to. */
export function groupNameProblem(name: string): string {
  if (name === "") return "the group name is empty";
  if (name === GROUP_SEGMENT) return `'${GROUP_SEGMENT}' is not a group name: it is every device ('espdht send all ...')`;
  if (name.length > 64) return `group name '${name.slice(0, 20)}…' has ${name.length} characters, at most 64`;
  const bad = [...name].find((c) => !/[-0-9A-Za-z_]/.test(c));
  return `group name '${name}' has ${JSON.stringify(bad)}: only letters, digits, '-' and '_' (it is one topic level; no '+', '#', '/')`;
}

/** The first thing wrong with a list of group names, said in full, or null. */
export function groupListProblem(names: unknown): string | null {
  if (!Array.isArray(names) || names.some((g) => typeof g !== "string")) return `must be a list of up to ${MAX_GROUPS} names`;
  if (names.length > MAX_GROUPS) return `at most ${MAX_GROUPS} groups per device (got ${names.length}: ${names.join(", ")})`;
  for (let i = 0; i < names.length; i++) {
    if (checkGroups([names[i]])) return groupNameProblem(names[i]);
    if (names.indexOf(names[i]) < i) return `group '${names[i]}' is listed twice`;
  }
  return null;
}

/** Parses `kitchen,floor1` (as `--groups` and `set groups=` take it; empty: none) into a valid group list; throws DeviceConfigError. */
export function parseGroupList(text: string, what = "groups"): string[] {
  const names = text.trim() === "" ? [] : text.split(",").map((g) => g.trim());
  const problem = groupListProblem(names);
  if (problem) throw new DeviceConfigError(`${what}: ${problem}`);
  return names;
}

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
  if (s.groups && s.groups.length) out.groups = s.groups;
  const check = resolveDeviceConfig(out);
  if (!check.ok) throw new DeviceConfigError(`the board would reject this config: ${check.error}`);
  return out;
}
