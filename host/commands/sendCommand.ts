// Builds, validates and publishes one command to R/D/cmd (or R/all/cmd) and waits for the reply.
import type { MqttClient } from "mqtt";
import {
  buildCommand,
  Capability,
  Command,
  deviceTopic,
  GROUP_SEGMENT,
  groupCommandTopic,
  isValidDeviceId,
  validateCommand,
} from "../../firmware/contract";
import { DeviceReply, newCommandId, ReplyWaiter } from "./replyWaiter";

export interface CommandRequest {
  /** device id, or "all" for every device */
  target: string;
  op: string;
  /** settings for `set` */
  set?: Record<string, unknown>;
}

export interface CommandResult {
  id: string;
  target: string;
  command: Command;
  replies: DeviceReply[];
  timedOut: boolean;
}

export class CommandError extends Error {}

/** Validates a request against the contract; throws CommandError naming what is wrong. */
export function buildValidCommand(req: CommandRequest, id = newCommandId()): Command {
  if (req.target !== GROUP_SEGMENT && !isValidDeviceId(req.target)) {
    throw new CommandError(`'${req.target}' is not a device id (letters, digits, - and _, up to 64) nor '${GROUP_SEGMENT}'`);
  }
  const keys = Object.keys(req.set ?? {});
  if (req.op !== "set" && keys.length) throw new CommandError(`'${req.op}' takes no settings (got ${keys.join(", ")}); did you mean 'set'?`);
  const wire = { ...(req.set ?? {}), id, op: req.op };
  const v = validateCommand(wire);
  if (!v.ok) throw new CommandError(v.error);
  return v.value;
}

/** Parses `key=value` words into settings (numbers only, as every setting is numeric). */
export function parseSettingArgs(words: string[]): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq <= 0) throw new CommandError(`'${w}' is not key=value`);
    const key = w.slice(0, eq);
    const raw = w.slice(eq + 1);
    const n = Number(raw);
    set[key] = raw.trim() !== "" && Number.isFinite(n) ? n : raw;
  }
  return set;
}

export function commandTopic(root: string, target: string): string {
  return target === GROUP_SEGMENT ? groupCommandTopic(root) : deviceTopic(root, target, "cmd");
}

/**
 * Publishes the command at QoS 1 and waits up to `timeoutMs` for the reply (for `all`: every reply until
 * the timeout). The caller feeds replies into `waiter` from its R/+/reply subscription.
 */
export async function sendCommand(
  client: MqttClient,
  waiter: ReplyWaiter,
  root: string,
  req: CommandRequest,
  timeoutMs: number,
): Promise<CommandResult> {
  const command = buildValidCommand(req);
  const all = req.target === GROUP_SEGMENT;
  const waiting = waiter.expect(command.id, timeoutMs, all);
  const payload = JSON.stringify(buildCommand(command.id, command.op as Capability, command.set));
  await client.publishAsync(commandTopic(root, req.target), payload, { qos: 1 });
  const { replies, timedOut } = await waiting;
  return { id: command.id, target: req.target, command, replies, timedOut: all ? replies.length === 0 : timedOut };
}
