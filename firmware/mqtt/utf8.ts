// UTF-8 for MQTT strings (Espruino has no TextEncoder/TextDecoder). On the ESP32 build every char is a byte
// (String.fromCharCode keeps the low byte, checked on 2v29), so text there already is UTF-8 and bytes pass through
// unchecked. Node (simulator, tests) has UTF-16 strings: converted with the URI functions, which only that branch
// reaches; their decoder refuses ill-formed UTF-8 (overlong forms, surrogates, beyond U+10FFFF) with a URIError.

/** true where a string holds 16-bit code units (Node); false on Espruino (an IIFE: esbuild would fold a constant) */
export const WIDE_STRINGS = ((c: number) => String.fromCharCode(c).charCodeAt(0) == c)(256);

/**
 * Encodes a string to UTF-8 bytes; lone surrogates become U+FFFD. `bytes`: treat the string as 8-bit (what
 * Espruino has) even on Node: each char is one byte.
 */
export function utf8Encode(s: string, bytes?: boolean): Uint8Array {
  // toWellFormed: Node 20+ (wide strings only); the URI escapes of the UTF-8 bytes then read back as one char per byte
  if (WIDE_STRINGS && !bytes) s = unescape(encodeURIComponent((s as unknown as { toWellFormed(): string }).toWellFormed()));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * Decodes UTF-8 bytes. Wide strings (Node): null when they are not well-formed (MQTT requires closing the
 * connection then). 8-bit strings (Espruino, or `bytes` on Node): each byte is one char, not checked.
 */
export function utf8Decode(b: Uint8Array, bytes?: boolean): string | null {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  try {
    return WIDE_STRINGS && !bytes ? decodeURIComponent(escape(s)) : s;
  } catch {
    return null;
  }
}
