// The device side of docs/trust.md on the fake HAL: what it signs (checked with node:crypto, as a third party
// would), its session id, and every rule for commands: retained, `to`, rate limit, unsigned, bad signature,
// replayed (also after a restart), expired (only with a clock), restart grace, `set` without change, rekey.
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { COUNTER_FILE } from "../../../firmware/app/commands";
import { KEY_FILE, SETTINGS_FILE } from "../../../firmware/contract/deviceConfig";
import { validateInfo, validateReply } from "../../../firmware/contract/payloads";
import { splitSigned } from "../../../firmware/contract/trust";
import { signatureVerdict, signedAsHost } from "../../sim/fleet/signedPayload";
import { MemoryStore } from "./fakeHal";
import { ID, R, start, Started } from "./harness";

const KEY = randomBytes(32).toString("hex");
const OTHER_KEY = randomBytes(32).toString("hex");
const CMD = `${R}/${ID}/cmd`;
const GROUP = `${R}/all/cmd`;
const REPLY = `${R}/${ID}/reply`;
const READING = `${R}/${ID}/reading`;
const INFO = `${R}/${ID}/info`;
/** 2026-12-01 in Unix seconds: a clock set by SNTP */
const NOW_S = 1_796_083_200;

/** The payload as the host signs it */
const signed = (topic: string, fields: object, key = KEY): string => signedAsHost(topic, fields, key);

/** Verifies a payload the device published, as a third party would: cut the tail, recompute, compare, parse. */
function verified(topic: string, payload: string, key = KEY): any {
  const verdict = signatureVerdict(topic, payload, key);
  if (verdict === "unsigned") throw new Error(`unsigned: ${payload}`);
  if (verdict !== "verified") throw new Error(`bad signature on ${topic}: ${payload}`);
  const split = splitSigned(new TextEncoder().encode(payload))!;
  const parsed = JSON.parse(payload);
  expect(parsed.sig).toBe(split.sig);
  delete parsed.sig;
  return parsed;
}

let n = 1_000;
/** A fresh signed command for this device: counter from a host clock in ms, expiry 5 minutes on. */
const command = (fields: object, extra: object = {}): { [k: string]: unknown } => ({ ...fields, to: ID, n: ++n, exp: NOW_S + 300, ...extra });

function online(opts: { key?: string | null; storage?: MemoryStore; config?: object; clock?: boolean } = {}): Started {
  const s = start({ config: { key: opts.key === undefined ? KEY : opts.key, ...opts.config }, storage: opts.storage });
  if (opts.clock) s.unix.offset = NOW_S * 1000 - s.clock.now();
  s.client.connect();
  s.clock.advance(2000); // first reading done
  s.client.ack();
  s.client.clear();
  return s;
}

/** the replies, each verified under `key` (unsigned when key is null) and valid by the contract */
function replies(s: Started, key: string | null = KEY): any[] {
  return s.client.on(REPLY).map((m) => {
    const r = key ? verified(REPLY, m.payload, key) : JSON.parse(m.payload);
    expect(validateReply(r)).toMatchObject({ ok: true });
    return r;
  });
}

function info(s: Started): any {
  s.client.drop();
  s.client.connect();
  const all = s.client.on(INFO);
  return verified(INFO, all[all.length - 1].payload);
}

