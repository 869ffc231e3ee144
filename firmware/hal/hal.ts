// The device's hardware abstraction: everything outside firmware/hal/espruino.ts and firmware/main.ts gets
// time, timers, sockets, pins, storage and Wi-Fi through these interfaces, so it runs in Node tests with fakes.
// Besides Clock and the sockets, each is Espruino-shaped: on the device it IS the Espruino global or module
// (no wrapper code in the bundle). Hal member names end in `_`: the build shortens them in the artifact.

export type TimerHandle = unknown;

/** Espruino's getTime() above this (2020) is wall-clock time: SNTP or setTime set the clock. */
export const UNIX_2020_S = 1.577e9;

/** Monotonic time and timers. `now()` is ms since boot (Espruino: getTime()*1000 before the clock is set). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** ms since boot as a whole number, as readings and `ping` report it. */
export const uptimeMs = (clock: Clock) => Math.round(clock.now());

export interface SocketHandlers {
  onConnect(): void;
  /** bytes as they arrive, in arbitrary chunks */
  onData(data: Uint8Array): void;
  /** called once, whatever closed the socket (peer, error, or our close(): then possibly later, asynchronously) */
  onClose(): void;
  onError(message: string): void;
}

export interface Socket {
  write(data: Uint8Array): void;
  /** closes the TCP connection (no MQTT DISCONNECT is implied) */
  close(): void;
}

export interface SocketTarget {
  host: string;
  port: number;
  /** TLS (on Espruino: encrypted but the server certificate is NOT verified) */
  tls: boolean;
}

export type SocketFactory = (target: SocketTarget, handlers: SocketHandlers) => Socket;

/** A falling edge as Espruino's setWatch reports it: seconds, `time - lastTime` is the HIGH time before it. */
export interface WatchEvent {
  time: number;
  lastTime: number;
}

/** Espruino's pin functions, as the DHT reader and the thermostat's output pin use them. */
export interface Pins {
  pinMode(pin: number, mode: "output" | "input_pullup"): void;
  /** the DHT start pulse (0), the output pin (0 off, 1 on; Espruino makes the pin an output itself) */
  digitalWrite(pin: number, value: 0 | 1): void;
  setWatch(fn: (e: WatchEvent) => void, pin: number, options: { repeat: true; edge: "falling" }): TimerHandle;
  clearWatch(id: TimerHandle): void;
}

/** Espruino's Storage module (names <= 28 chars); readJSON throws on a file that is not JSON. */
export interface KeyValueStore {
  readJSON(name: string): unknown;
  writeJSON(name: string, value: unknown): void;
  /** an append-only file kept in numbered 4 KB chunks ("name\x01", ...); `name` <= 27 chars */
  open(name: string, mode: "r" | "a"): StorageFile;
  /** file names matching; a StorageFile shows as its chunk names */
  list(match: RegExp): string[];
  /** bytes left for new files (erased files count as used until compact) */
  getFree(): number;
  /** reclaims erased files' space (slow: rewrites flash pages) */
  compact(): void;
}

/** Espruino's StorageFile: data must not contain "\xFF" (erased flash marks the end); write throws when Storage is full. */
export interface StorageFile {
  write(data: string): void;
  /** `len` chars or fewer at the end; undefined at the end */
  read(len: number): string | undefined;
  /** up to and including the next "\n"; undefined at the end */
  readLine(): string | undefined;
  /** erases every chunk: the file is gone */
  erase(): void;
}

/** Espruino's Wifi module (ESP32 build). */
export interface Wifi {
  /** `options.password` (other fields are ignored); `cb(err)`: err is null/undefined on success */
  connect(ssid: string, options: { password: string }, cb: (err: unknown) => void): void;
  on(event: "connected" | "disconnected", fn: () => void): void;
  getIP(): { ip: string };
  /** asks SNTP to set the wall clock; the ESP32 build wants a POSIX TZ string ("UTC0"): a number throws */
  setSNTP(server: string, zone: string): void;
}

/** Espruino's TelnetServer module: the Wi-Fi JavaScript console on port 23. */
export interface Telnet {
  setOptions(options: { mode: "on" | "off" }): void;
}

/** Everything the app is handed at boot by its composition root. */
export interface Hal extends Pins {
  clock_: Clock;
  sockets_: SocketFactory;
  random_(): number;
  /** Espruino's getTime(): seconds since boot, Unix seconds once SNTP (or setTime) set the clock */
  time_(): number;
  storage_: KeyValueStore;
  wifi_: Wifi;
  telnet_: Telnet;
  /** the device id (topic level and MQTT client id); on Espruino derived from getSerial() */
  deviceId_(): string;
  reboot_(): void;
  /** require("crypto").SHA256: native on the ESP32 build (bytes in, ArrayBuffer out); signing builds HMAC on it */
  sha256_(data: Uint8Array): ArrayBuffer;
  /** process.memory(): JsVars free/total */
  memory_(): { free: number; total: number };
  log_(message: string): void;
}
