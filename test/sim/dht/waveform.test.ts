// Property: whatever the sensor model holds, the edge train the virtual DHT sends decodes back to exactly
// the values the part reports (quantised), through Espruino's setWatch semantics, for DHT22 and DHT11,
// 41- and 42-edge trains, negative temperatures and decimals.
import { describe, expect, it } from "vitest";
import { decodeDhtFrame } from "../../../firmware/dht/decodeDhtFrame";
import { BoardClock } from "../../../sim/board/clock";
import { Gpio } from "../../../sim/board/gpio";
import { Interpreter } from "../../../sim/board/interpreter";
import { DhtPart, DhtValues, encodeDhtFrame, partLimits, quantise } from "../../../sim/dht/encode";
import { DHT_TIMING, dhtWaveform } from "../../../sim/dht/waveform";
import { VirtualDht } from "../../../sim/dht/virtualDht";
import { createPrng, Prng } from "../../../sim/prng";

/** An independent decoder (not the firmware's): last 40 HIGH times, threshold 50 us, datasheet formulas. */
function decodeIndependently(highs: number[], part: DhtPart): DhtValues | "checksum" | "short" {
  if (highs.length < 40) return "short";
  const bits = highs.slice(-40).map((us) => (us > 50 ? 1 : 0));
  const b = [0, 1, 2, 3, 4].map((i) => parseInt(bits.slice(i * 8, i * 8 + 8).join(""), 2));
  if (((b[0] + b[1] + b[2] + b[3]) & 0xff) !== b[4]) return "checksum";
  if (part.model === "dht22") {
    const t = (((b[2] & 0x7f) << 8) | b[3]) / 10;
    return { humidity: ((b[0] << 8) | b[1]) / 10, temperature: b[2] & 0x80 ? -t : t };
  }
  const t = b[2] + (b[3] & 0x7f) / 10;
  return { humidity: b[0] + b[1] / 10, temperature: b[3] & 0x80 ? -t : t };
}

/** HIGH times a falling-edge watch reports: time - lastTime, lastTime updated on every seen edge. */
function watchHighTimes(edges: { us: number; level: 0 | 1; lost?: boolean }[]): number[] {
  let lastTime: number | undefined;
  const out: number[] = [];
  for (const e of edges) {
    if (e.lost) continue;
    if (e.level === 0) out.push(lastTime === undefined ? NaN : e.us - lastTime);
    lastTime = e.us;
  }
  return out;
}

function randomPart(prng: Prng): DhtPart {
  return { model: prng.chance(0.5) ? "dht22" : "dht11", dht11Decimals: prng.chance(0.5) };
}

function randomValues(prng: Prng, part: DhtPart): DhtValues {
  const l = partLimits(part);
  return { temperature: prng.range(l.tMin - 5, l.tMax + 5), humidity: prng.range(l.hMin - 2, 100) };
}

describe("virtual DHT waveform", () => {
  it("decodes back to the quantised model values (5,000 random frames, both decoders)", () => {
    const prng = createPrng(20261123);
    let trains41 = 0;
    for (let i = 0; i < 5000; i++) {
      const part = randomPart(prng);
      const v = randomValues(prng, part);
      const q = quantise(part, v);
      const edges = dhtWaveform(encodeDhtFrame(part, v), 1000, prng, { dropFirstEdge: prng.chance(0.5) });
      const highs = watchHighTimes(edges);
      expect([41, 42]).toContain(highs.length);
      if (highs.length === 41) trains41++;
      expect(decodeIndependently(highs, part)).toEqual(q);
      const fw = decodeDhtFrame(Uint8Array.from(highs.map((x) => (x > 255 ? 255 : x))), highs.length, part.model);
      expect(fw).toEqual({ ok: true, temperature: q.temperature, humidity: q.humidity });
    }
    expect(trains41).toBeGreaterThan(2000);
    expect(trains41).toBeLessThan(3000);
  });

  it("keeps every pulse within the datasheet tolerances", () => {
    const prng = createPrng(5);
    const part: DhtPart = { model: "dht22", dht11Decimals: false };
    const edges = dhtWaveform(encodeDhtFrame(part, { temperature: -12.3, humidity: 99.9 }), 0, prng, { dropFirstEdge: false });
    expect(edges).toHaveLength(84);
    const d = (i: number) => edges[i + 1].us - edges[i].us;
    expect(edges[0].us).toBeGreaterThanOrEqual(DHT_TIMING.releaseGap[0]);
    expect(d(0)).toBeGreaterThanOrEqual(78); // response LOW
    expect(d(1)).toBeGreaterThanOrEqual(78); // response HIGH
    for (let bit = 0; bit < 40; bit++) {
      const low = d(2 + 2 * bit);
      const high = d(3 + 2 * bit);
      expect(low).toBeGreaterThanOrEqual(48);
      expect(low).toBeLessThanOrEqual(55);
      expect(high < 31 || (high >= 68 && high <= 75)).toBe(true);
    }
    const total = edges[edges.length - 1].us - edges[0].us;
    expect(total).toBeGreaterThan(3800);
    expect(total).toBeLessThan(5500);
  });

  it("encodes DHT22 negatives in sign-magnitude and DHT11 decimals like the parts", () => {
    expect([...encodeDhtFrame({ model: "dht22", dht11Decimals: false }, { temperature: -10.1, humidity: 65.2 })]).toEqual([0x02, 0x8c, 0x80, 0x65, (0x02 + 0x8c + 0x80 + 0x65) & 0xff]);
    expect([...encodeDhtFrame({ model: "dht11", dht11Decimals: true }, { temperature: 23.4, humidity: 41.6 })]).toEqual([41, 6, 23, 4, 74]);
    expect([...encodeDhtFrame({ model: "dht11", dht11Decimals: false }, { temperature: 23.4, humidity: 41.6 })]).toEqual([42, 0, 23, 0, 65]);
  });

  // real timers on 2 shared cores: a late 2 ms timer can start a frame before the watch; retried, not weakened
  it("answers through the GPIO and setWatch emulation with the values it reports (400 boards at once)", { retry: 2 }, async () => {
    const prng = createPrng(99);
    const runs = Array.from({ length: 400 }, async (_, i) => {
      const part = randomPart(prng);
      const v = randomValues(prng, part);
      const rt = new Interpreter((e) => { throw e; });
      const clock = new BoardClock();
      const dht = new VirtualDht(part, { sample: () => v }, createPrng(i), { checksumRate: 0, timeoutRate: 0, stuck: false });
      const gpio = new Gpio(rt, clock, () => {}, new Map([[4, dht]]));
      dht.connect(gpio, 4, -10e6);
      const highs: number[] = [];
      // the recipe of docs/espruino.md section 3: drive low, wait, watch falling edges (this releases the line on ESP32)
      gpio.pinMode(4, "output", false);
      gpio.digitalWrite(4, 0);
      await new Promise((r) => setTimeout(r, part.model === "dht22" ? 2 : 20));
      const id = gpio.setWatch((e: { time: number; lastTime: number }) => highs.push((e.time - e.lastTime) * 1e6), 4, { repeat: true, edge: "falling" });
      gpio.pinMode(4, "input_pullup", false);
      await new Promise((r) => setTimeout(r, 30));
      gpio.clearWatch([id]);
      rt.kill();
      expect(decodeIndependently(highs, part)).toEqual(quantise(part, v));
      expect(dht.stats.last).toEqual(quantise(part, v));
    });
    await Promise.all(runs);
  });
});
