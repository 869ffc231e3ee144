// A fleet of virtual boards in one process: ids, keys and Storage per board, device config written to Storage
// before boot (as `espdht flash` does), staggered power-on, scheduled faults, and power-off on stop.
import fs from "node:fs";
import path from "node:path";
import { CONFIG_FILE, KEY_FILE, parseRule, resolveDeviceConfig, SensorModel, UNCONFIGURED_TOPIC_ROOT } from "../../firmware/contract";
import { buildDeviceConfig } from "../../provisioning/deviceConfig";
import { keyFingerprint, parseKeyHex } from "../../provisioning/keyring";
import { KICK_LOOP_CLOSE } from "../../firmware/mqtt/client";
import { VirtualBoard } from "../board/board";
import { VirtualFlash } from "../board/storage";
import type { CsvSeries } from "../dht/csvReplay";
import { createEnvironment, DEFAULT_ENVIRONMENT, EnvironmentOptions } from "../dht/environment";
import { VirtualDht } from "../dht/virtualDht";
import type { FaultEvent } from "../faults/faults";
import { createPrng, deriveSeed } from "../prng";
import { boardKeyFile, BoardKeyError, loadOrMakeBoardKey, registerBoardKeys } from "./boardKeys";
import { simDeviceId } from "./deviceId";
import { BoardLink, LinkFlagError, linkedSources, provisionLinks } from "./fleetLinks";
import { BoardRule, describeOverride, provisionRules, ruleFor, ruleOutputPin, savedSettingOverrides } from "./fleetRules";

export const VIRTUAL_WIFI = { ssid: "espdht-sim", password: "" };

export interface FleetOptions {
  /** mqtt:// or mqtts:// URL */
  broker: string;
  root: string;
  devices: number;
  /** seconds between readings (>= 2) */
  interval: number;
  model: SensorModel;
  pin: number;
  seed: number | string;
  /** where each board's Storage file lives; null keeps Storage in memory */
  dataDir: string | null;
  /** erase each board's Storage first (boot counter, saved settings, uploaded .bootcde) */
  freshStorage?: boolean;
  /** the firmware bundle to run (default dist/firmware.js) */
  firmwareFile: string;
  /** a device config (DeviceConfig shape) written as is instead of the one made from the options (with `keys`, each board's key is added unless it names `key`) */
  deviceConfig?: Record<string, unknown>;
  /** give each board its own signing key, kept beside its Storage file (docs/trust.md); off: unsigned boards */
  keys?: boolean;
  /** keyring file that gets every board's key as devices.<id> (with `keys`); absent: none is written */
  keyring?: string | null;
  username?: string | null;
  password?: string | null;
  /** per-device broker logins: each board logs in as its device id with this password (docs/mosquitto.md) */
  deviceLogins?: Record<string, string> | null;
  wifi?: { ssid: string; password: string } | null;
  homeAssistant?: boolean;
  /** thermostat rules by board (`--rule 1:temperature>24<23:pin=5`), written to their Storage before power-on */
  rules?: BoardRule[];
  /** device-to-device links between boards of the fleet (`--link 0:1`), written to their Storage before power-on */
  links?: BoardLink[];
  /** named groups every board of the fleet is in (config `groups`) */
  groups?: string[];
  /** accept a self-signed broker certificate (mqtts://) */
  insecure?: boolean;
  faults?: FaultEvent[];
  /** DHT11 parts that send tenths */
  dht11Decimals?: boolean;
  environment?: Partial<EnvironmentOptions>;
  series?: CsvSeries;
  /** ms between two boards' power-on (default: spread over one interval, at most 200 ms) */
  staggerMs?: number;
  /** ms a reboot keeps a board dark */
  rebootMs?: number;
  /** log lines (uncaught errors, faults) */
  log?: (line: string) => void;
}

export interface FleetStats {
  boards: number;
  on: number;
  wifi: number;
  mqtt: number;
  readings: number;
  errorReadings: number;
  uncaught: number;
  reboots: number;
  /** boards whose last CONNECT the broker refused (wrong username or password, or not allowed) */
  loginRefused: number;
  /** sessions the broker took from a board that its firmware counts as a kick loop (another board with its id) */
  kickLoops: number;
  /** boards whose last session ended in a kick loop and that are waiting out the longer backoff */
  backingOff: number;
  /** output pins the boards drive (thermostat relays), and how many of them are on */
  outputs: number;
  outputsOn: number;
}

export interface Fleet {
  readonly boards: VirtualBoard[];
  /** device ids, by board index */
  readonly ids: string[];
  /** each board's key fingerprint (safe to show; never the key), null for an unsigned board */
  readonly fingerprints: (string | null)[];
  readonly root: string;
  stats(): FleetStats;
  /** powers every board off (sockets vanish without DISCONNECT: each will is published) */
  stop(): Promise<void>;
}

