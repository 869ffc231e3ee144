// ESP32 GPIO as Espruino drives it: pinMode / digitalWrite / digitalRead / digitalPulse / setWatch /
// clearWatch, one line level per pin shared with attached devices (the virtual DHT), and watch events with
// Espruino's {state, time, lastTime} semantics (jsinteractive.c: lastTime is updated on EVERY edge).
import type { BoardClock } from "./clock";
import type { Interpreter } from "./interpreter";
import { NotEmulatedError } from "./notEmulated";

export const PIN_COUNT = 40;
const PIN_MODES = ["analog", "input", "input_pullup", "input_pulldown", "output", "opendrain", "opendrain_pullup", "af_output", "af_opendrain"] as const;
export type PinMode = (typeof PIN_MODES)[number];

export type Level = 0 | 1;

/** Something wired to a pin besides the MCU (the DHT): told when the MCU changes what it does to the line. */
export interface LineDevice {
  /** the line as the MCU leaves it: 0 when it drives LOW, 1 when it drives HIGH or releases */
  onHostLine(level: Level, us: number): void;
}

/** A level change a device makes on the line at monotonic time `us`. */
export interface DeviceTransition {
  us: number;
  level: Level;
  /** the ESP32 missed this interrupt: the line changes but no watch event is queued */
  lost?: boolean;
}

interface PinState {
  mode: PinMode;
  /** set by pinMode(); otherwise digitalRead/Write switch the mode themselves */
  manual: boolean;
  out: Level;
  /** level the attached device forces (0) or leaves to the pull-up (1) */
  deviceLevel: Level;
  /** last level seen on the line */
  level: Level;
  device?: LineDevice;
}

interface Watch {
  pin: number;
  cb: (...args: unknown[]) => unknown;
  repeat: boolean;
  /** 1 rising, -1 falling, 0 both */
  edge: number;
  state: boolean;
  lastTime: number | undefined;
  armedUs: number;
}

function numbersOf(items: unknown[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) out.push(Number(items[i]));
  return out;
}

export class Gpio {
  private pins: PinState[] = [];
  private watches = new Map<number, Watch>();
  private nextWatchId = 1;
  private pulseUntilUs: number[] = [];

  constructor(
    private readonly rt: Interpreter,
    private readonly clock: BoardClock,
    private readonly print: (line: string) => void,
    devices: Map<number, LineDevice>,
    /** told each time the MCU drives a pin (a relay on an output pin: the thermostat), whether or not the level changed */
    private readonly onDrive?: (pin: number, level: Level) => void,
  ) {
    for (let p = 0; p < PIN_COUNT; p++) this.pins.push({ mode: "input", manual: false, out: 0, deviceLevel: 1, level: 0, device: devices.get(p) });
    for (let p = 0; p < PIN_COUNT; p++) this.pins[p].level = this.lineLevel(this.pins[p]);
  }

  private pin(pin: unknown): number {
    const n = typeof pin === "number" ? pin : NaN;
    if (!(n >= 0 && n < PIN_COUNT && Math.floor(n) === n)) throw new Error("Invalid pin");
    return n;
  }

  /** What the line shows: the MCU driving wins; otherwise the device; otherwise pulls (a DHT board has a 10k pull-up). */
  private lineLevel(s: PinState): Level {
    if (s.mode === "output" || s.mode === "af_output") return s.out;
    if ((s.mode === "opendrain" || s.mode === "opendrain_pullup" || s.mode === "af_opendrain") && s.out === 0) return 0;
    if (s.device) return s.deviceLevel;
    if (s.mode === "input_pullup" || s.mode === "opendrain_pullup") return 1;
    return 0;
  }

  private hostDrives(s: PinState): Level | null {
    if (s.mode === "output" || s.mode === "af_output") return s.out;
    if ((s.mode === "opendrain" || s.mode === "opendrain_pullup" || s.mode === "af_opendrain") && s.out === 0) return 0;
    return null;
  }

