// A fake DeviceMqttClient for app tests: records what the app publishes and subscribes, and lets the test
// connect, drop, deliver commands and acknowledge QoS 1 publishes.
import type { SocketTarget } from "../../../firmware/hal/hal";
import type { DeviceMqttClient, MqttClientEvents, MqttClientOptions, MqttClientStats, QoS } from "../../../firmware/mqtt/types";

export interface Sent {
  topic: string;
  payload: string;
  qos: QoS;
  retain: boolean;
  /** published while offline: the real client would queue it */
  queued: boolean;
}

export class FakeMqttClient implements DeviceMqttClient {
  connected = false;
  started = false;
  stats: MqttClientStats = { connects: 0, queueDropped: 0, protocolErrors: 0, skipped_: 0 };
  sent: Sent[] = [];
  subscriptions: string[] = [];
  inflight: number[] = [];
  maxInflight = 10;
  private token = 0;

  constructor(public target: SocketTarget, public options: MqttClientOptions, public events: MqttClientEvents) {}

  start(): void { this.started = true; }
  stop(): void { this.connected = false; }
  publish(topic: string, payload: string | Uint8Array, qos: QoS, retain: boolean): number {
    const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
    this.sent.push({ topic, payload: text, qos, retain, queued: !this.connected });
    if (qos === 0) return 0;
    const t = ++this.token;
    if (this.connected) this.inflight.push(t);
    return t;
  }
  inflightRoom(): number { return Math.max(0, this.maxInflight - this.inflight.length); }
  // a filter once, as the real client keeps them in a map
  subscribe(filter: string): void { if (!this.subscriptions.includes(filter)) this.subscriptions.push(filter); }
  unsubscribe(filter: string): void { this.subscriptions = this.subscriptions.filter((f) => f !== filter); }

  // --- test controls ---
  connect(): void {
    this.connected = true;
    this.stats.connects++;
    this.events.onConnect?.(false);
  }
  drop(): void {
    this.connected = false;
    this.events.onClose?.("closed by peer");
  }
  /** PUBACKs for the oldest n in-flight publishes */
  ack(n = this.inflight.length): void {
    for (let i = 0; i < n && this.inflight.length; i++) this.events.onPublished?.(this.inflight.shift()!);
  }
  /** a PUBLISH from the broker; `retain`: delivered as a retained message (on subscribing) */
  deliver(topic: string, payload: string | Uint8Array, retain = false): void {
    const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
    this.events.onMessage?.({ topic, payload: bytes, qos: 1, retain, dup: false });
  }
  on(topic: string): Sent[] { return this.sent.filter((s) => s.topic === topic); }
  json(topic: string): any[] { return this.on(topic).map((s) => JSON.parse(s.payload)); }
  clear(): void { this.sent = []; }
}
