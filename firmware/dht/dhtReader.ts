// Reads a DHT22/DHT11 with the ESP32-safe recipe (docs/espruino.md section 3): drive low, then watch falling
// edges with the pull-up on, decode the last 40 HIGH times. One read at a time, >= 2 s apart, retried.
import type { Clock, Pins } from "../hal/hal";
import type { SensorModel } from "../contract/payloads";
import { decodeDhtFrame, DhtResult } from "./decodeDhtFrame";
import { EDGE_CAPACITY, LISTEN_MS, MIN_READ_GAP_MS, POWER_UP_MS } from "./dhtTiming";

export { MIN_READ_GAP_MS, POWER_UP_MS };

/**
 * Reads now (or as soon as the sensor allows); a read already running serves this caller too, once however
 * often it asks.
 */
export type DhtReader = (done: (r: DhtResult) => void) => void;

export function createDhtReader(io: Pins, pin: number, clock: Clock, model: SensorModel, attempts: number): DhtReader {
  let waiting: ((r: DhtResult) => void)[] = [];
  // the first read waits for the sensor's power-up
  let lastStart = POWER_UP_MS - MIN_READ_GAP_MS;
  let left = 0;

  const attempt = () => {
    lastStart = clock.now();
    // made per attempt, so not kept between reads: the HIGH times of the falling edges, and how many came
    const edges = new Uint8Array(EDGE_CAPACITY);
    let count = 0;
    io.pinMode(pin, "output");
    io.digitalWrite(pin, 0);
    // start pulse: DHT22 needs >= 1 ms, DHT11 >= 18 ms
    clock.setTimeout(() => {
      // each falling edge ends a HIGH: its length in us (data bits are < 100 us; a longer HIGH, kept modulo 256,
      // only comes before the frame's last 40)
      const watch = io.setWatch((e) => { edges[count++ % EDGE_CAPACITY] = (e.time - e.lastTime) * 1e6; }, pin, { repeat: true, edge: "falling" });
      io.pinMode(pin, "input_pullup");
      clock.setTimeout(() => {
        io.clearWatch(watch);
        const r = decodeDhtFrame(edges, count, model);
        if (!r.ok && --left > 0) return schedule();
        const callers = waiting;
        waiting = [];
        callers.forEach((done) => done(r));
      }, LISTEN_MS);
    }, model === "dht11" ? 20 : 2);
  };

  const schedule = () => {
    clock.setTimeout(attempt, lastStart + MIN_READ_GAP_MS - clock.now());
  };

  return (done) => {
    if (waiting.indexOf(done) >= 0 || waiting.push(done) > 1) return;
    left = attempts;
    schedule();
  };
}
