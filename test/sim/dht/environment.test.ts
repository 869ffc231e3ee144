// The sensor model: plausible, reproducible from the seed, and a CSV replay that interpolates and loops.
import { describe, expect, it } from "vitest";
import { createEnvironment, DEFAULT_ENVIRONMENT } from "../../../sim/dht/environment";
import { parseCsvSeries, sampleSeries } from "../../../sim/dht/csvReplay";
import { VirtualDht } from "../../../sim/dht/virtualDht";
import { createPrng } from "../../../sim/prng";

describe("room model", () => {
  it("stays plausible over two days and repeats for the same seed", () => {
    const start = Date.UTC(2026, 0, 1);
    const a = createEnvironment(DEFAULT_ENVIRONMENT, createPrng(3), start);
    const b = createEnvironment(DEFAULT_ENVIRONMENT, createPrng(3), start);
    let min = Infinity;
    let max = -Infinity;
    for (let t = 0; t < 48 * 3600_000; t += 60_000) {
      const va = a.sample(start + t);
      expect(b.sample(start + t)).toEqual(va);
      expect(va.humidity).toBeGreaterThanOrEqual(0);
      expect(va.humidity).toBeLessThanOrEqual(100);
      min = Math.min(min, va.temperature);
      max = Math.max(max, va.temperature);
    }
    // a day cycle of a few degrees around the base, not a flat line nor a wild swing
    expect(max - min).toBeGreaterThan(3);
    expect(max - min).toBeLessThan(12);
    expect(min).toBeGreaterThan(DEFAULT_ENVIRONMENT.baseTemperature - 8);
  });

  it("freezes when the stuck fault is on", () => {
    const faults = { checksumRate: 0, timeoutRate: 0, stuck: false };
    let now = 0;
    const dht = new VirtualDht({ model: "dht22", dht11Decimals: false }, createEnvironment(DEFAULT_ENVIRONMENT, createPrng(1), 0), createPrng(2), faults, 0.5, () => (now += 3600_000));
    const first = dht.measure();
    faults.stuck = true;
    const stuck = dht.measure();
    expect(dht.measure()).toEqual(stuck);
    faults.stuck = false;
    expect([dht.measure(), dht.measure(), dht.measure()]).not.toEqual([stuck, stuck, stuck]);
    expect(first).toBeDefined();
  });
});

describe("CSV replay", () => {
  const series = parseCsvSeries("time,temperature,humidity\n0,20,50\n10,22,40\n20,20,50\n", "room.csv");

  it("interpolates between rows and loops after the last", () => {
    expect(sampleSeries(series, 5)).toEqual({ temperature: 21, humidity: 45 });
    expect(sampleSeries(series, 10)).toEqual({ temperature: 22, humidity: 40 });
    expect(sampleSeries(series, 25)).toEqual({ temperature: 21, humidity: 45 });
  });

  it.each([
    ["0,20\n", /room\.csv:1: expected 3 columns/],
    ["0,20,50\n0,21,50\n", /room\.csv:2: time 0 must be greater than the previous row's/],
    ["0,abc,50\n", /room\.csv:1: temperature 'abc' must be -40\.\.80/],
    ["0,20,101\n", /room\.csv:1: humidity '101' must be 0\.\.100/],
    ["time,temperature,humidity\n", /room\.csv: no data rows/],
  ])("refuses %j", (text, message) => {
    expect(() => parseCsvSeries(text, "room.csv")).toThrow(message);
  });
});