describe("signed messages", () => {
  it("signs every reading, info and reply with the key; the signature covers the topic; the JSON still parses", () => {
    const s = start({ config: { key: KEY, homeAssistant: true } });
    s.client.connect();
    s.clock.advance(2000);
    s.client.deliver(CMD, signed(CMD, command({ id: "p", op: "ping" })));
    const reading = s.client.on(READING)[0];
    expect(verified(READING, reading.payload)).toMatchObject({ v: 1, id: ID, boot: 1, seq: 0, temperature: 21.5, humidity: 40 });
    expect(() => verified(`${R}/esp32-000000000000/reading`, reading.payload)).toThrow("bad signature");
    expect(() => verified(READING, reading.payload, OTHER_KEY)).toThrow("bad signature");
    const i = verified(INFO, s.client.on(INFO)[0].payload);
    expect(validateInfo(i)).toMatchObject({ ok: true });
    expect(replies(s)).toEqual([{ re: "p", ok: true, up: 2000 }]);
    // the last 42 bytes are the tail, as docs/trust.md fixes it
    expect(reading.payload.slice(-42)).toMatch(/^,"sig":"[0-9a-f]{32}"}$/);
  });

  it("leaves status and Home Assistant discovery unsigned (plain online, HA's own format)", () => {
    const s = start({ config: { key: KEY, homeAssistant: true } });
    s.client.connect();
    expect(s.client.on(`${R}/${ID}/status`)[0].payload).toBe("online");
    const discovery = s.client.sent.filter((m) => m.topic.startsWith("homeassistant/"));
    expect(discovery).toHaveLength(2);
    for (const d of discovery) expect(JSON.parse(d.payload).sig).toBeUndefined();
  });

  it("without a key publishes exactly as before: no sig field", () => {
    const s = online({ key: null });
    s.clock.advance(10_000);
    expect(JSON.parse(s.client.on(READING)[0].payload).sig).toBeUndefined();
    expect(s.client.on(READING)[0].payload.endsWith('"humidity":40}')).toBe(true);
  });

  it("never shows the key: not in info, get replies or logs", () => {
    const s = online({ config: { wifi: { ssid: "home", password: "wifipass" } } });
    s.client.deliver(CMD, signed(CMD, command({ id: "g", op: "get" })));
    info(s);
    for (const m of s.client.sent) expect(m.payload).not.toContain(KEY);
    expect(s.board.logs.join("\n")).not.toContain(KEY);
    expect(replies(s)[0].config.key).toBeUndefined();
  });
});

describe("the MQTT session", () => {
  it("with a key, the client id is d- + 24 hex of HMAC(key, 'client-id'); the will stays on the public topic", () => {
    const s = start({ config: { key: KEY } });
    const id = "d-" + createHmac("sha256", Buffer.from(KEY, "hex")).update("client-id").digest("hex").slice(0, 24);
    expect(s.client.options).toMatchObject({ clientId: id, clean: false, will: { topic: `${R}/${ID}/status`, payload: "offline" } });
    expect(start({ config: { key: null } }).client.options.clientId).toBe(ID);
  });

  it("asks the client to read past messages over MAX_COMMAND_BYTES, and reports how many in info", () => {
    const s = online();
    expect(s.client.options.maxPacketSize).toBe(1024);
    s.client.stats.skipped_ = 3;
    expect(info(s)).toMatchObject({ skipped: 3, retainedCmds: 0, rateLimited: 0, refused: 0 });
  });
});

