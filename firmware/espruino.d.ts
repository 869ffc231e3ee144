// Declarations @types/espruino 1.95 lacks or gets wrong (from the Espruino 2v29 reference). Device code only.

/** Loads a built-in module (Wifi, Storage, net, tls, ESP32, TelnetServer). */
declare function require(name: string): any;
declare function setTimeout(fn: () => void, ms: number): any;
declare function clearTimeout(id: any): void;
declare function setInterval(fn: () => void, ms: number): any;
declare function clearInterval(id: any): void;
/** pinMode with the optional third argument. */
declare function pinMode(pin: Pin | number, mode: string): void;
declare function digitalWrite(pin: Pin | number, value: number | boolean): void;
/** setWatch on a GPIO number (ESP32 pins are numbers: D4 === 4). */
declare function setWatch(fn: (e: { time: number; lastTime: number }) => void, pin: number, options: { repeat?: boolean; edge?: "rising" | "falling" | "both" }): any;
declare namespace E {
  function toUint8Array(s: string): Uint8Array;
  function toString(a: Uint8Array): string;
  function reboot(): void;
  /** "init" runs at boot, "kill" before reset()/load()/save() */
  function on(event: "init" | "kill", fn: () => void): void;
}
declare const ESP32: { reboot(): void; getState(): { freeHeap: number } } | undefined;
declare const process: { memory(): { free: number; usage: number; total: number }; env: { VERSION: string } };
declare const console: { log(message: string): void };
/** Object.assign: Espruino has it (docs/espruino.md section 1); lib ES5 does not declare it. */
interface ObjectConstructor {
  assign<T extends {}, U>(target: T, source: U): T & U;
  assign<T extends {}, U, V>(target: T, source1: U, source2: V): T & U & V;
}
