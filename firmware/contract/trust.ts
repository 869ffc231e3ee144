// The signing scheme shared by device and host (docs/trust.md): HMAC-SHA256 over the topic and the JSON text
// before a fixed 42-byte tail `,"sig":"<32 hex>"}`. Byte-based and Espruino-safe: the device passes
// require("crypto").SHA256, the host node:crypto's.

/** SHA-256 of some bytes: Espruino's crypto.SHA256 returns an ArrayBuffer. */
export type Sha256 = (data: Uint8Array) => ArrayBuffer | Uint8Array;

/** A key is 32 bytes, 64 hex characters in files. */
export const KEY_BYTES = 32;
/** Signatures are HMAC-SHA256 truncated to 128 bits, as 32 lower-case hex characters. */
export const SIG_HEX_LENGTH = 32;
/** `,"sig":"` starts the tail; the tail is it, the signature and `"}`. */
export const SIG_FIELD = ',"sig":"';
export const SIG_TAIL_LENGTH = 42; // SIG_FIELD, SIG_HEX_LENGTH digits, `"}` (a literal: the bundle keeps sums)

/** A command expires this long after it was sent, unless the sender says otherwise. */
export const COMMAND_EXPIRY_S = 300;
/** The host rejects a reading whose ts is further ahead of its own clock than this. */
export const MAX_FUTURE_TS_MS = 300000; // 5 minutes
/** Command payloads above this are read past without being buffered. */
export const MAX_COMMAND_BYTES = 1024;
/** `restart` is refused this long after boot, so a redelivered one cannot loop the board. */
export const RESTART_GRACE_S = 60;

const BLOCK = 64;

/** HMAC-SHA256 (RFC 2104). */
export function hmacSha256(sha256: Sha256, key: Uint8Array, message: Uint8Array): Uint8Array {
  const k = key.length > BLOCK ? new Uint8Array(sha256(key)) : key;
  const inner = new Uint8Array(BLOCK + message.length);
  const outer = new Uint8Array(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const b = i < k.length ? k[i] : 0;
    inner[i] = b ^ 0x36;
    outer[i] = b ^ 0x5c;
  }
  inner.set(message, BLOCK);
  outer.set(new Uint8Array(sha256(inner)), BLOCK);
  return new Uint8Array(sha256(outer));
}

/** Lower-case hex digits only (either case is lowered first where allowed). */
const isHex = (s: string) => /^[0-9a-f]*$/.test(s);

/** Lower-case hex of the first `count` bytes (all by default). */
export function toHex(bytes: Uint8Array, count?: number): string {
  let s = "";
  // 256 | b: three hex digits, the first always 1
  for (let i = 0; i < (count || bytes.length); i++) s += (256 | bytes[i]).toString(16).slice(1);
  return s;
}

/** Hex (either case) to bytes; null when it is not an even run of hex digits of `length` bytes (when given). */
export function fromHex(hex: unknown, length?: number): Uint8Array | null {
  if (typeof hex !== "string") return null;
  const h = hex.toLowerCase();
  if (h.length % 2 || (length !== undefined && h.length !== length * 2) || !isHex(h)) return null;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(2 * i, 2), 16);
  return out;
}

/** What is MACed: the topic, a newline, the body (the payload without its signature tail). */
export function signingInput(topic: Uint8Array, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(topic.length + 1 + body.length);
  out.set(topic, 0);
  out[topic.length] = 10;
  out.set(body, topic.length + 1);
  return out;
}

/** The 32-hex signature of `body` published on `topic`. */
export function signatureOf(sha256: Sha256, key: Uint8Array, topic: Uint8Array, body: Uint8Array): string {
  return toHex(hmacSha256(sha256, key, signingInput(topic, body)), 16);
}

/** The tail that closes a signed JSON object whose body is its text without the final `}`. */
export function signatureTail(sig: string): string {
  return SIG_FIELD + sig + '"}';
}

/** Splits a payload into body and signature when it ends with a well-formed tail, else null (unsigned). */
export function splitSigned(payload: Uint8Array): { body: Uint8Array; sig: string } | null {
  const start = payload.length - SIG_TAIL_LENGTH;
  let tail = "";
  for (let i = start; i < payload.length; i++) tail += String.fromCharCode(payload[i]);
  const sig = tail.substr(8, SIG_HEX_LENGTH); // after SIG_FIELD
  return start > 0 && tail === signatureTail(sig) && isHex(sig) ? { body: payload.subarray(0, start), sig } : null;
}

/** Equal signatures, compared without an early exit (no timing hint to a forger). */
export function sameSignature(a: string, b: string): boolean {
  // past the end of b, charCodeAt is NaN and XOR treats it as 0: the lengths already differ then
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return !diff;
}

/**
 * ASCII text as bytes (one per char, also on Node). Written out, not utf8Encode: a module without imports gets its
 * numeric constants inlined by esbuild, and each one left in the bundle costs the board JsVars for good.
 */
const ascii = (s: string) => {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
};

/** The MQTT client id of a device that has a key: unguessable without the key, stable across boots. */
export function keyedClientId(sha256: Sha256, key: Uint8Array): string {
  return "d-" + toHex(hmacSha256(sha256, key, ascii("client-id")), 12);
}

/** The keystream that hides a new key in a `rekey` command: HMAC(current key, "rekey|" + nonce), 32 bytes. */
export function rekeyKeystream(sha256: Sha256, currentKey: Uint8Array, nonceHex: string): Uint8Array {
  return hmacSha256(sha256, currentKey, ascii("rekey|" + nonceHex));
}

/** a XOR b, byte by byte (same length). */
export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** The key of the link from device `from` to device `to`: HMAC-SHA256(from's key, "link|" + from + "|" + to) (docs/trust.md "Device-to-device links"). */
export function linkKey(sha256: Sha256, fromKey: Uint8Array, from: string, to: string): Uint8Array {
  return hmacSha256(sha256, fromKey, ascii("link|" + from + "|" + to));
}

/** The keystream that hides a link key in a `link` command to the receiving device: HMAC(its key, "peer|" + nonce). */
export function linkKeystream(sha256: Sha256, receiverKey: Uint8Array, nonceHex: string): Uint8Array {
  return hmacSha256(sha256, receiverKey, ascii("peer|" + nonceHex));
}
