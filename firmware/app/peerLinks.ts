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

/** The board's links, made at the first need: `make` false gives 0 while the board has none (made at boot when it has). */
export type LinksOf = (make?: boolean) => PeerLinks | 0;

export interface PeerLinks {
  /** the last reading accepted from source `id`, or null (none yet since boot, or not a source) */
  peerReading(id: string): PeerReading | null;
  /** copies a reading payload just published to every target (call while connected) */
  copy_(reading: object): void;
  /** takes `R/<peer>/to/<me>` messages; ignores other topics */
  receive_(msg: IncomingMessage): void;
  /**
   * The `link` and `unlink` commands (validated by the contract): `target` (the sender's side), or `source` (the
   * receiver's side; `link` brings the link key hidden as `rekey` hides a key, under linkKeystream).
   */
  command_(c: { op: string; target?: string; source?: string; nonce?: string; key?: string }, done: (fields: Reply) => void): void;
  /** `info.links`: the peer ids each way */
  list_(): { to: string[]; from: string[] };
}

/** The link counters, reported in `info` with the command counters. */
export interface LinkCounts {
  linkForged: number;
  linkOld: number;
  linkIn: number;
}

// Made only once the board has links (app.ts): its closures and methods cost JsVars for as long as the board runs.
export function createPeerLinks(hal: Hal, device: Device, client: DeviceMqttClient): PeerLinks {
  // zeroed by bootDevice
  const counts = device.counts_ as unknown as LinkCounts;
  // as stored: the targets' ids, and each source's link key
  let links = readJsonSafely(hal.storage_, LINKS_FILE) as { to: string[]; from: { [peer: string]: string } };
  if (!links || !links.to || !links.from) links = { to: [], from: {} };
  const last: { [peer: string]: PeerReading } = {};
  const list = () => ({ to: links.to, from: Object.keys(links.from) });

  const filter = linkTopic(device.config.root, "+", device.id);
  // subscribed only while the board has a source: one without keeps neither the filter nor a queue on the broker
  const follow = () => (Object.keys(links.from).length ? client.subscribe(filter, 1) : client.unsubscribe(filter));
  follow();

  return {
    peerReading: (peer) => last[peer] || null,

    copy_(reading) {
      const own = device.key_;
      if (!own) return;
      // the source's interval rides along: the receiver judges a reading's age by it
      const body = JSON.stringify(Object.assign({ interval: device.config.interval }, reading)).slice(0, -1);
      links.to.forEach((peer) => {
        const topic = linkTopic(device.config.root, device.id, peer);
        const sha = hal.sha256_;
        // derived at each copy (not kept): after `rekey` the link needs `espdht link` again, also before a restart
        client.publish(topic, body + signatureTail(signatureOf(sha, linkKey(sha, own, device.id, peer), utf8Encode(topic), utf8Encode(body))), 1, false);
      });
    },

    receive_(msg) {
      const topic = msg.topic;
      // `R/` and `/to/<me>`: what a message for us starts and ends with
      const head = device.config.root + "/";
      const tail = "/to/" + device.id;
      if (topic.indexOf(head) || topic.slice(-tail.length) != tail) return;
      const peer = topic.slice(head.length, -tail.length);
      const key = fromHex(links.from[peer]);
      const text = utf8Decode(msg.payload) || "";
      const body = text.slice(0, -SIG_TAIL_LENGTH);
      let r: any = 0;
      try {
        // verified before it is parsed; a retained one could be replayed to every restart
        if (key && !msg.retain && sameSignature(text.slice(-SIG_TAIL_LENGTH), signatureTail(signatureOf(hal.sha256_, key, utf8Encode(topic), utf8Encode(body))))) r = JSON.parse(body + "}");
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

    command_(c, done) {
      const own = device.key_;
      const to = links.to;
      const from = links.from;
      const peer = (c.target || c.source) as string;
      const i = to.indexOf(peer);
      // a target is known when listed, a source when its key is
      const known = c.target ? i >= 0 : from[peer];
      if (c.op == "unlink") {
        if (c.target && known) to.splice(i, 1);
        delete from[c.source as string];
        delete last[c.source as string];
      } else {
        if (!own) return done({ error: "links need the device's key" });
        if (!known && (c.target ? to.length : Object.keys(from).length) >= MAX_LINKS) return done({ error: "at most " + MAX_LINKS + " links each way" });
        if (c.source) {
          from[peer] = toHex(xorBytes(fromHex(c.key) as Uint8Array, linkKeystream(hal.sha256_, own, c.nonce as string)));
          delete last[peer];
        } else if (!known) to.push(peer);
      }
      if (c.source) follow();
      // flash wears: written only on a change (a source's key each time it is given)
      if (c.op == "unlink" ? known : c.source || !known) hal.storage_.writeJSON(LINKS_FILE, links);
      done({ links: list() });
    },

    list_: list,
  };
}
