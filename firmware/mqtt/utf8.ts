// UTF-8 for MQTT strings (Espruino has no TextEncoder/TextDecoder). Node (simulator, tests) has UTF-16
// strings, converted both ways. Espruino's String.fromCharCode keeps only the low byte (checked on 2v29), and
// on the ESP32 build (no Unicode support) every char is a byte: text there already is UTF-8, so bytes pass through.

// a function, so that esbuild cannot fold the test at build time (it folds String.fromCharCode on constants)
const keepsCharCode = (c: number) => String.fromCharCode(c).charCodeAt(0) == c;
/** true where a string holds 16-bit code units (Node); false on Espruino */
export const WIDE_STRINGS = keepsCharCode(256);

/** Encodes a string to UTF-8 bytes (`wide` defaults to this platform's string model). */
export function utf8Encode(s: string, wide?: boolean): Uint8Array {
  if (wide == null) wide = WIDE_STRINGS;
  const out = new Uint8Array(s.length * 3);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    const d = s.charCodeAt(i + 1);
    if (!wide) {
      out[n++] = c;
      continue;
    }
    // a high surrogate followed by a low one is one code point; a lone surrogate becomes U+FFFD
    if (c >= 0xd800 && c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
      c = 0x10000 + ((c - 0xd800) << 10) + d - 0xdc00;
      i++;
    } else if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
    if (c < 0x80) out[n++] = c;
    else {
      if (c < 0x800) out[n++] = 0xc0 | (c >> 6);
      else {
        if (c < 0x10000) out[n++] = 0xe0 | (c >> 12);
        else {
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 63);
        }
        out[n++] = 0x80 | ((c >> 6) & 63);
      }
      out[n++] = 0x80 | (c & 63);
    }
  }
  return out.subarray(0, n);
}

/** Decodes UTF-8 bytes; null when they are not well-formed (MQTT requires closing the connection then). */
export function utf8Decode(b: Uint8Array, wide?: boolean): string | null {
  if (wide == null) wide = WIDE_STRINGS;
  let s = "";
  for (let i = 0; i < b.length; ) {
    const start = i;
    const c = b[i++];
    // continuation bytes that follow this lead byte; 0xC0, 0xC1 and above 0xF4 never appear
    const more = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    if (more < 0) return null;
    let cp = more ? c & (0x3f >> more) : c;
    for (let k = 0; k < more; k++) {
      const x = b[i++];
      if ((x & 0xc0) != 0x80) return null;
      cp = (cp << 6) | (x & 63);
    }
    // no overlong 3- and 4-byte forms, no surrogates, nothing above U+10FFFF
    if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff))) return null;
    if (!wide) for (let k = start; k < i; k++) s += String.fromCharCode(b[k]);
    else if (cp >= 0x10000) {
      cp -= 0x10000;
      s += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 1023));
    } else s += String.fromCharCode(cp);
  }
  return s;
}
