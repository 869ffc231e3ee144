import { describe, expect, it } from "vitest";
import { parseRule, ruleError, validateOutput } from "../../../firmware/contract/output";
import { resolveDeviceConfig } from "../../../firmware/contract/deviceConfig";
import { validateCommand } from "../../../firmware/contract/payloads";

describe("parseRule", () => {
  it.each([
    ["temperature>24<23:pin=5", { q: "temperature", src: "", rise: true, on: 24, off: 23, pin: 5, minOn: 0, minOff: 0, safe: 0 }],
    ["temperature<18.5>19:pin=18:minOn=120:minOff=60:safe=on", { q: "temperature", src: "", rise: false, on: 18.5, off: 19, pin: 18, minOn: 120, minOff: 60, safe: 1 }],
    ["humidity@esp32-aabbccddeeff>60<55:pin=33:safe=off", { q: "humidity", src: "esp32-aabbccddeeff", rise: true, on: 60, off: 55, pin: 33, minOn: 0, minOff: 0, safe: 0 }],
    ["temperature>-5<-10:pin=0", { q: "temperature", src: "", rise: true, on: -5, off: -10, pin: 0, minOn: 0, minOff: 0, safe: 0 }],
  ])("reads %s", (text, rule) => {
    expect(parseRule(text)).toEqual(rule);
  });

  it("takes \"\" as no rule", () => {
    expect(parseRule("")).toBeNull();
    expect(ruleError("")).toBeNull();
  });

  // each bad input names the part that is wrong: "rule: '<part>' must be <what>"
  it.each([
    ["temperature=24:pin=5", "temperature=24", "QUANTITY>ON<OFF (ON > OFF) or QUANTITY<ON>OFF (ON < OFF)"],
    ["temp>24<23:pin=5", "temp", "temperature or humidity"],
    [">24<23:pin=5", "", "temperature or humidity"],
    ["temperature>23<24:pin=5", "temperature>23<24", "QUANTITY>ON<OFF (ON > OFF) or QUANTITY<ON>OFF (ON < OFF)"],
    ["temperature>24<24:pin=5", "temperature>24<24", "QUANTITY>ON<OFF (ON > OFF) or QUANTITY<ON>OFF (ON < OFF)"],
    ["temperature<24>23:pin=5", "temperature<24>23", "QUANTITY>ON<OFF (ON > OFF) or QUANTITY<ON>OFF (ON < OFF)"],
    ["temperature>x<23:pin=5", "temperature>x<23", "QUANTITY>ON<OFF (ON > OFF) or QUANTITY<ON>OFF (ON < OFF)"],
    ["temperature>24<:pin=5", "temperature>24<", "QUANTITY>ON<OFF (ON > OFF) or QUANTITY<ON>OFF (ON < OFF)"],
    ["temperature>0x20<23:pin=5", "temperature>0x20<23", "QUANTITY>ON<OFF (ON > OFF) or QUANTITY<ON>OFF (ON < OFF)"],
    ["temperature>24<23<1:pin=5", "temperature>24<23<1", "QUANTITY>ON<OFF (ON > OFF) or QUANTITY<ON>OFF (ON < OFF)"],
    ["temperature@bad id>24<23:pin=5", "bad id", "a device id"],
    ["temperature@a@b>24<23:pin=5", "a@b", "a device id"],
    ["temperature>24<23", "temperature>24<23", "followed by :pin=GPIO (the output)"],
    ["temperature>24<23:pin=6", "pin=6", "pin=GPIO (0-5, 12-19, 21-23, 25-27, 32, 33), minOn=S, minOff=S (0..86400) or safe=on|off"],
    ["temperature>24<23:pin=34", "pin=34", "pin=GPIO (0-5, 12-19, 21-23, 25-27, 32, 33), minOn=S, minOff=S (0..86400) or safe=on|off"],
    ["temperature>24<23:pin=4.5", "pin=4.5", "pin=GPIO (0-5, 12-19, 21-23, 25-27, 32, 33), minOn=S, minOff=S (0..86400) or safe=on|off"],
    ["temperature>24<23:pin=", "pin=", "pin=GPIO (0-5, 12-19, 21-23, 25-27, 32, 33), minOn=S, minOff=S (0..86400) or safe=on|off"],
    ["temperature>24<23:pin=5:minOn=-1", "minOn=-1", "pin=GPIO (0-5, 12-19, 21-23, 25-27, 32, 33), minOn=S, minOff=S (0..86400) or safe=on|off"],
    ["temperature>24<23:pin=5:minOff=99999", "minOff=99999", "pin=GPIO (0-5, 12-19, 21-23, 25-27, 32, 33), minOn=S, minOff=S (0..86400) or safe=on|off"],
    ["temperature>24<23:pin=5:safe=maybe", "safe=maybe", "pin=GPIO (0-5, 12-19, 21-23, 25-27, 32, 33), minOn=S, minOff=S (0..86400) or safe=on|off"],
    ["temperature>24<23:pin=5:colour=red", "colour=red", "pin=GPIO (0-5, 12-19, 21-23, 25-27, 32, 33), minOn=S, minOff=S (0..86400) or safe=on|off"],
    ["temperature>24<23:pin=5:pin=12", "pin=5", "given once"],
    ["temperature>24<23:pin=5:minOn=5:safe=on:minOn=9", "minOn=5", "given once"],
    ["temperature>24<23:pin=5:", "", "pin=GPIO (0-5, 12-19, 21-23, 25-27, 32, 33), minOn=S, minOff=S (0..86400) or safe=on|off"],
  ])("refuses %s (names '%s')", (text, part, what) => {
    expect(parseRule(text)).toBe("rule: '" + part + "' must be " + what);
  });

  it.each([[24], [null], [{ q: "temperature" }], ["x".repeat(121)]])("refuses a rule that is not a short string: %s", (v) => {
    expect(ruleError(v)).toContain("rule must be a string");
  });
});

