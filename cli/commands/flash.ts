// `espdht flash`: build, package offline with the espruino CLI, and write the firmware to Storage `.bootcde`
// plus the config JSON to Storage, over USB serial (115200 baud) or tcp:// (telnet or a virtual board's console).
// Every flash gives the board a new key, recorded in the keyring as pending until the board's first signed info.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CONFIG_FILE } from "../../firmware/contract";
import { buildDeviceConfig, DeviceConfigError } from "../../provisioning/deviceConfig";
import { keyFingerprint, KeyringError, keyringPathFor, newKeyHex, updateKeyringFile } from "../../provisioning/keyring";
import { CommandSpec, groupsOption, numberOption, parseCommandArgs, UsageError } from "../args";
import { SIZE_BUDGET_BYTES } from "../../tools/buildFirmware";
import { ensureFirmwareBuilt } from "../firmwareArtifact";
import { runEspruinoCli, UploadError, UploadInterrupted, writeBoardFile } from "../flash/espruinoCli";
import { configPath, loadOrCreateUserConfig } from "../userConfig";
import { deviceIdFromMac, GROUP_SEGMENT, isValidDeviceId } from "../../firmware/contract";
import { deviceIdProblem } from "../../host/commands/sendCommand";
import { DeviceLoginsError, deviceLoginsPathFor, ensureDeviceLogins } from "../../provisioning/deviceLogins";
import { passwordFrom, warnSecretsOnArgv } from "../hostOptions";
import { maskUrlCredentials } from "../../provisioning/urlCredentials";

const spec: CommandSpec = {
  name: "flash",
  usage: "flash --port /dev/ttyUSB0 | --port tcp://HOST[:PORT] | --dry-run FILE",
  summary: "Build dist/firmware.js (when missing or older than its sources) and upload it to Storage .bootcde, with your config (broker, topic root, Wi-Fi, sensor) and a new key for the board as " + CONFIG_FILE + ", to an ESP32 that already runs Espruino (2v27 or newer). The board reboots into it.",
  options: {
    port: { type: "string", short: "p", value: "PORT", help: "serial port (/dev/ttyUSB0, /dev/ttyACM0, COM3) or tcp://HOST[:PORT]" },
    baud: { type: "string", short: "b", value: "BAUD", help: "serial baud rate", default: "115200" },
    broker: { type: "string", value: "URL", help: "the board's broker, mqtt://HOST:1883 or mqtts://HOST:8883, instead of your config's (needed when that is ws:// or wss://); credentials in the URL become the board's login, never part of the URL" },
    "dry-run": { type: "string", value: "FILE", help: "write the exact upload to FILE instead of a port (it contains your Wi-Fi password and the board's key)" },
    keyring: { type: "string", value: "FILE", help: "keyring that records the board's new key (default: keys.json next to your config)" },
    "device-id": { type: "string", value: "ID|MAC", help: "the board's device id (esp32-<last 12 hex digits of its MAC>) or its MAC (esptool prints it): with device logins on ('espdht init --device-logins') the board logs in as it, with its own password" },
    "password-file": { type: "string", value: "FILE", help: "the board's broker password from FILE (first line) instead of your config's; ESPDHT_BROKER_PASSWORD works too" },
    groups: { type: "string", value: "NAME,NAME", help: "named groups this board joins (up to 4; empty: none), instead of your config's ('espdht init --groups')" },
    timeout: { type: "string", value: "SECONDS", help: "give up when the board does not answer", default: "120" },
    verbose: { type: "boolean", short: "v", help: "show everything the CLI and the board print" },
  },
  epilog: [
    "Each flash makes a new key for the board (its old key stops working). The keyring holds it as pending",
    "until the board's first signed info names its id; only the key's fingerprint is ever printed.",
    "The one-time Espruino install on a new ESP32 is esptool's job (see README, 'Flash an ESP32').",
    "Examples:",
    "  espdht flash --port /dev/ttyUSB0",
    "  espdht flash --port tcp://127.0.0.1:2323      # a virtual board from 'espdht sim --console 2323'",
    "  espdht flash --dry-run upload.js",
    "  espdht flash --port /dev/ttyUSB0 --broker mqtt://192.168.1.10:1883   # when your config's broker is ws://",
  ].join("\n"),
};

