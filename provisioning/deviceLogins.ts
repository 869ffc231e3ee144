// Per-device broker logins (docs/mosquitto.md): each board logs in as its device id with a random password of
// its own, so a broker ACL keyed by username confines it to its own topics. Kept like the keyring: a JSON file
// next to the user's config (mode 0600), replaced atomically. Also the Mosquitto password-file and ACL lines.
import { pbkdf2Sync, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { GROUP_SEGMENT, isValidDeviceId } from "../firmware/contract";

export const DEVICE_LOGINS_FILE = "device-logins.json";

export interface DeviceLogin {
  password: string;
  /** ISO time it was made */
  added: string;
}

export interface DeviceLoginsData {
  version: 1;
  devices: { [deviceId: string]: DeviceLogin };
}

export class DeviceLoginsError extends Error {}

/** device-logins.json beside the user's config file. */
export function deviceLoginsPathFor(configFile: string): string {
  return path.join(path.dirname(configFile), DEVICE_LOGINS_FILE);
}

/** 24 random bytes as URL-safe base64 (32 characters): no character a config, URL or password file trips on. */
export function newDevicePassword(): string {
  return randomBytes(24).toString("base64url");
}

/** Reads and checks the file; a missing file has no logins. Errors name the file and the entry. */
export function readDeviceLogins(file: string): DeviceLoginsData {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, devices: {} };
    throw new DeviceLoginsError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DeviceLoginsError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const o = raw as Partial<DeviceLoginsData>;
  if (typeof raw !== "object" || raw === null || o.version !== 1 || typeof o.devices !== "object" || o.devices === null || Array.isArray(o.devices)) {
    throw new DeviceLoginsError(`${file}: expected {"version": 1, "devices": {"<device id>": {"password": "...", "added": "..."}}}`);
  }
  const data: DeviceLoginsData = { version: 1, devices: {} };
  for (const [id, e] of Object.entries(o.devices)) {
    if (!isValidDeviceId(id)) throw new DeviceLoginsError(`${file}: devices.${id}: not a valid device id`);
    const pw = (e as DeviceLogin | null)?.password;
    if (typeof pw !== "string" || pw.length < 1 || pw.length > 128 || /[\s:]/.test(pw)) throw new DeviceLoginsError(`${file}: devices.${id}.password: must be 1..128 characters without spaces or ':'`);
    data.devices[id] = { password: pw, added: typeof (e as DeviceLogin).added === "string" ? (e as DeviceLogin).added : "" };
  }
  return data;
}

/** Each device's password, made (and saved, 0600) for those that have none yet. */
export function ensureDeviceLogins(file: string, ids: string[]): Record<string, string> {
  const data = readDeviceLogins(file);
  const missing = ids.filter((id) => !data.devices[id]);
  if (missing.length) {
    const added = new Date().toISOString();
    for (const id of missing) data.devices[id] = { password: newDevicePassword(), added };
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    fs.renameSync(tmp, file);
  }
  return Object.fromEntries(ids.map((id) => [id, data.devices[id].password]));
}

/** PBKDF2-SHA512 iterations in the `$7$` hashes we write (mosquitto_passwd uses 101; the broker reads the count from the line). */
const PBKDF2_ITERATIONS = 1000;

/** One Mosquitto 2 password-file line, `user:$7$iterations$salt$hash`, as `mosquitto_passwd` writes it. */
export function mosquittoPasswordLine(user: string, password: string, salt: Buffer = randomBytes(12)): string {
  if (/[:\s]/.test(user) || !user) throw new DeviceLoginsError(`username '${user}': must be non-empty, without ':' or spaces`);
  const hash = pbkdf2Sync(password, salt, PBKDF2_ITERATIONS, 64, "sha512");
  return `${user}:$7$${PBKDF2_ITERATIONS}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

export interface AclOptions {
  /** topic root, `espdht/<home>` */
  root: string;
  /** the host programs' user (watch, dashboard, send): everything under the root */
  hostUser: string | null;
  /** Home Assistant discovery: each device writes its own two config topics */
  homeAssistant: boolean;
}

/**
 * Mosquitto ACL lines: `pattern` lines keyed by username = device id confine each board to its own topics
 * (firmware/contract/topics.ts): it writes status (also its retained will), info, reading and reply, and
 * reads its own cmd and the group's; of the link topics (R/A/to/B) it writes only those it sends (A = itself)
 * and reads only those for it (B = itself); the host user gets the whole root.
 */
export function mosquittoAcl(o: AclOptions): string[] {
  const r = o.root;
  const lines = [
    `# espdht: topic root ${r}; each board logs in with username = its device id`,
    "# every user (pattern lines apply to all): a board writes its own status (and retained will), info, reading, reply",
    `pattern write ${r}/%u/status`,
    `pattern write ${r}/%u/info`,
    `pattern write ${r}/%u/reading`,
    `pattern write ${r}/%u/reply`,
    "# ... and reads the commands for it and for every device",
    `pattern read ${r}/%u/cmd`,
    `pattern read ${r}/${GROUP_SEGMENT}/cmd`,
    "# device-to-device links ('espdht link A B'): a board writes only its own R/<itself>/to/<peer> and reads only R/<peer>/to/<itself>",
    `pattern write ${r}/%u/to/+`,
    `pattern read ${r}/+/to/%u`,
  ];
  if (o.homeAssistant) {
    lines.push("# Home Assistant discovery: its own two sensors' retained config", "pattern write homeassistant/sensor/%u_temperature/config", "pattern write homeassistant/sensor/%u_humidity/config");
  }
  if (o.hostUser) lines.push("", "# the host programs (watch, dashboard, send, keys): everything under the root", `user ${o.hostUser}`, `topic readwrite ${r}/#`);
  return lines;
}
