// Turns one MQTT message (topic + bytes) into a validated device message or a rejection with a reason.
// Pure: no clock, no I/O, never throws on any input.
import {
  Info,
  parseDeviceTopic,
  ParsedTopic,
  Reading,
  Reply,
  validateInfo,
  validateReading,
  validateReply,
  validateStatus,
} from "../../firmware/contract";

/** Payloads above this size are rejected unread (a reading is ~120 bytes, info ~300). */
export const MAX_PAYLOAD_BYTES = 4096;

export type DeviceMessage =
  | { kind: "status"; deviceId: string; online: boolean }
  | { kind: "info"; deviceId: string; info: Info }
  | { kind: "reading"; deviceId: string; reading: Reading }
  | { kind: "reply"; deviceId: string; reply: Reply }
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

export function parseDeviceMessage(root: string, topic: string, payload: Uint8Array): ParseResult {
  const parsed = parseTopic(root, topic);
  if (!parsed) return reject(null, topic, "unknown topic");
  const { deviceId, kind } = parsed;
  if (kind === "cmd") return { kind: "ignored", deviceId };
  if (payload.length > MAX_PAYLOAD_BYTES) return reject(deviceId, topic, `${kind}: payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  const text = utf8(payload);
  if (text === null) return reject(deviceId, topic, `${kind}: payload is not valid UTF-8`);
  if (kind === "status") {
    const s = validateStatus(text);
    return s.ok ? { kind: "status", deviceId, online: s.value === "online" } : reject(deviceId, topic, `status: ${s.error}`);
  }
  if (text.length === 0) return reject(deviceId, topic, `${kind}: empty payload`);
  const json = parseJson(text);
  if (!json.ok) return reject(deviceId, topic, `${kind}: invalid JSON`);
  if (kind === "reading") {
    const r = validateReading(json.value);
    if (!r.ok) return reject(deviceId, topic, `reading: ${r.error}`);
    if (r.value.id !== deviceId) return reject(deviceId, topic, "reading: id does not match the topic's device");
    return { kind: "reading", deviceId, reading: r.value };
  }
  if (kind === "info") {
    const r = validateInfo(json.value);
    if (!r.ok) return reject(deviceId, topic, `info: ${r.error}`);
    if (r.value.id !== deviceId) return reject(deviceId, topic, "info: id does not match the topic's device");
    return { kind: "info", deviceId, info: r.value };
  }
  const r = validateReply(json.value);
  return r.ok ? { kind: "reply", deviceId, reply: r.value } : reject(deviceId, topic, `reply: ${r.error}`);
}
