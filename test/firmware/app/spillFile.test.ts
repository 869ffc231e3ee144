// The spill to flash (the app wiring and its tests are on branch issue11-spill-wiring until the firmware fits its
// budget): on the fake board, Storage is the simulator's flash emulation (StorageFile chunks, erased
// files counted until compact, a full Storage), so flash writes and free space are counted as on Espruino.
import { describe, expect, it } from "vitest";
import { SPILL_PREFIX, createSpill } from "../../../firmware/app/spillFile";
import { createReadingBuffer, SPILL_BLOCK } from "../../../firmware/app/readingBuffer";
import { MemoryStore } from "./fakeHal";

const INTERVAL = 10_000;

type Reading = { boot: number; seq: number; up: number; ts: number | null; temperature?: number; humidity?: number; error?: string };

const spillFiles = (st: MemoryStore) => st.flash.names().filter((n) => n.startsWith(SPILL_PREFIX));

describe("spill to flash", () => {
  it("packs a block of 16 readings into one flash write of about 16 bytes a reading, and reads them back as they were", () => {
    const st = new MemoryStore();
    const spill = createSpill(st, 8640, 7);
    const buffer = createReadingBuffer(20, spill.add_);
    for (let i = 0; i < 20 + 1; i++) buffer.push_(1000 + i * INTERVAL, i < 5 ? 0 : 1_763_000_000_000 + i * INTERVAL, 2150 + i, 4500 - i, i === 7 ? "timeout" : undefined);
    expect(st.flash.writes).toBe(1);
    const chunk = st.flash.get(SPILL_PREFIX + "1\x01")!;
    const used = chunk.indexOf(0xff);
    // a line: the boot, [first seq, epoch, up], 16 readings of 12 bytes in base64, a newline
    expect(used / SPILL_BLOCK).toBeLessThan(19);
    expect(used / SPILL_BLOCK).toBeGreaterThanOrEqual(16);
    expect([...chunk.subarray(0, used)].every((b) => b < 128)).toBe(true);
    const back: Reading[] = [];
    let r;
    while ((r = spill.shift_())) back.push(r as Reading);
    expect(back.length).toBe(SPILL_BLOCK);
    expect(back.map((x) => x.seq)).toEqual([...Array(SPILL_BLOCK).keys()]);
    expect(back[0]).toEqual({ boot: 7, seq: 0, up: 1000, ts: null, temperature: 21.5, humidity: 45 });
    expect(back[5]).toEqual({ boot: 7, seq: 5, up: 51_000, ts: 1_763_000_050_000, temperature: 21.55, humidity: 44.95 });
    expect(back[7]).toEqual({ boot: 7, seq: 7, up: 71_000, ts: 1_763_000_070_000, error: "timeout" });
    // everything read back: the file is erased
    expect(spill.shift_()).toBeNull();
    expect(spillFiles(st)).toEqual([]);
    // the RAM buffer still holds the rest, in order
    expect(buffer.shift_(1000 + 21 * INTERVAL)!.seq).toBe(16);
  });


  /** a buffer of 20 with a spill: `n` readings pushed 10 s apart from seq `from` (temperature 20 + i/100) */
  const fill = (st: MemoryStore, limit: number, boot: number, n: number) => {
    const spill = createSpill(st, limit, boot);
    const buffer = createReadingBuffer(20, spill.add_);
    for (let i = 0; i < n; i++) buffer.push_(1000 + i * INTERVAL, 0, 2000 + i, 5000);
    return { spill, buffer };
  };
  const drainSpill = (spill: ReturnType<typeof createSpill>) => {
    const out: Reading[] = [];
    let r;
    while ((r = spill.shift_())) out.push(r as Reading);
    return out;
  };

  it("writes once per 16 readings, files of 13 blocks; reads back oldest first and erases each file once read", () => {
    const st = new MemoryStore();
    const { spill, buffer } = fill(st, 8640, 1, 2000);
    expect(st.flash.writes).toBe(Math.ceil((2000 - 20) / SPILL_BLOCK));
    expect(spillFiles(st).length).toBe(Math.ceil(st.flash.writes / 13));
    const back = drainSpill(spill);
    expect(back.map((r) => r.seq)).toEqual([...Array(back.length).keys()]);
    expect(back.every((r, i) => Math.round(r.temperature! * 100) === 2000 + i && r.up === 1000 + i * INTERVAL)).toBe(true);
    expect(spillFiles(st)).toEqual([]);
    expect(buffer.dropped_).toBe(0);
    // the RAM buffer holds the rest
    expect(buffer.shift_(1000 + 2000 * INTERVAL)!.seq).toBe(back.length);
  });

  it("past the limit (whole files) blocks are dropped and counted, the oldest kept", () => {
    const st = new MemoryStore();
    const { spill, buffer } = fill(st, 300, 1, 1000);
    const back = drainSpill(spill);
    // two files of 13 x 16 cover the limit of 300
    expect(back.length).toBe(2 * 13 * 16);
    expect(back[0].seq).toBe(0);
    let inRam = 0;
    while (buffer.shift_(1000 + 1000 * INTERVAL)) inRam++;
    expect(buffer.dropped_).toBe(1000 - inRam - back.length);
  });

  it("files written before a reboot are read back after it, with their boot", () => {
    const st = new MemoryStore();
    fill(st, 8640, 4, 500);
    const spilled = Math.floor((500 - 20) / SPILL_BLOCK) * SPILL_BLOCK;
    // power lost: a new boot on the same flash spills more into new files
    const { spill } = fill(st, 8640, 5, 100);
    const back = drainSpill(spill);
    expect(back.filter((r) => r.boot === 4).map((r) => r.seq)).toEqual([...Array(spilled).keys()]);
    expect(back.filter((r) => r.boot === 5).map((r) => r.seq)).toEqual([...Array(Math.floor(80 / 16) * 16).keys()]);
    expect(spillFiles(st)).toEqual([]);
  });

  it("a full Storage refuses without an exception: dropped and counted in full_, and works again once space is back", () => {
    // room for the small files, 8 KB kept free and two spill files
    const st = new MemoryStore(2 * 4096 + 12288 - 100);
    const { spill, buffer } = fill(st, 8640, 1, 1000);
    expect(spillFiles(st).length).toBe(2);
    expect(spill.full_).toBeGreaterThan(0);
    expect(buffer.dropped_).toBe(spill.full_);
    expect(drainSpill(spill).length).toBe(2 * 13 * 16);
    // erased files count as used until compact: the spill compacts and goes on
    expect(st.getFree()).toBeLessThan(12288 + 4096);
    const again = fill(st, 8640, 2, 100);
    expect(spillFiles(st).length).toBe(1);
    expect(again.spill.full_).toBe(0);
  });
});
