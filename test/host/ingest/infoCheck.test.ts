// `info` checked strictly on the host: every kind of junk a flood of retained info could carry is rejected with
// the field and what is wrong, and what the firmware really sends passes.
import { describe, expect, it } from "vitest";
import { parseDeviceMessage } from "../../../host/ingest/parseMessage";
import { MAX_COUNT } from "../../../host/ingest/infoCheck";

const ROOT = "espdht/test";
const enc = (s: string) => new TextEncoder().encode(s);
/** what firmware/app/publishing.ts sends, every optional field included */
const FULL = {
  v: 1, id: "sim-a", fw: "0.1.0", model: "dht22", pin: 4, interval: 10, ip: "192.168.1.50", boot: 3, root: ROOT,
  caps: ["read", "set", "get", "ping", "restart", "rekey"], dropped: 0, configError: null, mem: { free: 1200, total: 3000 },
  skipped: 0, retainedCmds: 0, rateLimited: 1, refused: 2, spilled: 40, flashFull: 0, dupId: { n: 3, at: 1_700_000_000_000 },
  groups: ["kitchen", "floor1"],
};
const parse = (info: object) => parseDeviceMessage(ROOT, `${ROOT}/sim-a/info`, enc(JSON.stringify(info)));

/** [kind of junk, info, reason fragment] */
export const JUNK_INFO: [string, object, string][] = [
  ["unknown field", { ...FULL, evil: 1 }, "unknown field 'evil'"],
  ["long unknown field name", { ...FULL, ["x".repeat(500)]: 1 }, "unknown field 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'"],
  ["prototype-looking field", JSON.parse('{"v":1,"id":"sim-a","fw":"1","model":"dht22","pin":4,"interval":10,"ip":null,"boot":1,"root":"r","caps":[],"dropped":0,"configError":null,"__proto__":{"x":1}}'), "unknown field '__proto__'"],
  ["interval above the device's limit", { ...FULL, interval: 86401 }, "interval must be 2..86400 seconds"],
  ["interval of a year", { ...FULL, interval: 31_536_000 }, "interval must be 2..86400 seconds"],
  ["interval 1e308", { ...FULL, interval: 1e308 }, "interval must be 2..86400 seconds"],
  ["fw of 3,000 characters", { ...FULL, fw: "x".repeat(3000) }, "fw must be text of 1..64"],
  ["empty fw", { ...FULL, fw: "" }, "fw must be text of 1..64"],
  ["fw with an escape sequence", { ...FULL, fw: "1.0\u001b[2J" }, "fw must be text"],
  ["pin that does not exist", { ...FULL, pin: 40 }, "pin must be a GPIO"],
  ["flash pin", { ...FULL, pin: 6 }, "pin must be a GPIO"],
  ["ip that is not an address", { ...FULL, ip: "<script>" }, "ip must be null or an IP address"],
  ["ip too long", { ...FULL, ip: "1".repeat(46) }, "ip must be null or an IP address"],
  ["boot beyond 32 bits", { ...FULL, boot: MAX_COUNT + 1 }, "boot must be a whole number"],
  ["dropped 2^60", { ...FULL, dropped: 2 ** 60 }, "dropped must be a whole number"],
  ["root with a wildcard", { ...FULL, root: "a/#" }, "root must be a topic root"],
  ["root too long", { ...FULL, root: "r".repeat(129) }, "root must be a topic root"],
  ["caps with an unknown command", { ...FULL, caps: ["read", "format-flash"] }, "caps must list distinct commands"],
  ["caps repeated", { ...FULL, caps: ["read", "read"] }, "caps must list distinct commands"],
  ["caps of 400 entries", { ...FULL, caps: Array(400).fill("read") }, "caps must list distinct commands"],
  ["configError of 1 KB", { ...FULL, configError: "e".repeat(1000) }, "configError must be null or text of 1..200"],
  ["mem with extra keys", { ...FULL, mem: { free: 1, total: 2, big: "x" } }, "mem must be {free, total}"],
  ["mem free above total", { ...FULL, mem: { free: 3, total: 2 } }, "mem must be {free, total}"],
  ["counter beyond 32 bits", { ...FULL, refused: 2 ** 40 }, "refused must be a whole number"],
  ["dupId with extra keys", { ...FULL, dupId: { n: 1, at: 2, pad: "x" } }, "dupId must be {n, at}"],
  ["null optional field", { ...FULL, mem: null }, "mem must be"],
  ["five groups", { ...FULL, groups: ["a", "b", "c", "d", "e"] }, "groups: a list of up to 4 names"],
  ["groups not a list", { ...FULL, groups: "kitchen" }, "groups: a list of up to 4 names"],
  ["groups null", { ...FULL, groups: null }, "groups: a list of up to 4 names"],
  ["a group with a slash", { ...FULL, groups: ["a/b"] }, "group 'a/b': 1..64 of A-Za-z0-9_- once, not all"],
  ["a group with a wildcard", { ...FULL, groups: ["+"] }, "group '+'"],
  ["a group named all", { ...FULL, groups: ["all"] }, "group 'all'"],
  ["an empty group name", { ...FULL, groups: [""] }, "group ''"],
  ["a group of 65 characters", { ...FULL, groups: ["g".repeat(65)] }, `group '${"g".repeat(65)}': 1..64`],
  ["a group of 3,000 characters", { ...FULL, groups: ["g".repeat(3000)] }, "group 'gggg"],
  ["a group with an escape sequence", { ...FULL, groups: ["a\u001b[2J"] }, "group 'a?[2J'"],
  ["a group twice", { ...FULL, groups: ["k", "k"] }, "group 'k'"],
  ["a group that is a number", { ...FULL, groups: [7] }, "group '7'"],
];

describe("info checked strictly", () => {
  it("accepts what the firmware sends, with and without the optional fields", () => {
    expect(parse(FULL)).toMatchObject({ kind: "info", info: { interval: 10 } });
    const { mem: _m, skipped: _s, retainedCmds: _r, rateLimited: _l, refused: _f, spilled: _p, flashFull: _ff, dupId: _d, groups: _g, ...plain } = FULL;
    expect(parse({ ...plain, ip: null, configError: "wifi: invalid ssid", caps: [] })).toMatchObject({ kind: "info" });
    expect(parse({ ...FULL, ip: "fe80::1", interval: 86400 })).toMatchObject({ kind: "info" });
    expect(parse({ ...FULL, groups: [] })).toMatchObject({ kind: "info", info: { groups: [] } });
    expect(parse({ ...FULL, groups: ["a", "b-2", "C_3", "x".repeat(64)] })).toMatchObject({ kind: "info" });
  });

  it.each(JUNK_INFO)("rejects %s, naming the field", (_kind, info, reason) => {
    const r = parse(info);
    expect(r.kind).toBe("rejected");
    if (r.kind === "rejected") {
      expect(r.reason).toContain(`info: ${reason}`);
      expect(r.reason.length).toBeLessThan(300);
    }
  });
});
