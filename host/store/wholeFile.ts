// Creates a small file whole or not at all: the content is written and synced to a private temp file beside it,
// then hard-linked into place. link(2) fails when the name exists, so of two creators exactly one wins, and nobody
// ever reads the file empty or half written (a crash leaves at most a stray temp file, never a broken one).
import crypto from "node:crypto";
import fs from "node:fs";
import { FILE_MODE } from "./privateFiles";

/** link(2) refused by the filesystem itself (FAT, some network shares), not by an existing name */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

/**
 * Creates `file` (0600) holding `content` unless it exists. Returns false when it already existed (its content is
 * then someone else's). Where the filesystem has no hard links it falls back to an exclusive open and one write.
 */
export function createWholeFile(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  const fd = fs.openSync(tmp, "wx", FILE_MODE);
  try {
    try {
      fs.writeSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (code === "EEXIST") return false;
    if (!NO_HARD_LINKS.has(code)) throw e;
    return createExclusively(file, content);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function createExclusively(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", FILE_MODE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}
