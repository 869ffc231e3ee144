// `espdht broker-users`: the Mosquitto password file and ACL for your devices' own logins (docs/mosquitto.md):
// each board as its device id, confined to its own topics; the host programs' user over the whole root.
import fs from "node:fs";
import path from "node:path";
import { isValidDeviceId } from "../../firmware/contract";
import { deviceIdProblem } from "../../host/commands/sendCommand";
import { DeviceLoginsError, deviceLoginsPathFor, ensureDeviceLogins, mosquittoAcl, mosquittoPasswordLine, readDeviceLogins } from "../../provisioning/deviceLogins";
import { CommandSpec, parseCommandArgs, UsageError } from "../args";
import { passwordFrom, warnSecretsOnArgv } from "../hostOptions";
import { configPath, loadOrCreateUserConfig } from "../userConfig";

const spec: CommandSpec = {
  name: "broker-users",
  usage: "broker-users [--passwd FILE] [--acl FILE] [--add DEVICE ...]",
  summary: `Write a Mosquitto password file and ACL for your devices' own broker logins: each board logs in with
username = its device id and its own random password (made by 'espdht sim --device-logins' and 'espdht flash
--device-id', kept in device-logins.json next to your config, mode 600) and may only write its own status, info,
reading and reply topics and read its own and the group's cmd. Your config's username (the host programs: watch,
dashboard, send, keys) gets everything under the topic root. Passwords are written hashed ($7$, PBKDF2-SHA512, as
mosquitto_passwd does). Run it after flashing or simulating new boards, then reload Mosquitto.`,
  options: {
    passwd: { type: "string", value: "FILE", help: "password file to write", default: "espdht.passwd" },
    acl: { type: "string", value: "FILE", help: "ACL file to write", default: "espdht.acl" },
    add: { type: "string", value: "DEVICE", help: "also make a login for DEVICE (a board flashed another way; repeatable)", multiple: true },
    "password-file": { type: "string", value: "FILE", help: "the host user's broker password from FILE (default: your config's, or ESPDHT_BROKER_PASSWORD)" },
    password: { type: "string", value: "SECRET", help: "the host user's password (visible in 'ps': prefer --password-file)" },
  },
  epilog: [
    "Then, with mosquitto.conf holding 'password_file' and 'acl_file' lines for these files (docs/mosquitto-example.conf):",
    "  sudo install -o mosquitto -m 600 espdht.passwd espdht.acl /etc/mosquitto/",
    "  sudo systemctl reload mosquitto        # or: kill -HUP <mosquitto pid>",
    "A board's password is in its Storage (its config); flash again to give a board a new one.",
  ].join("\n"),
};

/** Writes `text` to `file` through FILE.tmp, mode 0600 (the broker's user must be able to read it: see the epilog). */
function writePrivate(file: string, text: string, flag: string): void {
  const tmp = file + ".tmp";
  try {
    fs.rmSync(tmp, { force: true });
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch (e) {
    throw new UsageError(`--${flag}: cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv);
  if (!args) return 0;
  const v = args.values;
  warnSecretsOnArgv(v, "broker-users");
  const file = configPath();
  const user = loadOrCreateUserConfig(file);
  const hostPassword = passwordFrom(v, user.password);
  if (!user.username || !hostPassword) {
    throw new UsageError(`the host programs need a broker login of their own first: espdht init --username NAME --password-file FILE (${file} has ${user.username ? "no password" : "no username"})`);
  }
  if (isValidDeviceId(user.username) && user.username.startsWith("esp32-")) throw new UsageError(`username '${user.username}' looks like a device id: pick another name for the host programs' login`);
  const added = (v.add as string[] | undefined) ?? [];
  for (const id of added) {
    const problem = deviceIdProblem(id);
    if (problem) throw new UsageError(`--add: ${problem}`);
  }
  const loginsFile = deviceLoginsPathFor(file);
  let devices: Record<string, string>;
  try {
    const known = Object.keys(readDeviceLogins(loginsFile).devices);
    devices = ensureDeviceLogins(loginsFile, [...new Set([...known, ...added])].sort());
  } catch (e) {
    if (e instanceof DeviceLoginsError) throw new UsageError(`device logins: ${e.message}`);
    throw e;
  }
  const ids = Object.keys(devices);
  if (ids.includes(user.username)) throw new UsageError(`username '${user.username}' is also a device's login: pick another name for the host programs`);
  const passwd = [mosquittoPasswordLine(user.username, hostPassword), ...ids.map((id) => mosquittoPasswordLine(id, devices[id]))];
  const acl = mosquittoAcl({ root: user.root, hostUser: user.username, homeAssistant: user.homeAssistant });
  const passwdFile = path.resolve(String(v.passwd));
  const aclFile = path.resolve(String(v.acl));
  writePrivate(passwdFile, passwd.join("\n") + "\n", "passwd");
  writePrivate(aclFile, acl.join("\n") + "\n", "acl");
  const log = (m: string) => process.stderr.write(m + "\n");
  log(`espdht broker-users: ${passwdFile}: ${ids.length} device login${ids.length === 1 ? "" : "s"} + host user '${user.username}' (hashed)`);
  log(`espdht broker-users: ${aclFile}: each device confined to ${user.root}/<its id>/...${user.homeAssistant ? " and its Home Assistant discovery topics" : ""}; '${user.username}' gets ${user.root}/#`);
  if (ids.length === 0) log("espdht broker-users: no device logins yet: 'espdht sim --device-logins', 'espdht flash --device-id ID' or --add ID make them");
  log("Next: install both where mosquitto.conf points (password_file, acl_file), readable by the mosquitto user, and reload Mosquitto (kill -HUP).");
  return 0;
}
