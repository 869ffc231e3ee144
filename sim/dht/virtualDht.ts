// A DHT22/DHT11 on one GPIO: answers a long enough start pulse with its edge train, from the environment
// model, with injectable faults (checksum errors, no answer, stuck values).
import type { Gpio, Level, LineDevice } from "../board/gpio";
import type { Prng } from "../prng";
import { DhtPart, DhtValues, encodeDhtFrame, quantise } from "./encode";
import type { Environment } from "./environment";
import { dhtWaveform } from "./waveform";

/** Shortest start pulse the part accepts (docs/espruino.md section 3), microseconds. */
export const START_PULSE_US = { dht22: 1000, dht11: 18000 };
/** The part ignores the line for this long after power-up. */
export const POWER_UP_US = 1_000_000;

export interface DhtFaults {
  /** share of answers with a corrupted bit (checksum error) */
  checksumRate: number;
  /** share of start pulses left unanswered */
  timeoutRate: number;
  /** values frozen at the last good measurement */
  stuck: boolean;
}

export interface DhtStats {
  answered: number;
  corrupted: number;
  silent: number;
  /** the last values sent (quantised), for tests and status */
  last: DhtValues | null;
}

export class VirtualDht implements LineDevice {
  readonly stats: DhtStats = { answered: 0, corrupted: 0, silent: 0, last: null };
  private gpio: Gpio | null = null;
  private pin = -1;
  private lowSinceUs: number | null = null;
  private busyUntilUs = 0;
  private poweredAtUs = 0;
  private frozen: DhtValues | null = null;

  constructor(
    readonly part: DhtPart,
    private readonly environment: Environment,
    private readonly prng: Prng,
    readonly faults: DhtFaults,
    /** share of frames whose first edge the ESP32 misses (41- instead of 42-edge trains) */
    private readonly dropFirstEdgeRate = 0.5,
    private readonly wallMs: () => number = Date.now,
  ) {}

  /** Wires the sensor to a board's GPIO at boot; `poweredAtUs` is when it got power (board clock). */
  connect(gpio: Gpio, pin: number, poweredAtUs: number): void {
    this.gpio = gpio;
    this.pin = pin;
    this.poweredAtUs = poweredAtUs;
    this.lowSinceUs = null;
    this.busyUntilUs = 0;
  }

  onHostLine(level: Level, us: number): void {
    if (level === 0) {
      if (this.lowSinceUs === null) this.lowSinceUs = us;
      return;
    }
    if (this.lowSinceUs === null) return;
    const held = us - this.lowSinceUs;
    this.lowSinceUs = null;
    if (us < this.busyUntilUs || us - this.poweredAtUs < POWER_UP_US) return;
    if (held < START_PULSE_US[this.part.model]) return;
    this.answer(us);
  }

  /** The values the part would report now (quantised), honouring the stuck fault. */
  measure(): DhtValues {
    if (this.faults.stuck && this.frozen) return this.frozen;
    const v = quantise(this.part, this.environment.sample(this.wallMs()));
    this.frozen = v;
    return v;
  }

  private answer(releaseUs: number): void {
    if (!this.gpio) return;
    if (this.faults.timeoutRate > 0 && this.prng.chance(this.faults.timeoutRate)) {
      this.stats.silent++;
      return;
    }
    const values = this.measure();
    const bytes = encodeDhtFrame(this.part, values);
    if (this.faults.checksumRate > 0 && this.prng.chance(this.faults.checksumRate)) {
      // one flipped data bit: the checksum no longer matches
      const bit = this.prng.int(0, 31);
      bytes[bit >> 3] ^= 0x80 >> (bit & 7);
      this.stats.corrupted++;
    } else this.stats.last = values;
    const edges = dhtWaveform(bytes, releaseUs, this.prng, { dropFirstEdge: this.prng.chance(this.dropFirstEdgeRate) });
    this.busyUntilUs = edges[edges.length - 1].us;
    this.stats.answered++;
    this.gpio.deviceTransitions(this.pin, edges);
  }
}
