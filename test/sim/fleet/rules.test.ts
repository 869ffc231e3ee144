// `espdht sim --rule BOARD:RULE`: parsed per board, a peer named by board index, errors naming the flag, board and part.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeOverride, parseRuleFlags, ruleFor, ruleOutputPin, savedSettingOverrides } from "../../../sim/fleet/fleetRules";
import { startAedes, RunningBroker } from "../../support/brokers";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { startFleet } from "../../../sim/fleet/fleet";
import { statusText } from "../../../sim/fleet/statusLine";
import { record, Recorder } from "./subscriber";
import { VirtualFlash } from "../../../sim/board/storage";
import { CONFIG_FILE, SETTINGS_FILE } from "../../../firmware/contract";
import { provisionRules } from "../../../sim/fleet/fleetRules";

describe("--rule", () => {
  it("reads BOARD:RULE, with a peer given by its board index", () => {
    const rules = parseRuleFlags(["1:temperature>24<23:pin=5", "2:humidity@0<40>45:pin=18:minOff=60:safe=on"], 3, 4);
    expect(rules.map((r) => [r.board, r.peer])).toEqual([[1, null], [2, 0]]);
    expect(ruleFor(rules[0], ["a", "b", "c"])).toBe("temperature>24<23:pin=5");
    expect(ruleFor(rules[1], ["sim-aa", "sim-bb", "sim-cc"])).toBe("humidity@sim-aa<40>45:pin=18:minOff=60:safe=on");
  });

  it.each([
    ["temperature>24<23:pin=5", "--rule 'temperature>24<23:pin=5': must be BOARD:RULE"],
    ["x:temperature>24<23:pin=5", "must be BOARD:RULE"],
    ["5:temperature>24<23:pin=5", "board 5 does not exist (this process runs boards 0..2; see --devices)"],
    ["1:temp>24<23:pin=5", "--rule '1:temp>24<23:pin=5': board 1: rule: 'temp' must be temperature or humidity"],
    ["1:temperature>23<24:pin=5", "board 1: rule: 'temperature>23<24' must be QUANTITY>ON<OFF"],
    ["1:temperature>24<23", "board 1: rule: 'temperature>24<23' must be followed by :pin=GPIO"],
    ["1:temperature>24<23:pin=7", "board 1: rule: 'pin=7' must be pin=GPIO"],
    ["1:temperature>24<23:pin=4", "board 1: pin=4 is the DHT's data pin (--pin)"],
    ["1:temperature@9>24<23:pin=5", "board 1: source @9: board 9 does not exist"],
    ["1:temperature@1>24<23:pin=5", "board 1: source @1 is the board itself"],
    ["1:temperature>24<23:pin=5:minOn=-5", "board 1: rule: 'minOn=-5' must be"],
  ])("refuses %s", (flag, error) => {
    expect(() => parseRuleFlags([flag], 3, 4)).toThrow(error);
  });

  it("refuses two rules for one board", () => {
    expect(() => parseRuleFlags(["1:temperature>24<23:pin=5", "1:humidity>60<50:pin=18"], 3, 4)).toThrow("--rule '1:humidity>60<50:pin=18': board 1 has a rule already");
  });

  it("writes the rule into the board's config and into saved settings, which win at boot", () => {
    const flash = new VirtualFlash(null);
    flash.writeFile(CONFIG_FILE, Buffer.from(JSON.stringify({ interval: 2 })), 0, 0);
    flash.writeFile(SETTINGS_FILE, Buffer.from(JSON.stringify({ interval: 5, rule: "" })), 0, 0);
    const other = new VirtualFlash(null);
    provisionRules([other, flash], ["sim-a", "sim-b"], parseRuleFlags(["1:temperature@0>24<23:pin=5"], 2, 4));
    expect(JSON.parse(flash.get(CONFIG_FILE)!.toString())).toEqual({ interval: 2, rule: "temperature@sim-a>24<23:pin=5" });
    expect(JSON.parse(flash.get(SETTINGS_FILE)!.toString())).toEqual({ interval: 5, rule: "temperature@sim-a>24<23:pin=5" });
    expect(other.get(CONFIG_FILE)).toBeUndefined();
  });
});

describe("saved settings against the options", () => {
  const flashWith = (config: object, settings?: object) => {
    const flash = new VirtualFlash(null);
    flash.writeFile(CONFIG_FILE, Buffer.from(JSON.stringify(config)), 0, 0);
    if (settings) flash.writeFile(SETTINGS_FILE, Buffer.from(JSON.stringify(settings)), 0, 0);
    return flash;
  };

  it("names each setting the saved ones override, none without saved settings or when they agree", () => {
    expect(savedSettingOverrides(flashWith({ interval: 5 }))).toEqual([]);
    expect(savedSettingOverrides(flashWith({ interval: 5, groups: ["a"] }, { interval: 5, groups: ["a"] }))).toEqual([]);
    const o = savedSettingOverrides(flashWith({ interval: 5 }, { interval: 10, groups: ["kitchen"], tempOffset: 0 }));
    expect(o.map(describeOverride)).toEqual(["interval 10 (asked 5)", "groups kitchen (asked none)"]);
  });

  it("the rule in effect decides the output pin: saved settings win, an empty saved rule means none", () => {
    expect(ruleOutputPin(flashWith({ rule: "temperature>24<23:pin=5" }))).toBe(5);
    expect(ruleOutputPin(flashWith({ rule: "temperature>24<23:pin=5" }, { rule: "temperature>24<23:pin=18" }))).toBe(18);
    expect(ruleOutputPin(flashWith({ rule: "temperature>24<23:pin=5" }, { interval: 10 }))).toBeNull();
    expect(ruleOutputPin(flashWith({}))).toBeNull();
  });
});

