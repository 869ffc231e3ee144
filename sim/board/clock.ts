// The board's clock: monotonic microseconds since power-on, and Espruino's getTime() (seconds since boot as
// a float until setTime()/SNTP sets it, then Unix seconds).
import { performance } from "node:perf_hooks";

export class BoardClock {
  private bootMs = performance.now();
  /** getTime() = uptime seconds + offset */
  private offsetS = 0;
  private wallSet = false;

  /** power-on: the RTC starts again from zero */
  reset(): void {
    this.bootMs = performance.now();
    this.offsetS = 0;
    this.wallSet = false;
  }

  /** monotonic microseconds since power-on */
  micros(): number {
    return (performance.now() - this.bootMs) * 1000;
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
