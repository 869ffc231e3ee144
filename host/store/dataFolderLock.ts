// One writer per data folder: `<data>/writer.lock`, created exclusively ("wx", 0600) and holding the owner's pid,
// its start time and command line. The lock dies with its process: a lock whose pid is gone (or now belongs to a
// process started at another time, a reused pid) is stale and taken over. A plain file rather than flock(2):
// Node has no flock, and the npm packages for it are native add-ons or use mtime leases that a kill -9 leaves held.
import fs from "node:fs";
import path from "node:path";
import { FILE_MODE } from "./privateFiles";

export const LOCK_FILE = "writer.lock";
/** a take-over marker older than this was left by a process killed mid-take-over */
const TAKEOVER_STALE_MS = 10_000;

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

function readOwner(file: string): LockOwner | null {
  try {
    const o = JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner;
    return Number.isInteger(o.pid) && o.pid > 0 ? o : null;
  } catch {
    return null;
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
      try {
        const fd = fs.openSync(file, "wx", FILE_MODE);
        fs.writeSync(fd, JSON.stringify(owner) + "\n");
        fs.closeSync(fd);
        return new DataFolderLock(file, owner);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const holder = readOwner(file);
      // a lock without a readable owner may be one being written this instant: look again before taking it over
      if (holder && isAlive(holder)) throw new DataFolderInUseError(dir, holder);
      if (!holder && attempt === 0) continue;
      takeOver(file, holder);
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

/** Removes a stale lock, one taker at a time (a marker file), so two takers cannot remove each other's new lock. */
function takeOver(file: string, stale: LockOwner | null): void {
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
    // still the same stale lock (not one a faster taker has just written)?
    if (JSON.stringify(readOwner(file)) === JSON.stringify(stale)) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(marker, { force: true });
  }
}
