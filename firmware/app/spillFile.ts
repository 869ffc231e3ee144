// Readings past the RAM buffer spill to flash (docs/espruino.md "A day offline"): the buffer packs its oldest 16 into
// one line (readingBuffer.ts), written to a StorageFile in one flash write; files of FILE_BLOCKS lines fit one 4 KB
// Storage page. Lines are read back oldest first; a file is erased once the broker acknowledged the last reading
// handed on from it (PUBACKs come in order), so neither a dropped connection nor a reboot loses one. A line that is
// not what add_ writes (torn by a power cut, garbage) is skipped and counted. Base64 and JSON never hold "\xFF",
// which ends a StorageFile.
import type { KeyValueStore, StorageFile } from "../hal/hal";
import { FILE_BLOCKS, NEEDED, SPILL_BLOCK } from "./bufferLayout";
import { BufferedReading, createReadingBuffer, ReadingBuffer } from "./readingBuffer";

export { FILE_BLOCKS };
/** spill files are SPILL_PREFIX + n, n counting up from 1 (the code writes the literal: a module-level string holds RAM) */
export const SPILL_PREFIX = "espdht.sp";

export interface Spill {
  /** writes a packed block of this boot's readings as one line; false (nothing written) past the limit or with Storage full */
  add_(packed: string): boolean;
  /** removes and returns the oldest spilled reading (with its boot), or null */
  shift_(): BufferedReading | null;
  /** the client's token for the reading shift_ returned last, set by the publisher (0 once acknowledged) */
  sent_: number;
  /** a PUBACK came for `token`: files read to their end go once their last reading is acknowledged */
  acked_(token?: number): void;
  /** readings dropped since boot because Storage was full */
  full_: number;
  /** unreadable lines skipped since boot */
  bad_: number;
}

/** `limit`: readings, rounded up to whole files; 0 turns spilling off */
export function createSpill(storage: KeyValueStore, limit: number, boot: number): Spill {
  // files first..last hold readings (0: none); the one read from, and its line being sent
  let first = 0;
  let last = 0;
  // files read to their end, erased once `doneTok` (the newest spilled reading's token when the last ended) is acknowledged
  let doneTok = 0;
  let done: StorageFile[] = [];
  const acked = (t?: number) => {
    if (t === spill.sent_) spill.sent_ = 0;
    if (t === doneTok) done.forEach((f) => f.erase()), done = [];
  };
  let rf: StorageFile | 0 | undefined;
  let blk: ReadingBuffer | null = null;
  let blkBoot: number;
  // the file appended to and its lines; each boot starts a new file
  let wf: StorageFile;
  let wl = FILE_BLOCKS;
  storage.list(/^espdht\.sp/).forEach((f) => {
    const n = parseInt(f.slice(9));
    if (!first || n < first) first = n;
    if (n > last) last = n;
  });
  // named: add_ is handed on detached (the reading buffer's overflow), so it counts on `spill`, not `this`
  const spill: Spill = {
    add_(packed) {
      try {
        if (wl === FILE_BLOCKS) {
          if (first && (last - first + 1) * FILE_BLOCKS * SPILL_BLOCK >= limit) return false;
          // getFree counts erased files until Storage is compacted
          if (storage.getFree() < NEEDED) storage.compact();
          if (storage.getFree() < NEEDED) throw 0;
          wf = storage.open("espdht.sp" + ++last, "a");
          first = first || last;
          wl = 0;
        }
        wf.write(boot + packed + "\n");
        wl++;
        return true;
      } catch (e) {
        // Storage full (or flash failed): counted, and the next block tries a new file
        wl = FILE_BLOCKS;
        return !(spill.full_ += SPILL_BLOCK);
      }
    },
    shift_() {
      let r = null;
      while (first && !(r = blk && blk.shift_(0))) {
        const line = rf && rf.readLine();
        if (line) {
          // boot[first seq,epoch,up] and whole readings of base64 (16 chars each), as add_ wrote it
          if (/^\d+\[\d+,\d+,\d+\][A-Za-z0-9+\/]+\n$/.test(line) && !((line.length - line.indexOf("]") - 2) % 16)) {
            blkBoot = parseInt(line);
            blk = createReadingBuffer(0, 0, line.slice(line.indexOf("["), -1));
          } else spill.bad_++;
        } else {
          // a file read to its end goes once its last reading is acknowledged (at once if it already was);
          // numbers go on counting up, so a new file never appends to one still waiting
          if (rf) {
            done.push(rf);
            if (!(doneTok = spill.sent_)) acked(0);
            if (first++ === last) first = 0, wl = FILE_BLOCKS;
          }
          rf = first && storage.open("espdht.sp" + first, "r");
        }
      }
      if (r) r.boot = blkBoot;
      return r;
    },
    sent_: 0,
    acked_: acked,
    // counts, not getters: a closure costs more RAM than a number
    full_: 0,
    bad_: 0,
  };
  return spill;
}
