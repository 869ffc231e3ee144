// The host's half of the signing scheme (docs/trust.md "Signed messages") on node:crypto: checks a device's
// signed payload and signs commands. The tail format and the constant-time compare come from the contract.
import { createHash, createHmac } from "node:crypto";
import { sameSignature, SIG_HEX_LENGTH, signatureTail, splitSigned, type Sha256 } from "../../firmware/contract";

/** node:crypto's SHA-256 for the contract's byte-level helpers (rekey keystream, keyed client id). */
export const nodeSha256: Sha256 = (data) => createHash("sha256").update(data).digest();

/** hex(HMAC-SHA256(key, utf8(topic) + "\n" + body))[0..32]: the signature of `body` published on `topic`. */
export function signatureHex(key: Uint8Array, topic: string, body: Uint8Array | string): string {
  return createHmac("sha256", key).update(topic, "utf8").update("\n").update(body).digest("hex").slice(0, SIG_HEX_LENGTH);
}

export type SignatureCheck =
  /** the tail is there and the signature is right */
  | { result: "verified"; body: Uint8Array }
  /** the tail is there but the signature is wrong for this key */
  | { result: "bad-signature"; body: Uint8Array }
  /** no well-formed tail */
  | { result: "unsigned" };

/** Cuts the 42-byte tail, checks its shape and recomputes the signature; parses nothing. */
export function checkSignature(key: Uint8Array, topic: string, payload: Uint8Array): SignatureCheck {
  const split = splitSigned(payload);
  if (!split) return { result: "unsigned" };
  return sameSignature(signatureHex(key, topic, split.body), split.sig) ? { result: "verified", body: split.body } : { result: "bad-signature", body: split.body };
}

/** The JSON text of a signed payload: `json` is an object's text; its final `}` becomes the signature tail. */
export function signJsonText(key: Uint8Array, topic: string, json: string): string {
  if (json.length <= 2 || json.charAt(0) !== "{" || json.charAt(json.length - 1) !== "}") throw new Error("only a non-empty JSON object can be signed");
  const body = json.slice(0, -1);
  return body + signatureTail(signatureHex(key, topic, body));
}

/** Signs a JSON-ready object for `topic` (key order as given). */
export function signObject(key: Uint8Array, topic: string, fields: Record<string, unknown>): string {
  return signJsonText(key, topic, JSON.stringify(fields));
}
