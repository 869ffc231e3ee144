// The sensing part alone: the fake DHT on the fake board, a real reading buffer, no MQTT.
import { describe, expect, it } from "vitest";
import { createReadingBuffer } from "../../../firmware/app/readingBuffer";
import type { BufferedReading } from "../../../firmware/app/readingBuffer";
import { createSensing } from "../../../firmware/app/sensing";
import { DeviceConfig, defaultDeviceConfig } from "../../../firmware/contract/deviceConfig";
import { fakeHal } from "./fakeHal";

function sensing(settings: Partial<DeviceConfig> = {}) {
  const set = fakeHal();
  const config = Object.assign(defaultDeviceConfig(), settings);
  const buffer = createReadingBuffer(config.bufferSize);
  const told: number[] = [];
  const part = createSensing(set.hal, config, buffer, () => told.push(set.clock.now()));
  /** everything stored so far, oldest first (taken out of the buffer) */
  const stored = () => {
    const out: BufferedReading[] = [];
    let r: BufferedReading | null;
    while ((r = buffer.shift_(Math.round(set.clock.now())))) out.push(r);
    return out;
  };
  return { ...set, config, buffer, part, told, stored };
}

describe("sensing", () => {
  it("does nothing before start_", () => {
    const s = sensing();
    s.clock.advance(30_000);
    expect(s.dht.starts).toBe(0);
    expect(s.stored()).toEqual([]);
  });

  it("reads after the sensor's power-up, then once per interval, storing each reading with the next seq", () => {
    const s = sensing();
    s.part.start_();
    s.clock.advance(25_000);
    const rs = s.stored();
    expect(rs.map((r) => [r.seq, r.up])).toEqual([[0, 1032], [1, 10032], [2, 20032]]);
    expect(rs[0]).toEqual({ seq: 0, up: 1032, ts: null, temperature: 21.5, humidity: 40 });
    expect(s.told).toEqual([1032, 10032, 20032]);
  });

  it("stamps readings with Unix ms once the clock is set", () => {
    const s = sensing();
    s.part.start_();
    s.unix.offset = 1_700_000_000_000;
    s.clock.advance(2000);
    expect(s.stored()[0].ts).toBe(1_700_000_001_032);
  });

  it("applies the offsets and keeps humidity within 0..100 %", () => {
    const s = sensing({ tempOffset: -1.25, humOffset: 5 });
    s.dht.humidity = 97;
    s.part.start_();
    s.clock.advance(2000);
    expect(s.stored()[0]).toMatchObject({ temperature: 20.25, humidity: 100 });
  });

  it("stores a failed read as its error, without values", () => {
    const s = sensing();
    s.dht.fault = "silent";
    s.part.start_();
    s.clock.advance(8000);
    const [r] = s.stored();
    expect(r).toEqual({ seq: 0, up: expect.any(Number), ts: null, error: "timeout" });
  });

  it("stores only what the report filter passes", () => {
    const s = sensing({ tempDelta: 0.5, humDelta: 5 });
    s.part.start_();
    s.clock.advance(2000);
    s.dht.temperature = 21.7;
    s.clock.advance(10_000);
    s.dht.temperature = 22.1;
    s.clock.advance(10_000);
    expect(s.stored().map((r) => r.temperature)).toEqual([21.5, 22.1]);
    expect(s.told.length).toBe(2);
  });

  it("readNow_ stores the reading even when the filter would not, and hands it over as stored", () => {
    const s = sensing({ tempDelta: 5, humDelta: 50 });
    s.part.start_();
    s.clock.advance(3100); // first reading at 1032; the next read is allowed 2 s after it
    expect(s.stored().length).toBe(1);
    let got: BufferedReading | null = null;
    s.part.readNow_((r) => (got = r));
    s.clock.advance(100);
    expect(got).toMatchObject({ seq: 1, temperature: 21.5 });
    expect(s.stored()).toEqual([got]);
  });

  it("reschedule_ restarts the interval timer with the current interval", () => {
    const s = sensing();
    s.part.start_();
    s.clock.advance(5000);
    s.config.interval = 3;
    s.part.reschedule_();
    s.clock.advance(7000);
    expect(s.stored().map((r) => r.up)).toEqual([1032, 8032, 11032]);
  });
});
