// The device's MQTT 3.1.1 client: one connection at a time over a HAL socket, reconnecting with backoff,
// QoS 1 in flight with retransmission, a small bounded queue while offline. Written for Espruino (see docs/espruino.md).
// One file over 150 lines on purpose: its state is constructor locals shared by every handler, which split across
// modules would become properties (a bigger bundle, more JsVars); the minifier shortens locals, and property names
// only when they end in `_`. Packets are built as bytes once (a queued publish is its encoded packet); packet types
// and flags are codec.ts's const enums, which the build inlines as numbers. Topics and filters are not checked here:
// the app builds them from a validated root.
import type { Clock, Socket, SocketFactory, SocketTarget, TimerHandle } from "../hal/hal";
import { connectPacket, frame, HeaderFlag, PacketType } from "./codec";
import { createDecoder } from "./decoder";
import { parseFromBroker } from "./parseFromBroker";
import type { DeviceMqttClient, IncomingMessage, MqttClientEvents, MqttClientOptions, MqttClientStats, QoS } from "./types";
import { utf8Encode } from "./utf8";

/** what onClose says once the broker's closes are a kick loop (for the simulator; the client writes its literals: a
 * module-level string would hold JsVars in RAM, a literal in code run from Storage stays in flash) */
export const KICK_LOOP_CLOSE = "closed by peer: kick loop";

/** the fields of the broker's packets the client reads (which exist depends on the type) */
interface Received {
  type: PacketType;
  id: number;
  returnCode_: number;
  sessionPresent_: boolean;
  qos: number;
  granted_: number[];
  skipped_?: boolean;
}

/** A publish on its way. */
interface Outgoing {
  /** the encoded PUBLISH, sent as is (again with DUP set after a reconnect) */
  packet_: Uint8Array;
  /** its packet id, 0 for QoS 0; given at publish(), so it is also the token onPublished reports */
  id_: number;
  /** sent and awaiting PUBACK */
  inFlight_?: boolean;
}

export class MqttClient implements DeviceMqttClient {
  connected!: boolean;
  stats!: MqttClientStats;
  start!: () => void;
  stop!: (graceful: boolean) => void;
  publish!: (topic: string, payload: string | Uint8Array, qos: QoS, retain: boolean) => number;
  inflightRoom!: () => number;
  subscribe!: (filter: string, qos: QoS) => void;
  unsubscribe!: (filter: string) => void;

