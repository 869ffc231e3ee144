// The contract's named groups (issue 12 item 1): the group list rule shared by config, `set` and info, and the
// group topic.
import { describe, expect, it } from "vitest";
import { buildCommand, checkGroups, MAX_GROUPS, namedGroupTopic, resolveDeviceConfig, validateCommand, validateInfo } from "../../../firmware/contract";

const INFO = { v: 1, id: "sim-a", fw: "0.2.0", model: "dht22", pin: 4, interval: 10, ip: null, boot: 1, root: "r", caps: [], dropped: 0, configError: null };

describe("group list rule", () => {
  it.each([
    [[], null],
    [["kitchen"], null],
    [["a", "b-2", "C_3", "x".repeat(64)], null],
    [["a", "b", "c", "d", "e"], "groups: a list of up to 4 names"],
    ["kitchen", "groups: a list of up to 4 names"],
    [null, "groups: a list of up to 4 names"],
    [{ 0: "a", length: 1 }, "groups: a list of up to 4 names"],
    [["a/b"], "group 'a/b': 1..64 of A-Za-z0-9_- once, not all"],
    [["+"], "group '+': 1..64 of A-Za-z0-9_- once, not all"],
    [["#"], "group '#': 1..64 of A-Za-z0-9_- once, not all"],
    [["all"], "group 'all': 1..64 of A-Za-z0-9_- once, not all"],
    [[""], "group '': 1..64 of A-Za-z0-9_- once, not all"],
    [["x".repeat(65)], `group '${"x".repeat(65)}': 1..64 of A-Za-z0-9_- once, not all`],
    [["k", "k"], "group 'k': 1..64 of A-Za-z0-9_- once, not all"],
    [[1], "group '1': 1..64 of A-Za-z0-9_- once, not all"],
  ])("checkGroups(%j) -> %j", (groups, error) => {
    expect(checkGroups(groups)).toBe(error);
  });

  it("MAX_GROUPS is the 4 the shipped check spells out", () => {
    expect(MAX_GROUPS).toBe(4);
    expect(checkGroups(Array.from({ length: MAX_GROUPS }, (_, i) => "g" + i))).toBeNull();
    expect(checkGroups(Array.from({ length: MAX_GROUPS + 1 }, (_, i) => "g" + i))).not.toBeNull();
  });

  it("the group topic is R/group/<name>/cmd", () => {
    expect(namedGroupTopic("espdht/home", "kitchen")).toBe("espdht/home/group/kitchen/cmd");
  });

  it("config: groups default to none, a valid list is taken, a bad one rejects the whole file", () => {
    expect(resolveDeviceConfig({}).config.groups).toEqual([]);
    expect(resolveDeviceConfig({ groups: ["kitchen"] })).toMatchObject({ ok: true, config: { groups: ["kitchen"] } });
    expect(resolveDeviceConfig({ groups: ["kitchen"], interval: 30 }).config.interval).toBe(30);
    expect(resolveDeviceConfig({ groups: ["x/y"], interval: 30 })).toMatchObject({ ok: false, error: "group 'x/y': 1..64 of A-Za-z0-9_- once, not all", config: { interval: 10, groups: [] } });
    expect(resolveDeviceConfig({ groups: {} })).toMatchObject({ ok: false, error: "groups: a list of up to 4 names" });
  });

  it("set: groups is a setting, checked by the same rule", () => {
    expect(validateCommand({ id: "s", op: "set", groups: ["a", "b"] })).toEqual({ ok: true, value: { id: "s", op: "set", set: { groups: ["a", "b"] } } });
    expect(validateCommand({ id: "s", op: "set", groups: [] })).toMatchObject({ ok: true });
    expect(validateCommand({ id: "s", op: "set", groups: ["a", "b", "c", "d", "e"] })).toEqual({ ok: false, id: "s", error: "groups: a list of up to 4 names" });
    expect(validateCommand({ id: "s", op: "set", interval: 30, groups: ["#"] })).toEqual({ ok: false, id: "s", error: "group '#': 1..64 of A-Za-z0-9_- once, not all" });
    expect(buildCommand("s", "set", { groups: ["a"] })).toEqual({ id: "s", op: "set", groups: ["a"] });
  });

  it("info: groups optional; a bad list is named, bounded and without control characters", () => {
    expect(validateInfo({ ...INFO, groups: ["kitchen"] }).ok).toBe(true);
    expect(validateInfo(INFO).ok).toBe(true);
    const long = validateInfo({ ...INFO, groups: ["z".repeat(3000)] });
    expect(long.ok).toBe(false);
    if (!long.ok) expect(long.error.length).toBeLessThanOrEqual(120);
    expect(validateInfo({ ...INFO, groups: ["a\u001b[2J"] })).toEqual({ ok: false, error: "group 'a?[2J': 1..64 of A-Za-z0-9_- once, not all" });
  });
});