describe("signed commands", () => {
  it("accepts a correctly signed command once and remembers its n in Storage", () => {
    const s = online();
    const c = command({ id: "s1", op: "set", interval: 30 });
    s.client.deliver(CMD, signed(CMD, c));
    expect(replies(s)[0]).toMatchObject({ re: "s1", ok: true, settings: { interval: 30 } });
    expect(s.app.config.interval).toBe(30);
    expect(s.storage.readJSON(COUNTER_FILE)).toBe(c.n);
  });

  it("verifies commands holding non-ASCII text over their UTF-8 bytes", () => {
    const s = online();
    s.client.deliver(CMD, signed(CMD, command({ id: "héllo-€", op: "ping" })));
    expect(replies(s)).toEqual([{ re: "héllo-€", ok: true, up: 2000 }]);
  });

  const refusals: [string, (s: Started) => string, string][] = [
    ["an unsigned command", () => JSON.stringify(command({ id: "x", op: "set", interval: 30 })), "unsigned"],
    ["a command signed with another key", () => signed(CMD, command({ id: "x", op: "set", interval: 30 }), OTHER_KEY), "bad signature"],
    ["a command signed for another topic", () => signed(`${R}/esp32-000000000000/cmd`, command({ id: "x", op: "set", interval: 30 })), "bad signature"],
    ["a signed command whose body was changed", () => signed(CMD, command({ id: "x", op: "set", interval: 3000 })).replace("3000", "30"), "bad signature"],
    ["a signed command without n", () => signed(CMD, command({ id: "x", op: "set", interval: 30 }, { n: undefined })), "replayed"],
  ];
  for (const [what, payload, error] of refusals) {
    it(`refuses ${what} with "${error}", changes nothing and echoes no field`, () => {
      const s = online();
      s.client.deliver(CMD, payload(s));
      const [r] = replies(s);
      expect(r).toEqual({ re: "x", ok: false, error });
      expect(s.app.config.interval).toBe(10);
      expect(s.storage.files[SETTINGS_FILE]).toBeUndefined();
      expect(info(s).refused).toBe(1);
    });
  }

  it("refuses a replayed command, also after a restart", () => {
    const storage = new MemoryStore();
    const s = online({ storage });
    const payload = signed(CMD, command({ id: "p", op: "ping" }));
    s.client.deliver(CMD, payload);
    s.client.deliver(CMD, payload);
    expect(replies(s).map((r) => r.error ?? "ok")).toEqual(["ok", "replayed"]);
    const again = online({ storage });
    again.client.deliver(CMD, payload);
    expect(replies(again)).toEqual([{ re: "p", ok: false, error: "replayed" }]);
    // an older n is as good as a replay; a newer one works
    again.client.deliver(CMD, signed(CMD, command({ id: "old", op: "ping" }, { n: 5 })));
    again.client.deliver(CMD, signed(CMD, command({ id: "new", op: "ping" })));
    expect(replies(again).map((r) => [r.re, r.error ?? "ok"])).toEqual([["p", "replayed"], ["old", "replayed"], ["new", "ok"]]);
  });

  it("refuses an expired command once its clock is set", () => {
    const s = online({ clock: true });
    s.client.deliver(CMD, signed(CMD, command({ id: "late", op: "ping" }, { exp: NOW_S - 1 })));
    s.client.deliver(CMD, signed(CMD, command({ id: "no-exp", op: "ping" }, { exp: undefined })));
    s.client.deliver(CMD, signed(CMD, command({ id: "fresh", op: "ping" }, { exp: NOW_S + 60 })));
    expect(replies(s).map((r) => [r.re, r.error ?? "ok"])).toEqual([["late", "expired"], ["no-exp", "expired"], ["fresh", "ok"]]);
  });

  it("without a clock (no SNTP yet) accepts a correctly signed command whose n is new, whatever its exp", () => {
    const s = online();
    s.client.deliver(CMD, signed(CMD, command({ id: "old-exp", op: "ping" }, { exp: 1 })));
    expect(replies(s)).toEqual([{ re: "old-exp", ok: true, up: 2000 }]);
  });

  it("verifies a group copy under the group topic, and drops copies for other devices before anything else", () => {
    const s = online();
    // ten copies for other devices: no reply, no refusal, no rate limit used
    for (let i = 0; i < 10; i++) s.client.deliver(GROUP, signed(GROUP, command({ id: "a" + i, op: "ping" }, { to: "esp32-00000000000" + i }), OTHER_KEY));
    expect(s.client.on(REPLY)).toEqual([]);
    for (let i = 0; i < 5; i++) s.client.deliver(GROUP, signed(GROUP, command({ id: "m" + i, op: "ping" })));
    expect(replies(s).map((r) => r.ok)).toEqual([true, true, true, true, true]);
    expect(info(s)).toMatchObject({ refused: 0, rateLimited: 0 });
    // signed for R/D/cmd, published on R/all/cmd: refused
    s.clock.advance(2000);
    s.client.clear();
    s.client.deliver(GROUP, signed(CMD, command({ id: "moved", op: "ping" })));
    expect(replies(s)).toEqual([{ re: "moved", ok: false, error: "bad signature" }]);
  });

  it("a device without a key accepts unsigned commands as before, and still drops other devices' copies", () => {
    const s = online({ key: null });
    s.client.deliver(CMD, JSON.stringify({ id: "u", op: "set", interval: 20 }));
    s.client.deliver(GROUP, JSON.stringify({ id: "them", op: "ping", to: "esp32-000000000000" }));
    s.client.deliver(GROUP, JSON.stringify({ id: "us", op: "ping", to: ID, n: 1, exp: 2 }));
    expect(replies(s, null).map((r) => [r.re, r.ok])).toEqual([["u", true], ["us", true]]);
    expect(s.app.config.interval).toBe(20);
  });
});