describe("a board's rule and saved settings in the running simulator (dist/firmware.js)", () => {
  let broker: RunningBroker;
  let sub: Recorder;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-rules-"));
  const root = "espdht/rulestest";
  const base = { root, devices: 2, model: "dht22" as const, pin: 4, seed: "rules", dataDir, firmwareFile: FIRMWARE_OUT };

  beforeAll(async () => {
    broker = await startAedes();
    sub = await record(broker.url, root + "/#");
  });
  afterAll(async () => {
    await sub?.close();
    await broker?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const reply = (id: string, re: string) => sub.messages.some((m) => m.topic === `${root}/${id}/reply` && JSON.parse(m.text).re === re);

  it("one board whose rule moved to another pin counts as one output (it was 'outputs on 0/2'); a later run names the saved settings that override its options, --fresh none", async () => {
    const lines: string[] = [];
    let fleet = await startFleet({ ...base, broker: broker.url, interval: 2, log: (l) => lines.push(l) });
    const id = fleet.ids[0];
    try {
      await sub.until((ms) => ms.some((m) => m.topic === `${root}/${id}/info`), 20_000, "info");
      // the room is about 21 °C: on above 10, so the output switches on at the next reading
      for (const [n, pin] of [[1, 5], [2, 18]]) {
        sub.client.publish(`${root}/${id}/cmd`, JSON.stringify({ id: `r${n}`, op: "set", rule: `temperature>10<9:pin=${pin}` }), { qos: 1 });
        await sub.until(() => reply(id, `r${n}`), 15_000, `reply r${n}`);
        await sub.until(() => fleet.boards[0].outputs.get(pin) === 1, 15_000, `GPIO ${pin} on`);
      }
      expect([...fleet.boards[0].outputs.keys()].sort()).toEqual([18, 5]);
      expect(fleet.stats()).toMatchObject({ outputs: 1, outputsOn: 1 });
      expect(statusText(fleet, Date.now())).toContain("outputs on 1/1");
    } finally {
      await fleet.stop();
    }
    expect(lines.join("\n")).not.toContain("saved settings");

    // `set` saved every setting: a later run asking another interval and groups is told they do not apply
    fleet = await startFleet({ ...base, broker: broker.url, interval: 5, groups: ["hall"], log: (l) => lines.push(l) });
    await fleet.stop();
    const said = lines.filter((l) => l.includes("saved settings"));
    expect(said).toEqual([
      `espdht sim: board 0 (${id}): its saved settings (set by 'espdht send ${id} set ...', kept in its Storage) win over the options: interval 2 (asked 5), groups none (asked hall), rule temperature>10<9:pin=18 (asked none); --fresh erases them (its key is kept), or 'espdht send ${id} set KEY=VALUE' changes them`,
    ]);
    lines.length = 0;
    fleet = await startFleet({ ...base, broker: broker.url, interval: 5, freshStorage: true, log: (l) => lines.push(l) });
    await fleet.stop();
    expect(lines.filter((l) => l.includes("saved settings"))).toEqual([]);
  }, 90_000);

  it("a --rule following a device id no link brings to the board warns (it was accepted silently)", async () => {
    const lines: string[] = [];
    const fleet = await startFleet({ ...base, seed: "rules-peer", broker: broker.url, interval: 2, freshStorage: true, rules: parseRuleFlags(["1:temperature@sim-outside>24<23:pin=5"], 2, 4), log: (l) => lines.push(l) });
    await fleet.stop();
    expect(lines).toContain(`espdht sim: warning: board 1 (${fleet.ids[1]}) does not accept readings from sim-outside yet (no --link brings them, none is kept in its Storage), so its rule's output stays in failsafe: run 'espdht link sim-outside ${fleet.ids[1]}'`);
    // the id of a board of this process: the flag that links it
    lines.length = 0;
    const again = await startFleet({ ...base, seed: "rules-peer", broker: broker.url, interval: 2, freshStorage: true, rules: parseRuleFlags([`1:temperature@${fleet.ids[0]}>24<23:pin=5`], 2, 4), log: (l) => lines.push(l) });
    await again.stop();
    expect(lines.find((l) => l.includes("warning"))).toContain("so its rule's output stays in failsafe: add --link 0:1");
  }, 60_000);
});
