// The one broker-URL parser: what a board (TCP/TLS only) and the PC side (also WebSocket) accept, with the
// port defaults and the credentials a URL may carry. Every command checks broker URLs through it.
import { maskUrlCredentials } from "./urlCredentials";

/** Who connects with the URL: a board (flashed or simulated) or a host command (watch, dashboard, send). */
export type BrokerClient = "board" | "host";

export type BrokerScheme = "mqtt" | "mqtts" | "ws" | "wss";

const SCHEMES: Record<BrokerClient, BrokerScheme[]> = {
  board: ["mqtt", "mqtts"],
  host: ["mqtt", "mqtts", "ws", "wss"],
};

const DEFAULT_PORTS: Record<BrokerScheme, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

export interface BrokerUrl {
  scheme: BrokerScheme;
  host: string;
  /** the URL's port, else the scheme's default */
  port: number;
  tls: boolean;
  /** credentials written in the URL (`mqtt://user:pass@host`), decoded; null when absent */
  username: string | null;
  password: string | null;
}

export class BrokerUrlError extends Error {}

/** Throws a BrokerUrlError naming the URL when `client` cannot use it. */
export function parseBrokerUrl(url: string, client: BrokerClient): BrokerUrl {
  // errors quote the URL with its credentials masked: they end up on terminals and in logs
  const shown = maskUrlCredentials(url);
  // the URL parser takes 'ws:/h' or 'ws:h' for special schemes and others as a path: MQTT.js then dials port 80
  const slashes = /^([a-z][a-z0-9+.-]*):(\/*)/i.exec(url);
  if (slashes && slashes[2] !== "//") throw new BrokerUrlError(`'${shown}': write ${slashes[1]}:// (two slashes) before the host, e.g. ${slashes[1]}://127.0.0.1:1883`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // the URL parser refuses a port past 65535 without saying so
    const bigPort = /^[a-z]+:\/\/(?:[^@/]*@)?[^/:?#]*:(\d+)(?:[/?#]|$)/i.exec(url)?.[1];
    if (bigPort && Number(bigPort) > 65535) throw new BrokerUrlError(`'${shown}': port ${bigPort} is out of range 1..65535`);
    throw new BrokerUrlError(`'${shown}' is not a URL (expected e.g. mqtt://host:1883)`);
  }
  const scheme = u.protocol.slice(0, -1) as BrokerScheme;
  if (!SCHEMES[client].includes(scheme)) {
    const ws = scheme === "ws" || scheme === "wss";
    if (client === "board") throw new BrokerUrlError(`'${shown}': a board speaks mqtt:// or mqtts:// only${ws ? " (WebSocket is for host programs: the board's Espruino has no WebSocket client worth its RAM, so it stays on TCP/TLS); give --broker mqtt://HOST:1883 (or mqtts://HOST:8883) for the boards, the same broker's TCP listener" : ""}`);
    throw new BrokerUrlError(`'${u.protocol}' is not supported in '${shown}' (use mqtt, mqtts, ws or wss)`);
  }
  if (!u.hostname) throw new BrokerUrlError(`'${shown}' has no host`);
  const port = u.port ? Number(u.port) : DEFAULT_PORTS[scheme];
  if (port < 1) throw new BrokerUrlError(`'${shown}': port ${port} is out of range 1..65535`);
  return {
    scheme,
    host: u.hostname,
    port,
    tls: scheme === "mqtts" || scheme === "wss",
    username: u.username ? decodeURIComponent(u.username) : null,
    password: u.password ? decodeURIComponent(u.password) : null,
  };
}

/** The problem with a URL for `client`, or null when it is usable. */
export function brokerUrlProblem(url: string, client: BrokerClient): string | null {
  try {
    parseBrokerUrl(url, client);
    return null;
  } catch (e) {
    if (e instanceof BrokerUrlError) return e.message;
    throw e;
  }
}