describe("command safety", () => {
  it("ignores, logs and counts commands that arrive retained, even validly signed restarts", () => {
    const s = online({ clock: true });
    s.clock.advance(120_000);
    s.client.deliver(CMD, signed(CMD, command({ id: "r1", op: "restart" })), true);
    s.client.deliver(GROUP, JSON.stringify({ id: "r2", op: "restart" }), true);
    s.clock.advance(5000);
    expect(s.board.restarts).toBe(0);
    expect(s.client.on(REPLY)).toEqual([]);
    expect(s.board.logs.filter((l) => l.includes("retained"))).toHaveLength(2);
    expect(info(s).retainedCmds).toBe(2);
  });

  it("rate-limits a burst: 5 at once, then one per 2 s, answered 'rate limited' and never queued", () => {
    const s = online();
    for (let i = 0; i < 8; i++) s.client.deliver(CMD, signed(CMD, command({ id: "b" + i, op: "ping" })));
    expect(replies(s).map((r) => r.error ?? "ok")).toEqual(["ok", "ok", "ok", "ok", "ok", "rate limited", "rate limited", "rate limited"]);
    s.client.clear();
    s.clock.advance(2000);
    s.client.deliver(CMD, signed(CMD, command({ id: "c1", op: "ping" })));
    s.client.deliver(CMD, signed(CMD, command({ id: "c2", op: "ping" })));
    expect(replies(s).map((r) => [r.re, r.error ?? "ok"])).toEqual([["c1", "ok"], ["c2", "rate limited"]]);
    expect(info(s).rateLimited).toBe(4);
    // nothing was kept for later
    s.client.clear();
    s.clock.advance(60_000);
    expect(s.client.on(REPLY)).toEqual([]);
  });

  it("rate-limits devices without a key too", () => {
    const s = online({ key: null });
    for (let i = 0; i < 7; i++) s.client.deliver(CMD, JSON.stringify({ id: "b" + i, op: "ping" }));
    expect(replies(s, null).filter((r) => r.error === "rate limited")).toHaveLength(2);
  });

  it("refuses restart in the first 60 s after boot, then honours it", () => {
    const s = online();
    s.clock.advance(55_000); // 57 s after boot
    s.client.deliver(CMD, signed(CMD, command({ id: "early", op: "restart" })));
    s.clock.advance(5000);
    expect(s.board.restarts).toBe(0);
    s.client.deliver(CMD, signed(CMD, command({ id: "later", op: "restart" })));
    s.clock.advance(1000);
    expect(s.board.restarts).toBe(1);
    expect(replies(s).map((r) => [r.re, r.ok, r.error])).toEqual([["early", false, "too soon after boot"], ["later", true, undefined]]);
  });

  it("set writes flash and republishes info only when a value really changes", () => {
    const storage = new MemoryStore();
    const writes: string[] = [];
    const write = storage.writeJSON.bind(storage);
    storage.writeJSON = (name, value) => { writes.push(name); write(name, value); };
    const s = online({ storage });
    writes.length = 0;
    s.client.deliver(CMD, signed(CMD, command({ id: "same", op: "set", interval: 10, tempOffset: 0 })));
    expect(writes).toEqual([COUNTER_FILE]);
    expect(s.client.on(INFO)).toEqual([]);
    s.client.deliver(CMD, signed(CMD, command({ id: "new", op: "set", interval: 10, tempOffset: 0.5 })));
    expect(writes).toEqual([COUNTER_FILE, COUNTER_FILE, SETTINGS_FILE]);
    expect(s.client.on(INFO)).toHaveLength(1);
    expect(replies(s).map((r) => [r.re, r.ok])).toEqual([["same", true], ["new", true]]);
  });
});

