// Device-to-device links on the fake HAL (docs/trust.md "Device-to-device links"), with every signature and key made
// or checked by node:crypto as the host and a third party would: the sender's copies on R/A/to/B, the receiver's
// checks (forged, replayed, older, retained), the link and unlink commands, persistence across a restart, and info.
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LINKS_FILE } from "../../../firmware/app/peerLinks";
import { validateInfo, validateReply } from "../../../firmware/contract/payloads";
import { signatureTail, splitSigned } from "../../../firmware/contract/trust";
import { MemoryStore } from "./fakeHal";
import { ID, R, start, Started } from "./harness";

const KEY = randomBytes(32).toString("hex");
const PEER = "esp32-bbbbbbbbbbbb";
const PEER_KEY = randomBytes(32).toString("hex");
const CMD = `${R}/${ID}/cmd`;
const REPLY = `${R}/${ID}/reply`;
const INFO = `${R}/${ID}/info`;

const hmac = (key: string | Buffer, data: string) => createHmac("sha256", typeof key === "string" ? Buffer.from(key, "hex") : key).update(data).digest();
const mac = (key: string | Buffer, topic: string, body: string) => hmac(key, topic + "\n" + body).toString("hex").slice(0, 32);
/** the link key as the host derives it: HMAC(sender's key, "link|A|B") */
const linkKey = (senderKey: string, from: string, to: string) => hmac(senderKey, `link|${from}|${to}`);

function signed(topic: string, fields: object, key: string | Buffer = KEY): string {
  const body = JSON.stringify(fields).slice(0, -1);
  return body + signatureTail(mac(key, topic, body));
}

function verified(topic: string, payload: string, key: string | Buffer = KEY): any {
  const split = splitSigned(new TextEncoder().encode(payload));
  if (!split) throw new Error(`unsigned: ${payload}`);
  if (mac(key, topic, Buffer.from(split.body).toString()) !== split.sig) throw new Error(`bad signature on ${topic}`);
  const parsed = JSON.parse(payload);
  delete parsed.sig;
  return parsed;
}

let n = 1_000;
const command = (fields: object) => ({ id: "c" + ++n, ...fields, to: ID, n, exp: 4e9 });

/** `link` for the receiving device: the link key XOR HMAC(its key, "peer|" + nonce), as `espdht link` sends it */
function acceptCommand(source: string, key: Buffer, receiverKey = KEY): object {
  const nonce = randomBytes(16).toString("hex");
  const stream = hmac(receiverKey, "peer|" + nonce);
  const hidden = Buffer.from(key.map((b, i) => b ^ stream[i])).toString("hex");
  return command({ op: "link", source, nonce, key: hidden });
}

function online(opts: { key?: string | null; storage?: MemoryStore } = {}): Started {
  const s = start({ config: { key: opts.key === undefined ? KEY : opts.key }, storage: opts.storage });
  s.client.connect();
  s.clock.advance(2000);
  s.client.ack();
  s.client.clear();
  return s;
}

function send(s: Started, fields: object): any {
  s.clock.advance(2000); // past the rate limit
  s.client.clear();
  s.client.deliver(CMD, signed(CMD, command(fields)));
  const r = s.client.on(REPLY).map((m) => verified(REPLY, m.payload));
  expect(r).toHaveLength(1);
  expect(validateReply(r[0])).toMatchObject({ ok: true });
  return r[0];
}

function info(s: Started): any {
  s.client.drop();
  s.client.connect();
  const all = s.client.on(INFO);
  const i = verified(INFO, all[all.length - 1].payload);
  expect(validateInfo(i)).toMatchObject({ ok: true });
  return i;
}

/** a reading of the peer as its firmware sends it on R/PEER/to/ID */
const peerReading = (seq: number, extra: object = {}) => ({ interval: 10, v: 1, id: PEER, boot: 3, seq, up: seq * 10000, ts: null, temperature: 20 + seq, humidity: 40, ...extra });
const LINK_IN = `${R}/${PEER}/to/${ID}`;

