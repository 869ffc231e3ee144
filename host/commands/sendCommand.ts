// Builds, validates, signs and publishes a command to R/D/cmd (or one copy per device on R/all/cmd, or per member
// on R/group/<name>/cmd) and waits for the replies (docs/trust.md "Signed commands").
import type { MqttClient } from "mqtt";
import {
  buildCommand,
  Capability,
  checkGroups,
  Command,
  COMMAND_EXPIRY_S,
  COMMAND_OPS,
  deviceTopic,
  GROUP_SEGMENT,
  groupCommandTopic,
  isValidDeviceId,
  namedGroupTopic,
  parseRule,
  validateCommand,
} from "../../firmware/contract";
import { DeviceConfigError, groupNameProblem, parseGroupList } from "../../provisioning/deviceConfig";
import { signObject } from "../trust/signature";
import { DeviceReply, newCommandId, ReplyWaiter } from "./replyWaiter";

export interface CommandRequest {
  /** device id, "all" for every device, or "group:<name>" for the members of a named group */
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
  /** for `all` and groups: the devices a copy went to that did not answer */
  missing: string[];
}

export class CommandError extends Error {}

/** Where device keys come from (the keyring, through DeviceTrust). */
export interface CommandKeys {
  keyOf(deviceId: string): Buffer | null;
}

/** `n`: the host clock in ms, bumped by one when it would repeat, so no device sees the same n twice from us. */
export class CommandCounter {
  private last = 0;
  constructor(private readonly now: () => number = Date.now) {}
  next(): number {
    const t = Math.floor(this.now());
    this.last = t > this.last ? t : this.last + 1;
    return this.last;
  }
}

export interface CommandSigning {
  keys: CommandKeys | null;
  counter: CommandCounter;
  /** a command expires this many seconds after it is sent */
  expiresS?: number;
  now?: () => number;
}

/** Signs nothing: for callers without a keyring (every device is treated as one without a key). */
export function unsignedCommands(): CommandSigning {
  return { keys: null, counter: new CommandCounter() };
}

/** The ops a user sends by name (rekey is made by `keys rotate`, link and unlink by `link` and `unlink`). */
export const USER_OPS = COMMAND_OPS.filter((op) => op !== "rekey" && op !== "link" && op !== "unlink");

/** Why `id` cannot be a device id, said in full (the broadcast level 'all' meets the character rule but is reserved), or null. */
export function deviceIdProblem(id: string): string | null {
  if (isValidDeviceId(id)) return null;
  if (id === GROUP_SEGMENT) return `'${GROUP_SEGMENT}' is reserved, not a device id: it is the broadcast to every device (<root>/${GROUP_SEGMENT}/cmd)`;
  return `'${id}' is not a device id (letters, digits, - and _, up to 64)`;
}

/** The prefix of a named group target: `group:kitchen`. */
export const GROUP_TARGET_PREFIX = "group:";

/** The group's name when `target` is `group:<name>`, else null; throws CommandError for a bad name. */
export function groupOfTarget(target: string): string | null {
  if (!target.startsWith(GROUP_TARGET_PREFIX)) return null;
  const name = target.slice(GROUP_TARGET_PREFIX.length);
  if (checkGroups([name])) throw new CommandError(`'${target}': ${groupNameProblem(name)}`);
  return name;
}

/** The peer a `set rule=QUANTITY@ID...` follows (null: none or not a rule); the rule is checked elsewhere. */
export function ruleSourceOf(set: Record<string, unknown> | undefined): string | null {
  const rule = parseRule(set?.rule);
  return rule && typeof rule === "object" && rule.src ? rule.src : null;
}

/** The warning when `device`'s verified info shows it does not accept `source`'s readings yet (its rule would stay in failsafe), else null. */
export function unlinkedRuleSourceWarning(device: string, source: string, links: { from: string[] } | undefined): string | null {
  if (links?.from.includes(source)) return null;
  return `${device} does not accept readings from ${source} yet (its info lists links from: ${links?.from.length ? links.from.join(", ") : "none"}), so the rule's output stays in failsafe: run 'espdht link ${source} ${device}'`;
}

