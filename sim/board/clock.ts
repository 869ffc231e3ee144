// The board's clock: monotonic microseconds since power-on, and Espruino's getTime() (seconds since boot as
// a float until setTime()/SNTP sets it, then Unix seconds). It may run faster than real time (setSpeed).
import { performance } from "node:perf_hooks";

export class BoardClock {
  /** real ms at which `baseUs` was the board's time */
  private baseMs = performance.now();
  private baseUs = 0;
  /** board seconds per real second (1: real time); timers of the board's interpreter run as much faster */
  private rate = 1;
  /** getTime() = uptime seconds + offset */
  private offsetS = 0;
  private wallSet = false;

  /** power-on: the RTC starts again from zero */
  reset(): void {
    this.baseMs = performance.now();
    this.baseUs = 0;
    this.offsetS = 0;
    this.wallSet = false;
  }

  /** monotonic microseconds since power-on */
  micros(): number {
    return this.baseUs + (performance.now() - this.baseMs) * 1000 * this.rate;
  }

  get speed(): number {
    return this.rate;
  }

  /** Runs the board's time `rate` times faster than real time from now on (tests: a long outage in seconds). */
  setSpeed(rate: number): void {
    this.baseUs = this.micros();
    this.baseMs = performance.now();
    this.rate = rate;
  }

  /** Espruino getTime() for a monotonic instant */
  timeAt(us: number): number {
    return us / 1e6 + this.offsetS;
  }

  getTime(): number {
    return this.timeAt(this.micros());
  }

  /** Espruino setTime(seconds): from now on getTime() counts from `seconds` */
  setTime(seconds: number): void {
    this.offsetS = seconds - this.micros() / 1e6;
    this.wallSet = true;
  }

  /** true once setTime()/SNTP set the wall clock */
  get isSet(): boolean {
    return this.wallSet;
  }
}