describe("peer links: the sending side", () => {
  it("copies each published reading to R/A/to/B, QoS 1, not retained, signed with HMAC(A's key, 'link|A|B') and not with A's own key", () => {
    const s = online();
    expect(send(s, { op: "link", target: PEER })).toMatchObject({ ok: true, links: { to: [PEER], from: [] } });
    // the retained info is published again with the links
    const infos = s.client.on(INFO);
    expect(infos).toHaveLength(1);
    expect(infos[0].retain).toBe(true);
    expect(verified(INFO, infos[0].payload).links).toEqual({ to: [PEER], from: [] });
    s.client.clear();
    s.clock.advance(10_000);
    const reading = s.client.on(`${R}/${ID}/reading`);
    const copies = s.client.on(`${R}/${ID}/to/${PEER}`);
    expect(reading).toHaveLength(1);
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({ qos: 1, retain: false });
    const copy = verified(copies[0].topic, copies[0].payload, linkKey(KEY, ID, PEER));
    const { sig: _sig, ...original } = JSON.parse(reading[0].payload);
    expect(copy).toEqual({ interval: 10, ...original });
    expect(() => verified(copies[0].topic, copies[0].payload, KEY)).toThrow("bad signature");
    // the key never crosses the broker, in any form the device sends
    const hexLink = linkKey(KEY, ID, PEER).toString("hex");
    for (const m of s.client.sent) expect(m.payload).not.toMatch(new RegExp(`${KEY}|${hexLink}`));
  });

  it("keeps its links across a restart, lists them in info, and stops copying after unlink", () => {
    const storage = new MemoryStore();
    const s = online({ storage });
    send(s, { op: "link", target: PEER });
    send(s, { op: "link", target: PEER }); // twice: listed once
    expect(JSON.parse(storage.files[LINKS_FILE])).toEqual({ to: [PEER], from: {} });
    const again = online({ storage });
    expect(info(again).links).toEqual({ to: [PEER], from: [] });
    again.client.clear();
    again.clock.advance(10_000);
    expect(again.client.on(`${R}/${ID}/to/${PEER}`)).toHaveLength(1);
    expect(send(again, { op: "unlink", target: PEER })).toMatchObject({ ok: true, links: { to: [], from: [] } });
    again.client.clear();
    again.clock.advance(10_000);
    expect(again.client.on(`${R}/${ID}/reading`)).toHaveLength(1);
    expect(again.client.sent.filter((m) => m.topic.includes("/to/"))).toEqual([]);
  });

  it("refuses links without a key, past 4 targets, and with bad fields (clear errors, nothing stored)", () => {
    const unkeyed = online({ key: null });
    unkeyed.client.deliver(CMD, JSON.stringify({ id: "x", op: "link", target: PEER }));
    expect(JSON.parse(unkeyed.client.on(REPLY)[0].payload)).toMatchObject({ ok: false, error: "links need the device's key" });
    const s = online();
    for (let i = 0; i < 4; i++) send(s, { op: "link", target: `peer-${i}` });
    expect(send(s, { op: "link", target: "peer-4" })).toMatchObject({ ok: false, error: "at most 4 links each way" });
    const needs = "link needs target (a device id) or source (a device id, with nonce (32 hex) and key (64 hex))";
    expect(send(s, { op: "link" })).toMatchObject({ ok: false, error: needs });
    expect(send(s, { op: "link", target: "a/b" })).toMatchObject({ ok: false, error: needs });
    expect(send(s, { op: "link", target: PEER, source: PEER })).toMatchObject({ ok: false, error: needs });
    expect(send(s, { op: "link", source: PEER })).toMatchObject({ ok: false, error: needs });
    expect(send(s, { op: "link", source: PEER, nonce: "00", key: "11" })).toMatchObject({ ok: false, error: needs });
    expect(send(s, { op: "unlink", source: "+" })).toMatchObject({ ok: false, error: "unlink needs target (a device id) or source (a device id)" });
    expect(info(s).links).toEqual({ to: ["peer-0", "peer-1", "peer-2", "peer-3"], from: [] });
  });
});

