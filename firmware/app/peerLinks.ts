// Device-to-device links (docs/trust.md "Device-to-device links"). A sending device copies each reading it publishes
// to `R/A/to/B` for each target B, signed with the link key HMAC(A's key, "link|A|B"), which it derives itself.
// A receiving device subscribes to `R/+/to/B` and keeps the last reading of each source whose link key it was given
// (encrypted under its own key by `espdht link`); anything else on that filter is ignored and counted.
// Links are kept in Storage, listed in `info` (peer ids only) and need the device's key on both sides.
import { MAX_LINKS } from "../contract/payloads";
import { deviceTopicPrefix, DeviceTopicKind } from "../contract/topics";
import { fromHex, linkKey, linkKeystream, sameSignature, SIG_TAIL_LENGTH, signatureOf, signatureTail, toHex, xorBytes } from "../contract/trust";
import type { Hal } from "../hal/hal";
import type { DeviceMqttClient, IncomingMessage } from "../mqtt/types";
import { utf8Decode, utf8Encode } from "../mqtt/utf8";
import type { Device } from "./device";
import { readJsonSafely } from "./storedConfig";

/**
 * Storage file of the links: {"to": [peer ids], "from": {peer id: link key as 64 hex}}. The firmware writes the name
 * out (here and in app.ts): this constant, kept in the bundle, would cost the board 3 JsVars for good (measured).
 */
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

/** The links as stored in LINKS_FILE. */
type StoredLinks = { to: string[]; from: { [peer: string]: string } };

/** The board's links, made at the first need: `make` false gives 0 while the board has none (made at boot when it has). */
export type LinksOf = (make?: boolean) => PeerLinks | 0;

export interface PeerLinks {
  /** the last reading accepted from each source since boot (none yet, or not a source: absent) */
  last_: { [peer: string]: PeerReading };
  /** copies a reading payload just published to every target (call while connected) */
  copy_(reading: object): void;
  /** takes `R/<peer>/to/<me>` messages; ignores other topics */
  receive_(msg: IncomingMessage): void;
  /**
   * The `link` and `unlink` commands (validated by the contract): `target` (the sender's side), or `source` (the
   * receiver's side; `link` brings the link key hidden as `rekey` hides a key, under linkKeystream). Gives the reply's fields.
   */
  command_(c: { op: string; target?: string; source?: string; nonce?: string; key?: string }): Reply;
  /** `info.links`: the peer ids each way; with `keys`, the links as stored (each source's link key: never to be published) */
  list_(): { to: string[]; from: string[] };
  list_(keys: true): StoredLinks;
}

/** The link counters, reported in `info` with the command counters. */
export interface LinkCounts {
  linkForged: number;
  linkOld: number;
  linkIn: number;
}

// Made only once the board has links (app.ts): its closures and methods cost JsVars for as long as the board runs.
// Its topics are linkTopic's (contract/topics.ts) composed from deviceTopicPrefix: one function fewer kept on the board.
// The links are read from Storage at each use, not kept: a key held as hex in an object costs ~8 JsVars for good.
export function createPeerLinks(hal: Hal, device: Device, client: DeviceMqttClient): PeerLinks {
  // the methods use `this` (called as links.receive_(msg), ...): a variable holding the object would cost a JsVar.
  // Subscribed only while the board has a source: one without keeps neither the filter nor a queue on the broker
  return ((links: PeerLinks) => {
    if (links.list_().from.length) client.subscribe(deviceTopicPrefix(device.config.root, "+") + "to/" + device.id, 1);
    return links;
  })({
    last_: {},

    copy_(reading) {
      const own = device.key_;
      if (!own) return;
      // the source's interval rides along: the receiver judges a reading's age by it
      const body = JSON.stringify(Object.assign({ interval: device.config.interval }, reading)).slice(0, -1);
      this.list_().to.forEach((peer) => {
        // R/A/to/B: under the device's own prefix
        const topic = device.topic_(("to/" + peer) as DeviceTopicKind);
        const sha = hal.sha256_;
        // derived at each copy (not kept): after a `rekey` the new key's link key applies at once (`keys rotate` gives B its match)
        client.publish(topic, body + signatureTail(signatureOf(sha, linkKey(sha, own, device.id, peer), utf8Encode(topic), utf8Encode(body))), 1, false);
      });
    },

    receive_(msg) {
      const topic = msg.topic;
      const root = device.config.root;
      const me = device.id;
      // the peer's level when the topic is `R/<peer>/to/<me>`: the topic made from it again is the same
      const peer = topic.slice(root.length + 1, -me.length - 4);
      if (topic != deviceTopicPrefix(root, peer) + "to/" + me) return;
      const counts = device.counts_ as unknown as LinkCounts;
      const key = fromHex(this.list_(true).from[peer]);
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
      const before = this.last_[peer];
      // a replay repeats a (boot, seq) already seen; readings arrive oldest first, so an older one is one too.
      // None is remembered after a restart: then a reading's age stops a replay, when it has a ts and this board's
      // clock is set (before SNTP, time_() is seconds since boot: far below any ts, nothing is refused)
      if ((before && (r.boot < before.boot || (r.boot == before.boot && r.seq <= before.seq))) || (r.ts && r.ts < (hal.time_() - 3 * r.interval) * 1000)) {
        counts.linkOld++;
        return;
      }
      counts.linkIn++;
      const bad = r.error != null;
      this.last_[peer] = { t: bad ? null : r.temperature, h: bad ? null : r.humidity, err: bad ? r.error : null, at: hal.clock_.now(), interval: r.interval, boot: r.boot, seq: r.seq };
    },

    command_(c) {
      const own = device.key_;
      const links = this.list_(true);
      const to = links.to;
      const from = links.from;
      const peer = (c.target || c.source) as string;
      const i = to.indexOf(peer);
      // a target is known when listed, a source when its key is
      const known = c.target ? i >= 0 : from[peer];
      if (c.op == "unlink") {
        if (c.target && known) to.splice(i, 1);
        delete from[c.source as string];
      } else {
        if (!own) return { error: "links need the device's key" };
        if (!known && (c.target ? to.length : Object.keys(from).length) >= MAX_LINKS) return { error: "at most " + MAX_LINKS + " links each way" };
        if (c.source) from[peer] = toHex(xorBytes(fromHex(c.key) as Uint8Array, linkKeystream(hal.sha256_, own, c.nonce as string)));
        else if (!known) to.push(peer);
      }
      // flash wears: written only on a change (a source's key each time it is given)
      if (c.op == "unlink" ? known : c.source || !known) hal.storage_.writeJSON("espdht.lnk", links);
      if (c.source) {
        // a source linked again or unlinked starts afresh
        delete this.last_[peer];
        const filter = deviceTopicPrefix(device.config.root, "+") + "to/" + device.id;
        Object.keys(from).length ? client.subscribe(filter, 1) : client.unsubscribe(filter);
      }
      return { links: this.list_() };
    },

    list_(keys?: true): any {
      let l = readJsonSafely(hal.storage_, "espdht.lnk") as StoredLinks;
      if (!l || !l.to || !l.from) l = { to: [], from: {} };
      return keys ? l : { to: l.to, from: Object.keys(l.from) };
    },
  });
}
