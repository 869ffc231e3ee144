// Turns one MQTT message (topic + bytes) into a validated device message or a rejection with a reason.
// Pure apart from the verifier it is given (which may bind a pending key): no clock, never throws on any input.
// Signed kinds are verified before their JSON is parsed (docs/trust.md "Signed messages").
import {
  Info,
  OutputState,
  parseDeviceTopic,
  ParsedTopic,
  Reading,
  Reply,
  splitSigned,
  validateInfo,
  validateOutput,
  validateReading,
  validateReply,
  validateStatus,
} from "../../firmware/contract";
import type { MessageVerifier, Trust } from "../trust/deviceTrust";
import { strictInfoError } from "./infoCheck";

/** Payloads above this size are rejected unread (a reading is ~120 bytes, info ~300). */
export const MAX_PAYLOAD_BYTES = 4096;

/** How a signed kind was believed, and the fingerprint of the key that signed it. */
export interface MessageTrust {
  trust: Trust;
  fingerprint: string | null;
}

export type DeviceMessage =
  | { kind: "status"; deviceId: string; online: boolean }
  | ({ kind: "info"; deviceId: string; info: Info } & MessageTrust)
  | ({ kind: "reading"; deviceId: string; reading: Reading } & MessageTrust)
  | ({ kind: "reply"; deviceId: string; reply: Reply } & MessageTrust)
  | ({ kind: "output"; deviceId: string; output: OutputState } & MessageTrust)
  /** the retained output cleared (an empty payload: the device's rule was removed); nothing to sign, so it changes no trust */
  | { kind: "output"; deviceId: string; output: null }
  /** our own command echoed back (we do not subscribe to cmd, but a broad filter could deliver it) */
  | { kind: "ignored"; deviceId: string };

export type Rejection = { kind: "rejected"; deviceId: string | null; topic: string; reason: string };

export type ParseResult = DeviceMessage | Rejection;

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Decodes UTF-8, or null when the bytes are not valid UTF-8. */
function utf8(payload: Uint8Array): string | null {
  // Buffer's lenient decoder is faster than the fatal one; only text showing a U+FFFD is checked strictly
  const text = Buffer.isBuffer(payload) ? payload.toString("utf8") : null;
  if (text !== null && text.indexOf("\uFFFD") < 0) return text;
  try {
    return decoder.decode(payload);
  } catch {
    return null;
  }
}

/** Parsed topics by topic string for one root: devices publish on the same few topics over and over. */
const TOPIC_CACHE_MAX = 4096;
let topicCacheRoot = "";
const topicCache = new Map<string, ParsedTopic | null>();

function parseTopic(root: string, topic: string): ParsedTopic | null {
  if (root !== topicCacheRoot) {
    topicCache.clear();
    topicCacheRoot = root;
  }
  let parsed = topicCache.get(topic);
  if (parsed === undefined) {
    parsed = parseDeviceTopic(root, topic);
    if (topicCache.size >= TOPIC_CACHE_MAX) topicCache.clear();
    topicCache.set(topic, parsed);
  }
  return parsed;
}

function reject(deviceId: string | null, topic: string, reason: string): Rejection {
  return { kind: "rejected", deviceId, topic, reason };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

const UNSIGNED: MessageTrust = Object.freeze({ trust: "unsigned", fingerprint: null }) as MessageTrust;

/**
 * Parses one message. With a `verifier`, a reading, info or reply is first checked against the device's key:
 * refused ones become rejections ("<kind>: unsigned" / "<kind>: bad-signature"). A signature tail is cut off
 * before the JSON is parsed either way, so a signed payload parses the same without a keyring.
 */
export function parseDeviceMessage(root: string, topic: string, payload: Uint8Array, verifier?: MessageVerifier | null): ParseResult {
  const parsed = parseTopic(root, topic);
  if (!parsed) return reject(null, topic, "unknown topic");
  const { deviceId, kind } = parsed;
  if (kind === "cmd") return { kind: "ignored", deviceId };
  if (payload.length > MAX_PAYLOAD_BYTES) return reject(deviceId, topic, `${kind}: payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  if (kind === "status") {
    const text = utf8(payload);
    if (text === null) return reject(deviceId, topic, "status: payload is not valid UTF-8");
    const s = validateStatus(text);
    return s.ok ? { kind: "status", deviceId, online: s.value === "online" } : reject(deviceId, topic, `status: ${s.error}`);
  }
  if (payload.length === 0) return kind === "output" ? { kind, deviceId, output: null } : reject(deviceId, topic, `${kind}: empty payload`);
  let trust = UNSIGNED;
  let body: Uint8Array | null;
  if (verifier) {
    const d = verifier.verify(deviceId, topic, payload);
    if (!d.ok) return reject(deviceId, topic, `${kind}: ${d.reason}`);
    if (d.trust === "verified") trust = { trust: "verified", fingerprint: d.fingerprint };
    body = d.body;
  } else {
    // a signed payload ends with `"}`; most unsigned readings end with a digit before the `}`
    const split = payload[payload.length - 2] === 34 ? splitSigned(payload) : null;
    body = split ? split.body : null;
  }
  const raw = utf8(body ?? payload);
  if (raw === null) return reject(deviceId, topic, `${kind}: payload is not valid UTF-8`);
  // a signed payload is its JSON text with the final `}` replaced by the tail
  const json = parseJson(body ? raw + "}" : raw);
  if (!json.ok) return reject(deviceId, topic, `${kind}: invalid JSON`);
  if (kind === "reading") {
    const r = validateReading(json.value);
    if (!r.ok) return reject(deviceId, topic, `reading: ${r.error}`);
    if (r.value.id !== deviceId) return reject(deviceId, topic, "reading: id does not match the topic's device");
    return { kind: "reading", deviceId, reading: r.value, ...trust };
  }
  if (kind === "info") {
    const r = validateInfo(json.value);
    if (!r.ok) return reject(deviceId, topic, `info: ${r.error}`);
    if (r.value.id !== deviceId) return reject(deviceId, topic, "info: id does not match the topic's device");
    const strict = strictInfoError(r.value);
    if (strict) return reject(deviceId, topic, `info: ${strict}`);
    return { kind: "info", deviceId, info: r.value, ...trust };
  }
  if (kind === "output") {
    const o = validateOutput(json.value);
    if (!o.ok) return reject(deviceId, topic, `output: ${o.error}`);
    if (o.value.id !== deviceId) return reject(deviceId, topic, "output: id does not match the topic's device");
    return { kind: "output", deviceId, output: o.value, ...trust };
  }
  const r = validateReply(json.value);
  return r.ok ? { kind: "reply", deviceId, reply: r.value, ...trust } : reject(deviceId, topic, `reply: ${r.error}`);
}
