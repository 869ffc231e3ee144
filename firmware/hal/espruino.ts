// The HAL on a real Espruino ESP32 (2v27+). With firmware/main.ts, the ONLY code that names Espruino globals.
//
// Espruino APIs the firmware calls (the simulator emulates exactly these):
//   getTime()                                   seconds since boot, Unix seconds once SNTP/setTime set the clock
//   setTimeout(fn, ms), clearTimeout(id)           (ms <= 0: Espruino clamps it to its minimum interval)
//   require("net").connect({host, port, tls}, cb)   } socket: .on("data" | "close" | "error", fn), .write(string), .end()
//   require("tls").connect({host, port, tls}, cb)   } (data in and out as 8-bit strings; `tls` is ignored)
//   E.toString(Uint8Array), E.toUint8Array(string)
//   pinMode(pin, "output" | "input_pullup"), digitalWrite(pin, 0)
//   setWatch(fn, pin, {repeat: true, edge: "falling"}) -> fn({time, lastTime}), clearWatch(id)
//   require("Storage").readJSON(name) (undefined when missing, throws when not JSON), .writeJSON(name, value)
//   require("Wifi").connect(ssid, {password}, cb(err)), .on("connected" | "disconnected", fn),
//     .getIP() -> {ip}, .setSNTP(server, "UTC0")
//   getSerial()
//   process.memory() -> {free, total}
//   require("TelnetServer").setOptions({mode: "on" | "off"})
//   E.reboot() (esp_restart() on the ESP32)
//   console.log(string)
//   E.on("init", fn), E.on("kill", fn)           (firmware/main.ts)
import type { Hal } from "./hal";

/** A getTime() step this large is the clock being set (boot-relative -> Unix), not time passing. */
const CLOCK_SET_STEP_S = 1e8;
/** getTime() above this (2020) is wall-clock time. */
const UNIX_2020_S = 1.577e9;

export function createEspruinoHal(): Hal {
  const w = require("Wifi");
  // ms since boot that keeps running smoothly when SNTP sets the clock; a clock already set (kept across a
  // soft reset) says nothing about uptime: start from 0 then
  let lastRaw = getTime();
  let ms = lastRaw < UNIX_2020_S ? lastRaw * 1000 : 0;
  return {
    clock: {
      now() {
        const raw = getTime();
        const d = raw - lastRaw;
        lastRaw = raw;
        if (d > 0 && d < CLOCK_SET_STEP_S) ms += d * 1000;
        return ms;
      },
      setTimeout,
      clearTimeout,
    },
    wallClock: {
      unixMs() {
        const t = getTime();
        return t > UNIX_2020_S ? Math.round(t * 1000) : null;
      },
    },
    sockets: (target, handlers) => {
      let closed = false;
      const onClose = () => {
        if (!closed) {
          closed = true;
          handlers.onClose();
        }
      };
      // connect reads host and port (tls also ignores the extra `tls` field)
      const s = require(target.tls ? "tls" : "net").connect(target, () => handlers.onConnect());
      s.on("data", (d: string) => handlers.onData(E.toUint8Array(d)));
      s.on("error", (e: any) => handlers.onError("" + ((e && e.message) || e)));
      s.on("close", onClose);
      return {
        write: (data) => s.write(E.toString(data)),
        close() {
          s.end();
          onClose();
        },
      };
    },
    dhtPin: (pin) => ({
      driveLow() {
        pinMode(pin, "output");
        digitalWrite(pin, 0);
      },
      release: () => pinMode(pin, "input_pullup"),
      watchFalling: (onEdge) => setWatch((e: { time: number; lastTime: number }) => onEdge((e.time - e.lastTime) * 1e6), pin as any, { repeat: true, edge: "falling" }),
      clearWatch,
    }),
    // readJSON without noExceptions: a file that is not JSON throws, and the app reports it
    storage: require("Storage"),
    wifi: {
      connect: (ssid, password, cb) => w.connect(ssid, { password }, (err: unknown) => cb(err ? "" + err : null)),
      listen(events) {
        w.on("connected", () => events.onConnected());
        w.on("disconnected", () => events.onDisconnected());
      },
      ip() {
        const ip = w.getIP().ip;
        return ip && ip !== "0.0.0.0" ? ip : null;
      },
      // the ESP32 build wants a POSIX TZ string: a number throws "Zone is not a string" (jswrap_esp32_network.c)
      startSntp: (server) => w.setSNTP(server, "UTC0"),
    },
    board: {
      serial: getSerial,
      restart: E.reboot,
      memory() {
        const m = process.memory();
        return { free: m.free, total: m.total };
      },
      setTelnet: (on) => require("TelnetServer").setOptions({ mode: on ? "on" : "off" }),
      log: console.log,
    },
    random: Math.random,
  };
}
