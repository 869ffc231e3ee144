// A fake board for app tests: FakeClock, in-memory Storage (JSON round trip like Espruino's), scripted Wi-Fi,
// and a virtual DHT on the data pin answering each start pulse with an edge train for its current values.
import type { Board, DhtPinIo, Hal, KeyValueStore, Wifi, WifiEvents } from "../../../firmware/hal/hal";
import type { Clock } from "../../../firmware/hal/hal";
import { FakeClock } from "../../support/fakeClock";
import { train42, withChecksum } from "../dht/dhtFrames";

export class MemoryStore implements KeyValueStore {
  files: Record<string, string> = {};
  readJSON(name: string): unknown {
    const text = this.files[name];
    return text === undefined ? undefined : JSON.parse(text);
  }
  writeJSON(name: string, value: unknown): void {
    this.files[name] = JSON.stringify(value);
  }
  erase(name: string): void {
    delete this.files[name];
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
  constructor(private clock: Clock) {}
  pin(): DhtPinIo {
    let onEdge: ((us: number) => void) | null = null;
    return {
      driveLow: () => { this.starts++; },
      release: () => {
        const edges = train42(dht22Bytes(this.temperature, this.humidity));
        if (this.fault === "garbled") edges[25] = edges[25] === 70 ? 27 : 70;
        if (this.fault !== "silent") this.clock.setTimeout(() => { for (const us of edges) if (onEdge) onEdge(us); }, 5);
      },
      watchFalling: (cb) => { onEdge = cb; return 1; },
      clearWatch: () => { onEdge = null; },
    };
  }
}

export class FakeWifi implements Wifi {
  events: WifiEvents | null = null;
  connects: string[] = [];
  /** result of the next connect calls: null = success */
  nextResult: string | null = null;
  sntp: string[] = [];
  address: string | null = "192.168.1.50";
  connect(ssid: string, password: string, cb: (err: string | null) => void): void {
    this.connects.push(ssid + "/" + password);
    const err = this.nextResult;
    cb(err);
    if (!err && this.events) this.events.onConnected();
  }
  listen(events: WifiEvents): void { this.events = events; }
  ip(): string | null { return this.address; }
  startSntp(server: string): void { this.sntp.push(server); }
}

export class FakeBoard implements Board {
  restarts = 0;
  telnet: boolean[] = [];
  logs: string[] = [];
  constructor(public mac = "30aea40b-1c2d") {}
  serial(): string { return this.mac; }
  restart(): void { this.restarts++; }
  memory() { return { free: 9000, total: 12000 }; }
  setTelnet(on: boolean): void { this.telnet.push(on); }
  log(message: string): void { this.logs.push(message); }
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

export function fakeHal(opts: { storage?: MemoryStore; clockStart?: number } = {}): FakeBoardSet {
  const clock = new FakeClock(opts.clockStart ?? 0);
  const storage = opts.storage ?? new MemoryStore();
  const wifi = new FakeWifi();
  const board = new FakeBoard();
  const dht = new FakeDht(clock);
  const unix = { offset: null as number | null };
  const hal: Hal = {
    clock,
    wallClock: { unixMs: () => (unix.offset === null ? null : unix.offset + clock.now()) },
    sockets: () => { throw new Error("app tests use a fake MQTT client: no sockets"); },
    dhtPin: () => dht.pin(),
    storage,
    wifi,
    board,
    random: () => 0.5,
  };
  return { hal, clock, storage, wifi, board, dht, unix };
}