const log = (m: string) => process.stderr.write(m + "\n");

export function validatePort(port: string): string | null {
  if (port.startsWith("tcp://")) {
    const m = /^tcp:\/\/([^:/]+)(?::(\d+))?$/.exec(port);
    if (!m) return `'${port}' is not tcp://HOST[:PORT]`;
    if (m[2] && (Number(m[2]) < 1 || Number(m[2]) > 65535)) return `port number ${m[2]} is out of range`;
    return null;
  }
  if (/^COM\d+$/i.test(port)) return null;
  if (!fs.existsSync(port)) return `serial port ${port} does not exist (is the board plugged in? try: ls /dev/ttyUSB* /dev/ttyACM*)`;
  return null;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv);
  if (!args) return 0;
  const port = args.values.port as string | undefined;
  const dryRun = args.values["dry-run"] as string | undefined;
  if (!port && !dryRun) throw new UsageError("give --port PORT (or --dry-run FILE); run 'espdht flash --help'");
  if (port && dryRun) throw new UsageError("--port and --dry-run exclude each other");
  const baud = numberOption(args.values, "baud", 300, 4_000_000, true)!;
  const timeout = numberOption(args.values, "timeout", 5, 3600)!;
  if (port) {
    const problem = validatePort(port);
    if (problem) throw new UsageError(`--port: ${problem}`);
  }

  if (dryRun) {
    // made private before the CLI fills it (it keeps an existing file's mode): it will hold the passwords
    try {
      fs.writeFileSync(dryRun, "", { mode: 0o600 });
      fs.chmodSync(dryRun, 0o600);
    } catch (e) {
      throw new UsageError(`--dry-run: cannot write ${dryRun} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  const groups = args.values.groups === undefined ? undefined : groupsOption(String(args.values.groups));
  const user = loadOrCreateUserConfig();
  const given = args.values["device-id"] as string | undefined;
  let deviceId: string | null = null;
  if (given !== undefined) {
    deviceId = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(given) ? deviceIdFromMac("esp32", given) : given;
    if (deviceId === GROUP_SEGMENT) throw new UsageError(`--device-id: ${deviceIdProblem(deviceId)}`);
    if (!isValidDeviceId(deviceId)) throw new UsageError(`--device-id: '${given}' is neither a device id (esp32-<12 hex>) nor a MAC (aa:bb:cc:dd:ee:ff)`);
  }
  let login: { username: string; password: string } | null = null;
  if (user.deviceLogins) {
    if (!deviceId) throw new UsageError("device logins are on in your config: give the board's --device-id ID (or its MAC, which esptool prints when it connects)");
    try {
      login = { username: deviceId, password: ensureDeviceLogins(deviceLoginsPathFor(configPath()), [deviceId])[deviceId] };
    } catch (e) {
      if (e instanceof DeviceLoginsError) throw new UsageError(`device logins: ${e.message}`);
      throw e;
    }
  }
  warnSecretsOnArgv(args.values, "flash");
  const broker = args.values.broker as string | undefined;
  let deviceConfig;
  try {
    // a --broker URL's credentials win over the config's login, as init stores them (buildDeviceConfig splits them off)
    deviceConfig = buildDeviceConfig({ ...user, broker: broker ?? user.broker, password: passwordFrom(args.values, user.password), groups: groups ?? user.groups });
    // its own login wins over the URL's and the config's
    if (login && deviceConfig.broker) deviceConfig.broker = { ...deviceConfig.broker, ...login };
  } catch (e) {
    if (e instanceof DeviceConfigError) throw new UsageError(broker !== undefined && e.message.startsWith("broker: ") ? `--broker: ${e.message.slice(8)}` : `${configPath()}: ${e.message}`);
    throw e;
  }
  if (broker !== undefined) log(`espdht flash: the board's broker is ${maskUrlCredentials(broker)} (from --broker; your config keeps ${maskUrlCredentials(user.broker)})`);
  if (login) log(`espdht flash: the board logs in to the broker as '${login.username}' with its own password (in ${deviceLoginsPathFor(configPath())}); run 'espdht broker-users' and reload Mosquitto`);
  if (!user.wifi) log("espdht flash: warning: no Wi-Fi in your config, the board will not get online (run 'espdht init')");
  const keyring = path.resolve((args.values.keyring as string | undefined) ?? keyringPathFor(configPath()));
  const keyringChange = (change: Parameters<typeof updateKeyringFile>[1]) => {
    try {
      updateKeyringFile(keyring, change);
    } catch (e) {
      if (e instanceof KeyringError) throw new UsageError(`keyring: ${e.message}`);
      const code = (e as NodeJS.ErrnoException).code;
      if (code) throw new UsageError(`keyring: cannot write ${keyring} (${code})`);
      throw e;
    }
  };
  // a broken keyring stops the flash before anything is built or sent
  keyringChange(() => {});

  const started = Date.now();
  const step = (m: string) => log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${m}`);
  const built = await ensureFirmwareBuilt(step);
  if (!built.rebuilt) step(`${path.relative(process.cwd(), built.file)} is up to date: ${built.size} bytes minified`);
  // a board is never given a bundle over the budget (sim and start still run one, to debug it)
  if (built.size > SIZE_BUDGET_BYTES) throw new UsageError(`${path.relative(process.cwd(), built.file)} is ${built.size} bytes, over the ${SIZE_BUDGET_BYTES}-byte budget: not flashed`);

  // recorded before the upload, so a board never holds a key its host does not know
  const key = newKeyHex();
  const fingerprint = keyFingerprint(key);
  keyringChange((d) => { d.pending.push({ key, added: new Date().toISOString() }); });
  step(`new key for the board, fingerprint ${fingerprint}: pending in ${keyring} until the board's first signed info`);
  let uploaded = false;
  // the CLI and the board are not expected to print it, but their output is shown as is
  const redact = (text: string) => text.split(key).join("<the board's key>");

  // the config holds secrets: a private temp file (in a 0700 folder), removed right after the upload; only its path reaches the CLI
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-flash-"));
  const configFile = path.join(dir, CONFIG_FILE);
  fs.writeFileSync(configFile, JSON.stringify({ ...deviceConfig, key }), { mode: 0o600 });
  const progress = setInterval(() => step(dryRun ? "packaging..." : `uploading to ${port}...`), 3000);
  // Ctrl-C stops the CLI and still reaches `finally`, which removes the config with its secrets
  const abort = new AbortController();
  const interrupt = () => abort.abort();
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  try {
    step(dryRun ? `packaging into ${dryRun}` : `uploading ${built.size} bytes + config to ${port} at ${baud} baud (topic root ${user.root})`);
    await runEspruinoCli({
      port,
      dryRunFile: dryRun ? path.resolve(dryRun) : undefined,
      baud,
      boardFile: writeBoardFile(dir),
      firmwareFile: built.file,
      storageFiles: { [CONFIG_FILE]: configFile },
      timeoutMs: timeout * 1000,
      onLine: args.values.verbose ? (l) => log(`  | ${redact(l)}`) : undefined,
      signal: abort.signal,
    });
    uploaded = true;
  } catch (e) {
    if (e instanceof UploadInterrupted) {
      log("espdht flash: interrupted; the board may hold a partial upload: flash again");
      return 130;
    }
    if (e instanceof UploadError) {
      log(`espdht flash: ${redact(args.values.verbose ? e.message.split("\n---")[0] : e.message)}`);
      return 1;
    }
    throw e;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    clearInterval(progress);
    fs.rmSync(dir, { recursive: true, force: true });
    // a failed upload is flashed again with another key: this one is not kept waiting
    if (!uploaded || (dryRun && fs.statSync(dryRun).size === 0)) {
      keyringChange((d) => { d.pending = d.pending.filter((e) => e.key !== key); });
      log(`espdht flash: key ${fingerprint} taken out of the keyring again (the upload did not complete; the next flash makes a new key)`);
    }
  }
  if (dryRun && fs.statSync(dryRun).size === 0) {
    log(`espdht flash: the espruino CLI wrote nothing to ${dryRun}`);
    return 1;
  }
  if (dryRun) step(`wrote ${dryRun} (contains your Wi-Fi and broker passwords and the board's key: keep it private; key ${fingerprint} is pending in the keyring)`);
  else step(`done: the board reboots into the new firmware and publishes under ${user.root}/ (watch with 'espdht watch')`);
  return 0;
}
