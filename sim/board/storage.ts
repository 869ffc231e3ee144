// Espruino's Storage (flash file system) for a virtual board: one JSON file per device in the data folder,
// written through on every change so config and boot counter survive a virtual restart or power-off.
// Semantics follow jswrap_storage.c / jsflash.c (offset/size writes, 0xFF-filled new files, 28-char names).
import fs from "node:fs";
import path from "node:path";
import { bytesToString, flattenToBytes } from "./eightBit";
import { strict } from "./notEmulated";
import { Realm, realmBytes } from "./realm";

const NAME_MAX = 28;
/** Storage area on the ESP32 2v29 build (896 KB, docs/espruino.md section 5); getFree() counts down from it */
export const STORAGE_BYTES = 896 * 1024;
/** jsflash.c: a file header (size + 28-char name) before each file's data */
const HEADER_BYTES = 32;
/** jswrap_storage.c STORAGEFILE_CHUNKSIZE on 4 KB pages: a chunk and its header fill one page */
export const STORAGEFILE_CHUNK = 4096 - HEADER_BYTES;

export class VirtualFlash {
  private files = new Map<string, Buffer>();
  /** bytes of erased files: jsflash.c only marks them, getFree() counts them as used until compact() */
  private trash = 0;
  /** flash writes (file creations and writes into files), for tests of wear */
  writes = 0;

  /** `file` null keeps the flash in memory only (tests, benchmarks); `capacity` in bytes */
  constructor(private readonly file: string | null, private readonly capacity = STORAGE_BYTES) {
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
    let n = this.trash;
    for (const b of this.files.values()) n += b.length + HEADER_BYTES;
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
      const need = size + HEADER_BYTES;
      // a new file that does not fit after the last one makes jsflash.c compact Storage first
      if (this.free < need) this.trash = 0;
      if (this.free < need) throw new Error("Unable to find or create file");
      if (file) this.trash += file.length + HEADER_BYTES;
      file = Buffer.alloc(size, 0xff);
      this.files.set(name, file);
    }
    if (!file) throw new Error("Unable to find or create file");
    if (offset + data.length > file.length) throw new Error("Too much data for file size");
    if (!isErased(file, offset, data.length)) throw new Error("File already written with different data");
    data.copy(file, offset);
    this.writes++;
    this.persist();
    return true;
  }

  erase(name: string): void {
    const f = this.files.get(name);
    if (!f) return;
    this.trash += f.length + HEADER_BYTES;
    this.files.delete(name);
    this.persist();
  }

  eraseAll(): void {
    this.files.clear();
    this.trash = 0;
    this.persist();
  }

  compact(): void {
    this.trash = 0;
  }

  get free(): number {
    return this.capacity - this.used();
  }
}

const STORAGEFILE_MEMBERS = ["read", "readLine", "write", "getLength", "erase"] as const;

/**
 * jswrap_storage.c StorageFile: data in chunks "name\x01", "name\x02", ... of STORAGEFILE_CHUNK bytes, each
 * created 0xFF-filled; the end of the data is the first 0xFF. Mode "a" finds that end, "r" reads from the start.
 */
class StorageFile {
  private chunk = 1;
  private offset = 0;
  private mode: string | 0;

  constructor(private readonly flash: VirtualFlash, private readonly name: string, mode: string) {
    this.mode = mode;
    if (mode === "w") this.erase(), (this.mode = "w");
    if (mode !== "a") return;
    let f = flash.get(this.chunkName());
    while (f && f[f.length - 1] !== 0xff && this.chunk < 255) f = flash.get(this.chunkName(++this.chunk));
    if (f) this.offset = dataEnd(f);
  }

  private chunkName(chunk = this.chunk): string {
    return this.name + String.fromCharCode(chunk);
  }

  write(data: unknown): void {
    if (this.mode !== "w" && this.mode !== "a") throw new Error("Can't write in this mode");
    const bytes = Buffer.from(String(data), "latin1");
    if (!bytes.length) return;
    const f = this.flash.get(this.chunkName());
    if (!f) {
      try {
        this.flash.writeFile(this.chunkName(), bytes, 0, STORAGEFILE_CHUNK);
      } catch (e) {
        this.mode = 0;
        throw e;
      }
      this.offset = bytes.length;
      return;
    }
    const room = f.length - this.offset;
    if (bytes.length < room) {
      this.flash.writeFile(this.chunkName(), bytes, this.offset, f.length);
      this.offset += bytes.length;
      return;
    }
    this.flash.writeFile(this.chunkName(), bytes.subarray(0, room), this.offset, f.length);
    if (this.chunk === 255) throw new Error("File too big!");
    this.chunk++;
    try {
      this.flash.writeFile(this.chunkName(), bytes.subarray(room), 0, STORAGEFILE_CHUNK);
    } catch (e) {
      this.mode = 0;
      throw e;
    }
    this.offset = bytes.length - room;
  }

  /** `len` < 0: up to and including the next "\n" */
  read(len: number): string | undefined {
    if (this.mode !== "r") throw new Error("Can't read in this mode");
    let out: string | undefined;
    const line = len < 0;
    let want = line ? Infinity : Math.max(0, len);
    while (want > 0) {
      let f = this.flash.get(this.chunkName());
      if (!f) return out;
      if (this.offset >= f.length) {
        if (this.chunk === 255) return out;
        this.chunk++;
        this.offset = 0;
        f = this.flash.get(this.chunkName());
        if (!f) return out;
      }
      let end = Math.min(f.length, this.offset + want);
      const ff = f.indexOf(0xff, this.offset);
      const stop = ff >= 0 && ff < end;
      if (stop) end = ff;
      if (line) {
        const nl = f.indexOf(0x0a, this.offset);
        if (nl >= 0 && nl < end) end = nl + 1, (want = 0);
      }
      if (end > this.offset) out = (out ?? "") + bytesToString(f.subarray(this.offset, end));
      if (want !== Infinity) want -= end - this.offset;
      this.offset = end;
      if (stop) return out;
    }
    return out;
  }

  readLine(): string | undefined {
    return this.read(-1);
  }

  getLength(): number {
    let n = 0;
    for (let c = 1; c <= 255; c++) {
      const f = this.flash.get(this.chunkName(c));
      if (!f) break;
      const end = dataEnd(f);
      n += end;
      if (end < f.length) break;
    }
    return n;
  }

  erase(): void {
    for (let c = 1; c <= 255 && this.flash.get(this.chunkName(c)); c++) this.flash.erase(this.chunkName(c));
    this.chunk = 1;
    this.offset = 0;
    this.mode = 0;
  }
}

/** Storage.open(name, mode) on a flash (also for the firmware's fake HAL in tests). */
export function openStorageFile(flash: VirtualFlash, name: string, mode: "r" | "w" | "a"): Pick<StorageFile, (typeof STORAGEFILE_MEMBERS)[number]> {
  return new StorageFile(flash, name.slice(0, NAME_MAX - 1), mode);
}

/** where a StorageFile chunk's data ends: its first 0xFF */
function dataEnd(f: Buffer): number {
  const i = f.indexOf(0xff);
  return i < 0 ? f.length : i;
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
      flash.compact();
    },
    open(name: unknown, mode: unknown) {
      if (mode !== "r" && mode !== "w" && mode !== "a") throw new Error(`Invalid mode ${JSON.stringify(mode)}`);
      // the last of the 28 name chars holds the chunk number
      return strict("StorageFile", new StorageFile(flash, String(name).slice(0, NAME_MAX - 1), mode), STORAGEFILE_MEMBERS);
    },
  };
}
