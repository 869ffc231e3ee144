// One writer per data folder: `<data>/writer.lock` (0600) holding the owner's pid, its start time and command line.
// It is created whole (temp file + link(2), host/store/wholeFile.ts), so it is never seen empty while being taken.
// The lock dies with its process: a lock whose pid is gone (or, on Linux, now belongs to a process started at another
// time: a reused pid) is stale and taken over. Liveness is kill(pid, 0) everywhere; the start time comes from
// /proc/PID/stat, so where there is no /proc (macOS, BSD) a reused pid looks alive and the user is told which
// process holds the folder. An empty or unreadable lock (an older version or a crash mid-write) is stale only once it
// is older than 10 s. A plain file rather than flock(2): Node has no flock, and the npm packages for it are native
// add-ons or use mtime leases that a kill -9 leaves held.
import fs from "node:fs";
import path from "node:path";
import { FILE_MODE } from "./privateFiles";
import { createWholeFile } from "./wholeFile";

export const LOCK_FILE = "writer.lock";
/** a take-over marker older than this was left by a process killed mid-take-over */
const TAKEOVER_STALE_MS = 10_000;
/** an empty or unreadable lock younger than this may be one an older version is writing this instant */
export const UNREADABLE_STALE_MS = 10_000;

export interface LockOwner {
  pid: number;
  /** the process's start time as the kernel counts it (/proc/PID/stat field 22), "" where unknown */
  start: string;
  /** the program and its command (no options) */
  command: string;
  since: number;
}

/** The data folder is held by another live process; `owner` names it. */
export class DataFolderInUseError extends Error {
  constructor(readonly dir: string, readonly owner: LockOwner) {
    super(
      `the data folder ${dir} is in use by process ${owner.pid} (${owner.command.slice(0, 200)}), running since ${new Date(owner.since).toISOString()}; ` +
        `stop it first, or give this one another folder with --data DIR ('espdht export' can read the folder meanwhile)`,
    );
  }
}

function processStart(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // fields after the command name (which may hold spaces and parentheses): state is field 3, starttime field 22
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
  } catch {
    return "";
  }
}

function isAlive(owner: LockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    // EPERM: it exists, under another user
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const start = processStart(owner.pid);
  return owner.start === "" || start === "" || start === owner.start;
}

/** "espdht.js dashboard": the program and its command, never the options (a --password would be on disk) */
function ownCommand(): string {
  return [path.basename(process.argv[1] ?? process.argv0), process.argv[2] ?? ""].join(" ").trim();
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as LockOwner;
    return typeof o === "object" && o !== null && Number.isInteger(o.pid) && o.pid > 0 ? o : null;
  } catch {
    return null;
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    return parseOwner(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

/** The lock as found: its owner (null when empty or unreadable), its inode and age; null when it is gone. */
interface SeenLock {
  owner: LockOwner | null;
  ino: number;
  mtimeMs: number;
}

function seeLock(file: string): SeenLock | null {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  // one open file for its content and its inode: a take-over between a stat and a read cannot mix two locks
  try {
    const st = fs.fstatSync(fd);
    let text = "";
    try {
      text = fs.readFileSync(fd, "utf8");
    } catch {
      // unreadable: judged by its age
    }
    return { owner: parseOwner(text), ino: st.ino, mtimeMs: st.mtimeMs };
  } finally {
    fs.closeSync(fd);
  }
}

export class DataFolderLock {
  private released = false;
  private constructor(readonly file: string, readonly owner: LockOwner) {}

  /** Takes the lock of data folder `dir` (which must exist) or throws DataFolderInUseError naming its holder. */
  static acquire(dir: string): DataFolderLock {
    const file = path.join(dir, LOCK_FILE);
    const owner: LockOwner = { pid: process.pid, start: processStart(process.pid), command: ownCommand(), since: Date.now() };
    for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt > 0) sleepMs(20 * attempt);
      if (createWholeFile(file, JSON.stringify(owner) + "\n")) return new DataFolderLock(file, owner);
      const seen = seeLock(file);
      if (!seen) continue; // released meanwhile
      if (seen.owner && isAlive(seen.owner)) throw new DataFolderInUseError(dir, seen.owner);
      if (!seen.owner) {
        const age = Date.now() - seen.mtimeMs;
        if (age <= UNREADABLE_STALE_MS) {
          throw new Error(
            `the lock ${file} is empty or unreadable and was written ${Math.max(0, Math.round(age / 1000))} s ago: another program may be taking it this instant. ` +
              `Try again in ${Math.ceil(UNREADABLE_STALE_MS / 1000)} s: a lock left like that by a crash is taken over then`,
          );
        }
      }
      takeOver(file, seen);
    }
    throw new Error(`cannot take the lock ${file}: other processes keep taking it`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    // only our own lock: a process that (wrongly) took it over keeps its own
    if (readOwner(this.file)?.pid === this.owner.pid) fs.rmSync(this.file, { force: true });
  }
}

/**
 * Removes a stale lock, one taker at a time (a marker file). Under the marker the lock can only change by its owner's
 * release (it is dead) or another take-over (which needs the marker), so it is removed only while it is still the very
 * file judged stale (same inode): a faster taker's fresh lock is never removed.
 */
function takeOver(file: string, stale: SeenLock): void {
  const marker = file + ".takeover";
  try {
    fs.closeSync(fs.openSync(marker, "wx", FILE_MODE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    try {
      if (Date.now() - fs.statSync(marker).mtimeMs > TAKEOVER_STALE_MS) fs.rmSync(marker, { force: true });
    } catch {
      // gone meanwhile
    }
    return;
  }
  try {
    if (seeLock(file)?.ino === stale.ino) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(marker, { force: true });
  }
}