describe("peer links: the receiving side", () => {
  it("accepts only a linked source's messages signed with its link key; forged ones are counted, never kept", () => {
    const storage = new MemoryStore();
    const s = online({ storage });
    const key = linkKey(PEER_KEY, PEER, ID);
    expect(send(s, acceptCommand(PEER, key))).toMatchObject({ ok: true, links: { to: [], from: [PEER] } });
    // stored for the restart, never as the sender's key
    expect(JSON.parse(storage.files[LINKS_FILE]).from[PEER]).toBe(key.toString("hex"));
    expect(storage.files[LINKS_FILE]).not.toContain(PEER_KEY);

    s.client.deliver(LINK_IN, signed(LINK_IN, peerReading(1), key));
    expect(s.client.sent.filter((m) => m.topic.includes("/to/"))).toEqual([]);
    let i = info(s);
    expect(i).toMatchObject({ links: { to: [], from: [PEER] }, linkForged: 0, linkOld: 0, linkIn: 1 });

    // from C, who is no peer (even signed with some key of C's)
    const fromC = `${R}/esp32-cccccccccccc/to/${ID}`;
    s.client.deliver(fromC, signed(fromC, peerReading(2, { id: "esp32-cccccccccccc" }), linkKey(PEER_KEY, "esp32-cccccccccccc", ID)));
    // on the peer's topic, without the link key: the peer's own key, another key, unsigned, a broken tail, not JSON
    s.client.deliver(LINK_IN, signed(LINK_IN, peerReading(3), PEER_KEY));
    s.client.deliver(LINK_IN, signed(LINK_IN, peerReading(4), randomBytes(32)));
    s.client.deliver(LINK_IN, JSON.stringify(peerReading(5)));
    s.client.deliver(LINK_IN, signed(LINK_IN, peerReading(6), key).replace(/"}$/, '"x'));
    s.client.deliver(LINK_IN, new Uint8Array([0xff, 0xfe]));
    // the link key but moved to another topic: the topic is inside the MAC
    const moved = `${R}/${PEER}/to/esp32-dddddddddddd`;
    s.client.deliver(LINK_IN, signed(moved, peerReading(7), key));
    // signed by the link, but claiming another sender in the payload
    s.client.deliver(LINK_IN, signed(LINK_IN, peerReading(8, { id: "esp32-cccccccccccc" }), key));
    // a retained copy (a broker could replay it to every restart)
    s.client.deliver(LINK_IN, signed(LINK_IN, peerReading(9), key), true);
    i = info(s);
    expect(i).toMatchObject({ linkForged: 9, linkOld: 0, linkIn: 1 });
  });

  it("keeps the last reading with its arrival time and the source's interval; replayed and older ones are counted as old", () => {
    const s = online();
    const key = linkKey(PEER_KEY, PEER, ID);
    send(s, acceptCommand(PEER, key));
    const first = signed(LINK_IN, peerReading(5), key);
    s.client.deliver(LINK_IN, first);
    s.client.deliver(LINK_IN, first); // replayed: same (boot, seq)
    s.client.deliver(LINK_IN, signed(LINK_IN, peerReading(4), key)); // older
    s.client.deliver(LINK_IN, signed(LINK_IN, peerReading(99, { boot: 2 }), key)); // an earlier boot
    expect(info(s)).toMatchObject({ linkForged: 0, linkOld: 3, linkIn: 1 });
    s.client.deliver(LINK_IN, signed(LINK_IN, { ...peerReading(1, { boot: 4 }), temperature: undefined, humidity: undefined, error: "timeout" }, key));
    expect(info(s)).toMatchObject({ linkForged: 0, linkOld: 3, linkIn: 2 });
  });

  it("after a restart, a replayed old message is refused by its ts (older than 3 of its intervals, this board's clock set)", () => {
    const storage = new MemoryStore();
    const key = linkKey(PEER_KEY, PEER, ID);
    send(online({ storage }), acceptCommand(PEER, key));
    const NOW_MS = 1_796_083_200_000;
    // a message of the peer's signed 31 s before B's restart (interval 10 s): anyone may have kept a copy
    const old = signed(LINK_IN, peerReading(7, { ts: NOW_MS - 31_000 }), key);
    const again = online({ storage });
    // without a clock (no SNTP yet) the age cannot be judged: the replay is accepted, as before
    again.client.deliver(LINK_IN, old);
    expect(info(again)).toMatchObject({ linkForged: 0, linkOld: 0, linkIn: 1 });
    const b = online({ storage });
    b.unix.offset = NOW_MS - b.clock.now();
    b.client.deliver(LINK_IN, old);
    expect(info(b)).toMatchObject({ linkForged: 0, linkOld: 1, linkIn: 0 });
    // a fresh one (29 s: within 3 intervals) and one without ts are accepted
    b.client.deliver(LINK_IN, signed(LINK_IN, peerReading(8, { ts: NOW_MS - 29_000 }), key));
    const fresh = online({ storage });
    fresh.unix.offset = NOW_MS - fresh.clock.now();
    fresh.client.deliver(LINK_IN, signed(LINK_IN, peerReading(9), key));
    expect(info(b)).toMatchObject({ linkOld: 1, linkIn: 1 });
    expect(info(fresh)).toMatchObject({ linkOld: 0, linkIn: 1 });
  });

  it("last_[id]: the values, the error, the arrival time and the interval (what the thermostat reads)", async () => {
    const { createPeerLinks } = await import("../../../firmware/app/peerLinks");
    const { bootFake } = await import("./harness");
    const { FakeMqttClient } = await import("./fakeMqttClient");
    const b = bootFake({ key: KEY });
    const client = new FakeMqttClient({ host: "b", port: 1883, tls: false }, { clientId: ID, clean: false, keepalive: 30 }, {});
    const links = createPeerLinks(b.hal, b.device, client);
    // subscribed only with a source
    expect(client.subscriptions).toEqual([]);
    const key = linkKey(PEER_KEY, PEER, ID);
    const hidden = acceptCommand(PEER, key) as { source: string; nonce: string; key: string };
    expect(links.command_({ op: "link", ...hidden })).toEqual({ links: { to: [], from: [PEER] } });
    expect(client.subscriptions).toEqual([`${R}/+/to/${ID}`]);
    expect(links.last_[PEER]).toBeUndefined();
    b.clock.advance(12_345);
    const at = b.clock.now();
    const deliver = (fields: object) => client.events.onMessage?.({ topic: LINK_IN, payload: new TextEncoder().encode(signed(LINK_IN, fields, key)), qos: 1, retain: false, dup: false });
    client.events.onMessage = (m) => links.receive_(m);
    deliver(peerReading(1, { interval: 30 }));
    expect(links.last_[PEER]).toEqual({ t: 21, h: 40, err: null, at, interval: 30, boot: 3, seq: 1 });
    const { temperature: _t, humidity: _h, ...base } = peerReading(2);
    deliver({ ...base, error: "checksum" });
    expect(links.last_[PEER]).toMatchObject({ t: null, h: null, err: "checksum", seq: 2 });
    expect(links.last_["esp32-cccccccccccc"]).toBeUndefined();
    expect(links.command_({ op: "unlink", source: PEER })).toEqual({ links: { to: [], from: [] } });
    expect(client.subscriptions).toEqual([]);
    expect(links.last_[PEER]).toBeUndefined();
    deliver(peerReading(3));
    expect(links.last_[PEER]).toBeUndefined();
  });
});
