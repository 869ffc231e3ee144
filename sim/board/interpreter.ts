// One run of the interpreter between power-on and reset: Espruino timers, the event queue (Espruino runs
// event handlers after the current code, never re-entrantly), and uncaught-exception reporting.
// Killing it stops every timer and queued event at once, like a reset.
import { performance } from "node:perf_hooks";
import type { Membrane } from "./membrane";
import { NotEmulatedError } from "./notEmulated";

type Fn = (...args: unknown[]) => unknown;

interface EspruinoTimer {
  handle: NodeJS.Timeout;
  /** performance.now() when it fires */
  due?: number;
  fn: Fn;
  args: unknown[];
  /** ms, for setInterval */
  interval?: number;
}

/** Espruino's shortest timer period (TIMER_MIN_INTERVAL, ms). */
const MIN_INTERVAL_MS = 0.1;
/** Espruino refuses periods over 100 years; Node's own timers stop at 2^31-1 ms, so longer ones are chained. */
const MAX_INTERVAL_MS = 100 * 365.25 * 86400_000;
const NODE_TIMER_MAX_MS = 2 ** 31 - 1;

/** setTimeout that also waits longer than Node allows in one go; `box.handle` always holds the live timer. */
function longTimeout(box: { handle: NodeJS.Timeout }, fn: () => void, ms: number): NodeJS.Timeout {
  if (ms <= NODE_TIMER_MAX_MS) return (box.handle = setTimeout(fn, ms));
  return (box.handle = setTimeout(() => longTimeout(box, fn, ms - NODE_TIMER_MAX_MS), NODE_TIMER_MAX_MS));
}

function period(ms: unknown): number {
  const p = Number(ms);
  if (p > MAX_INTERVAL_MS) throw new Error("Interval is too long (>100 years)");
  return p >= MIN_INTERVAL_MS ? p : MIN_INTERVAL_MS;
}

export class Interpreter {
  alive = true;
  private timers = new Map<number, EspruinoTimer>();
  private nextTimerId = 1;
  private hardwareTimers = new Set<NodeJS.Timeout>();
  private queued: (() => void)[] = [];
  private drainScheduled = false;

  /** `membrane`: into the board's realm (`this` and arguments of callbacks cross it); absent only for hardware
   * tests that drive host functions without a board */
  /** `speed`: board time per real time (BoardClock.speed); timers wait that much less real time */
  constructor(private readonly onUncaught: (error: unknown) => void, private readonly membrane?: Membrane, private readonly speed: () => number = () => 1) {}

  /** Runs JS from the firmware; an exception is reported like Espruino's "Uncaught ...", never thrown on. */
  call(fn: unknown, thisArg: unknown, args: unknown[]): void {
    if (!this.alive) return;
    try {
      if (this.membrane) this.membrane.call(fn, thisArg, args);
      else Reflect.apply(fn as Fn, thisArg, args);
    } catch (e) {
      this.onUncaught(e);
    }
  }

  /** Queues an event (socket data, emit, watch): runs after the current code, in order. */
  queue(task: () => void): void {
    if (!this.alive) return;
    this.queued.push(task);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  }

  private drain = (): void => {
    this.drainScheduled = false;
    const tasks = this.queued;
    this.queued = [];
    for (let i = 0; i < tasks.length && this.alive; i++) tasks[i]();
  };

  /** A timer of the emulated hardware (not visible to the firmware), cancelled by kill(). */
  hardwareTimeout(fn: () => void, ms: number): NodeJS.Timeout {
    const h = setTimeout(() => {
      this.hardwareTimers.delete(h);
      if (this.alive) fn();
    }, Math.max(0, ms / this.speed()));
    this.hardwareTimers.add(h);
    return h;
  }

  cancelHardwareTimeout(h: NodeJS.Timeout): void {
    clearTimeout(h);
    this.hardwareTimers.delete(h);
  }

  setTimer(fn: unknown, ms: unknown, args: unknown[], repeat: boolean): number {
    if (typeof fn !== "function") {
      if (typeof fn === "string") throw new NotEmulatedError(`${repeat ? "setInterval" : "setTimeout"} with a string of code`);
      throw new Error("Function or String not supplied!");
    }
    const p = period(ms);
    const id = this.nextTimerId++;
    const timer: EspruinoTimer = { handle: undefined as unknown as NodeJS.Timeout, fn: fn as Fn, args, interval: repeat ? p : undefined };
    this.arm(id, timer, p / this.speed());
    this.timers.set(id, timer);
    return id;
  }

  /** clearTimeout/clearInterval: no argument clears all; an explicit undefined throws (Espruino guards it). */
  clearTimer(args: unknown[], kind: "Timeout" | "Interval"): void {
    if (args.length === 0) {
      for (const t of this.timers.values()) clearTimeout(t.handle);
      this.timers.clear();
      return;
    }
    const id = args[0];
    if (id === undefined) throw new Error(`clear${kind}(undefined) not allowed. Use clear${kind}() instead`);
    const t = this.timers.get(id as number);
    if (t) {
      clearTimeout(t.handle);
      this.timers.delete(id as number);
    }
  }

  changeInterval(id: unknown, ms: unknown): void {
    const t = this.timers.get(id as number);
    if (!t || t.interval === undefined) throw new Error("Unknown Interval");
    t.interval = period(ms);
    clearTimeout(t.handle);
    this.arm(id as number, t, t.interval / this.speed());
  }

  private arm(id: number, t: EspruinoTimer, realMs: number): void {
    t.due = performance.now() + realMs;
    longTimeout(t, () => this.fire(id, t), realMs);
  }

  /** The board's clock changed speed: pending timers keep their board-time deadlines. */
  rescale(oldSpeed: number, newSpeed: number): void {
    const now = performance.now();
    for (const [id, t] of this.timers) {
      clearTimeout(t.handle);
      this.arm(id, t, Math.max(0, ((t.due ?? now) - now) * oldSpeed / newSpeed));
    }
  }

  private fire(id: number, t: EspruinoTimer): void {
    if (!this.alive || this.timers.get(id) !== t) return;
    if (t.interval === undefined) this.timers.delete(id);
    else this.arm(id, t, t.interval / this.speed());
    this.call(t.fn, undefined, t.args);
  }

  /** Timers the firmware has pending (for status and tests). */
  get timerCount(): number {
    return this.timers.size;
  }

  /** Reset or power-off: nothing of this run executes again. */
  kill(): void {
    this.alive = false;
    for (const t of this.timers.values()) clearTimeout(t.handle);
    this.timers.clear();
    for (const h of this.hardwareTimers) clearTimeout(h);
    this.hardwareTimers.clear();
    this.queued = [];
  }
}
