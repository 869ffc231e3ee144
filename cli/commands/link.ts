// `espdht link A B` / `espdht unlink A B`: device A sends each reading also to R/A/to/B, which only B accepts
// (docs/trust.md "Device-to-device links"). Two signed commands, one to each device; exit 0/1/3 as `send`.
import { COMMAND_EXPIRY_S } from "../../firmware/contract";
import { ReplyWaiter } from "../../host/commands/replyWaiter";
import { throwawayClientId } from "../../host/ingest/dashboardClientId";
import { parseDeviceMessage } from "../../host/ingest/parseMessage";
import { connectBroker, displayUrl } from "../../host/mqtt/connectBroker";
import { DeviceTrust } from "../../host/trust/deviceTrust";
import { checkLinkIds, LinkError, linkDevices, LinkOutcome } from "../../host/trust/peerLink";
import { CommandSpec, numberOption, parseCommandArgs, UsageError } from "../args";
import { HOST_OPTIONS, resolveHostOptions } from "../hostOptions";

const OPTIONS = {
  ...HOST_OPTIONS,
  timeout: { type: "string", value: "SECONDS", help: "how long to wait for each device's reply", default: "10" },
  expires: { type: "string", value: "SECONDS", help: "a device refuses a command once this long has passed since sending", default: String(COMMAND_EXPIRY_S) },
  json: { type: "boolean", help: "print {link: {from, to}, topic, ok, steps: [{device, role, reply, trust}]} on stdout" },
} as const;

const linkSpec: CommandSpec = {
  name: "link",
  usage: "link A B [options]",
  summary: `Link device A to device B: A then publishes each reading also to <root>/A/to/B (QoS 1), signed with the link key
HMAC-SHA256(A's key, "link|A|B"); B subscribes to <root>/+/to/B, keeps A's last reading with its age (for a
thermostat rule on B) and ignores and counts (info.linkForged) anything not signed with that key. B gets the link
key hidden under its own key inside a signed command: the key never crosses the broker in clear and B never holds
A's key. B is told first, then A. Both devices need their key in the keyring, and must be online (or get the
commands from their persistent session within --expires). Links survive restarts and show in info and on the
dashboard; 'espdht keys rotate A' renews them itself; after a re-flash of A, link again. Each device takes at most 4 links each way.
Exit code: 0 both accepted, 1 a device refused (the other side is left as it was), 3 no reply in time.`,
  options: OPTIONS,
  epilog: "Examples:\n  espdht link sim-1a2b3c sim-4d5e6f\n  espdht link esp32-a1b2c3d4e5f6 esp32-0a0b0c0d0e0f --json",
};

const unlinkSpec: CommandSpec = {
  name: "unlink",
  usage: "unlink A B [options]",
  summary: `Undo 'espdht link A B': A stops sending its readings to <root>/A/to/B (told first), then B forgets A's link key
and last reading. With --force, B is told even when A does not answer (a dead or re-flashed A would otherwise hold one
of B's 4 link slots for ever). Exit code: 0 both done (with --force: B done), 1 a device refused, 3 no reply in time.`,
  options: {
    ...OPTIONS,
    force: { type: "boolean", help: "tell B even when A gives no reply, refuses or has no key left (A, if it returns, still sends to <root>/A/to/B, which B then ignores and counts as forged)" },
  },
  epilog: "Examples:\n  espdht unlink sim-1a2b3c sim-4d5e6f\n  espdht unlink esp32-a1b2c3d4e5f6 esp32-0a0b0c0d0e0f --force   # A is dead: free B's slot",
};

export function run(argv: string[]): Promise<number> {
  return runLink(true, argv);
}

