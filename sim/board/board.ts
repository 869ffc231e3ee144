// A virtual Espruino ESP32: power, reboot and reset around one vm context that runs the firmware (or the
// `.bootcde` uploaded to its Storage), with GPIO + a wired DHT, Wi-Fi, sockets and Storage emulated.
import { EventEmitter } from "node:events";
import vm from "node:vm";
import type { VirtualDht } from "../dht/virtualDht";
import { createPrng, deriveSeed, Prng } from "../prng";
import { BoardClock } from "./clock";
import { compiled, createBoardRealm, evaluateIn, installGlobals } from "./context";
import { EspruinoEmitter } from "./emitter";
import { espruinoGlobals } from "./espruinoGlobals";
import { Gpio, Level, LineDevice } from "./gpio";
import { Interpreter } from "./interpreter";
import { createRequire } from "./modules";
import { MqttWireStats, newWireStats, sniffSocket } from "./mqttSniffer";
import { EspruinoSocket, NetworkHost, SOCKET_ERRORS } from "./network";
import { NotEmulatedError } from "./notEmulated";
import { Realm, realmOf } from "./realm";
import { reportRejectionsOf } from "./realmRejections";
import type { VirtualFlash } from "./storage";
import { WifiRadio } from "./wifi";

/** What the world does to a board (fault injection flips these at run time). */
export interface BoardWorld {
  apUp: boolean;
  brokerReachable: boolean;
  sntpWorks: boolean;
}

export interface BoardSpec {
  index: number;
  /** getSerial(): "xxxxxxxx-xxxx" (the eFuse MAC) */
  serial: string;
  /** the firmware bundle (dist/firmware.js) run when Storage has no `.bootcde` */
  firmware: () => string | null;
  flash: VirtualFlash;
  dht: VirtualDht;
  dhtPin: number;
  seed: number;
  tlsInsecure: boolean;
  world: BoardWorld;
  /** Wifi.save() was done: the radio joins the saved network at boot by itself */
  savedWifi?: boolean;
  /** ms a reboot keeps the board dark */
  rebootMs?: number;
}

export interface BoardEvents {
  console: [text: string];
  uncaught: [message: string, notEmulated: boolean];
  boot: [source: string];
  off: [];
  /** the firmware wrote a reading PUBLISH to its socket */
  reading: [error: boolean];
  /** the firmware drove a pin other than the DHT's to a new level (the thermostat's relay) */
  output: [pin: number, level: Level];
}

interface Run {
  rt: Interpreter;
  gpio: Gpio;
  radio: WifiRadio;
  context: vm.Context;
  realm: Realm;
  E: EspruinoEmitter;
}

export class VirtualBoard extends EventEmitter<BoardEvents> {
  readonly clock = new BoardClock();
  readonly wire: MqttWireStats = newWireStats();
  readonly sockets = new Set<EspruinoSocket>();
  readonly telnet = { mode: "on" };
  state: "off" | "rebooting" | "on" = "off";
  boots = 0;
  uncaught = 0;
  /** level of each pin the firmware drives besides the DHT's (the relay), by GPIO; a board without power drives nothing (emptied, each relay told 0) */
  readonly outputs = new Map<number, Level>();
  lastError: string | null = null;
  private run: Run | null = null;
  private readonly prng: Prng;
  private pendingBoot: NodeJS.Timeout | null = null;
  /** the station's association, kept across reset()/load() (the ESP32's Wi-Fi driver is not reset) */
  private keptLink: { ssid: string; ip: string } | null = null;

  constructor(readonly spec: BoardSpec) {
    super();
    this.prng = createPrng(deriveSeed(spec.seed, "board", spec.index));
  }

  get mac(): string {
    const hex = this.spec.serial.replace(/[^0-9a-f]/gi, "").slice(-12).toLowerCase();
    return hex.match(/../g)!.join(":");
  }

  /** the firmware's device id, read off its MQTT CONNECT */
  get deviceId(): string | null {
    return this.wire.clientId;
  }

  get wifiState(): string {
    return this.run ? this.run.radio.state : "off";
  }

  powerOn(): void {
    if (this.state === "on") return;
    this.clearPendingBoot();
    this.clock.reset();
    this.boot("power", true);
  }

