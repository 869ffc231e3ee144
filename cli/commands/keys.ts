// `espdht keys list|add|rotate`: the host's keyring (keys.json, docs/trust.md "Keys"). Keys are read from a
// file or standard input, never from arguments, and never printed: only their fingerprints are.
import fs from "node:fs";
import { COMMAND_EXPIRY_S } from "../../firmware/contract";
import { throwawayClientId } from "../../host/ingest/dashboardClientId";
import { connectBroker, displayUrl, protocolOf } from "../../host/mqtt/connectBroker";
import { ReplyWaiter } from "../../host/commands/replyWaiter";
import { deviceIdProblem } from "../../host/commands/sendCommand";
import { verifiedLinksOf } from "../../host/commands/verifiedLinks";
import { parseDeviceMessage } from "../../host/ingest/parseMessage";
import { DeviceTrust } from "../../host/trust/deviceTrust";
import { linkDevices } from "../../host/trust/peerLink";
import { rotateKey } from "../../host/trust/rotateKey";
import { keyFingerprint, KeyringData, KeyringError, parseKeyHex, readKeyringFile, updateKeyringFile } from "../../provisioning/keyring";
import { CommandSpec, helpText, numberOption, OptionSpecs, Parsed, parseCommandArgs, UsageError } from "../args";
import { HOST_OPTIONS, openKeyring, resolveHostOptions } from "../hostOptions";
import { askSecret } from "../prompt";

const KEYRING_OPTION: OptionSpecs = { keyring: HOST_OPTIONS.keyring };

const overview: CommandSpec = {
  name: "keys",
  usage: "keys <list|add|rotate> [options]",
  summary: `The keyring: one secret key per device, in keys.json (mode 0600) next to your config. watch, dashboard and send
verify readings and sign commands with it. Keys are never printed, only their fingerprints.

  keys list                              devices and key fingerprints, and pending keys (made by flash)
  keys add DEVICE [--key-file FILE]      add a device's key from a file or standard input (never an argument)
  keys rotate DEVICE                     give the device a new key over MQTT (signed with its current key),
                                         then keep the new key in the keyring once the device proves it

Each takes --keyring FILE (default: keys.json next to your config). Run 'espdht keys <subcommand> --help' for
its options.`,
  options: {},
};

const listSpec: CommandSpec = {
  name: "keys list",
  usage: "keys list [--json] [--keyring FILE]",
  summary: "List the devices in the keyring with their key fingerprints and when they were added, then the pending keys (made by 'espdht flash', bound to a board at its first signed message). Never shows a key.",
  options: { ...KEYRING_OPTION, json: { type: "boolean", help: "print {keyring, devices: [{id, fingerprint, added}], pending: [{fingerprint, added}]} on stdout" } },
};

const addSpec: CommandSpec = {
  name: "keys add",
  usage: "keys add DEVICE [--key-file FILE] [--replace] [--keyring FILE]",
  summary: "Add DEVICE's key (64 hex digits) to the keyring, read from --key-file or standard input: never from an argument, which other users can see in the process list.",
  options: {
    ...KEYRING_OPTION,
    "key-file": { type: "string", value: "FILE", help: "file holding the key (default: standard input)" },
    replace: { type: "boolean", help: "replace the key the device already has in the keyring" },
  },
  epilog: "Examples:\n  espdht keys add esp32-a1b2c3d4e5f6 --key-file board.key\n  pass show espdht/board | espdht keys add esp32-a1b2c3d4e5f6",
};

const rotateSpec: CommandSpec = {
  name: "keys rotate",
  usage: "keys rotate DEVICE [--timeout SECONDS] [options]",
  summary: `Give DEVICE a new random key: sends the signed command {"op":"rekey","nonce","key"} where key is the new key
XOR HMAC-SHA256(current key, "rekey|" + nonce), so it never crosses the broker in clear. The device stores it and
answers signed with the NEW key; only then is the keyring changed. Without an answer the keyring stays as it was.
The devices DEVICE sends its readings to (its links, from its signed info) are then given the new link key, which
is derived from DEVICE's key ('espdht link' again, automatically). Re-flashing the board ('espdht flash', which
makes a new key) is the other way; after it, run 'espdht link' again yourself.`,
  options: {
    ...HOST_OPTIONS,
    timeout: { type: "string", value: "SECONDS", help: "how long to wait for the device's answer", default: "15" },
  },
  epilog: "Example:\n  espdht keys rotate esp32-a1b2c3d4e5f6",
};

