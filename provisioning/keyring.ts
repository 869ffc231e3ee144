// The host's keyring, keys.json (mode 0600) next to the user's config.json (docs/trust.md "Keys"): one secret
// key per device, plus keys made by `flash` that wait for their board's first signed info (pending).
// Writers re-read, change and replace the file atomically; readers refresh when the file changed.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fromHex, isValidDeviceId, KEY_BYTES } from "../firmware/contract";

export const KEYRING_FILE = "keys.json";

export interface KeyEntry {
  /** 64 lower-case hex characters */
  key: string;
  /** ISO time it was added */
  added: string;
}

export interface KeyringData {
  version: 1;
  devices: { [deviceId: string]: KeyEntry };
  pending: KeyEntry[];
}

export class KeyringError extends Error {}

/** keys.json beside the user's config file. */
export function keyringPathFor(configFile: string): string {
  return path.join(path.dirname(configFile), KEYRING_FILE);
}

export function newKeyHex(): string {
  return randomBytes(KEY_BYTES).toString("hex");
}

/** The key's fingerprint: SHA-256 of the key bytes, first 16 hex digits in groups of four. Safe to show. */
export function keyFingerprint(keyHex: string): string {
  const hex = createHash("sha256").update(Buffer.from(keyHex, "hex")).digest("hex").slice(0, 16);
  return hex.replace(/(....)(?!$)/g, "$1-");
}

/** The key as written in a file or typed: 64 hex digits, surrounding whitespace ignored; else a clear error. */
export function parseKeyHex(text: string, where: string): string {
  const hex = text.trim().toLowerCase();
  if (!fromHex(hex, KEY_BYTES)) throw new KeyringError(`${where}: a key is ${KEY_BYTES * 2} hex digits (got ${hex.length} characters${/^[0-9a-f]*$/.test(hex) ? "" : ", not all hex"})`);
  return hex;
}

function emptyData(): KeyringData {
  return { version: 1, devices: {}, pending: [] };
}

function checkEntry(e: unknown, where: string): KeyEntry {
  if (typeof e !== "object" || e === null || typeof (e as KeyEntry).key !== "string") throw new KeyringError(`${where}: expected {"key": "<64 hex>", "added": "<ISO time>"}`);
  const entry = e as KeyEntry;
  return { key: parseKeyHex(entry.key, where + ".key"), added: typeof entry.added === "string" ? entry.added : "" };
}

/** Reads and checks a keyring file; a missing file is an empty keyring. Errors name the file and the entry. */
export function readKeyringFile(file: string): KeyringData {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return emptyData();
    throw new KeyringError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new KeyringError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const o = raw as Partial<KeyringData>;
  if (typeof raw !== "object" || raw === null || o.version !== 1 || typeof o.devices !== "object" || o.devices === null) {
    throw new KeyringError(`${file}: expected {"version": 1, "devices": {...}, "pending": [...]}`);
  }
  const data = emptyData();
  for (const id of Object.keys(o.devices)) {
    if (!isValidDeviceId(id)) throw new KeyringError(`${file}: devices.${id}: not a valid device id`);
    data.devices[id] = checkEntry(o.devices[id], `${file}: devices.${id}`);
  }
  const pending = Array.isArray(o.pending) ? o.pending : [];
  pending.forEach((e, i) => data.pending.push(checkEntry(e, `${file}: pending[${i}]`)));
  return data;
}

/** Re-reads the file, applies `change` and replaces the file atomically (0600, folder 0700). */
export function updateKeyringFile<T>(file: string, change: (data: KeyringData) => T): T {
  const data = readKeyringFile(file);
  const result = change(data);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  fs.renameSync(tmp, file);
  return result;
}

/** The keyring as a running host program sees it: refreshed from disk when the file changed. */
export class Keyring {
  private data: KeyringData = emptyData();
  private stamp = "";
  private keys = new Map<string, Buffer>();

  constructor(readonly file: string | null) {
    this.refresh();
  }

  /** Re-reads the file when its size or mtime changed; true when it did. A broken file keeps the last good one. */
  refresh(onError?: (e: KeyringError) => void): boolean {
    if (!this.file) return false;
    let stamp = "none";
    try {
      const st = fs.statSync(this.file);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch {
      // missing: an empty keyring
    }
    if (stamp === this.stamp) return false;
    try {
      this.data = readKeyringFile(this.file);
    } catch (e) {
      if (!(e instanceof KeyringError) || !onError) throw e;
      onError(e);
      return false;
    }
    this.stamp = stamp;
    this.keys = new Map(Object.entries(this.data.devices).map(([id, e]) => [id, Buffer.from(e.key, "hex")]));
    return true;
  }

  /** The device's key, or null when it has none here. */
  keyOf(deviceId: string): Buffer | null {
    return this.keys.get(deviceId) ?? null;
  }

  deviceIds(): string[] {
    return Object.keys(this.data.devices).sort();
  }

  pendingKeys(): Buffer[] {
    return this.data.pending.map((e) => Buffer.from(e.key, "hex"));
  }

  /** Records `keyHex` as the key of `deviceId` (moving it out of pending) in the file and here. */
  bind(deviceId: string, keyHex: string): void {
    if (!this.file) {
      this.data.devices[deviceId] = { key: keyHex, added: new Date().toISOString() };
    } else {
      updateKeyringFile(this.file, (d) => {
        d.devices[deviceId] = { key: keyHex, added: new Date().toISOString() };
        d.pending = d.pending.filter((e) => e.key !== keyHex);
      });
      this.stamp = "";
      this.refresh();
      return;
    }
    this.data.pending = this.data.pending.filter((e) => e.key !== keyHex);
    this.keys.set(deviceId, Buffer.from(keyHex, "hex"));
  }
}
