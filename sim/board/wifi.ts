// The ESP32 Wi-Fi station as Espruino's `Wifi` module exposes it (libs/network/esp32/jswrap_esp32_network.c):
// connect with a delay, 'associated' / 'connected' (got IP) / 'disconnected' events, getIP, setSNTP
// (ESP32: the zone is a TZ string) setting the clock after a delay. No auto-reconnect after a drop: the
// firmware must call connect() again, as on the device once its retries are spent.
import type { Prng } from "../prng";
import type { BoardClock } from "./clock";
import { EspruinoEmitter } from "./emitter";
import type { Interpreter } from "./interpreter";
import { toRealm, Realm } from "./realm";

/** The radio's world outside the board: the access point and time servers (faults change it). */
export interface RadioEnvironment {
  apUp(): boolean;
  sntpWorks(): boolean;
  /** wall-clock Unix ms the SNTP server hands out */
  unixMs(): number;
}

export class WifiRadio extends EspruinoEmitter {
  state: "off" | "connecting" | "connected" = "off";
  ssid = "";
  ip: string | null = null;
  hostname = "espressif";
  private sntpServer: string | null = null;
  private sntpPending = false;
  private connectToken = 0;

  constructor(
    rt: Interpreter,
    private readonly clock: BoardClock,
    private readonly world: RadioEnvironment,
    private readonly prng: Prng,
    readonly mac: string,
    private readonly ipSuffix: number,
    private readonly realm: () => Realm,
    private readonly onLinkChange: (up: boolean) => void,
  ) {
    super(rt);
  }

  connect(ssid: unknown, options: unknown, cb: unknown): void {
    if (typeof ssid !== "string") throw new Error("No SSID provided");
    if (options !== undefined && options !== null && typeof options !== "object") throw new Error("Expecting options object");
    if (cb !== undefined && typeof cb !== "function") throw new Error("Expecting callback function");
    const token = ++this.connectToken;
    if (this.state === "connected") this.linkDown("8", "assoc_leave");
    this.state = "connecting";
    this.ssid = ssid.slice(0, 32);
    const done = (err: string | null) => {
      if (typeof cb === "function") this.rt.queue(() => this.rt.call(cb, undefined, [err]));
    };
    // association + DHCP take a moment; with no AP the driver gives up after its retries
    this.rt.hardwareTimeout(() => {
      if (token !== this.connectToken || this.state !== "connecting") return;
      if (!this.world.apUp()) {
        this.state = "off";
        this.fire("disconnected", [this.details({ ssid: this.ssid, mac: this.bssid(), reason: "201", msg: "no_ap_found" })]);
        done("no_ap_found");
        return;
      }
      this.state = "connected";
      this.ip = `192.168.4.${this.ipSuffix}`;
      this.fire("associated", [this.details({ ssid: this.ssid, mac: this.bssid(), channel: "6" })]);
      done(null);
      this.fire("connected", [this.details({ ip: this.ip, netmask: "255.255.255.0", gw: "192.168.4.1" })]);
      this.onLinkChange(true);
      this.maybeSntp();
    }, this.world.apUp() ? this.prng.range(400, 1500) : this.prng.range(3000, 5000));
  }

  /** After reset()/load(): still associated, with no new events (the driver kept the link). */
  resume(ssid: string, ip: string): void {
    this.state = "connected";
    this.ssid = ssid;
    this.ip = ip;
  }

  disconnect(cb: unknown): void {
    this.connectToken++;
    const was = this.state;
    this.state = "off";
    if (was === "connected") this.linkDown("8", "assoc_leave");
    if (typeof cb === "function") this.rt.queue(() => this.rt.call(cb, undefined, []));
  }

  /** The access point vanished (fault): the station drops, and so does every socket. */
  apLost(): void {
    if (this.state !== "connected") return;
    this.state = "off";
    this.linkDown("200", "beacon_timeout");
  }

  private linkDown(reason: string, msg: string): void {
    this.ip = null;
    this.fire("disconnected", [this.details({ ssid: this.ssid, mac: this.bssid(), reason, msg })]);
    this.onLinkChange(false);
  }

  getIP(cb: unknown): unknown {
    const info = this.details({ ip: this.ip ?? "0.0.0.0", netmask: this.ip ? "255.255.255.0" : "0.0.0.0", gw: this.ip ? "192.168.4.1" : "0.0.0.0", mac: this.mac });
    if (typeof cb === "function") this.rt.queue(() => this.rt.call(cb, undefined, [null, info]));
    return info;
  }

  getDetails(cb: unknown): unknown {
    const d = this.details({ status: this.state === "connected" ? "connected" : this.state === "connecting" ? "connecting" : "off", ssid: this.ssid });
    if (typeof cb === "function") this.rt.queue(() => this.rt.call(cb, undefined, [d]));
    return d;
  }

  getStatus(cb: unknown): unknown {
    const s = this.details({ station: this.state === "connected" ? "connected" : this.state === "connecting" ? "connecting" : "off", ap: "disabled", mode: "Station", powersave: "none" });
    if (typeof cb === "function") this.rt.queue(() => this.rt.call(cb, undefined, [s]));
    return s;
  }

  setHostname(name: unknown, cb: unknown): void {
    this.hostname = String(name);
    if (typeof cb === "function") this.rt.queue(() => this.rt.call(cb, undefined, []));
  }

  getHostname(cb: unknown): string {
    if (typeof cb === "function") this.rt.queue(() => this.rt.call(cb, undefined, [this.hostname]));
    return this.hostname;
  }

  stopAP(cb: unknown): void {
    if (typeof cb === "function") this.rt.queue(() => this.rt.call(cb, undefined, []));
  }

  setSNTP(server: unknown, zone: unknown): void {
    if (typeof zone !== "string") throw new Error("Zone is not a string");
    if (typeof server !== "string") throw new Error("Server is not a string");
    this.sntpServer = server;
    this.maybeSntp();
  }

  private maybeSntp(): void {
    if (!this.sntpServer || this.sntpPending || this.clock.isSet || this.state !== "connected") return;
    this.sntpPending = true;
    this.rt.hardwareTimeout(() => {
      this.sntpPending = false;
      if (this.state !== "connected" || !this.world.sntpWorks()) {
        // SNTP polls again later
        this.rt.hardwareTimeout(() => this.maybeSntp(), 15000);
        return;
      }
      this.clock.setTime(this.world.unixMs() / 1000);
    }, this.prng.range(500, 2500));
  }

  private bssid(): string {
    return "24:0a:c4:00:00:01";
  }

  private details<T extends object>(o: T): T {
    return toRealm(this.realm(), o);
  }
}
