// Espruino's `net` and `tls` sockets over Node's: data reaches the firmware as 8-bit strings in random
// chunks (seeded), writes take 8-bit strings, events are queued ('connect', 'data', 'end', 'close', 'error',
// 'drain'), and errors carry Espruino's {code, message} (libs/network/socketerrors.c).
import net from "node:net";
import tls from "node:tls";
import type { Prng } from "../prng";
import { stringToBytes } from "./eightBit";
import { EspruinoEmitter } from "./emitter";
import type { Interpreter } from "./interpreter";
import { NotEmulatedError, strict } from "./notEmulated";

export const SOCKET_ERRORS = {
  timeout: { code: -3, message: "timeout" },
  noRoute: { code: -4, message: "no route" },
  notFound: { code: -6, message: "not found" },
  reset: { code: -9, message: "connection reset" },
  unknown: { code: -10, message: "unknown error" },
  noConnection: { code: -11, message: "no connection" },
  sslHandshake: { code: -13, message: "SSL handshake failed" },
  memory: { code: -2, message: "out of memory" },
};

/** The board's side of the network: link state, faults, tracking for power-off. */
export interface NetworkHost {
  rt: Interpreter;
  /** splits incoming data into chunks */
  prng: Prng;
  /** Wi-Fi has an IP */
  online(): boolean;
  /** null when reachable, else why not (fault injection) */
  unreachable(host: string, port: number): string | null;
  tlsInsecure: boolean;
  sockets: Set<EspruinoSocket>;
  /** wire taps (MQTT sniffer) */
  tap?(socket: EspruinoSocket): { out(b: Buffer): void; in(b: Buffer): void; closed(): void };
}

/** Arbitrary chunking, as the device's network layer hands data over: 8-bit strings of random lengths. */
export function splitChunks(buf: Buffer, prng: Prng): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < buf.length) {
    const left = buf.length - at;
    const n = left <= 1 || prng.chance(0.4) ? left : prng.int(1, left);
    out.push(buf.toString("latin1", at, at + n));
    at += n;
  }
  return out;
}

function errorFor(e: NodeJS.ErrnoException, isTls: boolean): { code: number; message: string } {
  switch (e.code) {
    case "ECONNREFUSED": return SOCKET_ERRORS.noConnection;
    case "ECONNRESET": case "EPIPE": return SOCKET_ERRORS.reset;
    case "ETIMEDOUT": return SOCKET_ERRORS.timeout;
    case "ENOTFOUND": case "EAI_AGAIN": return SOCKET_ERRORS.notFound;
    case "EHOSTUNREACH": case "ENETUNREACH": return SOCKET_ERRORS.noRoute;
    default: return isTls ? SOCKET_ERRORS.sslHandshake : SOCKET_ERRORS.unknown;
  }
}

export class EspruinoSocket extends EspruinoEmitter {
  private node: net.Socket | null = null;
  private closed = false;
  private tapHooks: ReturnType<NonNullable<NetworkHost["tap"]>> | undefined;

  constructor(private readonly host: NetworkHost, readonly isTls: boolean, readonly target: { host: string; port: number }) {
    super(host.rt);
  }

  /** Starts connecting (called by net/tls.connect). */
  open(): void {
    this.host.sockets.add(this);
    this.tapHooks = this.host.tap?.(this);
    const why = !this.host.online() ? "offline" : this.host.unreachable(this.target.host, this.target.port);
    if (why) {
      // nothing answers: fail like the device does, after a moment, without touching the real network
      this.host.rt.hardwareTimeout(() => this.fail(why === "offline" ? SOCKET_ERRORS.noRoute : SOCKET_ERRORS.noConnection), why === "offline" ? 10 : 1000);
      return;
    }
    const opts = { host: this.target.host, port: this.target.port };
    const s = this.isTls
      ? tls.connect({ ...opts, servername: net.isIP(opts.host) ? undefined : opts.host, rejectUnauthorized: !this.host.tlsInsecure })
      : net.connect(opts);
    this.node = s;
    s.setNoDelay(true);
    s.once(this.isTls ? "secureConnect" : "connect", () => this.fire("connect"));
    s.on("data", (buf: Buffer) => this.deliver(buf));
    s.on("end", () => this.fire("end"));
    s.on("error", (e: NodeJS.ErrnoException) => this.fail(errorFor(e, this.isTls)));
    s.on("close", () => this.finish(false));
  }

