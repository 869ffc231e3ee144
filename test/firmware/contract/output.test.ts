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

  // each bad input names the part that is wrong
  it.each([
    ["temperature=24:pin=5", "must be QUANTITY>ON<OFF"],
    ["temp>24<23:pin=5", "unknown quantity 'temp'"],
    [">24<23:pin=5", "unknown quantity ''"],
    ["temperature>23<24:pin=5", "on above 23 needs off below a lower value (hysteresis), got 24"],
    ["temperature>24<24:pin=5", "needs off below a lower value"],
    ["temperature<24>23:pin=5", "on below 24 needs off above a higher value (hysteresis), got 23"],
    ["temperature>x<23:pin=5", "ON and OFF must be numbers in -40..80"],
    ["temperature>24<:pin=5", "ON and OFF must be numbers"],
    ["temperature>0x20<23:pin=5", "ON and OFF must be numbers"],
    ["temperature>90<23:pin=5", "in -40..80"],
    ["humidity>101<50:pin=5", "in 0..100"],
    ["temperature@bad id>24<23:pin=5", "source 'bad id' is not a device id"],
    ["temperature@a@b>24<23:pin=5", "source 'a@b' is not a device id"],
    ["temperature>24<23", "pin=N is missing"],
    ["temperature>24<23:pin=6", "pin=6 is not an ESP32 output GPIO"],
    ["temperature>24<23:pin=34", "pin=34 is not an ESP32 output GPIO"],
    ["temperature>24<23:pin=4.5", "pin=4.5 is not"],
    ["temperature>24<23:pin=", "pin= is not"],
    ["temperature>24<23:pin=5:minOn=-1", "minOn=-1 must be 0..86400 seconds"],
    ["temperature>24<23:pin=5:minOff=99999", "minOff=99999 must be 0..86400 seconds"],
    ["temperature>24<23:pin=5:safe=maybe", "safe=maybe must be on or off"],
    ["temperature>24<23:pin=5:colour=red", "unknown part 'colour=red' (pin=N, minOn=S, minOff=S, safe=on|off)"],
  ])("refuses %s", (text, error) => {
    const r = parseRule(text);
    expect(typeof r).toBe("string");
    expect(r).toContain(error);
    expect(r as string).toMatch(/^rule/);
  });

  it.each([[24], [null], [{ q: "temperature" }], ["x".repeat(121)]])("refuses a rule that is not a short string: %s", (v) => {
    expect(ruleError(v)).toContain("rule must be a string");
  });
});

describe("rule as a setting", () => {
  it("is set by a set command, and a bad one is refused naming the part", () => {
    expect(validateCommand({ id: "1", op: "set", rule: "temperature>24<23:pin=5" })).toEqual({ ok: true, value: { id: "1", op: "set", set: { rule: "temperature>24<23:pin=5" } } });
    expect(validateCommand({ id: "2", op: "set", rule: "temperature>22<23:pin=5" })).toMatchObject({ ok: false, id: "2", error: expect.stringContaining("hysteresis") });
  });

  it("is a config field checked at boot (a bad one rejects the file)", () => {
    expect(resolveDeviceConfig({ rule: "humidity<40>45:pin=18" })).toMatchObject({ ok: true, config: { rule: "humidity<40>45:pin=18" } });
    expect(resolveDeviceConfig({ rule: "humidity<40>45" })).toMatchObject({ ok: false, error: "rule: pin=N is missing (the output GPIO)" });
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
