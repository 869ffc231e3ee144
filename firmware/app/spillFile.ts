// Readings past the RAM buffer spill to flash (docs/espruino.md "A day offline"): the buffer packs its oldest 16 into
// one line (readingBuffer.ts), written to a StorageFile in one flash write; files of FILE_BLOCKS lines fit one 4 KB
// Storage page. Lines are read back oldest first; a file is erased once all its readings were handed to the MQTT
// client, so a reboot resends at most one file. Base64 and JSON never hold "\xFF", which ends a StorageFile.
import type { KeyValueStore, StorageFile } from "../hal/hal";
import { BufferedReading, createReadingBuffer, ReadingBuffer, SPILL_BLOCK } from "./readingBuffer";

/** lines per file: 13 lines of about 295 bytes stay inside one StorageFile chunk (4,064 bytes) */
export const FILE_BLOCKS = 13;
/** spill files are SPILL_PREFIX + n, n counting up from 1 */
export const SPILL_PREFIX = "espdht.sp";
/** free Storage a new file needs: its 4 KB page, and 8 KB left for the config, the boot counter and settings */
const NEEDED = 12288;

export interface Spill {
  /** writes a packed block of this boot's readings as one line; false (nothing written) past the limit or with Storage full */
  add_(packed: string): boolean;
  /** removes and returns the oldest spilled reading (with its boot), or null */
  shift_(): BufferedReading | null;
  /** readings dropped since boot because Storage was full */
  full_(): number;
}

/** `limit`: readings, rounded up to whole files; 0 turns spilling off */
export function createSpill(storage: KeyValueStore, limit: number, boot: number): Spill {
  // files first..last hold readings (0: none); the one read from, and its line being sent
  let first = 0;
  let last = 0;
  let full = 0;
  let rf: StorageFile | null = null;
  let blk: ReadingBuffer | null = null;
  let blkBoot = 0;
  // the file appended to and its lines; each boot starts a new file
  let wf: StorageFile;
  let wl = FILE_BLOCKS;
  storage.list(/^espdht\.sp/).forEach((f) => {
    const n = parseInt(f.slice(9));
    if (!first || n < first) first = n;
    if (n > last) last = n;
  });
  return {
    add_(packed) {
      if (wl === FILE_BLOCKS) {
        if (first && (last - first + 1) * FILE_BLOCKS * SPILL_BLOCK >= limit) return false;
        // getFree counts erased files until Storage is compacted
        if (storage.getFree() < NEEDED) storage.compact();
        if (storage.getFree() < NEEDED) return !(full += SPILL_BLOCK);
        wf = storage.open(SPILL_PREFIX + ++last, "a");
        first = first || last;
        wl = 0;
      }
      try {
        wf.write(boot + packed + "\n");
        wl++;
        return true;
      } catch (e) {
        // Storage full (or flash failed): the next block tries a new file
        wl = FILE_BLOCKS;
        return !(full += SPILL_BLOCK);
      }
    },
    shift_() {
      let r;
      while (first && !(r = blk && blk.shift_(0))) {
        const line = rf && rf.readLine();
        if (line) {
          blkBoot = parseInt(line);
          blk = createReadingBuffer(0, undefined, line.slice(line.indexOf("["), -1));
        } else {
          // a file fully handed to the client is erased; when it was the last one, writing starts a new file
          if (rf) {
            rf.erase();
            if (first++ === last) first = last = 0, wl = FILE_BLOCKS;
          }
          rf = first ? storage.open(SPILL_PREFIX + first, "r") : null;
        }
      }
      if (r) r.boot = blkBoot;
      return r || null;
    },
    full_: () => full,
  };
}
