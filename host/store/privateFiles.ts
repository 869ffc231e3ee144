// The data folder holds readings, keys and the dashboard's session id: only its owner may read it. Folders are
// 0700 and files 0600; an existing folder or file with looser modes is tightened (not just warned about), since
// a warning on every start would be ignored while the readings stayed readable.
import fs from "node:fs";

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** Creates `dir` (and missing parents) 0700, or tightens an existing one to drop group/other access. */
export function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  tighten(dir, DIR_MODE);
}

/** Drops group/other access from an existing file (no-op when it is missing). */
export function makePrivateFile(file: string): void {
  tighten(file, FILE_MODE);
}

function tighten(p: string, mode: number): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  // only our own files: chmod on someone else's would fail, and is not ours to change
  if ((st.mode & 0o077) !== 0 && (typeof process.getuid !== "function" || st.uid === process.getuid())) fs.chmodSync(p, mode);
}
