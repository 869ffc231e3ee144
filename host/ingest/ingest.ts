// The ingest pipeline: MQTT.js subscription to R/+/{status,info,reading,reply} -> signature check (when a
// keyring is given) -> contract validation -> fleet state -> store, with events for the views (watch,
// dashboard) and command replies.
import type { MqttClient } from "mqtt";
import { everyDeviceFilter, OutputState, Reading, Reply } from "../../firmware/contract";
import { BrokerSettings, connectBroker } from "../mqtt/connectBroker";
import type { HistoryStore } from "../store/historyStore";
import type { DeviceTrust } from "../trust/deviceTrust";
import type { DeviceView, Trust } from "../view/deviceView";
import { readingDeviceIds } from "../store/historyQueries";
import { ApplyOutcome, DEFAULT_MAX_ESTABLISHED, FleetState } from "./deviceState";
import { deliverHostHealth, HostHealthMessage, hostHealthFilter, isHealthTopic } from "./hostHealth";
import { parseDeviceMessage } from "./parseMessage";

export const INGEST_KINDS = ["status", "info", "reading", "reply", "output"] as const;

export type IngestEvent =
  | { kind: "reading"; device: DeviceView; reading: Reading; receivedAt: number; trust: Trust }
  | { kind: "device"; device: DeviceView }
  | { kind: "reply"; deviceId: string; reply: Reply; trust: Trust }
  /** the output's state (null: cleared, trust null then) */
  | { kind: "output"; device: DeviceView; output: OutputState | null; receivedAt: number; trust: Trust | null }
  | { kind: "rejected"; device: DeviceView | null; reason: string; topic: string }
  | { kind: "connection"; connected: boolean; detail?: string };

export type IngestListener = (e: IngestEvent) => void;

export interface IngestOptions {
  root: string;
  fleet?: FleetState;
  /** null = keep nothing (watch, send) */
  store?: HistoryStore | null;
  /** the keyring's judge of signatures; null = believe nothing is signed (every device unsigned) */
  trust?: DeviceTrust | null;
  now?: () => number;
}

/** Routes messages into the fleet state and store; usable without MQTT (tests, benchmark). */
export class IngestPipeline {
  readonly fleet: FleetState;
  readonly store: HistoryStore | null;
  readonly trust: DeviceTrust | null;
  private readonly root: string;
  private readonly now: () => number;
  private listeners: IngestListener[] = [];
  accepted = 0;
  duplicates = 0;
  rejected = 0;
  /** messages from new ids turned away by the admission rate (FleetState.flood() has the details) */
  refused = 0;

  constructor(opts: IngestOptions) {
    this.root = opts.root;
    this.store = opts.store ?? null;
    this.trust = opts.trust ?? null;
    this.fleet = opts.fleet ?? IngestPipeline.fleetFor(this.trust, this.store);
    this.now = opts.now ?? Date.now;
  }

  /**
   * With a keyring, only devices with a key prove themselves (by verified readings) and they need no admission;
   * without one, devices whose readings the store already holds are let back in at once after a restart.
   */
  private static fleetFor(trust: DeviceTrust | null, store: HistoryStore | null): FleetState {
    const keyring = trust?.keyring ?? null;
    const fleet = new FleetState({ requireVerified: keyring !== null, isKnown: keyring ? (id) => trust!.keyOf(id) !== null : undefined });
    if (!keyring && store) fleet.rememberProven(readingDeviceIds(store.db, DEFAULT_MAX_ESTABLISHED));
    return fleet;
  }

  on(listener: IngestListener): () => void {
    this.listeners.push(listener);
    return () => { this.listeners = this.listeners.filter((l) => l !== listener); };
  }