describe("rule as a setting", () => {
  it("is set by a set command, and a bad one is refused naming the part", () => {
    expect(validateCommand({ id: "1", op: "set", rule: "temperature>24<23:pin=5" })).toEqual({ ok: true, value: { id: "1", op: "set", set: { rule: "temperature>24<23:pin=5" } } });
    expect(validateCommand({ id: "2", op: "set", rule: "temperature>22<23:pin=5" })).toMatchObject({ ok: false, id: "2", error: expect.stringContaining("rule: 'temperature>22<23' must be QUANTITY>ON<OFF") });
  });

  it("is a config field checked at boot (a bad one rejects the file)", () => {
    expect(resolveDeviceConfig({ rule: "humidity<40>45:pin=18" })).toMatchObject({ ok: true, config: { rule: "humidity<40>45:pin=18" } });
    expect(resolveDeviceConfig({ rule: "humidity<40>45" })).toMatchObject({ ok: false, error: "rule: 'humidity<40>45' must be followed by :pin=GPIO (the output)" });
    expect(resolveDeviceConfig(undefined).config.rule).toBe("");
  });
});

describe("validateOutput", () => {
  const good = { v: 1, id: "esp32-30aea40b1c2d", on: true, why: "rule", pin: 5, since: 12000, ts: null };
  it("accepts the device's payload", () => {
    expect(validateOutput(good)).toEqual({ ok: true, value: good });
    expect(validateOutput({ ...good, why: "failsafe", on: false, ts: 1.7e12 }).ok).toBe(true);
  });
  it.each([
    [[], "output is not a JSON object"],
    [{ ...good, v: 2 }, "v must be 1"],
    [{ ...good, id: "a/b" }, "id is not a valid device id"],
    [{ ...good, on: "yes" }, "on must be true or false"],
    [{ ...good, why: "magic" }, "why must be one of rule|failsafe|boot"],
    [{ ...good, pin: 7 }, "pin must be an ESP32 output GPIO"],
    [{ ...good, since: -1 }, "since must be a non-negative integer (ms since boot)"],
    [{ ...good, ts: "now" }, "ts must be null or Unix ms"],
  ])("refuses %j", (x, error) => {
    expect(validateOutput(x)).toEqual({ ok: false, error });
  });
});