  /** Re-evaluates the line after the MCU changed mode or output at monotonic time `us`. */
  private hostChanged(p: number, us: number): void {
    const s = this.pins[p];
    const driven = this.hostDrives(s);
    if (s.device) s.device.onHostLine(driven === null ? 1 : driven, us);
    this.setLine(p, this.lineLevel(s), us);
  }

  /** `fromIdle`: the change comes from the hardware (already outside firmware code): watches run now, before
   * any timer that is also due, as Espruino's idle loop handles IO events before timers. */
  private setLine(p: number, level: Level, us: number, lost = false, fromIdle = false): void {
    const s = this.pins[p];
    if (s.level === level) return;
    s.level = level;
    if (lost) return;
    const pending: Watch[] = [];
    for (const w of this.watches.values()) if (w.pin === p && w.armedUs <= us) pending.push(w);
    if (!pending.length) return;
    if (fromIdle) this.dispatch(p, level, us, pending);
    else this.rt.queue(() => this.dispatch(p, level, us, pending));
  }

  /** Espruino's EXTI handling for one edge (jsinteractive.c, debounce 0). */
  private dispatch(p: number, level: Level, us: number, watches: Watch[]): void {
    const time = this.clock.timeAt(us);
    const high = level === 1;
    for (const [id, w] of [...this.watches.entries()]) {
      if (watches.indexOf(w) < 0) continue;
      w.state = high;
      if (w.edge === 0 || (high && w.edge > 0) || (!high && w.edge < 0)) {
        const data = { state: high, lastTime: w.lastTime, time, pin: p };
        if (!w.repeat) this.removeWatch(id);
        this.rt.call(w.cb, undefined, [data]);
      }
      w.lastTime = time;
    }
  }

  /** A device attached to pin `p` changes the line at the given (possibly past) instants; delivered in order. */
  deviceTransitions(p: number, transitions: DeviceTransition[]): void {
    if (!transitions.length) return;
    const last = transitions[transitions.length - 1].us;
    const apply = () => {
      const s = this.pins[p];
      for (const t of transitions) {
        s.deviceLevel = t.level;
        this.setLine(p, this.lineLevel(s), t.us, t.lost, true);
      }
    };
    const delayMs = (last - this.clock.micros()) / 1000;
    this.rt.hardwareTimeout(apply, Math.ceil(delayMs) + 1);
  }

  pinMode(pin: unknown, mode: unknown, automatic: unknown): void {
    const p = this.pin(pin);
    const s = this.pins[p];
    if (mode === undefined || mode === "auto") {
      s.manual = false;
      return;
    }
    if (typeof mode !== "string" || PIN_MODES.indexOf(mode as PinMode) < 0) throw new Error("Unknown pin mode");
    if (mode === "analog" || mode.startsWith("af_")) throw new NotEmulatedError(`pinMode(pin, "${mode}")`);
    s.manual = !automatic;
    s.mode = mode as PinMode;
    this.hostChanged(p, this.clock.micros());
  }

  getPinMode(pin: unknown): PinMode {
    return this.pins[this.pin(pin)].mode;
  }

  digitalWrite(pin: unknown, value: unknown): void {
    if (Array.isArray(pin)) throw new NotEmulatedError("digitalWrite with an array of pins");
    const p = this.pin(pin);
    this.write(p, value ? 1 : 0, this.clock.micros());
  }

  private write(p: number, v: Level, us: number): void {
    const s = this.pins[p];
    if (!s.manual) s.mode = "output";
    s.out = v;
    this.hostChanged(p, us);
    if (this.onDrive && this.hostDrives(s) !== null) this.onDrive(p, s.level);
  }

  /** the level on a pin's line now (what a relay wired to it sees) */
  level(pin: number): Level {
    return this.pins[this.pin(pin)].level;
  }

  digitalRead(pin: unknown): number {
    if (Array.isArray(pin)) throw new NotEmulatedError("digitalRead with an array of pins");
    const p = this.pin(pin);
    const s = this.pins[p];
    if (!s.manual && s.mode !== "input") {
      s.mode = "input";
      this.hostChanged(p, this.clock.micros());
    }
    return s.level;
  }

