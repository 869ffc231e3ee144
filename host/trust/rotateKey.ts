// Key rotation over MQTT (docs/trust.md "Key rotation"): a `rekey` command signed with the current key carries
// the new key XOR HMAC(current key, "rekey|" + nonce); the device answers with a reply signed by the NEW key.
// Only such a reply proves the device took the key; the caller then writes it to the keyring.
import { randomBytes } from "node:crypto";
import type { MqttClient } from "mqtt";
import { deviceTopic, KEY_BYTES, rekeyKeystream, toHex, validateReply, xorBytes } from "../../firmware/contract";
import { keyFingerprint, newKeyHex } from "../../provisioning/keyring";
import { CommandCounter, commandPayload } from "../commands/sendCommand";
import { newCommandId } from "../commands/replyWaiter";
import { checkSignature, nodeSha256 } from "./signature";

export interface RotateRequest {
  client: MqttClient;
  root: string;
  deviceId: string;
  /** the key the device and the keyring hold now */
  currentKey: Buffer;
  timeoutMs: number;
  expiresS?: number;
  counter?: CommandCounter;
  /** injectable for tests; a fresh random key by default */
  newKeyHex?: string;
}

export type RotateOutcome =
  | { ok: true; newKeyHex: string; fingerprint: string }
  /** the device answered, signed with its current key, that it did not take the key */
  | { ok: false; why: "refused"; error: string }
  | { ok: false; why: "timeout" };

/** The `rekey` command's fields: the new key hidden under the current one (never sent in clear). */
export function rekeyFields(id: string, currentKey: Uint8Array, newKey: Uint8Array, nonceHex: string): Record<string, unknown> {
  return { id, op: "rekey", nonce: nonceHex, key: toHex(xorBytes(newKey, rekeyKeystream(nodeSha256, currentKey, nonceHex))) };
}

/** Sends the signed `rekey` to the device and waits for its answer; writes nothing. */
export async function rotateKey(req: RotateRequest): Promise<RotateOutcome> {
  const newHex = req.newKeyHex ?? newKeyHex();
  const newKey = Buffer.from(newHex, "hex");
  if (newKey.length !== KEY_BYTES) throw new Error(`a key is ${KEY_BYTES} bytes`);
  const id = newCommandId();
  const cmdTopic = deviceTopic(req.root, req.deviceId, "cmd");
  const replyTopic = deviceTopic(req.root, req.deviceId, "reply");
  const fields = rekeyFields(id, req.currentKey, newKey, randomBytes(16).toString("hex"));
  const signing = { keys: { keyOf: () => req.currentKey }, counter: req.counter ?? new CommandCounter(), expiresS: req.expiresS };

  let onMessage: (topic: string, payload: Buffer) => void = () => {};
  const answer = new Promise<RotateOutcome>((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, why: "timeout" }), req.timeoutMs);
    onMessage = (topic, payload) => {
      if (topic !== replyTopic) return;
      // the acceptance must be signed with the new key; a refusal comes signed with the current one
      for (const [key, isNew] of [[newKey, true], [req.currentKey, false]] as const) {
        const check = checkSignature(key, topic, payload);
        if (check.result !== "verified") continue;
        let reply;
        try {
          reply = validateReply(JSON.parse(Buffer.from(check.body).toString("utf8") + "}"));
        } catch {
          return;
        }
        if (!reply.ok || reply.value.re !== id) return;
        if (isNew && reply.value.ok) {
          clearTimeout(timer);
          resolve({ ok: true, newKeyHex: newHex, fingerprint: keyFingerprint(newHex) });
        } else if (!isNew && !reply.value.ok) {
          clearTimeout(timer);
          resolve({ ok: false, why: "refused", error: String(reply.value.error) });
        }
        return;
      }
    };
  });
  req.client.on("message", onMessage);
  try {
    await req.client.subscribeAsync(replyTopic, { qos: 1 });
    await req.client.publishAsync(cmdTopic, commandPayload(fields, req.deviceId, cmdTopic, false, signing).payload, { qos: 1 });
    return await answer;
  } finally {
    req.client.removeListener("message", onMessage);
  }
}
