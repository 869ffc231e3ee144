// Each virtual board's signing key (docs/trust.md "Keys"): made once and kept beside the board's Storage file
// in the data folder, so a restarted (or --fresh) fleet keeps it and a clone's borrowed key never replaces it;
// every key is written to the host's keyring so watch, dashboard and send verify with no extra step.
import fs from "node:fs";
import path from "node:path";
import { KeyringError, newKeyHex, parseKeyHex, readKeyringFile, updateKeyringFile } from "../../provisioning/keyring";

export class BoardKeyError extends Error {}

/** `<data>/sim/<id>.key`, next to `<id>.storage.json`. */
export function boardKeyFile(dataDir: string, deviceId: string): string {
  return path.join(dataDir, "sim", `${deviceId}.key`);
}

/** The key kept in `file`; `fallback` (a key the board already uses, e.g. a rotated one) or a new key when there is none. Saved 0600. */
export function loadOrMakeBoardKey(file: string | null, fallback: string | null = null): string {
  let key = fallback;
  if (file && !key) {
    try {
      key = parseKeyHex(fs.readFileSync(file, "utf8"), file);
    } catch (e) {
      if (e instanceof KeyringError) throw new BoardKeyError(`${e.message}; delete the file to give the board a new key`);
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new BoardKeyError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code})`);
    }
  }
  key = key ?? newKeyHex();
  if (file) saveBoardKey(file, key);
  return key;
}

function saveBoardKey(file: string, key: string): void {
  let current: string | null = null;
  try {
    current = fs.readFileSync(file, "utf8").trim();
  } catch {
    // a new board
  }
  if (current === key) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = file + ".tmp";
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, key + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Records each board's key as `devices.<id>` in the keyring; the file is only rewritten when something changed. Returns how many entries changed. */
export function registerBoardKeys(keyringFile: string, keys: { id: string; key: string }[]): number {
  try {
    const data = readKeyringFile(keyringFile);
    if (keys.every((k) => data.devices[k.id]?.key === k.key)) return 0;
    return updateKeyringFile(keyringFile, (d) => {
      let changed = 0;
      const added = new Date().toISOString();
      for (const k of keys) {
        if (d.devices[k.id]?.key === k.key) continue;
        d.devices[k.id] = { key: k.key, added };
        changed++;
      }
      return changed;
    });
  } catch (e) {
    if (e instanceof KeyringError) throw new BoardKeyError(`keyring: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new BoardKeyError(`keyring ${keyringFile}: cannot write (${code})`);
    throw e;
  }
}
