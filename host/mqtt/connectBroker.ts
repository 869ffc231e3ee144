// Connects MQTT.js to the user's broker (mqtt/mqtts/ws/wss) and waits for the first CONNACK, so a wrong
// URL, refused login or untrusted certificate is a clear error up front; later drops reconnect by themselves.
// Host sessions speak MQTT 5 with a session expiry (abandoned sessions do not pile up on public brokers) and
// fall back to 3.1.1 when the broker refuses 5; boards stay on 3.1.1.
import mqtt, { IClientOptions, MqttClient } from "mqtt";
import { maskUrlCredentials, maskUrlsIn } from "../../provisioning/urlCredentials";

export interface BrokerSettings {
  /** mqtt://, mqtts://, ws:// or wss:// URL */
  url: string;
  username: string | null;
  password: string | null;
  /** PEM CA certificate(s) for TLS, already read from the --ca file */
  ca: Buffer | null;
}

/** 7 days: how long the broker keeps a persistent host session (the dashboard's) while it is away. */
export const PERSISTENT_SESSION_EXPIRY_S = 7 * 86400;

export interface SessionOptions {
  clientId: string;
  /** false = persistent session: the broker keeps QoS 1 messages for us while we are away */
  clean: boolean;
  /** MQTT 5 session expiry; default: 0 for a clean session, PERSISTENT_SESSION_EXPIRY_S otherwise */
  sessionExpirySeconds?: number;
  /** 5 (default: falls back to 4 when the broker refuses 5) or 4 (3.1.1 only) */
  protocolVersion?: 4 | 5;
  connectTimeoutMs?: number;
  reconnectMs?: number;
  /** told once which protocol the session uses */
  log?: (m: string) => void;
}

export function clientOptions(b: BrokerSettings, s: SessionOptions): IClientOptions {
  const version = s.protocolVersion ?? 5;
  const o: IClientOptions = {
    clientId: s.clientId,
    clean: s.clean,
    protocolVersion: version,
    keepalive: 30,
    connectTimeout: s.connectTimeoutMs ?? 10_000,
    reconnectPeriod: s.reconnectMs ?? 2_000,
  };
  if (version === 5) o.properties = { sessionExpiryInterval: s.sessionExpirySeconds ?? (s.clean ? 0 : PERSISTENT_SESSION_EXPIRY_S) };
  if (b.username !== null) o.username = b.username;
  if (b.password !== null) o.password = b.password;
  if (b.ca) o.ca = b.ca;
  // a ws(s) URL without a path gets /mqtt, the path most brokers serve (Mosquitto ignores it); a given path is kept
  if (/^wss?:\/\/[^/?#]*$/i.test(b.url)) o.path = "/mqtt";
  return o;
}

/** Masks credentials in a URL before it is printed (one masking for every command: provisioning/urlCredentials.ts). */
export const displayUrl = maskUrlCredentials;
export { maskUrlsIn };

const TLS_TRUST_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_GET_ISSUER_CERT", "CERT_UNTRUSTED",
]);

/** The reason in plain words for a failed first connect: which of login, certificate or network it was. */
export function explainConnectError(e: Error & { code?: unknown }, b: BrokerSettings): string {
  const code = e.code;
  const said = e.message || String(e);
  // 3.1.1 CONNACK 4/5, MQTT 5 0x86 (bad user name or password) / 0x87 (not authorized)
  if (code === 4 || code === 5 || code === 134 || code === 135) {
    const who = b.username !== null ? `username '${b.username}'` : "no username";
    return `the broker refused the login (${who}${b.password !== null ? " with a password" : ", no password"}): wrong username or password, or this user may not connect (broker said: ${said})`;
  }
  if (typeof code === "string" && TLS_TRUST_CODES.has(code)) {
    return `the broker's TLS certificate is not trusted (${said}): give the CA that signed it with --ca FILE${b.ca ? " (the --ca given did not sign it)" : ""}`;
  }
  if (code === "CERT_HAS_EXPIRED") return `the broker's TLS certificate has expired (${said})`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `the broker's TLS certificate is for another host name (${said})`;
  if (code === "ECONNREFUSED") return `nothing accepts connections there (${said})`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `host not found (${said})`;
  if (/wrong version number/i.test(said)) return "that port does not speak TLS (the handshake got plain data back): give the broker's TLS port, or mqtt:// / ws:// for a plain one";
  if (/^wss?:/i.test(b.url) && (code === "ECONNRESET" || /^Unexpected server response|socket hang up|Invalid WebSocket frame/i.test(said))) {
    return `no MQTT-over-WebSocket listener answered there (${said}): ws:// and wss:// need the broker's WebSocket port (wss:// its TLS one), not its MQTT TCP port`;
  }
  // MQTT.js's packet parser choking on an HTTP answer
  if (/^mqtts?:/i.test(b.url) && code === undefined && /^Invalid /.test(said)) return `the answer there is not MQTT (${said}): if it is a WebSocket port, use ws:// or wss://`;
  return said;
}

