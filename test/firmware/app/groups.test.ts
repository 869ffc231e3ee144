// Named groups on the fake HAL (issue 12 item 1): the config's groups are subscribed as R/group/<name>/cmd,
// `set groups` moves the subscriptions (unsubscribing the old ones) and persists them, a group command is
// verified like one on R/all/cmd (copies for other devices dropped before verification and the rate limit),
// answered on R/D/reply, and `info` carries the groups.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CONFIG_FILE, SETTINGS_FILE } from "../../../firmware/contract/deviceConfig";
import { validateInfo } from "../../../firmware/contract/payloads";
import { signedAsHost } from "../../sim/fleet/signedPayload";
import { MemoryStore } from "./fakeHal";
import { ID, R, start, Started } from "./harness";

const KEY = randomBytes(32).toString("hex");
const OTHER_KEY = randomBytes(32).toString("hex");
const REPLY = `${R}/${ID}/reply`;
const INFO = `${R}/${ID}/info`;
const CMD = `${R}/${ID}/cmd`;
const group = (name: string) => `${R}/group/${name}/cmd`;
const NOW_S = 1_796_083_200;

const signed = (topic: string, fields: object, key = KEY): string => signedAsHost(topic, fields, key);
let n = 5_000;
const envelope = (fields: object, to = ID) => ({ ...fields, to, n: ++n, exp: NOW_S + 300 });

function online(config: object, storage?: MemoryStore): Started {
  const s = start({ config: { key: KEY, ...config }, storage });
  s.unix.offset = NOW_S * 1000 - s.clock.now();
  s.client.connect();
  s.clock.advance(2000);
  s.client.ack();
  s.client.clear();
  return s;
}
const groupSubs = (s: Started) => s.client.subscriptions.filter((t) => t.includes("/group/")).sort();
const replies = (s: Started) => s.client.json(REPLY).map(({ sig, ...r }) => r);
function lastInfo(s: Started): any {
  const infos = s.client.json(INFO);
  return infos[infos.length - 1];
}