export class FleetError extends Error {}

/** MQTT 3.1.1 CONNACK return codes, in the words a user can act on. */
export function connackReason(code: number): string {
  if (code === 4) return "bad username or password";
  if (code === 5) return "not authorized: wrong username or password, or this user may not connect";
  if (code === 1) return "the broker does not speak MQTT 3.1.1";
  if (code === 2) return "client id refused";
  if (code === 3) return "broker unavailable";
  return "refused";
}

/** The key `rekey` installed on a board (KEY_FILE), when the firmware would still use it: it replaced the config's key. */
function rotatedKeyIn(flash: VirtualFlash): string | null {
  try {
    const rotated = JSON.parse(flash.get(KEY_FILE)?.toString("latin1") ?? "null");
    const config = JSON.parse(flash.get(CONFIG_FILE)?.toString("latin1") ?? "null");
    if (!rotated || !config || typeof rotated.from !== "string" || rotated.from !== config.key) return null;
    return parseKeyHex(rotated.key, KEY_FILE);
  } catch {
    // not JSON, or not a key: the firmware ignores it too
    return null;
  }
}

/**
 * The device config the boards find in Storage, built as `espdht flash` builds it (throws a DeviceConfigError
 * naming the field the firmware would reject); a given `deviceConfig` is written as is.
 */
export function fleetDeviceConfig(o: FleetOptions): Record<string, unknown> {
  if (o.deviceConfig) return o.deviceConfig;
  return buildDeviceConfig({
    broker: o.broker,
    username: o.username ?? null,
    password: o.password ?? null,
    root: o.root,
    model: o.model,
    pin: o.pin,
    interval: o.interval,
    homeAssistant: !!o.homeAssistant,
    wifi: o.wifi ?? VIRTUAL_WIFI,
    groups: o.groups,
  }) as Record<string, unknown>;
}