/** The keyring file of --keyring (or the default), checked: a broken one is an error naming it. */
function keyringFile(values: Parsed["values"]): string {
  return openKeyring(values).file!;
}

function readRing(file: string): KeyringData {
  try {
    return readKeyringFile(file);
  } catch (e) {
    if (e instanceof KeyringError) throw new UsageError(`keyring: ${e.message}`);
    throw e;
  }
}

function deviceArg(positionals: string[], usage: string): string {
  const [device, ...extra] = positionals;
  if (!device) throw new UsageError(`needs a device id: espdht ${usage}`);
  const problem = deviceIdProblem(device);
  if (problem) throw new UsageError(problem);
  if (extra.length) throw new UsageError(`unexpected argument${extra.length > 1 ? "s" : ""} after ${device} (a key is never taken as an argument: use --key-file FILE or standard input)`);
  return device;
}

async function list(argv: string[]): Promise<number> {
  const args = parseCommandArgs(listSpec, argv);
  if (!args) return 0;
  const file = keyringFile(args.values);
  const data = readRing(file);
  const devices = Object.keys(data.devices).sort().map((id) => ({ id, fingerprint: keyFingerprint(data.devices[id].key), added: data.devices[id].added }));
  const pending = data.pending.map((e) => ({ fingerprint: keyFingerprint(e.key), added: e.added }));
  if (args.values.json) {
    process.stdout.write(JSON.stringify({ keyring: file, devices, pending }) + "\n");
    return 0;
  }
  process.stderr.write(`espdht keys: ${file}\n`);
  if (devices.length === 0) process.stdout.write("no device keys\n");
  else {
    const w = Math.max(6, ...devices.map((d) => d.id.length));
    process.stdout.write(`${"DEVICE".padEnd(w)}  FINGERPRINT          ADDED\n`);
    for (const d of devices) process.stdout.write(`${d.id.padEnd(w)}  ${d.fingerprint}  ${d.added || "-"}\n`);
  }
  if (pending.length) {
    process.stdout.write(`\npending (made by flash; bound to a board at its first signed message):\n`);
    for (const p of pending) process.stdout.write(`  ${p.fingerprint}  ${p.added || "-"}\n`);
  }
  return 0;
}

