// Public shape of the device MQTT 3.1.1 client (firmware/mqtt/client.ts implements it).

export type QoS = 0 | 1;

export interface Will {
  topic: string;
  payload: string;
  qos: QoS;
  retain: boolean;
}

export interface MqttClientOptions {
  clientId: string;
  /** false: the broker keeps our subscriptions and queued QoS 1 messages while we are away */
  clean: boolean;
  /** seconds; 0 disables keepalive */
  keepalive: number;
  username?: string | null;
  password?: string | null;
  will?: Will | null;
  /** ms allowed from opening the socket to CONNACK, and for each PINGRESP (default 10 s) */
  connectTimeoutMs?: number;
  /**
   * reconnect backoff: first delay, cap, and how long a connection must last to reset it (defaults 1 s, 300 s, 60 s);
   * each delay is drawn from (base/2, base], base doubling from the first delay up to the cap; after 3+ sessions in
   * a row that the broker ended within stableMs (a kick loop), base doubles from 60 s up to 900 s instead
   */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  stableMs?: number;
  /**
   * largest incoming packet buffered, bytes (default 4096): a bigger PUBLISH is read past without being buffered,
   * acknowledged and counted (stats.skipped_); any other bigger packet closes the connection with a protocol error
   */
  maxPacketSize?: number;
  /** max QoS 1 publishes awaiting PUBACK (default 10, the test.mosquitto.org limit) */
  maxInflight?: number;
  /** bounded queue of publishes made while offline or with the in-flight window full (default 8; oldest dropped) */
  queueLimit?: number;
}

export interface IncomingMessage {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
}

export interface MqttClientEvents {
  onConnect?(sessionPresent: boolean): void;
  /** the connection closed (reason: "timeout", "protocol error: ...", "closed by peer", "connack: refused, code 5", ...) */
  onClose?(reason: string): void;
  /** the message object may carry more fields than IncomingMessage names (the parsed packet is passed on) */
  onMessage?(msg: IncomingMessage): void;
  onError?(message: string): void;
  /** a QoS 1 publish was acknowledged (used by the app to free reading buffer slots) */
  onPublished?(token: number): void;
}

export interface MqttClientStats {
  connects: number;
  /** publishes dropped from the bounded offline queue because it was full */
  queueDropped: number;
  protocolErrors: number;
  /** incoming PUBLISHes over maxPacketSize, read past unbuffered and acknowledged */
  skipped_: number;
  /**
   * set once the broker ended 3+ sessions in a row within stableMs of their CONNACK (a kick loop: another client
   * uses our id): n = those sessions, at = the time of the last (Unix ms, or ms since boot before the clock is set)
   */
  dup_?: DupIdReport;
}

/** `info.dupId` (firmware/contract/payloads.ts) */
export interface DupIdReport {
  n: number;
  at: number;
}

export interface DeviceMqttClient {
  readonly connected: boolean;
  readonly stats: MqttClientStats;
  /** start connecting (and reconnecting with backoff) to the target */
  start(): void;
  /** stop for good; `graceful` sends DISCONNECT (no will), otherwise the socket is just closed */
  stop(graceful: boolean): void;
  /**
   * Publish; returns a token (>0) for QoS 1 (reported by onPublished when PUBACK arrives), 0 for QoS 0. The token is
   * the packet id, unique among unacknowledged publishes. When offline or the in-flight window is full the message
   * goes to the bounded queue. The topic is not checked (the app builds it from a validated root): a wildcard or
   * empty topic makes the broker close the connection.
   */
  publish(topic: string, payload: string | Uint8Array, qos: QoS, retain: boolean): number;
  /** free in-flight slots right now: the app sends buffered readings only when this is > 0 and connected */
  inflightRoom(): number;
  /** subscriptions are remembered and re-sent after every reconnect; the filter is not checked (see publish) */
  subscribe(filter: string, qos: QoS): void;
  unsubscribe(filter: string): void;
}
