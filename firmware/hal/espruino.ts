// The HAL on a real Espruino ESP32 (2v27+). With firmware/main.ts, the ONLY code that names Espruino globals.
//
// Espruino APIs the firmware calls (the simulator emulates exactly these):
//   getTime()                                   seconds since boot, Unix seconds once SNTP/setTime set the clock
//   setTimeout(fn, ms), clearTimeout(id)           (ms <= 0: Espruino clamps it to its minimum interval)
//   require("net").connect({host, port, tls}, cb)   } socket: .on("data" | "close" | "error", fn), .write(string), .end()
//   require("tls").connect({host, port, tls}, cb)   } (data in and out as 8-bit strings; `tls` is ignored)
//   E.toString(Uint8Array), E.toUint8Array(string)
//   pinMode(pin, "output" | "input_pullup"), digitalWrite(pin, 0 | 1)
//   setWatch(fn, pin, {repeat: true, edge: "falling"}) -> fn({time, lastTime}), clearWatch(id)
//   require("Storage").readJSON(name) (undefined when missing, throws when not JSON), .writeJSON(name, value),
//     .open(name, "r" | "a") -> StorageFile .write(string), .read(len), .erase(); .list(regex), .getFree(), .compact()
//   require("Wifi").connect(ssid, {ssid, password}, cb(err)), .on("connected" | "disconnected", fn),
//     .getIP() -> {ip}, .setSNTP(server, "UTC0")
//   getSerial()
//   require("crypto").SHA256(Uint8Array) -> ArrayBuffer
//   process.memory() -> {free, total}
//   require("TelnetServer").setOptions({mode: "on" | "off"})
//   E.reboot() (esp_restart() on the ESP32)
//   console.log(string)
//   E.on("init", fn), E.on("kill", fn)           (firmware/main.ts)
import { deviceIdFromSerial } from "./deviceId";
import { Hal, UNIX_2020_S } from "./hal";

export function createEspruinoHal(): Hal {
  // ms since boot that keeps running smoothly when SNTP sets the clock; a clock already set (kept across a
  // soft reset) says nothing about uptime: start from 0 then
  let lastRaw = getTime();
  let ms = lastRaw < UNIX_2020_S ? lastRaw * 1000 : 0;
  return {
    clock_: {
      now() {
        const raw = getTime();
        const d = raw - lastRaw;
        lastRaw = raw;
        // a step of 1e8 s or more is the clock being set (boot-relative -> Unix), not time passing
        if (d > 0 && d < 1e8) ms += d * 1000;
        return ms;
      },
      setTimeout,
      clearTimeout,
    },
    sockets_: (target, handlers) => {
      // connect reads host and port (tls also ignores the extra `tls` field)
      // the handlers are called unbound (the client's are closures)
      const s = require(target.tls ? "tls" : "net").connect(target, handlers.onConnect);
      s.on("data", (d: string) => handlers.onData(E.toUint8Array(d)));
      // errors come as {code, message} (libs/network/socketerrors.c)
      s.on("error", (e: { message: string }) => handlers.onError(e.message));
      // Espruino emits "close" once per socket, also after our end() (then later: the client ignores it)
      s.on("close", handlers.onClose);
      return {
        write: (data) => s.write(E.toString(data)),
        close: () => s.end(),
      };
    },
    random_: Math.random,
    time_: getTime,
    pinMode,
    digitalWrite,
    setWatch,
    clearWatch,
    // readJSON without noExceptions: a file that is not JSON throws, and the app reports it
    storage_: require("Storage"),
    wifi_: require("Wifi"),
    telnet_: require("TelnetServer"),
    deviceId_: () => deviceIdFromSerial(getSerial()),
    sha256_: require("crypto").SHA256,
    reboot_: E.reboot,
    memory_: process.memory,
    log_: console.log,
  };
}
