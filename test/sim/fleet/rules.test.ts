// `espdht sim --rule BOARD:RULE`: parsed per board, a peer named by board index, errors naming the flag, board and part.
import { describe, expect, it } from "vitest";
import { parseRuleFlags, ruleFor } from "../../../sim/fleet/fleetRules";
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
