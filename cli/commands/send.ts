// `espdht send <device|all|group:NAME> <op> [key=value ...]`: one signed command, wait for the reply, exit 0/1/3.
import { COMMAND_EXPIRY_S, deviceTopic, everyDeviceFilter, GROUP_SEGMENT } from "../../firmware/contract";
import { CommandCounter, CommandError, groupOfTarget, parseSettingArgs, ruleSourceOf, sendCommand, buildValidCommand, unlinkedRuleSourceWarning, USER_OPS } from "../../host/commands/sendCommand";
import { ReplyWaiter } from "../../host/commands/replyWaiter";
import { verifiedLinksOf } from "../../host/commands/verifiedLinks";
import { parseDeviceMessage } from "../../host/ingest/parseMessage";
import { throwawayClientId } from "../../host/ingest/dashboardClientId";
import { connectBroker, displayUrl, protocolOf } from "../../host/mqtt/connectBroker";
import { DeviceTrust } from "../../host/trust/deviceTrust";
import { CommandSpec, numberOption, parseCommandArgs, UsageError } from "../args";
import { HOST_OPTIONS, resolveHostOptions } from "../hostOptions";

const spec: CommandSpec = {
  name: "send",
  usage: "send <device|all|group:NAME> <op> [key=value ...] [options]",
  summary: `Send one command to a device (or to every known device with 'all', or to the members of a named group with
'group:NAME') and wait for the reply. Ops: ${USER_OPS.join(", ")} (the device's other ops, rekey and link/unlink,
go through 'espdht keys rotate' and 'espdht link' / 'espdht unlink', which send them with the keys they need).
Each command is signed with the target's key from the keyring (with 'to', a counter 'n' and an expiry 'exp'); a
device without a key there gets it unsigned. 'all' sends one copy per known device (keyring devices and devices
that published their info) on the shared topic, each signed with that device's key, and says which did not answer.
'group:NAME' does the same for the group's known members, the devices whose retained info lists NAME in its groups,
on R/group/NAME/cmd. A device's groups are set with 'set groups=kitchen,floor1' (at most 4; 'groups=' leaves all).
'set rule=QUANTITY@ID...' warns when the device's verified info shows it does not accept ID's readings yet.
Exit code: 0 ok, 1 a device answered ok:false, 2 bad input (arguments, options, config), 3 no reply (from some device, for 'all') before the timeout,
4 the broker refused the command or the reply subscription (its ACL; MQTT 5 says so, a 3.1.1 broker drops it silently).`,
  options: {
    ...HOST_OPTIONS,
    timeout: { type: "string", value: "SECONDS", help: "how long to wait for the reply (for 'all': for every reply)", default: "10" },
    expires: { type: "string", value: "SECONDS", help: "a device refuses the command once this long has passed since sending", default: String(COMMAND_EXPIRY_S) },
    json: { type: "boolean", help: "print the reply (or the list of replies for 'all'; one object per line, each with its 'device', for a group) as JSON on stdout, with 'trust': verified|unsigned" },
  },
  epilog: "Examples:\n  espdht send sim-1a2b3c read\n  espdht send sim-1a2b3c set interval=30\n  espdht send all ping --timeout 5\n  espdht send sim-1a2b3c set groups=kitchen,floor1\n  espdht send group:kitchen read --json\n  espdht send sim-1a2b3c set 'rule=temperature>24<23:pin=5'   a thermostat on GPIO 5 (README \"Thermostat\"); 'rule=' removes it",
};

/** How long `all` and groups wait for the retained infos that name the devices: until this quiet, at most INFO_WAIT_MS. */
const INFO_QUIET_MS = 300;
const INFO_WAIT_MS = 2000;