  emit(e: IngestEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        process.stderr.write(`espdht: a listener failed: ${(err as Error).message}\n`);
      }
    }
  }

  /** Handles one MQTT message; never throws on any payload. */
  handle(topic: string, payload: Uint8Array, retained: boolean): ApplyOutcome {
    const now = this.now();
    const out = this.fleet.apply(parseDeviceMessage(this.root, topic, payload, this.trust), now, retained, topic);
    switch (out.kind) {
      case "reading":
        if (out.verdict.duplicate) {
          this.duplicates++;
          this.emit({ kind: "device", device: out.device });
          break;
        }
        this.accepted++;
        this.store?.add(out.reading, now);
        if (!retained) this.store?.noteSeen(out.device.id, now);
        // no event object per reading when nobody listens (the store-only ingest at full rate)
        if (this.listeners.length > 0) this.emit({ kind: "reading", device: out.device, reading: out.reading, receivedAt: now, trust: out.trust });
        break;
      case "status":
        this.store?.setStatus(out.device.id, out.device.online === true, now);
        if (!retained) this.store?.noteSeen(out.device.id, now);
        this.emit({ kind: "device", device: out.device });
        break;
      case "info":
        if (out.device.info) this.store?.setInfo(out.device.id, out.device.info, now);
        this.emit({ kind: "device", device: out.device });
        break;
      case "output":
        this.emit({ kind: "output", device: out.device, output: out.device.output ?? null, receivedAt: now, trust: out.trust });
        this.emit({ kind: "device", device: out.device });
        break;
      case "reply":
        this.emit({ kind: "reply", deviceId: out.device.id, reply: out.reply, trust: out.device.trust });
        this.emit({ kind: "device", device: out.device });
        break;
      case "refused":
        this.refused++;
        break;
      case "rejected":
        this.rejected++;
        this.emit({ kind: "rejected", device: out.device, reason: out.reason, topic });
        break;
    }
    return out;
  }
}

export interface MqttIngestOptions extends IngestOptions {
  broker: BrokerSettings;
  clientId: string;
  clean: boolean;
  log?: (m: string) => void;
  /** also follow dashboards' store health (R/+/health: a health, a clear or a malformed message), for watch */
  onHostHealth?: (message: HostHealthMessage) => void;
}

/** A connected ingest: the pipeline plus its MQTT client. */
export class MqttIngest extends IngestPipeline {
  client!: MqttClient;

  private constructor(opts: MqttIngestOptions) {
    super(opts);
  }

  static async start(opts: MqttIngestOptions): Promise<MqttIngest> {
    const log = opts.log ?? ((m: string) => process.stderr.write(m + "\n"));
    const ingest = new MqttIngest(opts);
    const client = await connectBroker(opts.broker, { clientId: opts.clientId, clean: opts.clean }, (c) => {
      c.on("message", (topic, payload, packet) => {
        if (opts.onHostHealth && isHealthTopic(opts.root, topic)) deliverHostHealth(opts.root, topic, payload, opts.onHostHealth, log);
        else ingest.handle(topic, payload, packet.retain === true);
      });
      // MQTT.js emits "message", then sends the PUBACK when handleMessage calls back, and reads the next packet
      // only then: calling back once the store has the reading journalled means acknowledged = on this host's disk
      c.handleMessage = (_packet, done) => {
        const durable = ingest.store?.whenDurable?.() ?? null;
        if (durable) void durable.then(() => done());
        else done();
      };
    });
    ingest.client = client;
    client.on("error", (e) => log(`espdht: broker error: ${e.message}`));
    client.on("offline", () => ingest.emit({ kind: "connection", connected: false }));
    client.on("reconnect", () => log(`espdht: reconnecting to the broker...`));
    client.on("connect", () => ingest.emit({ kind: "connection", connected: true }));
    const filters: Record<string, { qos: 1 }> = {};
    for (const k of INGEST_KINDS) filters[everyDeviceFilter(opts.root, k)] = { qos: 1 };
    if (opts.onHostHealth) filters[hostHealthFilter(opts.root)] = { qos: 1 };
    const granted = await client.subscribeAsync(filters);
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length) {
      await client.endAsync(true);
      throw new Error(`the broker refused the subscription to ${refused.map((g) => g.topic).join(", ")} (check the ACL for your user)`);
    }
    return ingest;
  }

  async close(): Promise<void> {
    // while a reading is held MQTT.js reads nothing, so a graceful end would wait for PUBACKs forever; forced,
    // the held readings stay unacknowledged and the broker sends them again
    await this.client.endAsync(this.store?.whenDurable?.() != null);
    this.store?.flush();
  }
}
