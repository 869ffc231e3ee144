// `require()` on the virtual ESP32: the built-in modules the firmware may use, each wrapped so an
// unemulated member throws, naming it. Built-ins we do not emulate and unknown modules throw too.
import { createHash } from "node:crypto";
import { ESPRUINO_BUILTIN_MODULES } from "../../tools/espruinoPlatform";
import { flattenToBytes } from "./eightBit";
import { notEmulated, strict } from "./notEmulated";
import { netModule, NetworkHost, tlsModule } from "./network";
import type { Realm } from "./realm";
import { realmBytes } from "./realm";
import { storageModule, VirtualFlash } from "./storage";
import type { WifiRadio } from "./wifi";

export interface ModuleHost {
  radio: WifiRadio;
  network: NetworkHost;
  flash: VirtualFlash;
  realm(): Realm;
  reboot(): void;
  deepSleep(us: number): void;
  telnet: { mode: string };
  freeHeap(): number;
}

function wifiModule(radio: WifiRadio) {
  const m = {
    connect: (ssid: unknown, options: unknown, cb: unknown) => radio.connect(ssid, options, cb),
    disconnect: (cb: unknown) => radio.disconnect(cb),
    getIP: (cb: unknown) => radio.getIP(cb),
    getDetails: (cb: unknown) => radio.getDetails(cb),
    getStatus: (cb: unknown) => radio.getStatus(cb),
    setHostname: (name: unknown, cb: unknown) => radio.setHostname(name, cb),
    getHostname: (cb: unknown) => radio.getHostname(cb),
    setSNTP: (server: unknown, zone: unknown) => radio.setSNTP(server, zone),
    stopAP: (cb: unknown) => radio.stopAP(cb),
    on: (event: string, fn: (...a: unknown[]) => unknown) => { radio.on(event, fn); return m; },
    addListener: (event: string, fn: (...a: unknown[]) => unknown) => { radio.on(event, fn); return m; },
    removeListener: (event: string, fn: (...a: unknown[]) => unknown) => { radio.removeListener(event, fn); return m; },
    removeAllListeners: (event?: string) => { radio.removeAllListeners(event); return m; },
  };
  radio.face = m;
  return m;
}

function cryptoModule(realm: () => Realm) {
  const hash = (algo: string) => (data: unknown) => {
    const d = createHash(algo).update(Buffer.from(flattenToBytes([data], `crypto.${algo.toUpperCase()}`))).digest();
    return realmBytes(realm(), d).buffer;
  };
  return { SHA1: hash("sha1"), SHA256: hash("sha256"), SHA512: hash("sha512") };
}

export function createRequire(host: ModuleHost): (name: unknown) => unknown {
  const cache: Record<string, unknown> = {};
  const make: Record<string, () => object> = {
    Wifi: () => wifiModule(host.radio),
    net: () => netModule(host.network),
    tls: () => tlsModule(host.network),
    Storage: () => storageModule(host.flash, host.realm),
    crypto: () => cryptoModule(host.realm),
    TelnetServer: () => ({
      setOptions(o: unknown) {
        const mode = o && typeof o === "object" ? (o as { mode?: unknown }).mode : undefined;
        if (mode !== undefined && mode !== "on" && mode !== "off") throw new Error(`TelnetServer.setOptions: mode must be "on" or "off"`);
        if (mode) host.telnet.mode = mode as string;
      },
    }),
    ESP32: () => ({
      reboot: () => host.reboot(),
      deepSleep: (us: unknown) => host.deepSleep(Number(us)),
      getState: () => host.realm().JSON.parse(JSON.stringify({ sdkVersion: "v4.4.8-dirty", cpuFrequency: 160, freeHeap: host.freeHeap(), maxFreeBlock: Math.floor(host.freeHeap() * 0.6) })),
    }),
  };
  return (name: unknown) => {
    const n = String(name);
    if (cache[n]) return cache[n];
    const factory = make[n];
    if (!factory) {
      if (ESPRUINO_BUILTIN_MODULES.indexOf(n) >= 0) notEmulated(`require("${n}")`);
      notEmulated(`require("${n}")`, "not a built-in module of the ESP32 build");
    }
    cache[n] = strict(n, factory());
    return cache[n];
  };
}