  /** Power loss: everything stops at once, sockets vanish without DISCONNECT (the broker sends the will). */
  powerOff(): void {
    this.clearPendingBoot();
    this.teardown();
    this.state = "off";
    this.emit("off");
  }

  /** E.reboot() / ESP32.reboot(): dark for a moment, then a cold boot that runs the saved code. */
  reboot(): void {
    this.powerCycle("reboot", this.spec.rebootMs ?? 600);
  }

  /** ESP32.deepSleep(us): off for that long, then a full boot. */
  deepSleep(us: number): void {
    this.powerCycle("deepsleep", Math.max(0, us / 1000));
  }

  private powerCycle(reason: "reboot" | "deepsleep", darkMs: number): void {
    this.teardown(true);
    this.state = "rebooting";
    this.clearPendingBoot();
    this.pendingBoot = setTimeout(() => {
      this.pendingBoot = null;
      this.clock.reset();
      this.boot(reason, false);
    }, darkMs);
  }

  /** Console `reset()`: a fresh interpreter without the saved code (runs after the current code). */
  softReset(): void {
    setImmediate(() => {
      if (this.state !== "on") return;
      this.teardown(true);
      this.boot("reset", false, null);
    });
  }

  /** Console `load(file)`: a fresh interpreter running that Storage file (default: the saved code). */
  load(file?: string): void {
    setImmediate(() => {
      if (this.state !== "on") return;
      this.teardown(true);
      this.boot("load", false, file ?? ".bootcde");
    });
  }

  /** Evaluates console input in the board's context; returns the value (throws what the code throws). */
  evaluate(code: string): unknown {
    if (!this.run) throw new Error("the board is off");
    return evaluateIn(this.run.context, code);
  }

  print(text: string): void {
    this.emit("console", text + "\n");
  }

  private clearPendingBoot(): void {
    if (this.pendingBoot) clearTimeout(this.pendingBoot);
    this.pendingBoot = null;
  }

  /** `kill`: E.on("kill") handlers run first (reset, load, reboot), not on power loss */
  private teardown(kill = false): void {
    const run = this.run;
    this.run = null;
    if (!run) return;
    if (kill) run.E.fireNow("kill");
    this.keptLink = run.radio.state === "connected" && run.radio.ip ? { ssid: run.radio.ssid, ip: run.radio.ip } : null;
    run.rt.kill();
    for (const [pin, level] of this.outputs) if (level) this.emit("output", pin, 0);
    this.outputs.clear();
    for (const s of [...this.sockets]) s.powerOff();
    this.sockets.clear();
  }

  /** `file`: Storage file to run; undefined = `.bootcde` when present, else the firmware; null = nothing. */
  private boot(source: string, dhtColdStart: boolean, file?: string | null): void {
    const spec = this.spec;
    const run = this.createRun();
    spec.dht.connect(run.gpio, spec.dhtPin, dhtColdStart || this.boots === 0 ? this.clock.micros() : -1e12);
    this.run = run;
    this.state = "on";
    this.boots++;
    this.telnet.mode = "on"; // the ESP32 build starts its telnet console at every boot
    this.wire.connected = false;
    const soft = source === "reset" || source === "load";
    if (soft && this.keptLink && spec.world.apUp) run.radio.resume(this.keptLink.ssid, this.keptLink.ip);
    else if (spec.savedWifi) run.radio.connect("saved-network", {}, undefined);
    this.keptLink = null;
    this.runProgram(run, file);
  }

