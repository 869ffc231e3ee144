// UTF-8 for MQTT strings (Espruino has no TextEncoder/TextDecoder). On the ESP32 build every char is a byte
// (String.fromCharCode keeps the low byte, checked on 2v29), so text there already is UTF-8 and bytes pass through.
// Node (simulator, tests) has UTF-16 strings: converted with the URI functions, which only that branch reaches.

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

/** Decodes UTF-8 bytes; null when they are not well-formed (MQTT requires closing the connection then). `bytes` as above. */
export function utf8Decode(b: Uint8Array, bytes?: boolean): string | null {
  let s = "";
  let more = 0; // continuation bytes still expected
  let cp = 0;
  let min = 0; // smallest code point the sequence may encode: shorter forms are overlong
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    s += String.fromCharCode(c);
    if (more) {
      if ((c & 192) != 128) return null;
      cp = (cp << 6) | (c & 63);
      // no overlong forms, no surrogates (D800..DFFF), nothing above U+10FFFF
      if (!--more && (cp < min || cp >> 11 == 27 || cp > 1114111)) return null;
    } else if (c > 127) {
      // lead bytes C2..F4 only: C0, C1 would be overlong 2-byte forms, above F4 beyond U+10FFFF
      more = c < 194 || c > 244 ? 9 : c < 224 ? 1 : c < 240 ? 2 : 3;
      if (more > 3) return null;
      cp = c & (127 >> more);
      min = 1 << (5 * more + 1);
    }
  }
  return more ? null : WIDE_STRINGS && !bytes ? decodeURIComponent(escape(s)) : s;
}
