// The app with the spill on the fake board (offline for hours on the fake clock, then connected): Storage is the
// simulator's flash emulation, so flash writes and free space are counted as on Espruino.
import { describe, expect, it } from "vitest";
import { FILE_BLOCKS, SPILL_PREFIX, createSpill } from "../../../firmware/app/spillFile";
import { createReadingBuffer, SPILL_BLOCK } from "../../../firmware/app/readingBuffer";
import { validateInfo, validateReading } from "../../../firmware/contract/payloads";
import { MemoryStore } from "./fakeHal";
import { ID, R, start } from "./harness";

const INTERVAL = 10_000;

type Reading = { boot: number; seq: number; up: number; ts: number | null; temperature?: number; humidity?: number; error?: string };

/** a board offline for `readings` intervals, then connected; PUBACKs every publish until nothing new is sent */
function drain(s: ReturnType<typeof start>): Reading[] {
  for (let i = 0; i < 10_000; i++) {
    const before = s.client.sent.length;
    s.client.ack();
    if (s.client.sent.length === before && !s.client.inflight.length) break;
  }
  return s.client.json(`${R}/${ID}/reading`) as unknown as Reading[];
}

const spillFiles = (st: MemoryStore) => st.flash.names().filter((n) => n.startsWith(SPILL_PREFIX));
const key = (r: Reading) => r.boot + "/" + r.seq;

describe("app: spill to flash while offline", () => {
  it("spills while offline past the RAM buffer, writing once per 16 readings, and sends all of it oldest first, spilled and live taking turns", () => {
    const s = start({ config: { bufferSize: 50 } });
    const hours = 6;
    s.clock.advance(hours * 3600_000);
    const taken = hours * 360;
    // the RAM buffer keeps the newest; everything older went to flash in blocks of 16
    expect(s.storage.flash.writes).toBe(Math.ceil((taken - 50) / SPILL_BLOCK));
    expect(spillFiles(s.storage).length).toBe(Math.ceil(s.storage.flash.writes / FILE_BLOCKS));
    s.client.connect();
    const info = s.client.json(`${R}/${ID}/info`)[0];
    expect(info).toMatchObject({ dropped: 0, flashFull: 0 });
    expect(validateInfo(info).ok).toBe(true);
    // the first publishes alternate: spilled (oldest of all), RAM (oldest still in RAM), ...
    const first = s.client.json(`${R}/${ID}/reading`).map((r) => r.seq as number);
    expect(first[0]).toBe(0);
    expect(first[1]).toBeGreaterThan(taken - 51);
    expect(first[2]).toBe(1);
    const all = drain(s);
    for (const r of all) expect(validateReading(r).ok).toBe(true);
    const seqs = all.map((r) => r.seq).sort((a, b) => a - b);
    expect(seqs).toEqual([...Array(taken).keys()]);
    // spilled ones in order among themselves
    const spilledOrder = all.filter((r) => r.seq < taken - 50).map((r) => r.seq);
    expect(spilledOrder).toEqual([...spilledOrder].sort((a, b) => a - b));
    expect(spillFiles(s.storage)).toEqual([]);
  });

  it("live readings keep flowing while a backlog is sent", () => {
    const s = start({ config: { bufferSize: 20 } });
    s.clock.advance(3600_000);
    s.client.connect();
    s.client.maxInflight = 1;
    // three PUBACKs per interval: the backlog drains slowly, and every live reading still goes out soon after it is taken
    for (let i = 0; i < 60; i++) {
      s.clock.advance(INTERVAL);
      s.client.ack(1);
      s.client.ack(1);
      s.client.ack(1);
      const sent = s.client.json(`${R}/${ID}/reading`).map((r) => r.seq as number);
      const newest = Math.max(...sent);
      // the newest sent is never more than the RAM buffer behind the newest taken
      expect(360 + i - newest).toBeLessThan(20);
    }
    // and the spilled backlog made progress too
    expect(s.client.json(`${R}/${ID}/reading`).filter((r) => (r.seq as number) < 340).length).toBeGreaterThan(50);
  });

  it("drops only what goes past the limit (counted in dropped), and keeps the oldest", () => {
    const s = start({ config: { bufferSize: 20, spillLimit: 300 } });
    s.clock.advance(2 * 3600_000);
    const taken = 720;
    s.client.connect();
    const info = s.client.json(`${R}/${ID}/info`)[0];
    const all = drain(s);
    // the limit is rounded up to whole files of 13 blocks of 16: two files (416) are kept
    const kept = all.length;
    expect(kept - 20).toBeLessThanOrEqual(416 + 16);
    expect(kept - 20).toBeGreaterThan(400);
    expect(kept + info.dropped).toBe(taken);
    expect(info.dropped).toBeGreaterThan(0);
    expect(all.some((r) => r.seq === 0)).toBe(true);
    expect(new Set(all.map(key)).size).toBe(kept);
  });

  it("a reboot while offline keeps what was spilled: sent after it with the original boot and seq", () => {
    const storage = new MemoryStore();
    const a = start({ config: { bufferSize: 20 }, storage });
    a.clock.advance(2 * 3600_000);
    const spilledBefore = storage.flash.writes * SPILL_BLOCK;
    // power lost: the RAM buffer is gone, the flash stays
    const b = start({ config: { bufferSize: 20 }, storage });
    expect(b.app.boot).toBe(a.app.boot + 1);
    b.clock.advance(3600_000);
    b.client.connect();
    const all = drain(b);
    const oldBoot = all.filter((r) => r.boot === a.app.boot).map((r) => r.seq);
    expect(oldBoot).toEqual([...Array(spilledBefore).keys()]);
    const newBoot = all.filter((r) => r.boot === b.app.boot).map((r) => r.seq).sort((x, y) => x - y);
    expect(newBoot).toEqual([...Array(360).keys()]);
    for (const r of all) expect(validateReading(r).ok).toBe(true);
    expect(spillFiles(storage)).toEqual([]);
  });

  it("a full Storage does not crash: readings are dropped, counted in dropped and flashFull", () => {
    // room for the config files and two spill files only
    const storage = new MemoryStore(2 * 4096 + 12288 + 1024);
    const s = start({ config: { bufferSize: 20 }, storage });
    s.clock.advance(3 * 3600_000);
    expect(s.board.logs.filter((l) => /Uncaught|Error/.test(l))).toEqual([]);
    s.client.connect();
    const info = s.client.json(`${R}/${ID}/info`)[0];
    expect(info.flashFull).toBeGreaterThan(0);
    expect(info.dropped).toBe(info.flashFull);
    const all = drain(s);
    expect(all.length + info.dropped).toBe(3 * 360);
    // once sent and erased, the files' space comes back (compacted) and spilling works again
    s.client.drop();
    s.clock.advance(3600_000);
    expect(spillFiles(s.storage).length).toBeGreaterThan(0);
  });
});
