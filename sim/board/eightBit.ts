// Espruino strings are 8-bit: one char per byte. Conversions at the socket and Storage edges.

/** Bytes to an 8-bit string. */
export function bytesToString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** An 8-bit string to bytes; a char above 0xFF cannot exist on Espruino, so it is an error naming `where`. */
export function stringToBytes(s: string, where: string): Buffer {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new Error(`${where}: character U+${c.toString(16).toUpperCase().padStart(4, "0")} at index ${i} is not 8-bit (Espruino strings hold bytes; encode to UTF-8 first)`);
  }
  return Buffer.from(s, "latin1");
}

/** Flattens E.toString / E.toUint8Array arguments (strings, numbers, arrays, typed arrays, {data,count}). */
export function flattenToBytes(args: unknown[], where: string): number[] {
  const out: number[] = [];
  const add = (v: unknown): void => {
    if (typeof v === "number") out.push(v & 0xff);
    else if (typeof v === "string") for (let i = 0; i < v.length; i++) out.push(v.charCodeAt(i) & 0xff);
    else if (Object.prototype.toString.call(v) === "[object ArrayBuffer]") add(new Uint8Array(v as ArrayBuffer));
    else if (ArrayBuffer.isView(v)) {
      const a = v as unknown as ArrayLike<number>;
      for (let i = 0; i < a.length; i++) out.push(Number(a[i]) & 0xff);
    } else if (Array.isArray(v)) {
      const a = v as unknown[];
      for (let i = 0; i < a.length; i++) add(a[i]);
    } else if (v && typeof v === "object" && "data" in v) {
      const o = v as { data: unknown; count?: number };
      for (let i = 0; i < (o.count ?? 1); i++) add(o.data);
    } else if (v === undefined || v === null) {
      // Espruino skips undefined
    } else {
      throw new Error(`${where}: cannot convert ${typeof v} to bytes`);
    }
  };
  for (const a of args) add(a);
  return out;
}