/** A rule following `source` on `device`: its verified info says whether the link is there yet (a warning, not a refusal: the link may come later). */
async function warnUnlinkedSource(client: Awaited<ReturnType<typeof connectBroker>>, root: string, device: string, source: string, trust: DeviceTrust, log: (m: string) => void): Promise<void> {
  // an unverified info could be anyone's: it proves nothing about the device's links
  const links = await verifiedLinksOf(client, root, device, trust, INFO_WAIT_MS);
  const warning = links ? unlinkedRuleSourceWarning(device, source, links) : null;
  if (warning) log(`warning: ${warning}`);
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv, true);
  if (!args) return 0;
  const [target, op, ...rest] = args.positionals;
  if (!target || !op) throw new UsageError("needs a device id (or 'all', or 'group:NAME') and an op, e.g. 'espdht send sim-1a2b3c read'");
  const timeoutS = numberOption(args.values, "timeout", 0.1, 3600)!;
  const expiresS = numberOption(args.values, "expires", 1, 7 * 86400, true)!;
  let set: Record<string, unknown> | undefined;
  let group: string | null;
  try {
    group = groupOfTarget(target);
    set = rest.length ? parseSettingArgs(rest) : undefined;
    buildValidCommand({ target, op, set }); // fail on a bad command before touching the network
  } catch (e) {
    if (e instanceof CommandError) throw new UsageError(e.message);
    throw e;
  }
  const host = resolveHostOptions(args.values);
  const log = (m: string) => process.stderr.write(`espdht send: ${m}\n`);
  // every known device, or a group's known members: one signed copy each on the shared topic
  const all = target === GROUP_SEGMENT || group !== null;
  const trust = new DeviceTrust(host.keyring, { onError: log, onBind: (id, fp) => log(`key ${fp} from the keyring's pending keys now belongs to ${id}`) });
  const client = await connectBroker(host.broker, { clientId: throwawayClientId("send"), clean: true });
  client.on("error", (e) => log(`broker error: ${e.message}`));
  const waiter = new ReplyWaiter();
  const seen = new Set<string>();
  /** each device's groups, from its latest info */
  const groupsOf = new Map<string, string[]>();
  let lastInfoAt = Date.now();
  client.on("message", (topic, payload) => {
    const m = parseDeviceMessage(host.root, topic, payload, trust);
    if (m.kind === "reply") waiter.offer(m.deviceId, m.reply, Date.now(), m.trust);
    else if (m.kind === "info") {
      seen.add(m.deviceId);
      groupsOf.set(m.deviceId, m.info.groups ?? []);
      lastInfoAt = Date.now();
    } else if (m.kind === "rejected" && m.deviceId && topic.endsWith("/reply")) log(`ignored a reply from ${m.deviceId}: ${m.reason}`);
  });
  let interrupted = false;
  const stop = () => {
    interrupted = true;
    waiter.cancelAll();
  };
  process.once("SIGINT", stop);
  const who = host.broker.username !== null ? `user '${host.broker.username}'` : "an anonymous client";
  try {
    if (all) {
      await client.subscribeAsync([everyDeviceFilter(host.root, "reply"), everyDeviceFilter(host.root, "info")], { qos: 1 });
      const started = Date.now();
      while (Date.now() - lastInfoAt < INFO_QUIET_MS && Date.now() - started < INFO_WAIT_MS) await new Promise((r) => setTimeout(r, 50));
    } else {
      await client.subscribeAsync(deviceTopic(host.root, target, "reply"), { qos: 1 });
      if (!trust.keyOf(target)) log(`no key for ${target} in ${host.keyring.file}: the command goes unsigned (a device with a key refuses it)`);
      const source = op === "set" ? ruleSourceOf(set) : null;
      if (source) await warnUnlinkedSource(client, host.root, target, source, trust, log);
    }
    const devices =
      group !== null ? [...groupsOf].filter(([, gs]) => gs.includes(group)).map(([id]) => id).sort() : all ? [...new Set([...trust.keyedDevices(), ...seen])].sort() : [];
    if (group !== null && devices.length === 0) {
      log(`no known member of group '${group}' under ${host.root}: no retained info lists it (${groupsOf.size} device(s) published info; set a device's groups with 'espdht send DEVICE set groups=${group}')`);
      return 3;
    }
    if (all && devices.length === 0) {
      log(`no known device under ${host.root} (none in ${host.keyring.file}, no retained info)`);
      return 3;
    }
    log(`${op} -> ${group !== null ? `group ${group}: ${devices.join(", ")}` : all ? `${devices.length} device(s)` : target} via ${displayUrl(host.broker.url)} (${host.root}, MQTT ${protocolOf(client) === 5 ? "5" : "3.1.1"}), waiting up to ${timeoutS} s`);
    const signing = { keys: trust, counter: new CommandCounter(), expiresS };
    const res = await sendCommand(client, waiter, host.root, { target, op, set }, timeoutS * 1000, { signing, devices });

    if (interrupted) {
      log("interrupted");
      return 130;
    }
    if (all) {
      const replies = res.replies.map((r) => ({ device: r.device, ...r.reply, trust: r.trust }));
      if (args.values.json && group !== null) for (const r of replies) process.stdout.write(JSON.stringify(r) + "\n");
      else if (args.values.json) process.stdout.write(JSON.stringify(replies) + "\n");
      else for (const r of replies) process.stdout.write(`${r.device}: ${r.ok ? "ok" : "FAILED: " + String(r.error)} (${r.trust}) ${JSON.stringify(r)}\n`);
      const of = group !== null ? `member(s) of group ${group}` : "device(s)";
      log(`${replies.length} of ${devices.length} ${of} answered${res.missing.length ? `; no reply within ${timeoutS} s from ${res.missing.join(", ")}` : ""}`);
      if (replies.some((r) => !r.ok)) return 1;
      return res.missing.length ? 3 : 0;
    }
    if (res.timedOut) {
      const silentAcl = protocolOf(client) === 4 ? "; on MQTT 3.1.1 a broker drops a publish its ACL denies without a word: check the ACL too" : "";
      log(`no reply from ${target} within ${timeoutS} s (is it online and under ${host.root}?${silentAcl})`);
      return 3;
    }
    const { reply, trust: replyTrust } = res.replies[0];
    if (args.values.json) process.stdout.write(JSON.stringify({ ...reply, trust: replyTrust }) + "\n");
    else process.stdout.write(`${target}: ${reply.ok ? "ok" : "FAILED: " + String(reply.error)} (${replyTrust}) ${JSON.stringify(reply)}\n`);
    return reply.ok ? 0 : 1;
  } catch (e) {
    // MQTT 5: PUBACK / SUBACK reason 0x87, what Mosquitto's ACL answers; 3.1.1 SUBACK 0x80
    const code = (e as { code?: unknown }).code;
    if (code === 135 || code === 128) {
      const what = /^Subscribe/.test((e as Error).message) ? `subscribing to the replies under ${host.root}` : `publishing the command under ${host.root}`;
      log(`the broker refused ${what} (${(e as Error).message}, reason 0x${code.toString(16)}): ${who} may not do that there; check the broker's ACL (docs/mosquitto.md)`);
      return 4;
    }
    throw e;
  } finally {
    process.removeListener("SIGINT", stop);
    await client.endAsync();
  }
}
