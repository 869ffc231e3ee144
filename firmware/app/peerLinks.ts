// Device-to-device links (docs/trust.md "Device-to-device links"). A sending device copies each reading it publishes
// to `R/A/to/B` for each target B, signed with the link key HMAC(A's key, "link|A|B"), which it derives itself.
// A receiving device subscribes to `R/+/to/B` and keeps the last reading of each source whose link key it was given
// (encrypted under its own key by `espdht link`); anything else on that filter is ignored and counted.
// Links are kept in Storage, listed in `info` (peer ids only) and need the device's key on both sides.
import { MAX_LINKS } from "../contract/payloads";
import { linkTopic } from "../contract/topics";
import { fromHex, linkKey, linkKeystream, sameSignature, SIG_TAIL_LENGTH, signatureOf, signatureTail, toHex, xorBytes } from "../contract/trust";
import type { Hal } from "../hal/hal";
import type { DeviceMqttClient, IncomingMessage } from "../mqtt/types";
import { utf8Decode, utf8Encode } from "../mqtt/utf8";
import type { Device } from "./device";
import { readJsonSafely } from "./storedConfig";

/** Storage file of the links: {"to": [peer ids], "from": {peer id: link key as 64 hex}}. */
export const LINKS_FILE = "espdht.lnk";

/** A source's last accepted reading; `at` is this board's clock (ms since boot) when it arrived. */
export interface PeerReading {
  /** temperature and humidity, null when the reading failed */
  t: number | null;
  h: number | null;
  /** the read error ("checksum", "timeout", "range"), else null */
  err: string | null;
  at: number;
  /** the source's reading interval, seconds */
  interval: number;
  boot: number;
  seq: number;
}

/** A command reply's fields (commands.ts ReplyFields, named here so the two files do not import each other). */
type Reply = { error?: string; links?: { to: string[]; from: string[] } };

export interface PeerLinks {
  /** the last reading accepted from source `id`, or null (none yet since boot, or not a source) */
  peerReading(id: string): PeerReading | null;
  /** copies a reading payload just published to every target (call while connected) */
  copy_(reading: object): void;
  /** takes `R/<peer>/to/<me>` messages; ignores other topics */
  receive_(msg: IncomingMessage): void;
  /** the `link` and `unlink` commands (validated by the contract: `target`, or `source` with its key) */
  link_(c: { target?: string; source?: string; nonce?: string; key?: string }, done: (fields: Reply) => void): void;
  unlink_(c: { target?: string; source?: string }, done: (fields: Reply) => void): void;
  /** `info.links`: the peer ids each way */
  list_(): { to: string[]; from: string[] };
}

/** The link counters, reported in `info` with the command counters. */
export interface LinkCounts {
  linkForged: number;
  linkOld: number;
  linkIn: number;
}

export function createPeerLinks(hal: Hal, device: Device, client: DeviceMqttClient): PeerLinks {
  const id = device.id;
  const root = device.config.root;
  const sha = hal.sha256_;
  const counts = device.counts_ as unknown as LinkCounts;
  counts.linkForged = counts.linkOld = counts.linkIn = 0;
  const stored = (readJsonSafely(hal.storage_, LINKS_FILE) || {}) as { to?: string[]; from?: { [peer: string]: string } };
  const to: string[] = stored.to || [];
  const from: { [peer: string]: string } = stored.from || {};
  const last: { [peer: string]: PeerReading } = {};
  // `R/` and `/to/<me>`: what a message for us starts and ends with
  const head = root + "/";
  const tail = "/to/" + id;

  const store = () => hal.storage_.writeJSON(LINKS_FILE, { to, from });
  const list = () => ({ to, from: Object.keys(from) });

  client.subscribe(head + "+" + tail, 1);

  return {
    peerReading: (peer) => last[peer] || null,

    copy_(reading) {
      const own = device.key_;
      if (!own) return;
      // the source's interval rides along: the receiver judges a reading's age by it
      const body = JSON.stringify(Object.assign({ interval: device.config.interval }, reading)).slice(0, -1);
      to.forEach((peer) => {
        const topic = linkTopic(root, id, peer);
        // derived at each copy (not kept): after `rekey` the link needs `espdht link` again, also before a restart
        client.publish(topic, body + signatureTail(signatureOf(sha, linkKey(sha, own, id, peer), utf8Encode(topic), utf8Encode(body))), 1, false);
      });
    },

    receive_(msg) {
      const topic = msg.topic;
      if (topic.indexOf(head) || topic.slice(-tail.length) != tail) return;
      const peer = topic.slice(head.length, -tail.length);
      const key = fromHex(from[peer]);
      const text = utf8Decode(msg.payload) || "";
      const body = text.slice(0, -SIG_TAIL_LENGTH);
      let r: any = 0;
      try {
        // verified before it is parsed; a retained one could be replayed to every restart
        if (key && !msg.retain && sameSignature(text.slice(-SIG_TAIL_LENGTH), signatureTail(signatureOf(sha, key, utf8Encode(topic), utf8Encode(body))))) r = JSON.parse(body + "}");
      } catch (e) {
        // signed but not JSON: counted as forged below
      }
      if (!r || r.id != peer) {
        counts.linkForged++;
        return;
      }
      const before = last[peer];
      // a replay repeats a (boot, seq) already seen; readings arrive oldest first, so an older one is one too
      if (before && (r.boot < before.boot || (r.boot == before.boot && r.seq <= before.seq))) {
        counts.linkOld++;
        return;
      }
      counts.linkIn++;
      const bad = r.error != null;
      last[peer] = { t: bad ? null : r.temperature, h: bad ? null : r.humidity, err: bad ? r.error : null, at: hal.clock_.now(), interval: r.interval, boot: r.boot, seq: r.seq };
    },

    link_(c, done) {
      const own = device.key_;
      const peer = (c.target || c.source) as string;
      if (!own) return done({ error: "links need the device's key" });
      const known = c.target ? to.indexOf(peer) >= 0 : from[peer];
      if (!known && (c.target ? to.length : Object.keys(from).length) >= MAX_LINKS) return done({ error: "at most " + MAX_LINKS + " links each way" });
      if (c.source) {
        from[peer] = toHex(xorBytes(fromHex(c.key) as Uint8Array, linkKeystream(sha, own, c.nonce as string)));
        delete last[peer];
      } else if (!known) to.push(peer);
      store();
      done({ links: list() });
    },

    unlink_(c, done) {
      const i = to.indexOf(c.target as string);
      if (i >= 0) to.splice(i, 1);
      const had = i >= 0 || from[c.source as string];
      delete from[c.source as string];
      delete last[c.source as string];
      // flash wears: written only when a link really goes
      if (had) store();
      done({ links: list() });
    },

    list_: list,
  };
}
