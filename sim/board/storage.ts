// Espruino's Storage (flash file system) for a virtual board: one JSON file per device in the data folder,
// written through on every change so config and boot counter survive a virtual restart or power-off.
// Semantics follow jswrap_storage.c / jsflash.c (offset/size writes, 0xFF-filled new files, 28-char names).
import fs from "node:fs";
import path from "node:path";
import { bytesToString, flattenToBytes } from "./eightBit";
import { Realm, realmBytes } from "./realm";

const NAME_MAX = 28;
/** Storage area on the ESP32 build (bytes); getFree() counts down from it */
const CAPACITY = 0x40000;

export class VirtualFlash {
  private files = new Map<string, Buffer>();

  /** `file` null keeps the flash in memory only (tests, benchmarks) */
  constructor(private readonly file: string | null) {
    if (file && fs.existsSync(file)) {
      let parsed: Record<string, string>;
      try {
        parsed = JSON.parse(fs.readFileSync(file, "utf8"));
      } catch (e) {
        throw new Error(`${file}: virtual Storage is not valid JSON (${(e as Error).message}); delete it to start fresh`);
      }
      for (const [name, b64] of Object.entries(parsed)) this.files.set(name, Buffer.from(b64, "base64"));
    }
  }

  private persist(): void {
    if (!this.file) return;
    const out: Record<string, string> = {};
    for (const [name, data] of this.files) out[name] = data.toString("base64");
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = this.file + ".tmp";
    // it holds the device config: Wi-Fi and broker passwords, the board's key
    fs.writeFileSync(tmp, JSON.stringify(out), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }

  get(name: string): Buffer | undefined {
    return this.files.get(name);
  }

  names(): string[] {
    return [...this.files.keys()];
  }

  used(): number {
    let n = 0;
    for (const b of this.files.values()) n += b.length + 32;
    return n;
  }

  /** jsfWriteFile: offset 0 (re)creates a file of `size` bytes (0xFF-filled); other offsets write inside it. */
  writeFile(name: string, data: Buffer, offset: number, size: number): boolean {
    if (offset < 0 || size < 0) return false;
    if (size === 0) size = data.length;
    if (size === 0) throw new Error("Can't create zero length file");
    let file = this.files.get(name);
    if (offset === 0 && !(file && file.length === size && isErased(file, 0, size))) {
      if (file && file.length === size && data.length === size && file.equals(data)) return true;
      if (this.used() + size - (file ? file.length : 0) > CAPACITY) throw new Error("Unable to find or create file");
      file = Buffer.alloc(size, 0xff);
      this.files.set(name, file);
    }
    if (!file) throw new Error("Unable to find or create file");
    if (offset + data.length > file.length) throw new Error("Too much data for file size");
    if (!isErased(file, offset, data.length)) throw new Error("File already written with different data");
    data.copy(file, offset);
    this.persist();
    return true;
  }

  erase(name: string): void {
    if (this.files.delete(name)) this.persist();
  }

  eraseAll(): void {
    this.files.clear();
    this.persist();
  }

  get free(): number {
    return CAPACITY - this.used();
  }
}

function isErased(b: Buffer, from: number, len: number): boolean {
  for (let i = from; i < from + len; i++) if (b[i] !== 0xff) return false;
  return true;
}

/** Espruino truncates names to 28 chars. */
function fileName(name: unknown): string {
  return String(name).slice(0, NAME_MAX);
}

/** The `require("Storage")` module over a flash. */
export function storageModule(flash: VirtualFlash, realm: () => Realm) {
  const toBytes = (data: unknown): Buffer => Buffer.from(flattenToBytes([data], "Storage.write"));
  const isPlainObject = (d: unknown) => typeof d === "object" && d !== null && !Array.isArray(d) && !ArrayBuffer.isView(d) && Object.prototype.toString.call(d) === "[object Object]";
  return {
    write(name: unknown, data: unknown, offset?: unknown, size?: unknown): boolean {
      if (isPlainObject(data)) return flash.writeFile(fileName(name), Buffer.from(JSON.stringify(data), "latin1"), 0, 0);
      return flash.writeFile(fileName(name), toBytes(data), Number(offset) || 0, Number(size) || 0);
    },
    writeJSON(name: unknown, data: unknown): boolean {
      const text = JSON.stringify(data);
      if (text === undefined) throw new Error("Storage.writeJSON: nothing to write (undefined)");
      return flash.writeFile(fileName(name), Buffer.from(text, "latin1"), 0, 0);
    },
    read(name: unknown, offset?: unknown, length?: unknown): string | undefined {
      const f = flash.get(fileName(name));
      if (!f) return undefined;
      const from = Number(offset) || 0;
      const len = length === undefined ? f.length - from : Number(length);
      return bytesToString(f.subarray(from, from + len));
    },
    readJSON(name: unknown, noExceptions?: unknown): unknown {
      const f = flash.get(fileName(name));
      if (!f) return undefined;
      try {
        return realm().JSON.parse(f.toString("latin1"));
      } catch (e) {
        if (noExceptions) return undefined;
        throw new SyntaxError(`Storage.readJSON("${fileName(name)}"): ${(e as Error).message}`);
      }
    },
    readArrayBuffer(name: unknown): ArrayBuffer | undefined {
      const f = flash.get(fileName(name));
      if (!f) return undefined;
      return realmBytes(realm(), f).buffer as ArrayBuffer;
    },
    erase(name: unknown): void {
      flash.erase(fileName(name));
    },
    eraseAll(): void {
      flash.eraseAll();
    },
    list(regex?: unknown): string[] {
      const names = flash.names();
      const picked = regex === undefined ? names : names.filter((n) => n.match(regex as RegExp) !== null);
      return realm().JSON.parse(JSON.stringify(picked));
    },
    getFree(): number {
      return flash.free;
    },
    compact(): void {
      // nothing to defragment in a Map
    },
  };
}