async function readKeyFromStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    const typed = await askSecret("key of the device (64 hex digits, not shown)", false);
    return typed ?? "";
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function add(argv: string[]): Promise<number> {
  const args = parseCommandArgs(addSpec, argv, true);
  if (!args) return 0;
  const device = deviceArg(args.positionals, addSpec.usage);
  const file = keyringFile(args.values);
  const keyFile = typeof args.values["key-file"] === "string" ? args.values["key-file"] : null;
  let text: string;
  if (keyFile) {
    try {
      text = fs.readFileSync(keyFile, "utf8");
    } catch (e) {
      throw new UsageError(`--key-file: cannot read ${keyFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  } else text = await readKeyFromStdin();
  let key: string;
  try {
    key = parseKeyHex(text, keyFile ? `--key-file ${keyFile}` : "standard input");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const fingerprint = keyFingerprint(key);
  const outcome = updateKeyringFile(file, (d) => {
    const had = d.devices[device];
    if (had && had.key === key) return "same";
    if (had && !args.values.replace) return `has:${keyFingerprint(had.key)}`;
    d.devices[device] = { key, added: new Date().toISOString() };
    d.pending = d.pending.filter((e) => e.key !== key);
    return had ? `replaced:${keyFingerprint(had.key)}` : "added";
  });
  if (outcome.startsWith("has:")) {
    throw new UsageError(`${device} already has key ${outcome.slice(4)} in ${file}; add --replace to replace it with ${fingerprint}`);
  }
  const what = outcome === "same" ? "already had" : outcome === "added" ? "added" : `replaced ${outcome.slice(9)} with`;
  process.stderr.write(`espdht keys: ${device}: ${what} key ${fingerprint} in ${file}\n`);
  return 0;
}

async function rotate(argv: string[]): Promise<number> {
  const args = parseCommandArgs(rotateSpec, argv, true);
  if (!args) return 0;
  const device = deviceArg(args.positionals, rotateSpec.usage);
  const timeoutS = numberOption(args.values, "timeout", 1, 3600)!;
  const host = resolveHostOptions(args.values);
  const file = host.keyring.file!;
  const current = host.keyring.keyOf(device);
  if (!current) throw new UsageError(`${device} has no key in ${file}: add it first ('espdht keys add ${device}') or re-flash the board`);
  const oldFingerprint = keyFingerprint(current.toString("hex"));
  const log = (m: string) => process.stderr.write(`espdht keys: ${m}\n`);
  const client = await connectBroker(host.broker, { clientId: throwawayClientId("keys"), clean: true });
  client.on("error", (e) => log(`broker error: ${e.message}`));
  try {
    log(`rekey -> ${device} via ${displayUrl(host.broker.url)} (${host.root}, MQTT ${protocolOf(client) === 5 ? "5" : "3.1.1"}), waiting up to ${timeoutS} s`);
    // before the rekey: its retained info is still signed with the key the keyring holds
    const targets = (await verifiedLinksOf(client, host.root, device, new DeviceTrust(host.keyring), 2000))?.to ?? [];
    const out = await rotateKey({ client, root: host.root, deviceId: device, currentKey: current, timeoutMs: timeoutS * 1000, expiresS: COMMAND_EXPIRY_S });
    if (!out.ok && out.why === "timeout") {
      log(`no answer from ${device} within ${timeoutS} s: the keyring is unchanged (${device} keeps key ${oldFingerprint} there). Is the board online under ${host.root}? If it did take the new key and its answer was lost, its messages will stop verifying: re-flash it.`);
      return 3;
    }
    if (!out.ok) {
      log(`${device} refused the new key: ${out.error}; the keyring is unchanged`);
      return 1;
    }
    updateKeyringFile(file, (d) => { d.devices[device] = { key: out.newKeyHex, added: new Date().toISOString() }; });
    log(`${device} took key ${out.fingerprint} (was ${oldFingerprint}); ${file} updated`);
    return (await relink(client, host.root, device, targets, openKeyring(args.values), timeoutS, log)) ? 0 : 1;
  } finally {
    await client.endAsync();
  }
}

/** Gives each device `device` sends to the link key of its new key; false when one of them did not take it. */
async function relink(client: Awaited<ReturnType<typeof connectBroker>>, root: string, device: string, targets: string[], keyring: ReturnType<typeof openKeyring>, timeoutS: number, log: (m: string) => void): Promise<boolean> {
  if (!targets.length) return true;
  const trust = new DeviceTrust(keyring);
  const waiter = new ReplyWaiter();
  const onMessage = (topic: string, payload: Buffer) => {
    const m = parseDeviceMessage(root, topic, payload, trust);
    if (m.kind === "reply") waiter.offer(m.deviceId, m.reply, Date.now(), m.trust);
  };
  client.on("message", onMessage);
  let allOk = true;
  try {
    for (const to of targets) {
      if (!trust.keyOf(to)) {
        log(`${to} (linked from ${device}) has no key in ${keyring.file}: its link from ${device} stops verifying; add its key, then 'espdht link ${device} ${to}'`);
        allOk = false;
        continue;
      }
      const out = await linkDevices({ client, waiter, root, from: device, to, link: true, keys: trust, timeoutMs: timeoutS * 1000, expiresS: COMMAND_EXPIRY_S, keyringFile: keyring.file ?? "the keyring" });
      const failed = out.steps.find((s) => !s.reply || !s.reply.ok);
      if (!failed) log(`${to} now has the link key of ${device}'s new key (its readings to ${out.topic} verify again)`);
      else {
        allOk = false;
        const why = failed.reply ? `refused: ${String(failed.reply.error)}` : `no reply within ${timeoutS} s`;
        log(`re-linking ${device} -> ${to}: ${failed.device} ${why}; run 'espdht link ${device} ${to}' once it is online`);
      }
    }
  } finally {
    client.removeListener("message", onMessage);
  }
  return allOk;
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = { list, add, rotate };

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === "--help" || sub === "-h") {
    process.stdout.write(helpText(overview));
    return sub ? 0 : 2;
  }
  const handler = SUBCOMMANDS[sub];
  if (!handler) throw new UsageError(`unknown subcommand '${sub}' (expected list, add or rotate); run 'espdht keys --help'`);
  return handler(rest);
}