  private deliver(buf: Buffer): void {
    this.tapHooks?.in(buf);
    for (const chunk of splitChunks(buf, this.host.prng)) this.fire("data", [chunk]);
  }

  private fail(err: { code: number; message: string }): void {
    if (this.closed) return;
    this.fire("error", [{ code: err.code, message: err.message }]);
    this.finish(true);
  }

  private finish(hadError: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.host.sockets.delete(this);
    this.tapHooks?.closed();
    this.node?.destroy();
    this.fire("close", [hadError]);
  }

  write(data: unknown): boolean {
    if (typeof data !== "string") {
      throw new NotEmulatedError(`socket.write(${Object.prototype.toString.call(data).slice(8, -1)})`, "Espruino would send its toString(): convert bytes with E.toString() first");
    }
    if (this.closed || !this.node) return false;
    const bytes = stringToBytes(data, "socket.write");
    this.tapHooks?.out(bytes);
    this.node.write(bytes, () => this.fire("drain"));
    return false;
  }

  end(data?: unknown): void {
    if (data !== undefined) this.write(data);
    if (this.node && !this.closed) this.node.end();
  }

  /** Wi-Fi lost or broker cut off: the firmware sees an error and a close. */
  cut(err = SOCKET_ERRORS.reset): void {
    this.node?.destroy();
    this.fail(err);
  }

  /** Power loss: the connection vanishes without FIN or DISCONNECT, and no event reaches dead code. */
  powerOff(): void {
    this.closed = true;
    // a TLS socket cannot be reset through its TLS handle: closing it is the nearest (still no DISCONNECT)
    if (this.isTls) this.node?.destroy();
    else this.node?.resetAndDestroy();
    this.host.sockets.delete(this);
    this.tapHooks?.closed();
  }
}

function parseTarget(options: unknown, api: string): { host: string; port: number } {
  if (typeof options === "string") {
    const u = new URL(options.includes("://") ? options : "tcp://" + options);
    return { host: u.hostname, port: Number(u.port) || 80 };
  }
  if (!options || typeof options !== "object") throw new Error(`${api}: expected options {host, port}`);
  const o = options as { host?: unknown; port?: unknown };
  if (typeof o.host !== "string") throw new Error(`${api}: options.host must be a string`);
  const port = Number(o.port ?? 80);
  if (!(port > 0 && port < 65536)) throw new Error(`${api}: options.port must be 1..65535`);
  return { host: o.host, port };
}

/** What the firmware may use of a socket (Espruino's net.Socket: an event emitter with write and end). */
const SOCKET_MEMBERS = ["on", "addListener", "prependListener", "removeListener", "removeAllListeners", "emit", "write", "end"];

function connect(host: NetworkHost, isTls: boolean, options: unknown, cb: unknown): EspruinoSocket {
  const api = isTls ? "tls.connect" : "net.connect";
  const target = parseTarget(options, api);
  const sock = new EspruinoSocket(host, isTls, target);
  // the ESP32 build has room for one TLS socket (> 32 KB each, ~40 KB native heap)
  const tlsOpen = [...host.sockets].some((s) => s.isTls);
  const face = strict(`${isTls ? "tls" : "net"} socket`, sock, SOCKET_MEMBERS);
  sock.face = face;
  if (typeof cb === "function") sock.on("connect", cb as () => void);
  if (isTls && tlsOpen) {
    host.sockets.add(sock);
    host.rt.hardwareTimeout(() => sock.cut(SOCKET_ERRORS.memory), 0);
  } else sock.open();
  return face;
}

export function netModule(host: NetworkHost) {
  return {
    connect: (options: unknown, cb?: unknown) => connect(host, false, options, cb),
  };
}

export function tlsModule(host: NetworkHost) {
  return {
    connect: (options: unknown, cb?: unknown) => connect(host, true, options, cb),
  };
}
