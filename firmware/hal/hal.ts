// The device's hardware abstraction: everything outside firmware/hal/espruino.ts and firmware/main.ts gets
// time, timers, sockets, pins, storage and Wi-Fi through these interfaces, so it runs in Node tests with fakes.

export type TimerHandle = unknown;

/** Monotonic time and timers. `now()` is ms since boot (Espruino: getTime()*1000 before the clock is set). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Wall-clock time: Unix ms once SNTP (or setTime) set it, else null. */
export interface WallClock {
  unixMs(): number | null;
}

export interface SocketHandlers {
  onConnect(): void;
  /** bytes as they arrive, in arbitrary chunks */
  onData(data: Uint8Array): void;
  /** called once, whatever closed the socket (peer, error, or our close()) */
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

/** One GPIO as the DHT reader needs it. */
export interface DhtPinIo {
  /** drive the line low (start pulse) */
  driveLow(): void;
  /** release the line: input with pull-up */
  release(): void;
  /** watch falling edges; `highUs` is the time the line was HIGH before this edge, in microseconds */
  watchFalling(onEdge: (highUs: number) => void): TimerHandle;
  clearWatch(handle: TimerHandle): void;
}

/** Persistent key-value storage (Espruino Storage: names <= 28 chars). */
export interface KeyValueStore {
  readJSON(name: string): unknown;
  writeJSON(name: string, value: unknown): void;
  erase(name: string): void;
}

export interface WifiEvents {
  onConnected(): void;
  onDisconnected(): void;
}

export interface Wifi {
  connect(ssid: string, password: string, cb: (err: string | null) => void): void;
  /** register for link events (connect, drop) */
  listen(events: WifiEvents): void;
  /** current IP, or null */
  ip(): string | null;
  /** ask SNTP to set the wall clock */
  startSntp(server: string): void;
}

/** Board-level services. */
export interface Board {
  /** MAC / serial used for the device id */
  serial(): string;
  restart(): void;
  /** JsVars free/total, when known */
  memory(): { free: number; total: number } | null;
  /** switch the Wi-Fi telnet console on or off */
  setTelnet(on: boolean): void;
  log(message: string): void;
}

/** Everything the app is handed at boot by its composition root. */
export interface Hal {
  clock: Clock;
  wallClock: WallClock;
  sockets: SocketFactory;
  dhtPin(pin: number): DhtPinIo;
  storage: KeyValueStore;
  wifi: Wifi;
  board: Board;
  random(): number;
}
