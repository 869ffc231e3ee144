// The device's MQTT 3.1.1 client: one connection at a time over a HAL socket, reconnecting with backoff,
// QoS 1 in flight with retransmission, a small bounded queue while offline. Written for Espruino (see ESPRUINO.md).
// State lives in constructor locals rather than fields: the minifier shortens locals but not property names,
// and the whole firmware has a 12 KB budget.
import type { Clock, Socket, SocketFactory, SocketTarget, TimerHandle } from "../hal/hal";
import { connackReason, encode, Packet, PacketType, PublishPacket } from "./codec";
import { createDecoder } from "./decoder";
import { parseFromBroker } from "./parseFromBroker";
import type { DeviceMqttClient, MqttClientEvents, MqttClientOptions, MqttClientStats, QoS } from "./types";
import { utf8Encode } from "./utf8";

interface Outgoing extends PublishPacket {
  /** what onPublished reports; 0 for QoS 0 */
  token: number;
}

/** A topic filter a broker accepts: '#' only as the whole last level, '+' only as a whole level. */
export function validFilter(filter: string): boolean {
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i];
    if ((l.indexOf("#") >= 0 && (l != "#" || i < levels.length - 1)) || (l.indexOf("+") >= 0 && l != "+")) return false;
  }
  return filter.length > 0 && utf8Encode(filter).length < 65536;
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

  constructor(target: SocketTarget, options: MqttClientOptions, events: MqttClientEvents, sockets: SocketFactory, clock: Clock, random: () => number) {
    const self = this;
    const stats: MqttClientStats = (self.stats = { connects: 0, queueDropped: 0, protocolErrors: 0 });
    const keepaliveMs = options.keepalive * 1000;
    const replyTimeoutMs = options.connectTimeoutMs || 10000;
    const minDelay = options.reconnectMinMs || 1000;
    const maxDelay = options.reconnectMaxMs || 300000;
    const maxInflight = options.maxInflight || 10;
    const queueLimit = options.queueLimit == null ? 8 : options.queueLimit;
    let sock: Socket | null = null;
    let gen = 0; // connection generation: callbacks from an older socket are ignored
    let timer: TimerHandle | null = null; // the one timer: connect timeout, keepalive, PINGRESP wait or reconnect delay
    let stopped = true;
    let attempt = 0;
    let connectedAt = 0;
    let lastSent = 0;
    let lastRecv = 0;
    let pinging = false;
    let lastId = 0;
    let lastToken = 0;
    const inflight: Outgoing[] = [];
    const queue: Outgoing[] = [];
    let subs: { filter: string; qos: QoS }[] = [];
    let pending: { id: number; filter: string }[] = []; // SUBSCRIBE / UNSUBSCRIBE awaiting their ack
    let qos2: number[] = []; // incoming QoS 2 ids delivered and awaiting PUBREL: a resent PUBLISH is not delivered twice
    let up = false; // mirrored in self.connected (a local minifies smaller)
    self.connected = false;

    /** sets the one timer, clearing the previous one; no fn only clears */
    const arm = (ms: number, fn?: () => void) => {
      if (timer) clock.clearTimeout(timer);
      timer = null;
      if (fn)
        timer = clock.setTimeout(() => {
          timer = null;
          fn();
        }, ms);
    };

    const send = (p: Packet) => {
      if (!sock) return;
      lastSent = clock.now();
      sock.write(encode(p));
    };

    const nextId = () => {
      const used = (id: number) => inflight.some((m) => m.id == id) || pending.some((p) => p.id == id);
      do lastId = (lastId % 65535) + 1;
      while (used(lastId));
      return lastId;
    };

    const sendSub = (filter: string, qos: QoS, unsub?: boolean) => {
      const id = nextId();
      pending.push({ id, filter });
      send(unsub ? { type: PacketType.Unsubscribe, id, filters: [filter] } : { type: PacketType.Subscribe, id, subs: [{ filter, qos }] });
    };

    /** sends queued publishes while connected and the in-flight window has room, in order */
    const flush = () => {
      while (queue.length && up && (!queue[0].qos || inflight.length < maxInflight)) {
        const m = queue.shift() as Outgoing;
        if (m.qos) {
          m.id = nextId();
          inflight.push(m);
        }
        send(m);
      }
    };

    const closed = (reason: string) => {
      gen++;
      sock = null;
      if (up && clock.now() - connectedAt >= (options.stableMs || 60000)) attempt = 0;
      self.connected = up = pinging = false;
      pending = [];
      arm(-1);
      if (!stopped) {
        // exponential backoff with jitter: a delay in (base/2, base], base doubling from min to max
        const base = Math.min(maxDelay, minDelay * Math.pow(2, attempt));
        if (base < maxDelay) attempt++;
        arm(base - (random() * base) / 2, open);
      }
      if (events.onClose) events.onClose(reason);
    };

    /** closes our side now (the socket's own onClose is then ignored) */
    const drop = (reason: string) => {
      const s = sock;
      closed(reason);
      if (s) s.close();
    };

    const protocolError = (message: string) => {
      stats.protocolErrors++;
      drop("protocol error: " + message);
    };

    /** PINGREQ once either direction has been idle for the keepalive period, then wait for PINGRESP */
    const keepalive = () => {
      const idle = clock.now() - Math.min(lastSent, lastRecv);
      if (!keepaliveMs) arm(-1);
      else if (idle < keepaliveMs) arm(keepaliveMs - idle, keepalive);
      else {
        send({ type: PacketType.Pingreq });
        pinging = true;
        arm(replyTimeoutMs, () => drop("timeout: no PINGRESP"));
      }
    };

    const connack = (sessionPresent: boolean) => {
      self.connected = up = true;
      connectedAt = clock.now();
      stats.connects++;
      for (let i = 0; i < subs.length; i++) sendSub(subs[i].filter, subs[i].qos);
      // unacknowledged QoS 1 publishes go again, in order, with their ids and DUP set
      for (let i = 0; i < inflight.length; i++) {
        inflight[i].dup = true;
        send(inflight[i]);
      }
      flush();
      keepalive();
      if (events.onConnect) events.onConnect(sessionPresent);
    };

    const onPacket = (p: Packet) => {
      const t = p.type;
      if (t == PacketType.Connack) {
        if (up) protocolError("second CONNACK");
        else if (p.returnCode) drop("connack: " + connackReason(p.returnCode));
        else connack(p.sessionPresent);
      } else if (!up) protocolError("packet type " + t + " before CONNACK");
      else if (t == PacketType.Publish) {
        const id = p.id as number;
        const fresh = qos2.indexOf(id) < 0;
        if ((p.qos < 2 || fresh) && events.onMessage) events.onMessage({ topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, dup: p.dup });
        if (p.qos == 1) send({ type: PacketType.Puback, id });
        if (p.qos == 2) {
          if (fresh && qos2.push(id) > 16) qos2.shift();
          send({ type: PacketType.Pubrec, id });
        }
      } else if (t == PacketType.Pubrel) {
        qos2 = qos2.filter((i) => i != p.id);
        send({ type: PacketType.Pubcomp, id: p.id });
      } else if (t == PacketType.Puback) {
        for (let i = 0; i < inflight.length; i++)
          if (inflight[i].id == p.id) {
            const token = inflight.splice(i, 1)[0].token;
            if (events.onPublished) events.onPublished(token);
            return flush();
          }
      } else if (t == PacketType.Suback || t == PacketType.Unsuback) {
        for (let i = 0; i < pending.length; i++)
          if (pending[i].id == p.id) {
            const filter = pending.splice(i, 1)[0].filter;
            if (t == PacketType.Suback && p.granted[0] == 0x80 && events.onError) events.onError("subscription refused by the broker: '" + filter + "'");
            return;
          }
      } else if (t == PacketType.Pingresp) {
        if (pinging) {
          pinging = false;
          keepalive();
        }
      } else protocolError("unexpected packet type " + t);
    };

    const open = () => {
      const g = ++gen;
      let error = "";
      const dec = createDecoder(
        options.maxPacketSize || 4096,
        parseFromBroker,
        (p) => {
          // an exception from an app handler must not lose the rest of this chunk (the stream would desync)
          try {
            if (g == gen) onPacket(p);
          } catch (e) {
            reject("event handler failed: " + e);
          }
        },
        (e) => {
          if (g == gen) protocolError(e);
        },
      );
      lastSent = lastRecv = clock.now();
      arm(replyTimeoutMs, () => drop("timeout: no CONNACK"));
      try {
        const s = sockets(target, {
          onConnect: () => {
            const o = options;
            if (g == gen) send({ type: PacketType.Connect, clientId: o.clientId, clean: o.clean, keepalive: o.keepalive, username: o.username, password: o.password, will: o.will });
          },
          onData: (d) => {
            if (g != gen) return;
            lastRecv = clock.now();
            dec.feed(d);
          },
          onError: (m) => {
            error = m;
          },
          onClose: () => {
            if (g == gen) closed(error || "closed by peer");
          },
        });
        // a socket that failed inside the factory (handlers called at once) is already forgotten
        if (g == gen) sock = s;
      } catch (e) {
        closed("" + e);
      }
    };

    /** drops a remembered subscription; true when there was one */
    const forget = (filter: string) => {
      const n = subs.length;
      subs = subs.filter((s) => s.filter != filter);
      return n > subs.length;
    };

    const reject = (what: string) => {
      if (events.onError) events.onError(what);
    };

    self.start = () => {
      stopped = false;
      if (!sock && !timer) open();
    };

    self.stop = (graceful) => {
      stopped = true;
      if (!sock) return arm(-1);
      if (graceful && up) send({ type: PacketType.Disconnect });
      drop("stopped");
    };

    self.publish = (topic, payload, qos, retain) => {
      if (topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0 || !validFilter(topic)) {
        reject("publish refused: bad topic '" + topic + "'");
        return 0;
      }
      const m: Outgoing = {
        type: PacketType.Publish,
        topic,
        payload: typeof payload == "string" ? utf8Encode(payload) : payload,
        qos,
        retain,
        dup: false,
        token: qos ? (lastToken = (lastToken % 0x7fffffff) + 1) : 0,
      };
      queue.push(m);
      flush();
      if (queue.length > queueLimit) {
        queue.shift();
        stats.queueDropped++;
      }
      return m.token;
    };

    self.inflightRoom = () => (up ? Math.max(0, maxInflight - inflight.length - queue.length) : 0);

    self.subscribe = (filter, qos) => {
      if (!validFilter(filter)) return reject("subscribe refused: bad topic filter '" + filter + "'");
      forget(filter);
      subs.push({ filter, qos });
      if (up) sendSub(filter, qos);
    };

    self.unsubscribe = (filter) => {
      if (forget(filter) && up) sendSub(filter, 0, true);
    };
  }
}
