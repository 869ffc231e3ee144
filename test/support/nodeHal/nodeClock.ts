// The HAL Clock over Node's monotonic time and timers.
import { performance } from "node:perf_hooks";
import type { Clock, TimerHandle } from "../../../firmware/hal/hal";

export class NodeClock implements Clock {
  private readonly origin: number;

  constructor() {
    this.origin = performance.now();
  }

  /** ms since this clock was made (like the board's ms since boot) */
  now(): number {
    return performance.now() - this.origin;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return setTimeout(fn, Math.max(0, ms));
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
}
