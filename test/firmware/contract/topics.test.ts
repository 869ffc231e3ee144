import { describe, expect, it } from "vitest";
import { deviceIdFromMac, deviceTopic, deviceTopicPrefix, everyDeviceFilter, GROUP_SEGMENT, groupCommandTopic, isValidDeviceId, linkTopic, namedGroupTopic, parseDeviceTopic, validateTopicRoot } from "../../../firmware/contract";

const R = "espdht/a1b2c3";

describe("topics", () => {
  it("builds the one-to-one and group topics", () => {
    expect(deviceTopic(R, "esp32-aabbccddeeff", "reading")).toBe("espdht/a1b2c3/esp32-aabbccddeeff/reading");
    expect(groupCommandTopic(R)).toBe("espdht/a1b2c3/all/cmd");
    expect(everyDeviceFilter(R, "status")).toBe("espdht/a1b2c3/+/status");
  });

  it("the device composes the group and link topics from deviceTopicPrefix, as the helpers make them (app/commands.ts, app/peerLinks.ts)", () => {
    expect(deviceTopicPrefix(R, GROUP_SEGMENT) + "cmd").toBe(groupCommandTopic(R));
    expect(deviceTopicPrefix(R, "group") + "kitchen" + "/cmd").toBe(namedGroupTopic(R, "kitchen"));
    expect(deviceTopicPrefix(R, "sim-a") + "to/" + "sim-b").toBe(linkTopic(R, "sim-a", "sim-b"));
    expect(deviceTopicPrefix(R, "+") + "to/" + "sim-b").toBe(linkTopic(R, "+", "sim-b"));
  });

  it.each([
    ["espdht/a1b2c3/sim-01/reading", { deviceId: "sim-01", kind: "reading" }],
    ["espdht/a1b2c3/esp32-aabbccddeeff/status", { deviceId: "esp32-aabbccddeeff", kind: "status" }],
    ["espdht/a1b2c3/all/cmd", { deviceId: "all", kind: "cmd" }],
    ["espdht/a1b2c3/all/reading", null],
    ["espdht/other/sim-01/reading", null],
    ["espdht/a1b2c3/sim-01/readings", null],
    ["espdht/a1b2c3/sim-01/reading/extra", null],
    ["espdht/a1b2c3//reading", null],
    ["espdht/a1b2c3/<b>x</b>/reading", null],
  ])("parses %s", (topic, expected) => {
    expect(parseDeviceTopic(R, topic)).toEqual(expected);
  });

  it.each([
    ["sim-1", true], ["esp32-aabbccddeeff", true], ["a_b", true], ["", false], ["all", false], ["a/b", false], ["a+b", false], ["x".repeat(65), false], [42, false],
  ])("device id %j valid: %s", (id, ok) => {
    expect(isValidDeviceId(id)).toBe(ok);
  });

  it.each([
    ["espdht/home", true], ["a", true], ["", false], ["/a", false], ["a/", false], ["a//b", false], ["a/+", false], ["a/#", false], ["x".repeat(129), false], [null, false],
  ])("topic root %j valid: %s", (root, ok) => {
    expect(validateTopicRoot(root) === null).toBe(ok);
  });

  it("derives the device id from the eFuse serial or a MAC", () => {
    expect(deviceIdFromMac("esp32", "30aea4ff-fe123456")).toBe("esp32-a4fffe123456");
    expect(deviceIdFromMac("esp32", "30:AE:A4:12:34:56")).toBe("esp32-30aea4123456");
  });
});
