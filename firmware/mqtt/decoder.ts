// Incremental MQTT 3.1.1 decoder: feed it chunks split or merged anywhere; it calls onPacket per packet
// and turns malformed input into one onError call, after which it ignores input until reset().
// Memory is bounded: it never holds more than one packet body of at most maxPacketSize bytes.
import { ConnectPacket, Packet, PacketType, PublishPacket, SubscribePacket, UnsubscribePacket } from "./codec";
import { utf8Decode } from "./utf8";

function fail(why: string): never {
  throw why;
}

/** Parses one packet body; throws a string naming what is wrong (caught by the Decoder). */
export function parseBody(header: number, b: Uint8Array): Packet {
  const type = header >> 4;
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > b.length) throw "truncated packet";
  };
  const u8 = () => {
    need(1);
    return b[pos++];
  };
  const u16 = () => {
    need(2);
    pos += 2;
    return (b[pos - 2] << 8) | b[pos - 1];
  };
  // packet ids are 1..65535: 0 is malformed
  const pid = () => u16() || fail("packet id 0");
  const blob = () => {
    const n = u16();
    need(n);
    pos += n;
    return b.subarray(pos - n, pos);
  };
  const str = () => {
    const s = utf8Decode(blob());
    return s == null ? fail("invalid UTF-8") : s;
  };
  let p: Packet;
  switch (type) {
    case PacketType.Connect: {
      if (str() != "MQTT" || u8() != 4) fail("unsupported protocol");
      const f = u8();
      const wq = (f >> 3) & 3;
      // reserved bit 0, will QoS 3, will QoS/retain without a will, password without user name
      if (f & 1 || wq == 3 || (!(f & 4) && f & 56) || (f & 64 && !(f & 128))) fail("bad connect flags");
      const c: ConnectPacket = { type: PacketType.Connect, clean: !!(f & 2), keepalive: u16(), clientId: str() };
      if (f & 4) c.will = { topic: str(), payload: str(), qos: wq as 0 | 1, retain: !!(f & 32) };
      if (f & 128) c.username = str();
      if (f & 64) c.password = str();
      p = c;
      break;
    }
    case PacketType.Connack: {
      const f = u8();
      if (f > 1) fail("bad connack flags");
      p = { type: PacketType.Connack, sessionPresent: f == 1, returnCode: u8() };
      break;
    }
    case PacketType.Publish: {
      const qos = ((header >> 1) & 3) as 0 | 1 | 2;
      const m: PublishPacket = { type: PacketType.Publish, topic: str(), qos, retain: !!(header & 1), dup: !!(header & 8), payload: b };
      if (qos) m.id = pid();
      m.payload = b.subarray(pos);
      pos = b.length;
      p = m;
      break;
    }
    case PacketType.Subscribe: {
      const s: SubscribePacket = { type: PacketType.Subscribe, id: pid(), subs: [] };
      do {
        const filter = str();
        const qos = u8();
        if (qos > 2) fail("bad subscribe QoS");
        s.subs.push({ filter, qos });
      } while (pos < b.length);
      p = s;
      break;
    }
    case PacketType.Suback: {
      const id = pid();
      if (pos == b.length) fail("empty suback");
      const granted: number[] = [];
      while (pos < b.length) {
        const g = u8();
        if (g > 2 && g != 0x80) fail("bad suback code");
        granted.push(g);
      }
      p = { type: PacketType.Suback, id, granted };
      break;
    }
    case PacketType.Unsubscribe: {
      const u: UnsubscribePacket = { type: PacketType.Unsubscribe, id: pid(), filters: [] };
      do u.filters.push(str());
      while (pos < b.length);
      p = u;
      break;
    }
    case PacketType.Pingreq:
    case PacketType.Pingresp:
    case PacketType.Disconnect:
      p = { type } as Packet;
      break;
    default:
      p = { type, id: pid() } as Packet;
  }
  if (pos != b.length) fail("unexpected bytes at the end of the packet");
  return p;
}

export class Decoder {
  /** first byte of the packet being read, -1 between packets */
  private header: number;
  private remaining: number;
  private lengthBytes: number;
  private body: Uint8Array | null;
  private got: number;
  private dead: boolean;

  constructor(
    private maxPacketSize: number,
    private onPacket: (p: Packet) => void,
    private onError: (message: string) => void,
  ) {
    this.header = -1;
    this.remaining = 0;
    this.lengthBytes = 0;
    this.body = null;
    this.got = 0;
    this.dead = false;
  }

  /** bytes held for an unfinished packet (the fuzz test checks it stays <= maxPacketSize) */
  buffered(): number {
    return this.body ? this.body.length : 0;
  }

  reset(): void {
    this.header = -1;
    this.body = null;
    this.dead = false;
  }

  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.dead) {
      const body = this.body;
      if (body) {
        const k = Math.min(chunk.length - i, body.length - this.got);
        body.set(chunk.subarray(i, i + k), this.got);
        this.got += k;
        i += k;
        if (this.got == body.length) this.finish(body);
      } else if (this.header < 0) {
        const h = chunk[i++];
        const type = h >> 4;
        const flags = h & 15;
        this.header = h;
        this.remaining = 0;
        this.lengthBytes = 0;
        if (type < 1 || type > 14) this.fail("unknown packet type " + type);
        else if (type == PacketType.Publish ? (flags & 6) == 6 : flags != (type == PacketType.Pubrel || type == PacketType.Subscribe || type == PacketType.Unsubscribe ? 2 : 0))
          this.fail("reserved flags wrong in packet type " + type);
      } else {
        const x = chunk[i++];
        this.remaining += (x & 127) * Math.pow(128, this.lengthBytes++);
        if (x & 128) {
          if (this.lengthBytes == 4) this.fail("bad remaining length");
        } else if (this.remaining + 1 + this.lengthBytes > this.maxPacketSize)
          this.fail("packet of " + (this.remaining + 1 + this.lengthBytes) + " bytes is over the limit of " + this.maxPacketSize);
        else if (this.remaining == 0) this.finish(new Uint8Array(0));
        else {
          this.body = new Uint8Array(this.remaining);
          this.got = 0;
        }
      }
    }
  }

  private finish(body: Uint8Array): void {
    const header = this.header;
    this.header = -1;
    this.body = null;
    let p: Packet;
    try {
      p = parseBody(header, body);
    } catch (e) {
      this.fail("" + e);
      return;
    }
    // state is clean before the callback, so a throwing handler cannot corrupt the decoder
    this.onPacket(p);
  }

  private fail(message: string): void {
    this.dead = true;
    this.body = null;
    this.onError(message);
  }
}
