// The HAL on a real Espruino ESP32 (2v27+). With firmware/main.ts, the ONLY code that names Espruino globals.
//
// Espruino APIs the firmware calls (the simulator emulates exactly these):
//   getTime()                                   seconds since boot, Unix seconds once SNTP/setTime set the clock
//   setTimeout(fn, ms), clearTimeout(id)
//   require("net").connect({host, port}, cb)   } socket: .on("data" | "close" | "error", fn), .write(string), .end()
//   require("tls").connect({host, port}, cb)   } (data in and out as 8-bit strings)
//   E.toString(Uint8Array), E.toUint8Array(string)
//   pinMode(pin, "output" | "input_pullup"), digitalWrite(pin, 0)
//   setWatch(fn, pin, {repeat: true, edge: "falling"}) -> fn({time, lastTime}), clearWatch(id)
//   require("Storage").readJSON(name, true), .writeJSON(name, value), .erase(name)
//   require("Wifi").connect(ssid, {password}, cb(err)), .on("connected" | "disconnected", fn),
//     .getIP() -> {ip}, .setSNTP(server, "UTC0")
//   getSerial()
//   process.memory() -> {free, total}
//   require("TelnetServer").setOptions({mode: "on" | "off"})
//   ESP32.reboot() (E.reboot() when ESP32 is absent)
//   console.log(string)
//   E.on("init", fn), E.on("kill", fn)           (firmware/main.ts)
import type { Board, Clock, DhtPinIo, Hal, KeyValueStore, Socket, SocketFactory, Wifi } from "./hal";

/** A getTime() step this large is the clock being set (boot-relative -> Unix), not time passing. */
const CLOCK_SET_STEP_S = 1e8;
/** getTime() above this (2020) is wall-clock time. */
const UNIX_2020_S = 1.577e9;

/** ms since boot that keeps running smoothly when SNTP sets the clock. */
function monotonicClock(): Clock {
  let lastRaw = getTime();
  // a clock already set (kept across a soft reset) says nothing about uptime: start from 0 then
  let ms = lastRaw < UNIX_2020_S ? lastRaw * 1000 : 0;
  return {
    now() {
      const raw = getTime();
      const d = raw - lastRaw;
      lastRaw = raw;
      if (d > 0 && d < CLOCK_SET_STEP_S) ms += d * 1000;
      return ms;
    },
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h),
  };
}

const sockets: SocketFactory = (target, handlers) => {
  let closed = false;
  const onClose = () => {
    if (!closed) {
      closed = true;
      handlers.onClose();
    }
  };
  const s = require(target.tls ? "tls" : "net").connect({ host: target.host, port: target.port }, () => handlers.onConnect());
  s.on("data", (d: string) => handlers.onData(E.toUint8Array(d)));
  s.on("error", (e: any) => handlers.onError(String((e && e.message) || e)));
  s.on("close", onClose);
  const socket: Socket = {
    write: (data) => s.write(E.toString(data)),
    close() {
      s.end();
      onClose();
    },
  };
  return socket;
};

function dhtPin(pin: number): DhtPinIo {
  return {
    driveLow() {
      pinMode(pin, "output");
      digitalWrite(pin, 0);
    },
    release: () => pinMode(pin, "input_pullup"),
    watchFalling: (onEdge) => setWatch((e: { time: number; lastTime: number }) => onEdge((e.time - e.lastTime) * 1e6), pin as any, { repeat: true, edge: "falling" }),
    clearWatch: (h) => clearWatch(h),
  };
}

function storage(): KeyValueStore {
  const s = require("Storage");
  return {
    readJSON: (name) => s.readJSON(name, true),
    writeJSON: (name, value) => { s.writeJSON(name, value); },
    erase: (name) => { s.erase(name); },
  };
}

function wifi(): Wifi {
  const w = require("Wifi");
  return {
    connect: (ssid, password, cb) => w.connect(ssid, { password }, (err: unknown) => cb(err ? String(err) : null)),
    listen(events) {
      w.on("connected", () => events.onConnected());
      w.on("disconnected", () => events.onDisconnected());
    },
    ip() {
      const info = w.getIP();
      return info && info.ip && info.ip !== "0.0.0.0" ? info.ip : null;
    },
    // the ESP32 build wants a POSIX TZ string: a number throws "Zone is not a string" (jswrap_esp32_network.c)
    startSntp: (server) => w.setSNTP(server, "UTC0"),
  };
}

const board: Board = {
  serial: () => getSerial(),
  restart: () => (typeof ESP32 !== "undefined" && ESP32 ? ESP32.reboot() : E.reboot()),
  memory() {
    const m = process.memory();
    return { free: m.free, total: m.total };
  },
  setTelnet: (on) => require("TelnetServer").setOptions({ mode: on ? "on" : "off" }),
  log: (message) => console.log(message),
};

export function createEspruinoHal(): Hal {
  return {
    clock: monotonicClock(),
    wallClock: {
      unixMs() {
        const t = getTime();
        return t > UNIX_2020_S ? Math.round(t * 1000) : null;
      },
    },
    sockets,
    dhtPin,
    storage: storage(),
    wifi: wifi(),
    board,
    random: () => Math.random(),
  };
}