  /** Pulses with exact intended edge times (a hardware timer on the device), applied as Node timers fire. */
  digitalPulse(pin: unknown, value: unknown, times: unknown): void {
    const p = this.pin(pin);
    const now = this.clock.micros();
    const busyUntil = this.pulseUntilUs[p] ?? 0;
    // an index loop, not times.map(Number): the board's Array.prototype.map must never get a host function
    const list = typeof times === "number" ? [times] : Array.isArray(times) ? numbersOf(times) : null;
    if (!list) throw new Error(`Expecting Number or Array, got ${typeof times}`);
    if (list.length === 1 && list[0] === 0) {
      if (busyUntil > now) throw new NotEmulatedError("digitalPulse(pin, value, 0) waiting for a running pulse");
      return;
    }
    let v: Level = value ? 1 : 0;
    let at = busyUntil > now ? busyUntil : now;
    if (busyUntil <= now) this.write(p, v, now);
    for (const ms of list) {
      if (!(ms >= 0)) throw new Error("Pulse Time is less than 0 or not a number");
      at += ms * 1000;
      const edgeAt = at;
      const next: Level = v === 1 ? 0 : 1;
      this.rt.hardwareTimeout(() => this.write(p, next, edgeAt), (edgeAt - this.clock.micros()) / 1000);
      v = next;
    }
    this.pulseUntilUs[p] = at;
  }

  setWatch(cb: unknown, pin: unknown, options: unknown): number | undefined {
    let p: number;
    try {
      p = this.pin(pin);
    } catch {
      this.print("ERROR: Invalid pin");
      return undefined;
    }
    if (p >= 6 && p <= 12) {
      this.print("WARNING: Unable to set watch. You may already have a watch on a pin with the same number (eg. A0 and B0),\nor this pin cannot be used with watch");
      return undefined;
    }
    let repeat = false;
    let edge = 0;
    if (options && typeof options === "object") {
      const o = options as Record<string, unknown>;
      repeat = !!o.repeat;
      if (o.debounce !== undefined && Number(o.debounce) > 0) throw new NotEmulatedError("setWatch debounce");
      if (o.irq) throw new NotEmulatedError("setWatch irq");
      if (o.data !== undefined) throw new NotEmulatedError("setWatch data pin");
      if (o.edge === "rising" || o.edge === 1) edge = 1;
      else if (o.edge === "falling" || o.edge === -1) edge = -1;
      else if (o.edge === "both" || o.edge === 0 || o.edge === undefined) edge = 0;
      else throw new TypeError("'edge' in setWatch should be 1, -1, 0, 'rising', 'falling' or 'both'");
    } else repeat = !!options;
    if (typeof cb !== "function") throw new Error("Function or String not supplied!");
    const s = this.pins[p];
    const state = s.level === 1;
    const alreadyWatched = [...this.watches.values()].some((w) => w.pin === p);
    // ESP32 jshPinWatch: the pin becomes an input with pull-up BEFORE the interrupt is enabled, so a host
    // LOW ends here and that rising edge is not seen by this watch.
    const us = this.clock.micros();
    if (!alreadyWatched) {
      s.mode = "input_pullup";
      this.hostChanged(p, us);
    }
    const id = this.nextWatchId++;
    this.watches.set(id, { pin: p, cb: cb as Watch["cb"], repeat, edge, state, lastTime: undefined, armedUs: us + 0.001 });
    return id;
  }

  clearWatch(args: unknown[]): void {
    if (args.length === 0) {
      this.watches.clear();
      return;
    }
    const id = args[0];
    if (id === undefined) throw new Error("clearWatch(undefined) not allowed. Use clearWatch() instead");
    if (!this.watches.has(id as number)) throw new Error(`Unknown Watch ${String(id)}`);
    this.removeWatch(id as number);
  }

  private removeWatch(id: number): void {
    this.watches.delete(id);
  }

  get watchCount(): number {
    return this.watches.size;
  }
}
