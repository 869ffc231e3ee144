// Signs payloads the way a device does (the contract's byte-level HMAC over an injected SHA-256, not the host's
// node:crypto HMAC), so the host's verifier is checked against an independent signer.
import { createHash } from "node:crypto";
import { signatureOf, signatureTail } from "../../../firmware/contract";

const sha256 = (d: Uint8Array) => createHash("sha256").update(d).digest();
const utf8 = (s: string) => new TextEncoder().encode(s);

/** The payload a device with `keyHex` publishes on `topic` for the JSON object `fields`. */
export function deviceSigned(keyHex: string, topic: string, fields: object): string {
  const body = JSON.stringify(fields).slice(0, -1);
  return body + signatureTail(signatureOf(sha256, Buffer.from(keyHex, "hex"), utf8(topic), utf8(body)));
}

/** The same payload with one signature digit changed. */
export function withWrongSignature(payload: string): string {
  const i = payload.length - 3;
  return payload.slice(0, i) + (payload[i] === "0" ? "1" : "0") + payload.slice(i + 1);
}
