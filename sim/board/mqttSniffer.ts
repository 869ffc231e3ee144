// Watches the bytes a board's sockets carry and counts MQTT packets, for the fleet status line and
// benchmarks (the firmware is a black box: what it did is read off the wire, like a capture).

export interface MqttWireStats {
  /** CONNACK 0 received and the socket still open */
  connected: boolean;
  connects: number;
  /** client id of the last CONNECT: the firmware's device id */
  clientId: string | null;
  publishes: number;
  readings: number;
  errorReadings: number;
  /** up (ms since boot) of the last reading, for lateness */
  lastReadingAt: number;
}

const MAX_PACKET = 64 * 1024;

/** Incremental MQTT framer over one direction of one socket. */
export class MqttFramer {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onPacket: (type: number, flags: number, body: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.buf.length < 2) return;
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < 5; i++) {
        if (i >= this.buf.length) return;
        const b = this.buf[i];
        len += (b & 0x7f) * mul;
        mul *= 128;
        if (!(b & 0x80)) break;
      }
      if (i === 5 || len > MAX_PACKET) {
        this.buf = Buffer.alloc(0); // not MQTT (or not ours to judge): stop counting this stream
        return;
      }
      const total = i + 1 + len;
      if (this.buf.length < total) return;
      const first = this.buf[0];
      this.onPacket(first >> 4, first & 0x0f, this.buf.subarray(i + 1, total));
      this.buf = this.buf.subarray(total);
    }
  }
}

export function newWireStats(): MqttWireStats {
  return { connected: false, clientId: null, connects: 0, publishes: 0, readings: 0, errorReadings: 0, lastReadingAt: 0 };
}

/** Framers for both directions of one socket, updating `stats`. */
export function sniffSocket(stats: MqttWireStats, now: () => number, onReading?: (error: boolean) => void): { out(b: Buffer): void; in(b: Buffer): void; closed(): void } {
  const out = new MqttFramer((type, _flags, body) => {
    if (type === 1) {
      stats.connects++;
      // variable header: protocol name (2+4), level, flags, keepalive (2); then the client id
      const nameLen = body.readUInt16BE(0);
      const at = 2 + nameLen + 4;
      if (body.length >= at + 2) stats.clientId = body.toString("latin1", at + 2, at + 2 + body.readUInt16BE(at));
    }
    if (type !== 3) return;
    stats.publishes++;
    const topicLen = body.readUInt16BE(0);
    const topic = body.toString("latin1", 2, 2 + topicLen);
    if (!topic.endsWith("/reading")) return;
    stats.readings++;
    stats.lastReadingAt = now();
    const error = body.indexOf('"error"', 2 + topicLen, "latin1") >= 0;
    if (error) stats.errorReadings++;
    onReading?.(error);
  });
  const inn = new MqttFramer((type, _flags, body) => {
    if (type === 2 && body.length >= 2) stats.connected = body[1] === 0;
  });
  return { out: (b) => out.push(b), in: (b) => inn.push(b), closed: () => { stats.connected = false; } };
}