function readFirmware(file: string): string {
  try {
    return fs.readFileSync(file, "latin1");
  } catch (e) {
    throw new FleetError(`cannot read the firmware ${file} (${(e as NodeJS.ErrnoException).code}): run 'npm run build' first`);
  }
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  if (!(o.devices >= 1 && Number.isInteger(o.devices))) throw new FleetError(`devices must be a whole number >= 1 (got ${o.devices})`);
  const log = o.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const firmware = readFirmware(o.firmwareFile);
  const config = fleetDeviceConfig(o);
  // only a config given as is can get here invalid: it is written anyway, as a user may test the firmware's fallback
  const check = resolveDeviceConfig(config);
  if (!check.ok) log(`espdht sim: warning: the boards will reject this device config and use defaults: ${check.error}`);
  // a config given with a `key` (even null) is used as is; otherwise each board gets its own key
  const ownKeys = !!o.keys && !("key" in config);
  const givenKey = check.ok ? check.config.key : null;
  const savedWifi = !config.wifi;
  const timers: NodeJS.Timeout[] = [];
  const uncaughtSeen = new Map<string, number>();
  /** the CONNACK code that refused each board's last attempt (0: not refused) */
  const refusedCode: number[] = [];
  const boards: VirtualBoard[] = [];
  const kickLoops: number[] = [];
  const backingOff: boolean[] = [];
  const ids: string[] = [];
  const keys: (string | null)[] = [];
  /** The board's Storage gets the config with `key` (and its own broker login): what `espdht flash` would write to a board holding that key. */
  const provision = (flash: VirtualFlash, key: string | null, id: string) => {
    const login = o.deviceLogins?.[id];
    const own = login ? { ...config, broker: { ...(config.broker as object), username: id, password: login } } : config;
    flash.writeFile(CONFIG_FILE, Buffer.from(JSON.stringify(ownKeys ? { ...own, key } : own), "latin1"), 0, 0);
    // a key rotated on the board is already folded into `key`: the file would override it
    flash.erase(KEY_FILE);
  };
  for (let i = 0; i < o.devices; i++) {
    const id = simDeviceId(o.seed, i);
    ids.push(id);
    kickLoops.push(0);
    backingOff.push(false);
    const storageFile = o.dataDir ? path.join(o.dataDir, "sim", `${id}.storage.json`) : null;
    const flash = new VirtualFlash(storageFile);
    const rotated = rotatedKeyIn(flash);
    if (o.freshStorage) flash.eraseAll();
    let key: string | null = null;
    try {
      // a key rotated on the board is its key from now on, even in a run without keys
      if (ownKeys || (rotated && o.dataDir)) key = loadOrMakeBoardKey(o.dataDir ? boardKeyFile(o.dataDir, id) : null, rotated);
    } catch (e) {
      if (e instanceof BoardKeyError) throw new FleetError(e.message);
      throw e;
    }
    if (!ownKeys) key = givenKey;
    keys.push(key);
    provision(flash, key, id);
    // it holds the board's key and the broker and Wi-Fi passwords
    if (storageFile && fs.existsSync(storageFile)) fs.chmodSync(storageFile, 0o600);
    const envPrng = createPrng(deriveSeed(o.seed, "environment", i));
    const env = createEnvironment({
      ...DEFAULT_ENVIRONMENT,
      // each room a little different
      baseTemperature: DEFAULT_ENVIRONMENT.baseTemperature + 1.5 * envPrng.gaussian(),
      baseHumidity: DEFAULT_ENVIRONMENT.baseHumidity + 5 * envPrng.gaussian(),
      ...o.environment,
      series: o.series,
    }, envPrng, Date.now());
    const dht = new VirtualDht({ model: o.model, dht11Decimals: !!o.dht11Decimals }, env, createPrng(deriveSeed(o.seed, "dht", i)), { checksumRate: 0, timeoutRate: 0, stuck: false });
    const pin = typeof config.pin === "number" ? config.pin : o.pin;
    const board = new VirtualBoard({
      index: i, serial: id, firmware: () => firmware, flash, dht, dhtPin: pin, seed: deriveSeed(o.seed, "board"), tlsInsecure: !!o.insecure,
      world: { apUp: true, brokerReachable: true, sntpWorks: true }, savedWifi, rebootMs: o.rebootMs,
    });
    board.on("console", (text) => {
      // the firmware's log line for a session taken over in a kick loop (firmware/mqtt/client.ts)
      if (text.includes("mqtt: " + KICK_LOOP_CLOSE)) {
        kickLoops[i]++;
        backingOff[i] = true;
      }
    });
    board.on("uncaught", (message) => {
      // the same error on 1,000 boards is one line; the status line keeps the count
      const n = (uncaughtSeen.get(message) ?? 0) + 1;
      uncaughtSeen.set(message, n);
      if (n === 1) log(`espdht sim: ${id}: Uncaught ${message} (repeats on any board are counted, not shown)`);
    });
    const index = boards.length;
    refusedCode.push(0);
    board.on("console", (text) => {
      // the firmware logs "mqtt: connack: refused, code N"; a later CONNACK clears it (seen in stats())
      const m = /connack: refused, code (\d+)/.exec(text);
      if (!m) return;
      if (!refusedCode[index]) log(`espdht sim: ${id}: the broker refused the board's login (CONNACK code ${m[1]}: ${connackReason(Number(m[1]))}); it keeps retrying`);
      refusedCode[index] = Number(m[1]);
    });
    boards.push(board);
  }

  if (o.keys && o.keyring) {
    try {
      registerBoardKeys(o.keyring, ids.flatMap((id, i) => (keys[i] ? [{ id, key: keys[i]! }] : [])));
    } catch (e) {
      if (e instanceof BoardKeyError) throw new FleetError(e.message);
      throw e;
    }
  }

  if (o.links && o.links.length) {
    try {
      provisionLinks(boards.map((b) => b.spec.flash), ids, boards.map((b, i) => rotatedKeyIn(b.spec.flash) ?? keys[i]), o.links);
    } catch (e) {
      if (e instanceof LinkFlagError) throw new FleetError(e.message);
      throw e;
    }
  }

  if (o.rules && o.rules.length) provisionRules(boards.map((b) => b.spec.flash), ids, o.rules);
  for (const r of o.rules ?? []) {
    // a rule on a peer the board does not accept readings from stays in failsafe: a warning, the link may come later
    const rule = parseRule(ruleFor(r, ids));
    const source = rule && typeof rule === "object" ? rule.src : "";
    if (source && !linkedSources(boards[r.board].spec.flash).includes(source)) {
      const index = ids.indexOf(source);
      log(`espdht sim: warning: board ${r.board} (${ids[r.board]}) does not accept readings from ${source} yet (no --link brings them, none is kept in its Storage), so its rule's output stays in failsafe: ${index >= 0 ? `add --link ${index}:${r.board}` : `run 'espdht link ${source} ${ids[r.board]}'`}`);
    }
  }

  // a board keeps what `set` saved over a new config, as a real one does over a re-flash: say so, once per board
  if (!o.freshStorage) {
    boards.forEach((b, i) => {
      const overrides = savedSettingOverrides(b.spec.flash);
      if (overrides.length) log(`espdht sim: board ${i} (${ids[i]}): its saved settings (set by 'espdht send ${ids[i]} set ...', kept in its Storage) win over the options: ${overrides.map(describeOverride).join(", ")}; --fresh erases them (its key is kept), or 'espdht send ${ids[i]} set KEY=VALUE' changes them`);
    });
  }

  const targetsOf = (ev: FaultEvent) => ev.devices ?? boards.map((_, i) => i);
  /** duplicate-id: every target but the first takes the first one's id (its serial) and, being its clone, its key */
  const shareId = (ev: FaultEvent, on: boolean) => {
    const targets = targetsOf(ev);
    const first = boards[targets[0]].spec.flash;
    const sharedKey = rotatedKeyIn(first) ?? keys[targets[0]];
    for (const i of targets.slice(1)) {
      boards[i].spec.serial = on ? ids[targets[0]] : ids[i];
      if (ownKeys || o.deviceLogins) provision(boards[i].spec.flash, on ? sharedKey : keys[i], on ? ids[targets[0]] : ids[i]);
      if (boards[i].state === "on") boards[i].reboot();
    }
  };
  /** broker-outage: time runs fast only while the broker is away; it comes back at that speed (the board's
   * reconnect backoff, minutes of its time, ends at once) and real time resumes at the board's CONNECT */
  const outage = (b: VirtualBoard, on: boolean, speed: number) => {
    if (on) b.setSpeed(speed);
    b.setBrokerReachable(!on);
    if (on || speed === 1) return;
    const started = Date.now();
    const poll = setInterval(() => {
      if (!b.wire.connected && Date.now() - started < 10_000) return;
      clearInterval(poll);
      b.setSpeed(1);
    }, 5);
    timers.push(poll);
  };
  const apply = (ev: FaultEvent, on: boolean) => {
    if (ev.fault === "duplicate-id") shareId(ev, on);
    for (const i of targetsOf(ev)) {
      const b = boards[i];
      const f = b.spec.dht.faults;
      if (ev.fault === "dht-checksum") f.checksumRate = on ? ev.rate ?? 1 : 0;
      else if (ev.fault === "dht-timeout") f.timeoutRate = on ? ev.rate ?? 1 : 0;
      else if (ev.fault === "dht-stuck") f.stuck = on;
      else if (ev.fault === "wifi-drop") b.setAccessPoint(!on);
      else if (ev.fault === "broker-unreachable") b.setBrokerReachable(!on);
      else if (ev.fault === "broker-outage") outage(b, on, ev.speed ?? 1);
      else if (ev.fault === "no-sntp") b.spec.world.sntpWorks = !on;
    }
    if (ev.at > 0 || !on) log(`espdht sim: fault ${ev.fault} ${on ? "starts" : "ends"}${ev.devices ? ` on boards ${ev.devices.join(",")}` : ""}`);
  };
  for (const ev of o.faults ?? []) {
    // faults from the start apply before power-on (boards are still off, so nothing reboots)
    if (ev.at === 0) apply(ev, true);
    else timers.push(setTimeout(() => apply(ev, true), ev.at * 1000));
    // a sped-up outage lasts `seconds` of the boards' time
    if (ev.seconds !== undefined) timers.push(setTimeout(() => apply(ev, false), (ev.at + ev.seconds / (ev.speed ?? 1)) * 1000));
  }

  const stagger = o.staggerMs ?? Math.min(200, (o.interval * 1000) / o.devices);
  boards.forEach((b, i) => {
    if (i === 0 || stagger <= 0) b.powerOn();
    else timers.push(setTimeout(() => b.powerOn(), i * stagger));
  });

  return {
    boards,
    ids,
    fingerprints: keys.map((k) => (k ? keyFingerprint(k) : null)),
    root: typeof config.root === "string" ? config.root : UNCONFIGURED_TOPIC_ROOT,
    stats(): FleetStats {
      const s: FleetStats = { boards: boards.length, on: 0, wifi: 0, mqtt: 0, readings: 0, errorReadings: 0, uncaught: 0, reboots: 0, loginRefused: 0, kickLoops: 0, backingOff: 0, outputs: 0, outputsOn: 0 };
      boards.forEach((b, i) => {
        if (b.wire.connected) refusedCode[i] = 0;
        else if (refusedCode[i]) s.loginRefused++;
        // connected again: the backoff is over
        if (b.wire.connected) backingOff[i] = false;
        s.kickLoops += kickLoops[i];
        if (backingOff[i]) s.backingOff++;
      });
      for (const b of boards) {
        if (b.state === "on") s.on++;
        if (b.wifiState === "connected") s.wifi++;
        if (b.wire.connected) s.mqtt++;
        s.readings += b.wire.readings;
        s.errorReadings += b.wire.errorReadings;
        s.uncaught += b.uncaught;
        s.reboots += Math.max(0, b.boots - 1);
        // one output per board with a rule: a pin it drove under an earlier rule is not one
        if (b.outputs.size) {
          const pin = ruleOutputPin(b.spec.flash);
          if (pin !== null) {
            s.outputs++;
            s.outputsOn += b.outputs.get(pin) ?? 0;
          }
        }
      }
      return s;
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      for (const b of boards) b.powerOff();
      // let the RSTs leave before the caller tears the broker down
      await new Promise((r) => setImmediate(r));
    },
  };
}