  /** `time`: the board's clock in seconds (Espruino's getTime(): Unix once SNTP set it), stamped on a kick loop report */
  constructor(target: SocketTarget, options: MqttClientOptions, events: MqttClientEvents, sockets: SocketFactory, clock: Clock, random: () => number, time: () => number) {
    const self = this;
    const stats: MqttClientStats = (self.stats = { connects: 0, queueDropped: 0, protocolErrors: 0, skipped_: 0 });
    const keepaliveMs = options.keepalive * 1000;
    const replyTimeoutMs = options.connectTimeoutMs || 10000;
    const maxInflight = options.maxInflight || 10;
    const queueLimit = options.queueLimit == null ? 8 : options.queueLimit;
    const maxPacketSize = options.maxPacketSize || 4096;
    const stableMs = options.stableMs || 60000;
    const reconnectMinMs = options.reconnectMinMs || 1000;
    const reconnectMaxMs = options.reconnectMaxMs || 300000;
    // every CONNECT is the same: built once, and the options (their strings and the will) are not kept
    const connect = connectPacket(options);
    options = 0 as unknown as MqttClientOptions;
    // left undefined until set: falsy, and one declaration less each in the minified output
    let sock: Socket | 0 | undefined;
    let timer: TimerHandle | undefined; // the one timer: connect timeout, keepalive, PINGRESP wait or reconnect delay
    let running: boolean | undefined; // between start() and stop()
    let up: boolean | undefined; // CONNACK received; mirrored in self.connected (a local minifies smaller)
    let pinging: boolean | undefined;
    let backoff: number; // the last reconnect delay's base; unset or 0: start again from reconnectMinMs
    let connectedAt: number;
    let kicks = 0; // sessions in a row the broker ended within stableMs of CONNACK (3+: a twin takes our client id)
    let lastSent: number; // set by CONNECT, before keepalive() first runs (after CONNACK)
    let lastRecv: number; // set by CONNACK's bytes
    let gen = 0; // connection generation: callbacks from an older socket are ignored
    let lastId = 0;
    // publishes in order: those in flight (with an id) first, then the queued ones (in-flight ones always come first:
    // one is sent only when all before it are, and a blocked QoS 1 publish holds back all after it)
    const out: Outgoing[] = [];
    let flying = 0; // how many of `out` are in flight
    let subs: { [filter: string]: QoS } = {}; // re-sent after every CONNACK, in the order made
    let pending: { [id: number]: string } = {}; // SUBSCRIBE / UNSUBSCRIBE awaiting their ack: id -> filter
    self.connected = false;

    // events are called as methods (the app's handlers may use `this`)

    /** sets the one timer, clearing the previous one; no fn only clears */
    const arm = (ms?: number, fn?: () => void) => {
      if (timer) clock.clearTimeout(timer);
      timer =
        fn &&
        clock.setTimeout(() => {
          timer = 0;
          fn();
        }, ms as number);
    };

    const send = (b: Uint8Array) => {
      if (sock) {
        lastSent = clock.now();
        sock.write(b);
      }
    };

    const nextId = () => {
      do lastId = (lastId % 65535) + 1;
      while (pending[lastId] || out.some((m) => m.id_ == lastId)); // pending holds filters: never empty strings in practice
      return lastId;
    };

    /** SUBSCRIBE (qos) or UNSUBSCRIBE (qos < 0) for one filter */
    const sendSub = (filter: string, qos: number) => {
      const id = nextId();
      pending[id] = filter;
      send(
        frame(qos < 0 ? (PacketType.Unsubscribe << 4) | HeaderFlag.Required : (PacketType.Subscribe << 4) | HeaderFlag.Required, [
          [id >> 8, id],
          filter,
          qos < 0 ? [] : [qos],
        ]),
      );
    };

    /**
     * While connected: sends queued publishes in order while the in-flight window has room; `again` (after CONNACK)
     * first sends the unacknowledged ones once more, with their ids and DUP set.
     */
    const flush = (again?: boolean) => {
      for (let i = 0; up && i < out.length; i++) {
        const m = out[i];
        if (m.inFlight_) {
          if (again) {
            m.packet_[0] |= HeaderFlag.Dup;
            send(m.packet_);
          }
        } else if (!m.id_) {
          out.splice(i--, 1);
          send(m.packet_);
        } else if (flying < maxInflight) {
          flying++;
          m.inFlight_ = true;
          send(m.packet_);
        } else break;
      }
    };

    /** `peer`: the broker closed the socket cleanly (no error) */
    const closed = (reason: string, peer?: boolean) => {
      gen++;
      sock = 0;
      if (up) {
        if (clock.now() - connectedAt >= stableMs) backoff = kicks = 0;
        // the broker ending a fresh session cleanly: a client with our id took it over (MQTT-3.1.4-2)
        else if (peer && ++kicks > 2) stats.dup_ = { n: kicks, at: Math.round(time() * 1000) };
      }
      self.connected = up = pinging = false;
      pending = {};
      if (running) {
        // exponential backoff with jitter: a delay in (base/2, base], base doubling from min to max; in a kick loop
        // from 1 min to 15 min, so two boards with one id stop taking the session from each other every few seconds
        backoff = kicks > 2 ? Math.min(900000, Math.max(backoff * 2, 60000)) : Math.min(reconnectMaxMs, backoff * 2 || reconnectMinMs);
        arm(backoff - (random() * backoff) / 2, open);
      } else arm();
      // the app logs it; a kick loop says so (the simulator counts these lines)
      events.onClose && events.onClose(peer && kicks > 2 ? reason + ": kick loop" : reason);
    };

    /** closes our side now (the socket's own onClose is then ignored); no reason: a timeout (the timer calls it so) */
    const drop = (reason?: string) => {
      const s = sock;
      closed(reason || "timeout");
      if (s) s.close();
    };

    const protocolError = (message: string) => {
      stats.protocolErrors++;
      drop("protocol error: " + message);
    };

    /** PINGREQ once either direction has been idle for the keepalive period, then wait for PINGRESP */
    const keepalive = () => {
      const idle = clock.now() - Math.min(lastSent, lastRecv);
      if (!keepaliveMs) arm();
      else if (idle < keepaliveMs) arm(keepaliveMs - idle, keepalive);
      else {
        send(frame(PacketType.Pingreq << 4, []));
        pinging = true;
        arm(replyTimeoutMs, drop);
      }
    };

    const onPacket = (p: Received) => {
      const t = p.type;
      const id = p.id;
      // CONNACK first and only once
      if ((t != PacketType.Connack) == !up) protocolError("unexpected type " + t);
      else if (t == PacketType.Connack) {
        if (p.returnCode_) drop("connack: refused, code " + p.returnCode_);
        else {
          self.connected = up = true;
          connectedAt = clock.now();
          stats.connects++;
          for (const f in subs) sendSub(f, subs[f]);
          flush(true);
          keepalive();
          events.onConnect && events.onConnect(p.sessionPresent_);
        }
      } else if (t == PacketType.Publish || t == PacketType.Pubrel) {
        // the packet itself is the message: topic, payload, qos, retain, dup (and type, id). Incoming QoS 2 is
        // acknowledged (PUBREC, then PUBCOMP for PUBREL) but not deduplicated: the app subscribes at QoS 1.
        // An oversized one the decoder read past is only counted and acknowledged.
        if (t == PacketType.Publish) p.skipped_ ? stats.skipped_++ : events.onMessage && events.onMessage(p as unknown as IncomingMessage);
        // QoS 1 -> PUBACK, QoS 2 -> PUBREC, PUBREL -> PUBCOMP; QoS 0 gets no answer
        const answer = t == PacketType.Pubrel ? PacketType.Pubcomp : p.qos && (p.qos == 1 ? PacketType.Puback : PacketType.Pubrec);
        if (answer) send(frame(answer << 4, [[id >> 8, id]]));
      } else if (t == PacketType.Puback) {
        for (let i = 0; i < out.length; i++)
          if (out[i].id_ == id && out[i].inFlight_) {
            flying--;
            events.onPublished && events.onPublished(out.splice(i, 1)[0].id_);
            return flush();
          }
      } else if (t == PacketType.Suback || t == PacketType.Unsuback) {
        const filter = pending[id];
        delete pending[id];
        // 0x80: the broker refused the subscription
        if (t == PacketType.Suback && p.granted_[0] == 128) events.onError && events.onError("refused: " + filter);
      } else if (pinging) {
        // PINGRESP (parseFromBroker lets no other type through)
        pinging = false;
        keepalive();
      }
    };

    const open = () => {
      const g = ++gen;
      let error = "";
      const dec = createDecoder(
        maxPacketSize,
        parseFromBroker,
        (p) => {
          // an exception from an app handler must not lose the rest of this chunk (the stream would desync)
          try {
            if (g == gen) onPacket(p as unknown as Received);
          } catch (e) {
            events.onError && events.onError("handler failed: " + e);
          }
        },
        (e) => {
          if (g == gen) protocolError(e);
        },
      );
      arm(replyTimeoutMs, drop);
      try {
        const s = sockets(target, {
          onConnect: () => {
            if (g == gen) send(connect);
          },
          onData: (d) => {
            if (g == gen) {
              lastRecv = clock.now();
              dec.feed_(d);
            }
          },
          onError: (m) => {
            error = m;
          },
          onClose: () => {
            if (g == gen) closed(error || "closed by peer", !error);
          },
        });
        // a socket that failed inside the factory (handlers called at once) is already forgotten
        if (g == gen) sock = s;
      } catch (e) {
        closed("" + e);
      }
    };

    self.start = () => {
      running = true;
      if (!sock && !timer) open();
    };

    self.stop = (graceful) => {
      running = false;
      if (!sock) return arm();
      if (graceful && up) send(frame(PacketType.Disconnect << 4, []));
      drop("stopped");
    };

    self.publish = (topic, payload, qos, retain) => {
      const id = qos && nextId();
      const m: Outgoing = { packet_: frame((PacketType.Publish << 4) | (qos << 1) | (retain ? HeaderFlag.Retain : 0), [topic, qos ? [id >> 8, id] : [], typeof payload == "string" ? utf8Encode(payload) : payload]), id_: id };
      out.push(m);
      flush();
      // the oldest queued publish goes when too many wait (the in-flight ones come first in `out`)
      if (out.length - flying > queueLimit) {
        out.splice(flying, 1);
        stats.queueDropped++;
      }
      return id;
    };

    self.inflightRoom = () => (up && maxInflight > out.length ? maxInflight - out.length : 0);

    self.subscribe = (filter, qos) => {
      delete subs[filter];
      subs[filter] = qos;
      if (up) sendSub(filter, qos);
    };

    self.unsubscribe = (filter) => {
      delete subs[filter];
      if (up) sendSub(filter, -1);
    };
  }
}
