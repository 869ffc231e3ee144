// What the Espruino 2v29 ESP32 build has and lacks (docs/espruino.md). The one home of these facts: the
// firmware build's checks and the simulator's board globals are both derived from them.

/** Modules compiled into the ESP32 build (boards/ESP32.py libraries): resolved on the device, never bundled. */
export const ESPRUINO_BUILTIN_MODULES = [
  "Wifi", "ESP32", "net", "dgram", "http", "tls", "crypto", "TelnetServer", "Storage", "Flash", "fs", "neopixel", "heatshrink",
];

/** Global names the interpreter does not define. */
export const MISSING_GLOBALS = [
  "Map", "Set", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry", "Symbol", "Proxy", "Reflect", "BigInt",
  "BigInt64Array", "BigUint64Array", "Intl", "WebAssembly", "SharedArrayBuffer", "Atomics", "AggregateError",
];

/** Static members (`Global.member`) the interpreter does not define. */
export const MISSING_STATIC_MEMBERS = [
  "Array.from", "Array.of", "Math.trunc", "Math.sign", "Number.isInteger", "Number.isFinite", "Number.isNaN", "Object.freeze",
  "Object.fromEntries", "Promise.race", "Promise.allSettled", "Promise.any", "String.raw",
];

/** Prototype methods (`Global.prototype.method`) the interpreter does not define. */
export const MISSING_PROTOTYPE_METHODS = ["Array.prototype.flat", "Array.prototype.flatMap", "Promise.prototype.finally"];

/** Espruino's own globals: on the device only the Espruino HAL and the entry may name them. */
export const ESPRUINO_GLOBALS = [
  "require", "E", "getTime", "setTime", "setWatch", "clearWatch", "pinMode", "digitalWrite", "digitalRead", "getSerial",
  "process", "ESP32", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "load", "reset", "save",
];

/** Everything a board's JavaScript realm must not offer: globals, then dotted members, as `delete` targets. */
export function missingOnEspruino(): string[] {
  return MISSING_GLOBALS.concat(MISSING_STATIC_MEMBERS, MISSING_PROTOTYPE_METHODS);
}
