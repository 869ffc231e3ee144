// Espruino's global functions and objects (E, process, console, getTime, setWatch, ...), bound to one board.
import { bytesToString, flattenToBytes } from "./eightBit";
import type { BoardClock } from "./clock";
import type { Gpio } from "./gpio";
import type { Interpreter } from "./interpreter";
import { EspruinoEmitter } from "./emitter";
import { notEmulatedFunction, strict } from "./notEmulated";
import { Realm, realmBytes } from "./realm";

export interface GlobalsHost {
  rt: Interpreter;
  clock: BoardClock;
  gpio: Gpio;
  realm(): Realm;
  require(name: unknown): unknown;
  serial: string;
  print(text: string): void;
  reboot(): void;
  /** reset(): a fresh interpreter that does not run saved code */
  softReset(): void;
  /** load(file): a fresh interpreter running a Storage file */
  load(file?: string): void;
  /** E's own events ('init', ...) */
  E: EspruinoEmitter;
  hwRandom(): number;
}

/** Espruino globals this simulator does not emulate: calling one throws, naming it. */
const NOT_EMULATED_GLOBALS = [
  "analogRead", "analogWrite", "shiftOut", "peek8", "peek16", "peek32", "poke8", "poke16", "poke32", "setDeepSleep",
  "setSleepIndicator", "setBusyIndicator", "save", "dump", "edit", "echo", "trace",
];
const NOT_EMULATED_OBJECTS = ["I2C1", "SPI1", "SPI2", "Serial1", "Serial2", "Serial3", "LoopbackA", "LoopbackB", "Bluetooth", "NRF", "Pin"];

/** Espruino prints values roughly as JSON; strings bare. */
export function formatForConsole(args: unknown[]): string {
  return args
    .map((a) => {
      if (typeof a === "string") return a;
      if (a === undefined) return "undefined";
      if (typeof a === "function") return "function () { ... }";
      try {
        return JSON.stringify(a) ?? String(a);
      } catch {
        return String(a);
      }
    })
    .join(" ");
}

export function espruinoGlobals(h: GlobalsHost): Record<string, unknown> {
  const print = (...args: unknown[]) => h.print(formatForConsole(args));
  const E = strict("E", {
    toString: (...args: unknown[]) => bytesToString(Uint8Array.from(flattenToBytes(args, "E.toString"))),
    toUint8Array: (...args: unknown[]) => realmBytes(h.realm(), flattenToBytes(args, "E.toUint8Array")),
    toArrayBuffer: (s: unknown) => realmBytes(h.realm(), flattenToBytes([String(s)], "E.toArrayBuffer")).buffer,
    on: (event: string, fn: (...a: unknown[]) => unknown) => { h.E.on(event, fn); return E; },
    removeListener: (event: string, fn: (...a: unknown[]) => unknown) => { h.E.removeListener(event, fn); return E; },
    emit: (event: string, ...args: unknown[]) => h.E.emit(event, ...args),
    reboot: () => h.reboot(),
    hwRand: () => h.hwRandom(),
    getErrorFlags: () => h.realm().JSON.parse("[]"),
  });
  h.E.face = E;
  const process = strict("process", {
    version: "2v29",
    env: strict("process.env", { VERSION: "2v29", BOARD: "ESP32", CONSOLE: "Serial1", MODULES: "Wifi,ESP32,net,dgram,http,tls,crypto,TelnetServer,Storage,Flash,fs,neopixel,heatshrink" }),
    // not a measurement: the simulator cannot count JsVars; figures in the range of the real build
    memory: () => h.realm().JSON.parse(JSON.stringify({ free: 12400, usage: 2600, total: 15000, history: 0, gc: 0, gctime: 0, blocksize: 14 })),
  });
  const consoleObj = strict("console", { log: print, info: print, warn: print, error: print, debug: print });
  const globals: Record<string, unknown> = {
    getTime: () => h.clock.getTime(),
    setTime: (t: unknown) => h.clock.setTime(Number(t)),
    getSerial: () => h.serial,
    setTimeout: (fn: unknown, ms: unknown, ...args: unknown[]) => h.rt.setTimer(fn, ms, args, false),
    setInterval: (fn: unknown, ms: unknown, ...args: unknown[]) => h.rt.setTimer(fn, ms, args, true),
    clearTimeout: (...args: unknown[]) => h.rt.clearTimer(args, "Timeout"),
    clearInterval: (...args: unknown[]) => h.rt.clearTimer(args, "Interval"),
    changeInterval: (id: unknown, ms: unknown) => h.rt.changeInterval(id, ms),
    setWatch: (fn: unknown, pin: unknown, opts: unknown) => h.gpio.setWatch(fn, pin, opts),
    clearWatch: (...args: unknown[]) => h.gpio.clearWatch(args),
    digitalWrite: (pin: unknown, v: unknown) => h.gpio.digitalWrite(pin, v),
    digitalRead: (pin: unknown) => h.gpio.digitalRead(pin),
    digitalPulse: (pin: unknown, v: unknown, t: unknown) => h.gpio.digitalPulse(pin, v, t),
    pinMode: (pin: unknown, mode: unknown, auto: unknown) => h.gpio.pinMode(pin, mode, auto),
    getPinMode: (pin: unknown) => h.gpio.getPinMode(pin),
    require: (name: unknown) => h.require(name),
    print,
    console: consoleObj,
    E,
    process,
    // the espruino CLI sends Storage files base64-encoded: require("Storage").write(name, atob("..."), 0, n)
    atob: (s: unknown) => Buffer.from(String(s), "base64").toString("latin1"),
    btoa: (s: unknown) => Buffer.from(String(s), "latin1").toString("base64"),
    reset: () => h.softReset(),
    load: (file?: unknown) => h.load(file === undefined ? undefined : String(file)),
  };
  for (let p = 0; p < 40; p++) globals["D" + p] = p;
  for (const name of NOT_EMULATED_GLOBALS) globals[name] = notEmulatedFunction(name);
  for (const name of NOT_EMULATED_OBJECTS) globals[name] = strict(name, {});
  return globals;
}
