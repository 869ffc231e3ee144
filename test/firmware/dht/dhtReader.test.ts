import { describe, expect, it } from "vitest";
import { createDhtReader, MIN_READ_GAP_MS, POWER_UP_MS } from "../../../firmware/dht/dhtReader";
import type { DhtResult } from "../../../firmware/dht/decodeDhtFrame";
import type { Pins, WatchEvent } from "../../../firmware/hal/hal";
import { FakeClock } from "../../support/fakeClock";
import { train41, train42, watchEvents, withChecksum } from "./dhtFrames";

/** A virtual DHT on a fake pin: answers each start pulse with the next scripted edge train (empty = silent). */
function fakeSensor(clock: FakeClock, trains: number[][]) {
  const log: string[] = [];
  let onEdge: ((e: WatchEvent) => void) | null = null;
  let lowAt = -1;
  let mode = "";
  const starts: number[] = [];
  const io: Pins = {
    pinMode(pin, m) {
      expect(pin).toBe(PIN);
      mode = m;
      if (m === "input_pullup") {
        log.push("release after " + (clock.now() - lowAt) + "ms");
        const train = trains.length > 1 ? trains.shift()! : trains[0];
        // the sensor answers ~20 us later and is done within 5 ms
        clock.setTimeout(() => { for (const e of watchEvents(train, clock.now() / 1000)) if (onEdge) onEdge(e); }, 5);
      }
    },
    digitalWrite(pin, v) {
      expect([pin, v, mode]).toEqual([PIN, 0, "output"]);
      lowAt = clock.now();
      starts.push(lowAt);
      log.push("low@" + lowAt);
    },
    setWatch(cb, pin, opts) {
      if (onEdge) throw new Error("two watches at once");
      expect([pin, opts]).toEqual([PIN, { repeat: true, edge: "falling" }]);
      onEdge = cb;
      log.push("watch");
      return 7;
    },
    clearWatch(h) { expect(h).toBe(7); onEdge = null; log.push("clear"); },
  };
  return { io, log, starts };
}

const PIN = 4;
const GOOD = withChecksum(0x01, 0xe2, 0x80, 0x65); // -10.1 C, 48.2 %

describe("createDhtReader", () => {
  it("follows the ESP32 recipe: low, then watch, then release; decodes a 42-edge train", () => {
    const clock = new FakeClock(5000);
    const s = fakeSensor(clock, [train42(GOOD)]);
    const results: DhtResult[] = [];
    createDhtReader(s.io, PIN, clock, "dht22", 3)((r) => results.push(r));
    clock.advance(100);
    expect(s.log).toEqual(["low@5000", "watch", "release after 2ms", "clear"]);
    expect(results).toEqual([{ ok: true, temperature: -10.1, humidity: 48.2 }]);
  });

  it("holds the line low 20 ms for a DHT11", () => {
    const clock = new FakeClock(5000);
    const s = fakeSensor(clock, [train41(withChecksum(40, 0, 22, 5))]);
    const results: DhtResult[] = [];
    createDhtReader(s.io, PIN, clock, "dht11", 1)((r) => results.push(r));
    clock.advance(100);
    expect(s.log[2]).toBe("release after 20ms");
    expect(results).toEqual([{ ok: true, temperature: 22.5, humidity: 40 }]);
  });

  it("waits for the sensor to power up", () => {
    const clock = new FakeClock(0);
    const s = fakeSensor(clock, [train42(GOOD)]);
    createDhtReader(s.io, PIN, clock, "dht22", 1)(() => {});
    clock.advance(POWER_UP_MS - 1);
    expect(s.starts).toEqual([]);
    clock.advance(100);
    expect(s.starts).toEqual([POWER_UP_MS]);
  });

  it("retries a failed read after 2 s, and reports the last error when every attempt fails", () => {
    const clock = new FakeClock(5000);
    const s = fakeSensor(clock, [[]]);
    const results: DhtResult[] = [];
    createDhtReader(s.io, PIN, clock, "dht22", 3)((r) => results.push(r));
    clock.advance(10_000);
    expect(s.starts).toEqual([5000, 5000 + MIN_READ_GAP_MS, 5000 + 2 * MIN_READ_GAP_MS]);
    expect(results).toEqual([{ ok: false, error: "timeout" }]);
  });

  it("succeeds on a retry after a checksum error", () => {
    const clock = new FakeClock(5000);
    const bad = train42(GOOD);
    bad[30] = bad[30] === 70 ? 27 : 70;
    const s = fakeSensor(clock, [bad, train42(GOOD)]);
    const results: DhtResult[] = [];
    createDhtReader(s.io, PIN, clock, "dht22", 3)((r) => results.push(r));
    clock.advance(10_000);
    expect(s.starts.length).toBe(2);
    expect(results).toEqual([{ ok: true, temperature: -10.1, humidity: 48.2 }]);
  });

  it("never runs two reads at once: a second caller shares the running read", () => {
    const clock = new FakeClock(5000);
    const s = fakeSensor(clock, [train42(GOOD)]);
    const reader = createDhtReader(s.io, PIN, clock, "dht22", 2);
    const results: string[] = [];
    reader(() => results.push("a"));
    clock.advance(1);
    reader(() => results.push("b"));
    clock.advance(100);
    expect(s.starts.length).toBe(1);
    expect(results).toEqual(["a", "b"]);
  });

  it("calls a caller that asks again during the read only once", () => {
    const clock = new FakeClock(5000);
    const s = fakeSensor(clock, [train42(GOOD)]);
    const reader = createDhtReader(s.io, PIN, clock, "dht22", 1);
    let calls = 0;
    const done = () => { calls++; };
    reader(done);
    clock.advance(1);
    reader(done);
    clock.advance(100);
    expect([s.starts.length, calls]).toEqual([1, 1]);
  });

  it("keeps >= 2 s between reads when asked sooner", () => {
    const clock = new FakeClock(5000);
    const s = fakeSensor(clock, [train42(GOOD)]);
    const reader = createDhtReader(s.io, PIN, clock, "dht22", 1);
    reader(() => {});
    clock.advance(500);
    reader(() => {});
    clock.advance(5000);
    expect(s.starts).toEqual([5000, 5000 + MIN_READ_GAP_MS]);
  });

  it("bounds the edge buffer: a noisy line with hundreds of edges is a checksum error, not a crash", () => {
    const clock = new FakeClock(5000);
    const noise = Array.from({ length: 500 }, (_, i) => (i % 3 ? 27 : 70));
    const s = fakeSensor(clock, [noise]);
    const results: DhtResult[] = [];
    createDhtReader(s.io, PIN, clock, "dht22", 1)((r) => results.push(r));
    clock.advance(100);
    expect(results).toEqual([{ ok: false, error: "checksum" }]);
  });
});