export async function runLink(link: boolean, argv: string[]): Promise<number> {
  const spec = link ? linkSpec : unlinkSpec;
  const args = parseCommandArgs(spec, argv, true);
  if (!args) return 0;
  const [a, b, ...extra] = args.positionals;
  let ids: { from: string; to: string };
  try {
    ids = checkLinkIds(a, b, extra);
  } catch (e) {
    if (e instanceof LinkError) throw new UsageError(`${e.message} (usage: espdht ${spec.usage})`);
    throw e;
  }
  const timeoutS = numberOption(args.values, "timeout", 0.1, 3600)!;
  const expiresS = numberOption(args.values, "expires", 1, 7 * 86400, true)!;
  const host = resolveHostOptions(args.values);
  const log = (m: string) => process.stderr.write(`espdht ${spec.name}: ${m}\n`);
  const trust = new DeviceTrust(host.keyring, { onError: log });
  const keyringFile = host.keyring.file ?? "the keyring";
  // both keys before touching the network
  const force = !link && !!args.values.force;
  for (const id of [ids.from, ids.to]) {
    if (!trust.keyOf(id) && !(force && id === ids.from)) throw new UsageError(`${id} has no key in ${keyringFile}: links are signed, so both devices need their key there ('espdht keys list' shows the keyring)`);
  }
  // a command sender like `send` (the broker ACL knows that client id prefix)
  const client = await connectBroker(host.broker, { clientId: throwawayClientId("send"), clean: true });
  client.on("error", (e) => log(`broker error: ${e.message}`));
  const waiter = new ReplyWaiter();
  client.on("message", (topic, payload) => {
    const m = parseDeviceMessage(host.root, topic, payload, trust);
    if (m.kind === "reply") waiter.offer(m.deviceId, m.reply, Date.now(), m.trust);
    else if (m.kind === "rejected" && m.deviceId && topic.endsWith("/reply")) log(`ignored a reply from ${m.deviceId}: ${m.reason}`);
  });
  let interrupted = false;
  const stop = () => {
    interrupted = true;
    waiter.cancelAll();
  };
  process.once("SIGINT", stop);
  try {
    log(`${ids.from} -> ${ids.to} via ${displayUrl(host.broker.url)} (${host.root}), waiting up to ${timeoutS} s for each reply`);
    const out: LinkOutcome = await linkDevices({ client, waiter, root: host.root, ...ids, link, keys: trust, timeoutMs: timeoutS * 1000, expiresS, keyringFile, force });
    if (interrupted) {
      log("interrupted");
      return 130;
    }
    if (args.values.json) process.stdout.write(JSON.stringify({ link: ids, topic: out.topic, ok: out.ok, steps: out.steps, ...(force ? { senderSkipped: !!out.senderSkipped } : {}) }) + "\n");
    else {
      for (const s of out.steps) {
        const state = !s.reply ? (s.role.includes("(not sent") ? "skipped" : `no reply within ${timeoutS} s`) : s.reply.ok ? `ok (${s.trust}), its links now ${JSON.stringify(s.reply.links)}` : `FAILED: ${String(s.reply.error)}`;
        process.stdout.write(`${s.device} ${s.role}: ${state}\n`);
      }
      if (out.ok) process.stdout.write(link ? `linked: ${ids.from}'s readings now also go to ${out.topic}, accepted by ${ids.to} only\n` : `unlinked: ${ids.from} no longer sends to ${out.topic}\n`);
    }
    if (out.ok && out.senderSkipped) log(`--force: ${ids.from} was not changed (see above) but ${ids.to} no longer accepts its readings and its link slot is free; if ${ids.from} comes back it still sends to ${out.topic}: run 'espdht unlink ${ids.from} ${ids.to}' then`);
    if (out.ok) return 0;
    const last = out.steps[out.steps.length - 1];
    if (!last.reply) log(`no reply from ${last.device} within ${timeoutS} s: is it online under ${host.root}? (the command waits in its session and is carried out if it returns within --expires)`);
    if (!force && !link && out.steps.length === 1 && !last.reply) log(`${ids.to} was not told: to remove ${ids.from} from ${ids.to} anyway (${ids.from} is gone for good), add --force`);
    if (out.steps.length === 2 && !out.senderSkipped) log(`${out.steps[0].device} was changed, ${last.device} was not: run the command again once ${last.device} is online`);
    return last.reply ? 1 : 3;
  } finally {
    process.removeListener("SIGINT", stop);
    await client.endAsync();
  }
}
