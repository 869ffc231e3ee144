// A fake board for app tests: FakeClock, in-memory Storage (JSON round trip like Espruino's), scripted Wi-Fi,
// and a virtual DHT on the data pin answering each start pulse with an edge train for its current values.
import { createHash } from "node:crypto";
import type { Hal, KeyValueStore, Pins, StorageFile, WatchEvent, Wifi } from "../../../firmware/hal/hal";
import { openStorageFile, VirtualFlash } from "../../../sim/board/storage";
import type { Clock } from "../../../firmware/hal/hal";
import { FakeClock } from "../../support/fakeClock";
import { train42, watchEvents, withChecksum } from "../dht/dhtFrames";

/** JSON files in `files`; StorageFiles (the spill) on the simulator's flash emulation, whose `writes` count flash writes. */
export class MemoryStore implements KeyValueStore {
  files: Record<string, string> = {};
  flash: VirtualFlash;
  constructor(capacity?: number) {
    this.flash = new VirtualFlash(null, capacity);
  }
  readJSON(name: string): unknown {
    const text = this.files[name];
    return text === undefined ? undefined : JSON.parse(text);
  }
  writeJSON(name: string, value: unknown): void {
    this.files[name] = JSON.stringify(value);
  }
  open(name: string, mode: "r" | "a"): StorageFile {
    return openStorageFile(this.flash, name, mode);
  }
  list(match: RegExp): string[] {
    return Object.keys(this.files).concat(this.flash.names()).filter((n) => match.test(n));
  }
  getFree(): number {
    let json = 0;
    for (const k in this.files) json += this.files[k].length + 32;
    return this.flash.free - json;
  }
  compact(): void {
    this.flash.compact();
  }
}

/** DHT22 bytes for values (sign-magnitude negative temperatures). */
export function dht22Bytes(temperature: number, humidity: number): number[] {
  const rh = Math.round(humidity * 10);
  const t = Math.round(Math.abs(temperature) * 10) | (temperature < 0 ? 0x8000 : 0);
  return withChecksum(rh >> 8, rh & 255, t >> 8, t & 255);
}

export class FakeDht {
  temperature = 21.5;
  humidity = 40;
  /** "silent": no answer (timeout); "garbled": one bit flipped (checksum) */
  fault: "silent" | "garbled" | null = null;
  starts = 0;
  /** the GPIO the firmware used for every pin call of the DHT reader */
  pinsUsed: number[] = [];
  /** the data pin: the first one given a pinMode (the reader sets it before each start pulse; an output pin never gets one) */
  dataPin: number | null = null;
  /** levels written to other pins (the thermostat's relay), each with the clock's time */
  outputs: { pin: number; level: number; at: number }[] = [];
  constructor(private clock: Clock) {}
  /** the level last written to `pin` by digitalWrite (undefined: never written) */
  level(pin: number): number | undefined {
    for (let i = this.outputs.length - 1; i >= 0; i--) if (this.outputs[i].pin === pin) return this.outputs[i].level;
    return undefined;
  }
  /** Espruino's pin functions with this sensor on the data line. */
  pins(): Pins {
    let onEdge: ((e: WatchEvent) => void) | null = null;
    return {
      pinMode: (pin, mode) => {
        if (this.dataPin === null) this.dataPin = pin;
        this.pinsUsed.push(pin);
        if (mode !== "input_pullup") return;
        // released after the start pulse: the sensor answers within 5 ms
        const edges = train42(dht22Bytes(this.temperature, this.humidity));
        if (this.fault === "garbled") edges[25] = edges[25] === 70 ? 27 : 70;
        if (this.fault !== "silent") this.clock.setTimeout(() => { for (const e of watchEvents(edges, this.clock.now() / 1000)) if (onEdge) onEdge(e); }, 5);
      },
      digitalWrite: (pin, level) => {
        if (pin !== this.dataPin) return void this.outputs.push({ pin, level, at: this.clock.now() });
        this.pinsUsed.push(pin);
        this.starts++;
      },
      setWatch: (cb, pin) => { this.pinsUsed.push(pin); onEdge = cb; return 1; },
      clearWatch: () => { onEdge = null; },
    };
  }
}

/** Espruino's Wifi module, scripted: connect answers at once with `nextResult`, then fires "connected". */
export class FakeWifi implements Wifi {
  handlers: Record<string, () => void> = {};
  connects: string[] = [];
  /** result of the next connect calls: null = success */
  nextResult: string | null = null;
  /** [server, zone] per setSNTP call */
  sntp: string[][] = [];
  address = "192.168.1.50";
  connect(ssid: string, options: { password: string }, cb: (err: unknown) => void): void {
    this.connects.push(ssid + "/" + options.password);
    const err = this.nextResult;
    cb(err);
    if (!err) this.fire("connected");
  }
  on(event: string, fn: () => void): void { this.handlers[event] = fn; }
  fire(event: string): void { if (this.handlers[event]) this.handlers[event](); }
  getIP(): { ip: string } { return { ip: this.address }; }
  setSNTP(server: string, zone: string): void { this.sntp.push([server, zone]); }
}

/** What the board-level functions (E.reboot, TelnetServer, console.log) saw, and the id the board reports. */
export class FakeBoard {
  restarts = 0;
  /** TelnetServer.setOptions modes */
  telnet: string[] = [];
  logs: string[] = [];
  constructor(public deviceId = "esp32-30aea40b1c2d") {}
}

export interface FakeBoardSet {
  hal: Hal;
  clock: FakeClock;
  storage: MemoryStore;
  wifi: FakeWifi;
  board: FakeBoard;
  dht: FakeDht;
  /** Unix ms once "SNTP" set it */
  unix: { offset: number | null };
}

/** The board-level part of a Hal (everything but clock, sockets, storage, Wi-Fi and pins). */
export function boardFunctions(board: FakeBoard) {
  return {
    telnet_: { setOptions: (o: { mode: string }) => { board.telnet.push(o.mode); } },
    deviceId_: () => board.deviceId,
    reboot_: () => { board.restarts++; },
    memory_: () => ({ free: 9000, usage: 3000, total: 12000 }),
    // crypto.SHA256: an ArrayBuffer of exactly the digest
    sha256_: (data: Uint8Array) => new Uint8Array(createHash("sha256").update(data).digest()).buffer,
    log_: (m: string) => { board.logs.push(m); },
  };
}

export function fakeHal(opts: { storage?: MemoryStore; clockStart?: number } = {}): FakeBoardSet {
  const clock = new FakeClock(opts.clockStart ?? 0);
  const storage = opts.storage ?? new MemoryStore();
  const wifi = new FakeWifi();
  const board = new FakeBoard();
  const dht = new FakeDht(clock);
  const unix = { offset: null as number | null };
  const hal: Hal = Object.assign(dht.pins(), boardFunctions(board), {
    clock_: clock,
    // getTime(): seconds since boot until "SNTP" sets the clock
    time_: () => (unix.offset === null ? clock.now() : unix.offset + clock.now()) / 1000,
    sockets_: () => { throw new Error("app tests use a fake MQTT client: no sockets"); },
    storage_: storage,
    wifi_: wifi,
    random_: () => 0.5,
  });
  return { hal, clock, storage, wifi, board, dht, unix };
}
