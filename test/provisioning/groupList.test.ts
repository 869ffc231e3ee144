// Group lists as users type them (issue 12 item 1): `--groups` of init/flash/sim and `set groups=` of send, parsed
// with the full reason for each bad list; `group:NAME` as a send target and its topic.
import { describe, expect, it } from "vitest";
import { DeviceConfigError, groupListProblem, parseGroupList } from "../../provisioning/deviceConfig";
import { parseSettingArgs, commandTopic, buildValidCommand, CommandError } from "../../host/commands/sendCommand";

describe("group lists typed by the user", () => {
  it.each([
    ["kitchen,floor1", ["kitchen", "floor1"]],
    [" kitchen , floor1 ", ["kitchen", "floor1"]],
    ["", []],
    ["  ", []],
  ])("parseGroupList(%j)", (text, groups) => {
    expect(parseGroupList(text)).toEqual(groups);
  });

  it.each([
    ["a,b,c,d,e", "groups: at most 4 groups per device (got 5: a, b, c, d, e)"],
    ["a/b", `groups: group name 'a/b' has "/": only letters, digits, '-' and '_' (it is one topic level; no '+', '#', '/')`],
    ["k+", `groups: group name 'k+' has "+"`],
    ["#", `groups: group name '#' has "#"`],
    ["all", "groups: 'all' is not a group name: it is every device ('espdht send all ...')"],
    ["a,,b", "groups: the group name is empty"],
    ["a,a", "groups: group 'a' is listed twice"],
    ["g".repeat(70), `groups: group name 'gggggggggggggggggggg…' has 70 characters, at most 64`],
    ["caf\u00e9", `groups: group name 'caf\u00e9' has "\u00e9"`],
    ["tab\there", `groups: group name 'tab\there' has "\\t"`],
  ])("parseGroupList(%j) throws %j", (text, message) => {
    expect(() => parseGroupList(text)).toThrow(DeviceConfigError);
    expect(() => parseGroupList(text)).toThrow(message);
  });

  it("groupListProblem takes only a list of strings", () => {
    expect(groupListProblem(["a"])).toBeNull();
    expect(groupListProblem("a")).toBe("must be a list of up to 4 names");
    expect(groupListProblem([1])).toBe("must be a list of up to 4 names");
  });

  it("the send target group:NAME goes to R/group/NAME/cmd", () => {
    expect(commandTopic("espdht/home", "group:kitchen")).toBe("espdht/home/group/kitchen/cmd");
    expect(commandTopic("espdht/home", "all")).toBe("espdht/home/all/cmd");
  });

  it("send: set groups=a,b is a list; group:NAME is a target, a bad one a CommandError", () => {
    expect(parseSettingArgs(["groups=kitchen,floor1", "interval=30"])).toEqual({ groups: ["kitchen", "floor1"], interval: 30 });
    expect(parseSettingArgs(["groups="])).toEqual({ groups: [] });
    expect(() => parseSettingArgs(["groups=a,b,c,d,e"])).toThrow(CommandError);
    expect(buildValidCommand({ target: "group:kitchen", op: "ping" }, "c1")).toEqual({ id: "c1", op: "ping" });
    expect(buildValidCommand({ target: "sim-1", op: "set", set: { groups: ["kitchen"] } }, "c2")).toEqual({ id: "c2", op: "set", set: { groups: ["kitchen"] } });
    expect(() => buildValidCommand({ target: "group:a/b", op: "ping" })).toThrow(`'group:a/b': group name 'a/b' has "/"`);
    expect(() => buildValidCommand({ target: "group:", op: "ping" })).toThrow("'group:': the group name is empty");
    expect(() => buildValidCommand({ target: "kitchen/x", op: "ping" })).toThrow("nor 'group:<name>'");
  });
});
