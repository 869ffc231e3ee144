// Connects MQTT.js to the user's broker (mqtt/mqtts/ws/wss) and waits for the first CONNACK, so a wrong
// URL or refused login is a clear error up front; later drops reconnect by themselves.
import mqtt, { IClientOptions, MqttClient } from "mqtt";

export interface BrokerSettings {
  /** mqtt://, mqtts://, ws:// or wss:// URL */
  url: string;
  username: string | null;
  password: string | null;
  /** PEM CA certificate(s) for TLS, already read from the --ca file */
  ca: Buffer | null;
}

export interface SessionOptions {
  clientId: string;
  /** false = persistent session: the broker keeps QoS 1 messages for us while we are away */
  clean: boolean;
  connectTimeoutMs?: number;
  reconnectMs?: number;
}

export function clientOptions(b: BrokerSettings, s: SessionOptions): IClientOptions {
  const o: IClientOptions = {
    clientId: s.clientId,
    clean: s.clean,
    protocolVersion: 4,
    keepalive: 30,
    connectTimeout: s.connectTimeoutMs ?? 10_000,
    reconnectPeriod: s.reconnectMs ?? 2_000,
  };
  if (b.username !== null) o.username = b.username;
  if (b.password !== null) o.password = b.password;
  if (b.ca) o.ca = b.ca;
  return o;
}

/** Masks credentials in a URL before it is printed. */
export function displayUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

/**
 * Resolves once connected; rejects with a clear message when the first attempt fails. `attach` runs before
 * the CONNACK so no message the broker kept for a persistent session can arrive before its handler.
 */
export function connectBroker(b: BrokerSettings, s: SessionOptions, attach?: (c: MqttClient) => void): Promise<MqttClient> {
  const client = mqtt.connect(b.url, { ...clientOptions(b, s), reconnectPeriod: 0 });
  attach?.(client);
  return new Promise((resolve, reject) => {
    // only our own listeners are removed: MQTT.js keeps internal ones on the same events
    const detach = () => {
      client.removeListener("connect", onConnect);
      client.removeListener("error", onError);
      client.removeListener("close", onClose);
    };
    const fail = (why: string) => {
      detach();
      client.on("error", () => {});
      client.end(true);
      reject(new Error(`cannot connect to ${displayUrl(b.url)}: ${why}`));
    };
    const onConnect = () => {
      detach();
      // from now on keep trying to reconnect after a drop
      client.options.reconnectPeriod = s.reconnectMs ?? 2_000;
      resolve(client);
    };
    const onError = (e: Error) => fail(e.message || String(e));
    const onClose = () => fail("connection closed before CONNACK");
    client.once("connect", onConnect);
    client.once("error", onError);
    client.once("close", onClose);
  });
}