/** Validates a request against the contract; throws CommandError naming what is wrong. */
export function buildValidCommand(req: CommandRequest, id = newCommandId()): Command {
  if (req.target !== GROUP_SEGMENT && !isValidDeviceId(req.target) && groupOfTarget(req.target) === null) {
    throw new CommandError(`'${req.target}' is not a device id (letters, digits, - and _, up to 64) nor '${GROUP_SEGMENT}' nor '${GROUP_TARGET_PREFIX}<name>'`);
  }
  // its key field must be made from the current key: only keys rotate does that
  if (req.op === "rekey") throw new CommandError("rekey carries a new key hidden under the current one: use 'espdht keys rotate DEVICE'");
  // the receiving side needs the link key hidden under its own key, and both sides must change together
  if (req.op === "link" || req.op === "unlink") throw new CommandError(`${req.op} changes two devices: use 'espdht ${req.op} A B'`);
  if (!(COMMAND_OPS as readonly string[]).includes(req.op)) throw new CommandError(`'${req.op}' is not an op: send takes ${USER_OPS.join("|")} (a key change goes through 'espdht keys rotate', links through 'espdht link' and 'espdht unlink')`);
  const keys = Object.keys(req.set ?? {});
  if (req.op !== "set" && keys.length) throw new CommandError(`'${req.op}' takes no settings (got ${keys.join(", ")}); did you mean 'set'?`);
  const wire = { ...(req.set ?? {}), id, op: req.op };
  const v = validateCommand(wire);
  if (!v.ok) throw new CommandError(v.error);
  return v.value;
}

function groupListSetting(raw: string): string[] {
  try {
    return parseGroupList(raw);
  } catch (e) {
    if (e instanceof DeviceConfigError) throw new CommandError(e.message);
    throw e;
  }
}

/** Parses `key=value` words into settings: numbers, and `groups` as a comma-separated list. */
export function parseSettingArgs(words: string[]): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq <= 0) throw new CommandError(`'${w}' is not key=value`);
    const key = w.slice(0, eq);
    const raw = w.slice(eq + 1);
    const n = Number(raw);
    // groups=kitchen,floor1 (groups= leaves every group)
    set[key] = key === "groups" ? groupListSetting(raw) : raw.trim() !== "" && Number.isFinite(n) ? n : raw;
  }
  return set;
}

export function commandTopic(root: string, target: string): string {
  const group = groupOfTarget(target);
  return target === GROUP_SEGMENT ? groupCommandTopic(root) : group !== null ? namedGroupTopic(root, group) : deviceTopic(root, target, "cmd");
}

/** True for targets whose topic every addressed device shares (`all`, `group:<name>`): one signed copy per device. */
export function isSharedTarget(target: string): boolean {
  return target === GROUP_SEGMENT || target.startsWith(GROUP_TARGET_PREFIX);
}

/**
 * The payload of one command copy for device `to` on `topic`: with the device's key, `{...fields, to, n, exp}`
 * signed; without, the fields alone (plus `to` when the topic is shared by every device).
 */
export function commandPayload(fields: Record<string, unknown>, to: string, topic: string, shared: boolean, signing: CommandSigning): { payload: string; signed: boolean } {
  const key = signing.keys ? signing.keys.keyOf(to) : null;
  if (!key) return { payload: JSON.stringify(shared ? { ...fields, to } : fields), signed: false };
  const now = (signing.now ?? Date.now)();
  const exp = Math.floor(now / 1000) + (signing.expiresS ?? COMMAND_EXPIRY_S);
  return { payload: signObject(key, topic, { ...fields, to, n: signing.counter.next(), exp }), signed: true };
}

export interface SendOptions {
  signing?: CommandSigning;
  /** for `all` and groups: the devices to address (one copy each); required, as no single signature serves them all */
  devices?: string[];
}

/**
 * Publishes the command at QoS 1 and waits up to `timeoutMs` for the reply (for `all` and groups: the replies of
 * every addressed device, until all answered or the timeout). The caller feeds replies into `waiter`.
 */
export async function sendCommand(
  client: MqttClient,
  waiter: ReplyWaiter,
  root: string,
  req: CommandRequest,
  timeoutMs: number,
  opts: SendOptions = {},
): Promise<CommandResult> {
  const command = buildValidCommand(req);
  const signing = opts.signing ?? unsignedCommands();
  const fields = buildCommand(command.id, command.op as Capability, command.set);
  const topic = commandTopic(root, req.target);
  if (!isSharedTarget(req.target)) {
    const waiting = waiter.expect(command.id, timeoutMs);
    await client.publishAsync(topic, commandPayload(fields, req.target, topic, false, signing).payload, { qos: 1 });
    const { replies, timedOut } = await waiting;
    return { id: command.id, target: req.target, command, replies, timedOut, missing: timedOut ? [req.target] : [] };
  }
  const devices = [...new Set(opts.devices ?? [])].sort();
  if (devices.length === 0) return { id: command.id, target: req.target, command, replies: [], timedOut: true, missing: [] };
  const waiting = waiter.expect(command.id, timeoutMs, true, devices);
  for (const d of devices) await client.publishAsync(topic, commandPayload(fields, d, topic, true, signing).payload, { qos: 1 });
  const { replies } = await waiting;
  const answered = new Set(replies.map((r) => r.device));
  return { id: command.id, target: req.target, command, replies, timedOut: replies.length === 0, missing: devices.filter((d) => !answered.has(d)) };
}
