// Topic layout shared by device and host (docs/architecture.md "Topics"). Espruino-safe: no regex quantifiers, no Map.

export const UNCONFIGURED_TOPIC_ROOT = "espdht/unconfigured";
/** Device-id segment reserved for the group command topic `R/all/cmd`. */
export const GROUP_SEGMENT = "all";

export type DeviceTopicKind = "status" | "info" | "reading" | "cmd" | "reply" | "output";
const KINDS: DeviceTopicKind[] = ["status", "info", "reading", "cmd", "reply", "output"];

export function deviceTopic(root: string, deviceId: string, kind: DeviceTopicKind): string {
  return deviceTopicPrefix(root, deviceId) + kind;
}

/** `R/D/`: each of the device's topics is this prefix and its kind (the device builds its topics from it). */
export function deviceTopicPrefix(root: string, deviceId: string): string {
  return root + "/" + deviceId + "/";
}

// groupCommandTopic, namedGroupTopic and linkTopic serve the host: the device composes the same topics from
// deviceTopicPrefix (app/commands.ts, app/peerLinks.ts; a function in its bundle costs JsVars for good), and
// test/firmware/contract/topics.test.ts checks that both agree.
export function groupCommandTopic(root: string): string {
  return root + "/" + GROUP_SEGMENT + "/cmd";
}

/** `R/group/<name>/cmd`: the command topic of a named group (its members subscribe to it). */
export function namedGroupTopic(root: string, name: string): string {
  return root + "/group/" + name + "/cmd";
}

/** A device is in at most this many named groups (as Tasmota's GroupTopics). */
export const MAX_GROUPS = 4;

/** A group list's problem (up to MAX_GROUPS distinct names, each valid as a device id), or null. Terse: it ships. */
export function checkGroups(v: unknown): string | null {
  // 4 is MAX_GROUPS, written out: a literal is smaller in the bundle
  if (!(v instanceof Array) || v.length > 4) return "groups: a list of up to 4 names";
  for (let i = 0; i < v.length; i++) {
    if (!isValidDeviceId(v[i]) || v.indexOf(v[i]) < i) return "group '" + v[i] + "': 1..64 of A-Za-z0-9_- once, not all";
  }
  return null;
}

/** `R/A/to/B`: device A's readings for its linked peer B (docs/trust.md "Device-to-device links"); only B reads it. */
export function linkTopic(root: string, from: string, to: string): string {
  return root + "/" + from + "/to/" + to;
}

/** Subscription filter the host uses for one kind across every device: `R/+/kind`. */
export function everyDeviceFilter(root: string, kind: DeviceTopicKind): string {
  return root + "/+/" + kind;
}

export interface ParsedTopic {
  deviceId: string;
  kind: DeviceTopicKind;
}

/** Splits `R/D/kind`; null when the topic is not under `root` or not one of ours. */
export function parseDeviceTopic(root: string, topic: string): ParsedTopic | null {
  const prefix = root + "/";
  if (topic.indexOf(prefix) !== 0) return null;
  const rest = topic.substr(prefix.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return null;
  const deviceId = rest.substr(0, slash);
  const kind = rest.substr(slash + 1) as DeviceTopicKind;
  if (KINDS.indexOf(kind) < 0) return null;
  if (deviceId === GROUP_SEGMENT) return kind === "cmd" ? { deviceId, kind } : null;
  if (!isValidDeviceId(deviceId)) return null;
  return { deviceId, kind };
}

/** A device id is one topic level of [A-Za-z0-9_-], 1..64 chars (it is also the MQTT client id). */
export function isValidDeviceId(id: unknown): id is string {
  // a class with ranges and "+": both run on Espruino (no {n} quantifier there)
  return typeof id == "string" && id.length < 65 && id != GROUP_SEGMENT && /^[-0-9A-Za-z_]+$/.test(id);
}

/** A topic root is 1..128 chars of non-empty levels without wildcards. */
export function validateTopicRoot(root: unknown): string | null {
  // alternation and anchors only: Espruino's RegExp lacks group quantifiers
  return typeof root === "string" && root && root.length <= 128 && !/[+#]|\/\/|^\/|\/$/.test(root)
    ? null
    : "topic root: 1..128 chars, no '+', '#' or empty level";
}

/** Device id from the ESP32 eFuse MAC (`getSerial()` = "xxxxxxxx-xxxx" or a MAC "aa:bb:.."): the last 12 hex digits. */
export function deviceIdFromMac(prefix: string, mac: string): string {
  const hex = mac.toLowerCase().replace(/[^0-9a-f]/g, "");
  return prefix + "-" + hex.substr(hex.length - 12);
}
