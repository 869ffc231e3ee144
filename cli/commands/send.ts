// `espdht send <device|all> <op> [key=value ...]`: one command, wait for the reply, exit 0/1/3.
import { COMMAND_OPS, deviceTopic, everyDeviceFilter, GROUP_SEGMENT } from "../../firmware/contract";
import { CommandError, parseSettingArgs, sendCommand, buildValidCommand } from "../../host/commands/sendCommand";
import { ReplyWaiter } from "../../host/commands/replyWaiter";
import { parseDeviceMessage } from "../../host/ingest/parseMessage";
import { throwawayClientId } from "../../host/ingest/dashboardClientId";
import { connectBroker, displayUrl } from "../../host/mqtt/connectBroker";
import { CommandSpec, numberOption, parseCommandArgs, UsageError } from "../args";
import { HOST_OPTIONS, resolveHostOptions } from "../hostOptions";

const spec: CommandSpec = {
  name: "send",
  usage: "send <device|all> <op> [key=value ...] [options]",
  summary: `Send one command to a device (or to every device with 'all') and wait for the reply. Ops: ${COMMAND_OPS.join(", ")}.\nExit code: 0 ok, 1 the device answered ok:false, 3 no reply before the timeout.`,
  options: {
    ...HOST_OPTIONS,
    timeout: { type: "string", value: "SECONDS", help: "how long to wait for the reply (for 'all': to collect replies)", default: "10" },
    json: { type: "boolean", help: "print the reply (or the list of replies for 'all') as JSON on stdout" },
  },
  epilog: "Examples:\n  espdht send sim-1a2b3c read\n  espdht send sim-1a2b3c set interval=30\n  espdht send all ping --timeout 5",
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv, true);
  if (!args) return 0;
  const [target, op, ...rest] = args.positionals;
  if (!target || !op) throw new UsageError("needs a device id (or 'all') and an op, e.g. 'espdht send sim-1a2b3c read'");
  const timeoutS = numberOption(args.values, "timeout", 0.1, 3600)!;
  let set: Record<string, unknown> | undefined;
  try {
    set = rest.length ? parseSettingArgs(rest) : undefined;
    buildValidCommand({ target, op, set }); // fail on a bad command before touching the network
  } catch (e) {
    if (e instanceof CommandError) throw new UsageError(e.message);
    throw e;
  }
  const host = resolveHostOptions(args.values);
  const client = await connectBroker(host.broker, { clientId: throwawayClientId("send"), clean: true });
  client.on("error", (e) => process.stderr.write(`espdht send: broker error: ${e.message}\n`));
  const waiter = new ReplyWaiter();
  client.on("message", (topic, payload) => {
    const m = parseDeviceMessage(host.root, topic, payload);
    if (m.kind === "reply") waiter.offer(m.deviceId, m.reply);
  });
  let interrupted = false;
  const stop = () => {
    interrupted = true;
    waiter.cancelAll();
  };
  process.once("SIGINT", stop);
  try {
    const replyFilter = target === GROUP_SEGMENT ? everyDeviceFilter(host.root, "reply") : deviceTopic(host.root, target, "reply");
    await client.subscribeAsync(replyFilter, { qos: 1 });
    process.stderr.write(`espdht send: ${op} -> ${target} via ${displayUrl(host.broker.url)} (${host.root}), waiting up to ${timeoutS} s\n`);
    const res = await sendCommand(client, waiter, host.root, { target, op, set }, timeoutS * 1000);
    if (interrupted) {
      process.stderr.write("espdht send: interrupted\n");
      return 130;
    }
    if (target === GROUP_SEGMENT) {
      const replies = res.replies.map((r) => ({ device: r.device, ...r.reply }));
      if (args.values.json) process.stdout.write(JSON.stringify(replies) + "\n");
      else for (const r of replies) process.stdout.write(`${r.device}: ${JSON.stringify(r)}\n`);
      process.stderr.write(`espdht send: ${replies.length} device(s) answered\n`);
      if (replies.length === 0) return 3;
      return replies.every((r) => r.ok) ? 0 : 1;
    }
    if (res.timedOut) {
      process.stderr.write(`espdht send: no reply from ${target} within ${timeoutS} s (is it online and under ${host.root}?)\n`);
      return 3;
    }
    const reply = res.replies[0].reply;
    if (args.values.json) process.stdout.write(JSON.stringify(reply) + "\n");
    else process.stdout.write(`${target}: ${reply.ok ? "ok" : "FAILED: " + String(reply.error)} ${JSON.stringify(reply)}\n`);
    return reply.ok ? 0 : 1;
  } finally {
    process.removeListener("SIGINT", stop);
    await client.endAsync();
  }
}
