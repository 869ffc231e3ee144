// UTF-8 for MQTT strings: Espruino has no TextEncoder/TextDecoder.

/** Encodes a JS string (UTF-16, surrogate pairs joined) to UTF-8 bytes. */
export function utf8Encode(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 3 + 1);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    const d = s.charCodeAt(i + 1);
    // a high surrogate followed by a low one is one code point; lone surrogates become U+FFFD
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
export function utf8Decode(b: Uint8Array): string | null {
  let s = "";
  for (let i = 0; i < b.length; ) {
    const c = b[i++];
    // number of continuation bytes and the smallest code point allowed for this length (no overlong forms)
    const more = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    if (more < 0) return null;
    let cp = more ? c & (0x3f >> more) : c;
    for (let k = 0; k < more; k++) {
      const x = b[i++];
      if ((x & 0xc0) != 0x80) return null;
      cp = (cp << 6) | (x & 63);
    }
    if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff))) return null;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      s += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 1023));
    } else s += String.fromCharCode(cp);
  }
  return s;
}
