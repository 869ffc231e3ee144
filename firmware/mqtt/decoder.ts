// Incremental MQTT 3.1.1 framing: feed chunks split or merged anywhere; each whole packet goes to `parse`
// and then onPacket. Malformed input becomes one onError call, after which all input is ignored (the client
// closes the connection and starts a new decoder with the next one).
// Memory is bounded: at most one packet body, and only when the whole packet fits maxPacketSize. A bigger PUBLISH
// is read past as it streams in (its packet id picked out on the way) and reported as skipped, so it can be
// acknowledged: a persistent session would otherwise redeliver it at every reconnect. Any other one is malformed.
import { HeaderFlag, Packet, PacketType, PublishPacket } from "./codec";

/** parses one packet body given its first header byte; throws a string naming what is wrong */
export type BodyParser = (header: number, body: Uint8Array) => Packet;

export interface Decoder {
  feed_(chunk: Uint8Array): void;
  /** bytes held for an unfinished packet (never above maxPacketSize) */
  buffered_(): number;
}

export function createDecoder(maxPacketSize: number, parse: BodyParser, onPacket: (p: Packet) => void, onError: (message: string) => void): Decoder {
  let header = 0; // first byte of the packet being read, 0 between packets (type 0 does not exist)
  let remaining = 0;
  let lengthBytes = 0;
  let body: Uint8Array | 0 | undefined; // 0: freed (shorter than null in the artifact)
  let got = 0;
  let dead: boolean | undefined;
  // reading past an oversized PUBLISH: its body bytes still to come, its topic length and packet id
  let skip = 0;
  let topicLength: number;
  let id: number;

  /** malformed input: report it once and ignore the rest of the stream */
  const failStream = (message: string) => {
    dead = true;
    body = 0;
    onError(message);
  };

  const finish = (b: Uint8Array) => {
    const h = header;
    header = body = 0;
    let p: Packet;
    try {
      p = parse(h, b);
    } catch (e) {
      return failStream("" + e);
    }
    // state is clean before the callback, so a throwing handler cannot corrupt the decoder
    onPacket(p);
  };

  return {
    buffered_: () => (body ? body.length : 0),
    feed_: (chunk) => {
      for (let i = 0; i < chunk.length && !dead; i++) {
        const x = chunk[i];
        if (body) {
          body[got++] = x;
          if (got == body.length) finish(body);
        } else if (skip) {
          // the body: topic length (2 bytes), topic, packet id (2 bytes, QoS > 0 only), payload
          if (got < 2) topicLength = (topicLength << 8) | x;
          else if (got >= topicLength + 2 && got < topicLength + 4) id = (id << 8) | x;
          // past the packet id: jump over this chunk's share of the rest
          if (++got > topicLength + 3) {
            const n = Math.min(skip, chunk.length - i) - 1;
            i += n;
            got += n;
            skip -= n;
          }
          if (!--skip) {
            const qos = (header >> 1) & 3;
            header = 0;
            if (got < topicLength + (qos ? 4 : 2) || (qos && !id)) failStream("bad publish");
            else onPacket(<PublishPacket>{ type: PacketType.Publish, qos, id, skipped_: true });
          }
        } else if (!header) {
          const type = x >> 4;
          header = x;
          remaining = lengthBytes = 0;
          // PUBLISH: any flags but QoS 3; PUBREL, SUBSCRIBE, UNSUBSCRIBE: exactly the required 0010 (a bit mask
          // of the three types, folded to one number by the build); the reserved flags of the other types are not checked
          if (!(type % 15)) failStream("unknown type " + type); // 0 and 15 are reserved
          else if (
            type == PacketType.Publish
              ? (x & 6) == 6
              : (((1 << PacketType.Pubrel) | (1 << PacketType.Subscribe) | (1 << PacketType.Unsubscribe)) >> type) & 1 && (x & 15) != HeaderFlag.Required
          )
            failStream("bad flags in type " + type);
        } else {
          // remaining length: 7 bits per byte, low groups first, at most 4 bytes
          remaining += (x & 127) << (7 * lengthBytes++);
          const size = remaining + 1 + lengthBytes;
          if (x > 127) {
            if (lengthBytes > 3) failStream("bad length");
          } else if (size > maxPacketSize) {
            if (header >> 4 == PacketType.Publish) skip = remaining;
            else failStream("too big: " + size);
            got = topicLength = id = 0;
          }
          else {
            body = new Uint8Array(remaining);
            got = 0;
            if (!remaining) finish(body);
          }
        }
      }
    },
  };
}
