// Checks a device message as a third party would (docs/trust.md "Signed messages"): node:crypto's HMAC over the
// topic, a newline and the payload before its 42-byte tail.
import { createHmac } from "node:crypto";
import { signatureTail, splitSigned } from "../../../firmware/contract";

/** "verified", "unsigned" (no tail) or "bad-signature" under `keyHex`. */
export function signatureVerdict(topic: string, payload: string | Buffer, keyHex: string): "verified" | "unsigned" | "bad-signature" {
  const bytes = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const signed = splitSigned(bytes);
  if (!signed) return "unsigned";
  const mac = createHmac("sha256", Buffer.from(keyHex, "hex")).update(Buffer.from(topic + "\n", "utf8")).update(signed.body).digest("hex").slice(0, 32);
  return mac === signed.sig ? "verified" : "bad-signature";
}

/** A payload as the host signs it (node:crypto): the JSON text without its `}`, then the tail. */
export function signedAsHost(topic: string, fields: object, keyHex: string): string {
  const body = JSON.stringify(fields).slice(0, -1);
  return body + signatureTail(createHmac("sha256", Buffer.from(keyHex, "hex")).update(topic + "\n" + body).digest("hex").slice(0, 32));
}
