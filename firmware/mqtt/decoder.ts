// Incremental MQTT 3.1.1 framing: feed chunks split or merged anywhere; each whole packet goes to `parse`
// and then onPacket. Malformed input becomes one onError call, after which input is ignored until reset().
// Memory is bounded: at most one packet body, and only when the whole packet fits maxPacketSize.
import { Packet, PacketType } from "./codec";

/** parses one packet body given its first header byte; throws a string naming what is wrong */
export type BodyParser = (header: number, body: Uint8Array) => Packet;

export interface Decoder {
  feed(chunk: Uint8Array): void;
  /** bytes held for an unfinished packet (never above maxPacketSize) */
  buffered(): number;
  /** start clean (after an error, or on a new connection) */
  reset(): void;
}

export function createDecoder(maxPacketSize: number, parse: BodyParser, onPacket: (p: Packet) => void, onError: (message: string) => void): Decoder {
  let header = -1; // first byte of the packet being read, -1 between packets
  let remaining = 0;
  let lengthBytes = 0;
  let body: Uint8Array | null = null;
  let got = 0;
  let dead = false;

  const fail = (message: string) => {
    dead = true;
    body = null;
    onError(message);
  };

  const finish = (b: Uint8Array) => {
    const h = header;
    header = -1;
    body = null;
    let p: Packet;
    try {
      p = parse(h, b);
    } catch (e) {
      return fail("" + e);
    }
    // state is clean before the callback, so a throwing handler cannot corrupt the decoder
    onPacket(p);
  };

  return {
    buffered: () => (body ? body.length : 0),
    reset: () => {
      header = -1;
      body = null;
      dead = false;
    },
    feed: (chunk) => {
      let i = 0;
      while (i < chunk.length && !dead) {
        if (body) {
          const k = Math.min(chunk.length - i, body.length - got);
          body.set(chunk.subarray(i, i + k), got);
          got += k;
          i += k;
          if (got == body.length) finish(body);
        } else if (header < 0) {
          const type = chunk[i] >> 4;
          const flags = chunk[i] & 15;
          header = chunk[i++];
          remaining = lengthBytes = 0;
          // PUBLISH: any flags but QoS 3; PUBREL, SUBSCRIBE, UNSUBSCRIBE: 0010; all others 0000
          if (type < 1 || type > 14) fail("unknown packet type " + type);
          else if (type == PacketType.Publish ? (flags & 6) == 6 : flags != (type == PacketType.Pubrel || type == PacketType.Subscribe || type == PacketType.Unsubscribe ? 2 : 0))
            fail("wrong reserved flags in packet type " + type);
        } else {
          // remaining length: 7 bits per byte, low groups first, at most 4 bytes
          const x = chunk[i++];
          remaining += (x & 127) * Math.pow(128, lengthBytes++);
          const size = remaining + 1 + lengthBytes;
          if (x & 128) {
            if (lengthBytes == 4) fail("bad remaining length");
          } else if (size > maxPacketSize) fail("packet of " + size + " bytes is over the limit of " + maxPacketSize);
          else if (remaining) {
            body = new Uint8Array(remaining);
            got = 0;
          } else finish(new Uint8Array(0));
        }
      }
    },
  };
}