  /** A fresh interpreter with the board's hardware wired to it (GPIO + DHT, radio, sockets, Storage). */
  private createRun(): Run {
    const spec = this.spec;
    const boardRealm = createBoardRealm(() => this.clock.getTime() * 1000, () => this.prng.next());
    const rt = new Interpreter((e) => this.reportUncaught(e), boardRealm.membrane, () => this.clock.speed);
    reportRejectionsOf(boardRealm.context, (message) => this.reportUncaught(message));
    const gpio = new Gpio(rt, this.clock, (line) => this.print(line), new Map<number, LineDevice>([[spec.dhtPin, spec.dht]]), (pin, level) => {
      if (pin === spec.dhtPin || this.outputs.get(pin) === level) return;
      this.outputs.set(pin, level);
      this.emit("output", pin, level);
    });
    let realm: Realm | null = null;
    const getRealm = () => realm!;
    const world = { apUp: () => spec.world.apUp, sntpWorks: () => spec.world.sntpWorks, unixMs: () => Date.now() };
    const radio = new WifiRadio(rt, this.clock, world, this.prng, this.mac, 10 + (spec.index % 240), getRealm, (up) => {
      if (!up) this.cutSockets(SOCKET_ERRORS.noRoute);
    });
    const network: NetworkHost = {
      rt,
      prng: this.prng,
      online: () => radio.state === "connected",
      unreachable: () => (spec.world.brokerReachable ? null : "unreachable"),
      tlsInsecure: spec.tlsInsecure,
      sockets: this.sockets,
      tap: () => sniffSocket(this.wire, () => this.clock.micros() / 1000, (error) => this.emit("reading", error)),
    };
    const E = new EspruinoEmitter(rt);
    // reboots happen once the current code returns (Espruino finishes the running function first)
    const reboot = () => {
      setImmediate(() => this.reboot());
    };
    const require = createRequire({
      radio, network, flash: spec.flash, realm: getRealm, reboot, telnet: this.telnet, freeHeap: () => 60000,
      deepSleep: (us) => {
        setImmediate(() => this.deepSleep(us));
      },
    });
    const globals = espruinoGlobals({
      rt, clock: this.clock, gpio, realm: getRealm, require, serial: spec.serial, E, reboot,
      print: (t) => this.print(t),
      softReset: () => this.softReset(),
      load: (f) => this.load(f),
      hwRandom: () => Math.floor(this.prng.next() * 4294967296) | 0,
    });
    // on the ESP32 build the ESP32 class is a global as well as a module
    globals.ESP32 = require("ESP32");
    installGlobals(boardRealm, globals);
    const context = boardRealm.context;
    realm = realmOf(context);
    return { rt, gpio, radio, context, realm, E };
  }

  /** Runs the saved code (or `file`, or the firmware), then Espruino's E.on("init"). */
  private runProgram(run: Run, file: string | null | undefined): void {
    const flash = this.spec.flash;
    const saved = file === undefined ? flash.get(".bootcde") : file === null ? undefined : flash.get(file);
    if (file && !saved) this.print(`ERROR: File ${JSON.stringify(file)} not found`);
    const code = saved ? saved.toString("latin1") : file === undefined ? this.spec.firmware() : null;
    const name = saved ? file ?? ".bootcde" : "dist/firmware.js";
    this.emit("boot", code === null ? "empty" : name);
    if (code === null) return;
    try {
      compiled(code, name).runInContext(run.context);
    } catch (e) {
      this.reportUncaught(e);
    }
    run.E.fire("init");
  }

  private cutSockets(err: { code: number; message: string }): void {
    for (const s of [...this.sockets]) s.cut(err);
  }

  /** Fault injection: the access point goes away (or comes back; the firmware must reconnect). */
  setAccessPoint(up: boolean): void {
    this.spec.world.apUp = up;
    if (!up) this.run?.radio.apLost();
  }

  /** The board's time (clock, timers, sensor) runs `rate` times real time from now on: a long outage in seconds. */
  setSpeed(rate: number): void {
    const old = this.clock.speed;
    this.clock.setSpeed(rate);
    this.run?.rt.rescale(old, rate);
  }

  /** Fault injection: the broker stops answering (existing connections are cut). */
  setBrokerReachable(reachable: boolean): void {
    this.spec.world.brokerReachable = reachable;
    if (!reachable) this.cutSockets(SOCKET_ERRORS.timeout);
  }

  private reportUncaught(e: unknown): void {
    this.uncaught++;
    const err = e as { name?: string; message?: string; stack?: string };
    const message = err && typeof err === "object" && err.message !== undefined ? `${err.name ?? "Error"}: ${err.message}` : String(e);
    this.lastError = message;
    const notEmu = e instanceof NotEmulatedError || (typeof message === "string" && message.includes("is not emulated"));
    this.print(`Uncaught ${message}`);
    this.emit("uncaught", message, notEmu);
  }
}