describe("rekey", () => {
  /** the host's half: a nonce, and the new key hidden by XOR with HMAC(current key, "rekey|" + nonce) */
  function rekeyCommand(current: string, next: string, id = "k1") {
    const nonce = randomBytes(16).toString("hex");
    const stream = createHmac("sha256", Buffer.from(current, "hex")).update("rekey|" + nonce).digest();
    const hidden = Buffer.from(next, "hex").map((b, i) => b ^ stream[i]);
    return command({ id, op: "rekey", nonce, key: Buffer.from(hidden).toString("hex") });
  }

  it("installs the new key: the reply is signed with it, so is everything after, and it survives a restart", () => {
    const storage = new MemoryStore();
    const next = randomBytes(32).toString("hex");
    const s = online({ storage });
    const c = rekeyCommand(KEY, next);
    s.client.deliver(CMD, signed(CMD, c));
    const [reply] = s.client.on(REPLY);
    expect(() => verified(REPLY, reply.payload, KEY)).toThrow("bad signature");
    expect(verified(REPLY, reply.payload, next)).toEqual({ re: "k1", ok: true });
    expect(reply.payload).not.toContain(next);
    expect(reply.payload).not.toContain(c.key);
    s.clock.advance(10_000);
    s.client.ack();
    expect(verified(READING, s.client.on(READING)[0].payload, next).seq).toBe(1);
    // commands now need the new key
    s.client.clear();
    s.client.deliver(CMD, signed(CMD, command({ id: "old", op: "ping" })));
    s.client.deliver(CMD, signed(CMD, command({ id: "new", op: "ping" }), next));
    expect(replies(s, next).map((r) => [r.re, r.error ?? "ok"])).toEqual([["old", "bad signature"], ["new", "ok"]]);

    const after = online({ storage });
    const clientId = "d-" + createHmac("sha256", Buffer.from(next, "hex")).update("client-id").digest("hex").slice(0, 24);
    expect(after.client.options.clientId).toBe(clientId);
    after.clock.advance(10_000);
    expect(verified(READING, after.client.on(READING)[0].payload, next)).toMatchObject({ boot: 2 });
  });

  it("a re-flash with a new key in the config wins over an older rotation", () => {
    const storage = new MemoryStore();
    const s = online({ storage });
    s.client.deliver(CMD, signed(CMD, rekeyCommand(KEY, randomBytes(32).toString("hex"))));
    expect(storage.files[KEY_FILE]).toBeDefined();
    const flashed = randomBytes(32).toString("hex");
    const after = online({ storage, key: flashed });
    after.clock.advance(10_000);
    expect(verified(READING, after.client.on(READING)[0].payload, flashed)).toMatchObject({ boot: 2 });
  });

  it("a forged rekey changes nothing; a device without a key has nothing to rotate", () => {
    const s = online();
    s.client.deliver(CMD, signed(CMD, rekeyCommand(KEY, randomBytes(32).toString("hex")), OTHER_KEY));
    expect(replies(s)).toEqual([{ re: "k1", ok: false, error: "bad signature" }]);
    expect(s.storage.files[KEY_FILE]).toBeUndefined();
    const bare = online({ key: null });
    bare.client.deliver(CMD, JSON.stringify(rekeyCommand(KEY, randomBytes(32).toString("hex"))));
    expect(replies(bare, null)).toEqual([{ re: "k1", ok: false, error: "no key to rotate" }]);
  });
});