/** The broker answered that it does not speak this protocol version (3.1.1 rc 1, MQTT 5 0x84). */
function refusedVersion(e: Error & { code?: unknown }): boolean {
  return e.code === 1 || e.code === 132;
}

/** A close before CONNACK counts as a refusal of MQTT 5 only this soon after the CONNECT (TCP/TLS set-up included), with nothing answered. */
export const VERSION_HANGUP_MS = 3000;

type Attempt =
  | { client: MqttClient }
  | { error: Error & { code?: unknown } }
  /** `afterConnectMs`: how long after the CONNECT was written (MQTT.js writes it at once, the socket sends it when connected); `answered`: any packet came back */
  | { closed: true; afterConnectMs: number; answered: boolean };

function attempt(b: BrokerSettings, s: SessionOptions, version: 4 | 5, attach?: (c: MqttClient) => void): Promise<Attempt> {
  const connectWrittenAt = Date.now();
  const client = mqtt.connect(b.url, { ...clientOptions(b, { ...s, protocolVersion: version }), reconnectPeriod: 0 });
  let answered = false;
  const onReceive = () => { answered = true; };
  client.on("packetreceive", onReceive);
  attach?.(client);
  return new Promise((resolve) => {
    // only our own listeners are removed: MQTT.js keeps internal ones on the same events
    const detach = () => {
      client.removeListener("connect", onConnect);
      client.removeListener("error", onError);
      client.removeListener("close", onClose);
      client.removeListener("packetreceive", onReceive);
    };
    const fail = (r: Attempt) => {
      detach();
      client.on("error", () => {});
      client.end(true);
      resolve(r);
    };
    const onConnect = () => {
      detach();
      resolve({ client });
    };
    const onError = (e: Error) => fail({ error: e });
    const onClose = () => fail({ closed: true, afterConnectMs: Date.now() - connectWrittenAt, answered });
    client.once("connect", onConnect);
    client.once("error", onError);
    client.once("close", onClose);
  });
}

/**
 * Whether a failed MQTT 5 attempt means the broker does not speak 5: it said so (CONNACK 0x84, or 3.1.1's rc 1), or it
 * hung up at once on the CONNECT without a word, as 3.1.1-only brokers do. Anything else (a refused login, a timeout,
 * a close long after the CONNECT) is reported as it is, not retried as 3.1.1.
 */
function refusedMqtt5(r: Attempt): boolean {
  if ("error" in r) return refusedVersion(r.error);
  if ("closed" in r) return !r.answered && r.afterConnectMs <= VERSION_HANGUP_MS;
  return false;
}

function closedWhy(r: { afterConnectMs: number; answered: boolean }): string {
  const after = `${(r.afterConnectMs / 1000).toFixed(1)} s after the CONNECT`;
  return `the broker closed the connection ${after} without a CONNACK: it may refuse this login or client id without saying why, or be overloaded (its log says which)`;
}

/**
 * Resolves once connected; rejects with a clear message when the first attempt fails. `attach` runs before
 * the CONNACK (on each attempt) so no message the broker kept for a persistent session can arrive before its handler.
 */
export async function connectBroker(b: BrokerSettings, s: SessionOptions, attach?: (c: MqttClient) => void): Promise<MqttClient> {
  const first = s.protocolVersion ?? 5;
  let r = await attempt(b, s, first, attach);
  let version = first;
  let fellBack = false;
  if (first === 5 && refusedMqtt5(r)) {
    version = 4;
    fellBack = true;
    r = await attempt(b, s, 4, attach);
  }
  if ("client" in r) {
    const client = r.client;
    // from now on keep trying to reconnect after a drop, with the protocol that worked
    client.options.reconnectPeriod = s.reconnectMs ?? 2_000;
    const expiry = client.options.properties?.sessionExpiryInterval;
    if (version === 5) s.log?.(`MQTT 5, session ${s.clean ? "not kept" : `kept ${Math.round((expiry ?? 0) / 86400)} days`} by the broker`);
    else (s.log ?? ((m: string) => process.stderr.write(`espdht: ${m}\n`)))(`the broker does not speak MQTT 5: using MQTT 3.1.1${s.clean ? "" : " (its persistent session has no expiry there)"}`);
    return client;
  }
  let why = "closed" in r ? closedWhy(r) : explainConnectError(r.error, b);
  if (fellBack) why = `it refused MQTT 5, and over MQTT 3.1.1: ${why}`;
  throw new Error(`cannot connect to ${displayUrl(b.url)}: ${maskUrlsIn(why)}`);
}

/** The MQTT version a connected client speaks (5, or 4 = 3.1.1). */
export function protocolOf(client: MqttClient): number {
  return client.options.protocolVersion ?? 4;
}