describe("named groups", () => {
  it("subscribes to R/group/<name>/cmd for each configured group, beside R/D/cmd and R/all/cmd", () => {
    const s = online({ groups: ["kitchen", "floor1"] });
    expect(s.client.subscriptions).toEqual(expect.arrayContaining([CMD, `${R}/all/cmd`]));
    expect(groupSubs(s)).toEqual([group("floor1"), group("kitchen")]);
  });

  it("no groups: no group subscription, info says groups []", () => {
    const s = online({});
    expect(groupSubs(s)).toEqual([]);
    s.client.drop();
    s.client.connect();
    expect(lastInfo(s).groups).toEqual([]);
  });

  it("a signed group command is carried out and answered on the device's own reply topic", () => {
    const s = online({ groups: ["kitchen"] });
    s.client.deliver(group("kitchen"), signed(group("kitchen"), envelope({ id: "g1", op: "ping" })));
    expect(replies(s)).toEqual([{ re: "g1", ok: true, up: expect.any(Number) }]);
  });

  it("a copy for another device is dropped unanswered before verification and the rate limit", () => {
    const s = online({ groups: ["kitchen"] });
    // signed for the other member with its key: the device cannot verify it and must not try
    for (let i = 0; i < 20; i++) s.client.deliver(group("kitchen"), signed(group("kitchen"), envelope({ id: "o" + i, op: "ping" }, "sim-other"), OTHER_KEY));
    expect(s.client.on(REPLY)).toEqual([]);
    s.client.deliver(group("kitchen"), signed(group("kitchen"), envelope({ id: "mine", op: "ping" })));
    expect(replies(s).map((r) => [r.re, r.ok])).toEqual([["mine", true]]);
  });

  it("refuses an unsigned or badly signed group command like any other, and one signed for another topic", () => {
    const s = online({ groups: ["kitchen"] });
    s.client.deliver(group("kitchen"), JSON.stringify(envelope({ id: "u1", op: "ping" })));
    s.client.deliver(group("kitchen"), signed(group("kitchen"), envelope({ id: "b1", op: "ping" }), OTHER_KEY));
    // a copy signed for R/all/cmd replayed on the group topic: the topic is inside the MAC
    s.client.deliver(group("kitchen"), signed(`${R}/all/cmd`, envelope({ id: "t1", op: "ping" })));
    expect(replies(s)).toEqual([
      { re: "u1", ok: false, error: "unsigned" },
      { re: "b1", ok: false, error: "bad signature" },
      { re: "t1", ok: false, error: "bad signature" },
    ]);
  });

  it("ignores commands on the topic of a group it is not in", () => {
    const s = online({ groups: ["kitchen"] });
    s.client.deliver(group("garage"), signed(group("garage"), envelope({ id: "x1", op: "ping" })));
    expect(s.client.on(REPLY)).toEqual([]);
  });

  it("set groups moves the subscriptions, persists them, republishes info and survives a restart", () => {
    const storage = new MemoryStore();
    const s = online({ groups: ["kitchen", "floor1"] }, storage);
    s.client.deliver(CMD, signed(CMD, envelope({ id: "s1", op: "set", groups: ["floor1", "garage"] })));
    expect(replies(s)[0]).toMatchObject({ re: "s1", ok: true, settings: { groups: ["floor1", "garage"] } });
    expect(groupSubs(s)).toEqual([group("floor1"), group("garage")]);
    expect(lastInfo(s).groups).toEqual(["floor1", "garage"]);
    expect(validateInfo(lastInfo(s)).ok).toBe(true);
    expect(JSON.parse(storage.files[SETTINGS_FILE]).groups).toEqual(["floor1", "garage"]);
    // the old group's commands no longer reach it
    s.client.clear();
    s.client.deliver(group("kitchen"), signed(group("kitchen"), envelope({ id: "k1", op: "ping" })));
    expect(s.client.on(REPLY)).toEqual([]);

    const again = online({ groups: ["kitchen", "floor1"] }, storage);
    expect(again.app.config.groups).toEqual(["floor1", "garage"]);
    expect(groupSubs(again)).toEqual([group("floor1"), group("garage")]);
    expect(again.app.configError).toBeNull();
  });

  it("set groups [] leaves every group; the same list again writes no flash", () => {
    const storage = new MemoryStore();
    const s = online({ groups: ["kitchen"] }, storage);
    s.client.deliver(CMD, signed(CMD, envelope({ id: "s1", op: "set", groups: ["kitchen"] })));
    expect(replies(s)[0]).toMatchObject({ ok: true });
    expect(storage.files[SETTINGS_FILE]).toBeUndefined();
    s.client.deliver(CMD, signed(CMD, envelope({ id: "s2", op: "set", groups: [] })));
    expect(groupSubs(s)).toEqual([]);
    expect(JSON.parse(storage.files[SETTINGS_FILE]).groups).toEqual([]);
  });

  it("a set with bad groups is refused with a clear error and changes nothing", () => {
    const storage = new MemoryStore();
    const s = online({ groups: ["kitchen"] }, storage);
    const bad: [unknown, string][] = [
      [["a", "b", "c", "d", "e"], "groups: a list of up to 4 names"],
      ["kitchen", "groups: a list of up to 4 names"],
      [["a/b"], "group 'a/b': 1..64 of A-Za-z0-9_- once, not all"],
      [["k+"], "group 'k+': 1..64"],
      [["#"], "group '#': 1..64"],
      [[""], "group '': 1..64"],
      [["all"], "group 'all': 1..64"],
      [["x".repeat(65)], ": 1..64"],
      [["kitchen", "kitchen"], "group 'kitchen': 1..64 of A-Za-z0-9_- once, not all"],
      [[3], "group '3': 1..64"],
    ];
    bad.forEach(([groups], i) => {
      s.clock.advance(2000); // stay under the rate limit
      s.client.deliver(CMD, signed(CMD, envelope({ id: "b" + i, op: "set", groups })));
    });
    const rs = replies(s);
    expect(rs.length).toBe(bad.length);
    bad.forEach(([, error], i) => {
      expect(rs[i]).toMatchObject({ re: "b" + i, ok: false });
      expect(rs[i].error).toContain(error);
    });
    expect(groupSubs(s)).toEqual([group("kitchen")]);
    expect(storage.files[SETTINGS_FILE]).toBeUndefined();
  });

  it("a config file with bad groups is rejected whole (defaults in use, reason in info)", () => {
    const storage = new MemoryStore();
    storage.files[CONFIG_FILE] = JSON.stringify({ groups: ["ok", "not/ok"] });
    const s = start({ storage });
    expect(s.app.config.groups).toEqual([]);
    expect(s.app.configError).toContain("group 'not/ok': 1..64");
    expect(s.client.subscriptions.filter((t) => t.includes("/group/"))).toEqual([]);
  });
});
