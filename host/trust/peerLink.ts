// Device-to-device links from the host's side (docs/trust.md "Device-to-device links"): the link key of A -> B is
// HMAC(A's key, "link|A|B"), which A derives itself; B receives it hidden under its own key (XOR
// HMAC(B's key, "peer|" + nonce)) inside a command signed with B's key, so it never crosses the broker in clear and
// B never holds A's key. `linkDevices` sends the two signed commands in a safe order and waits for both replies.
import { randomBytes } from "node:crypto";
import type { MqttClient } from "mqtt";
import { deviceTopic, linkKey, linkKeystream, linkTopic, Reply, toHex, xorBytes } from "../../firmware/contract";
import { CommandCounter, commandPayload, CommandSigning, deviceIdProblem } from "../commands/sendCommand";
import { DeviceReply, newCommandId, ReplyWaiter } from "../commands/replyWaiter";
import { nodeSha256 } from "./signature";

export class LinkError extends Error {}

/** The link key of `from` -> `to`, as both ends hold it. */
export function linkKeyOf(fromKey: Uint8Array, from: string, to: string): Buffer {
  return Buffer.from(linkKey(nodeSha256, fromKey, from, to));
}

/** The receiver's `link` command fields: the link key XOR HMAC(receiver's key, "peer|" + nonce). */
export function acceptLinkFields(id: string, from: string, to: string, fromKey: Uint8Array, toKey: Uint8Array, nonceHex = randomBytes(16).toString("hex")): Record<string, unknown> {
  return { id, op: "link", source: from, nonce: nonceHex, key: toHex(xorBytes(linkKeyOf(fromKey, from, to), linkKeystream(nodeSha256, toKey, nonceHex))) };
}

/** Checks the two ids of `espdht link A B`; throws LinkError naming what is wrong. */
export function checkLinkIds(from: string | undefined, to: string | undefined, extra: string[] = []): { from: string; to: string } {
  if (!from || !to) throw new LinkError("needs two device ids: the sender A and the receiver B");
  for (const id of [from, to]) {
    const problem = deviceIdProblem(id);
    if (problem) throw new LinkError(problem);
  }
  if (from === to) throw new LinkError(`a device cannot be linked to itself ('${from}' twice)`);
  if (extra.length) throw new LinkError(`unexpected argument${extra.length > 1 ? "s" : ""} after ${to}: ${extra.join(" ")}`);
  return { from, to };
}

export interface LinkRequest {
  client: MqttClient;
  waiter: ReplyWaiter;
  root: string;
  from: string;
  to: string;
  /** true: link, false: unlink */
  link: boolean;
  keys: { keyOf(id: string): Buffer | null };
  timeoutMs: number;
  expiresS?: number;
  /** where the keys are, for the error when one is missing */
  keyringFile: string;
  /** unlink only: tell B even when A does not answer or refuses (a dead A must not hold one of B's link slots); A's key may then be missing */
  force?: boolean;
}

export interface LinkStep {
  device: string;
  /** what the command asks of this device, in words */
  role: string;
  reply: Reply | null;
  trust: DeviceReply["trust"] | null;
}

export interface LinkOutcome {
  /** every step succeeded; with `force`, the receiver's step did */
  ok: boolean;
  /** with `force`: the sender gave no reply or refused and the receiver was told anyway */
  senderSkipped?: boolean;
  /** the steps sent, in order; a step without a reply (or refused) ends the run */
  steps: LinkStep[];
  topic: string;
}

/**
 * Sends the signed commands of `link A B` (B first: it must accept A's messages before A sends them) or of
 * `unlink A B` (A first: it stops sending before B stops accepting), each waiting for its reply.
 */
export async function linkDevices(req: LinkRequest): Promise<LinkOutcome> {
  const { from, to } = req;
  const force = !!req.force && !req.link;
  if (req.force && req.link) throw new LinkError("force is for unlink only: a link needs both devices to take it");
  const fromKey = req.keys.keyOf(from);
  const toKey = req.keys.keyOf(to);
  for (const [id, key] of [[from, fromKey], [to, toKey]] as const) {
    // a forced unlink can skip A (no command without its key), never B
    if (!key && !(force && id === from)) throw new LinkError(`${id} has no key in ${req.keyringFile}: links are signed, so both devices need their key there ('espdht keys add ${id}', or flash it with espdht)`);
  }
  const signing: CommandSigning = { keys: req.keys, counter: new CommandCounter(), expiresS: req.expiresS };
  const sender = (id: string) => ({ device: from, role: req.link ? `sends its readings to ${to}` : `stops sending to ${to}`, fields: { id, op: req.link ? "link" : "unlink", target: to } });
  const receiver = (id: string) => ({
    device: to,
    role: req.link ? `accepts readings from ${from}` : `stops accepting readings from ${from}`,
    fields: req.link ? acceptLinkFields(id, from, to, fromKey!, toKey!) : { id, op: "unlink", source: from },
  });
  const order = req.link ? [receiver, sender] : [sender, receiver];
  await req.client.subscribeAsync([deviceTopic(req.root, from, "reply"), deviceTopic(req.root, to, "reply")], { qos: 1 });
  const steps: LinkStep[] = [];
  let senderSkipped = false;
  for (const make of order) {
    const step = make(newCommandId());
    if (force && step.device === from && !fromKey) {
      steps.push({ device: from, role: `${step.role} (not sent: it has no key in ${req.keyringFile})`, reply: null, trust: null });
      senderSkipped = true;
      continue;
    }
    const topic = deviceTopic(req.root, step.device, "cmd");
    const waiting = req.waiter.expect(step.fields.id as string, req.timeoutMs);
    await req.client.publishAsync(topic, commandPayload(step.fields, step.device, topic, false, signing).payload, { qos: 1 });
    const { replies } = await waiting;
    const r = replies[0];
    steps.push({ device: step.device, role: step.role, reply: r ? r.reply : null, trust: r ? r.trust : null });
    if (!r || !r.reply.ok) {
      if (force && step.device === from) {
        senderSkipped = true;
        continue;
      }
      return { ok: false, steps, topic: linkTopic(req.root, from, to), ...(force ? { senderSkipped } : {}) };
    }
  }
  return { ok: true, steps, topic: linkTopic(req.root, from, to), ...(force ? { senderSkipped } : {}) };
}
