// `espdht sim --rule "1:temperature>24<23:pin=5"`: a thermostat rule per board (firmware/contract/output.ts), written
// to the board's Storage before power-on as `espdht send BOARD set rule=...` would leave it. In the flag a linked peer
// may be named by its board index (`1:temperature@0>24<23:pin=5`: board 1 follows board 0, with --link 0:1).
import { CONFIG_FILE, DeviceConfig, parseRule, resolveDeviceConfig, SETTINGS_FILE, settingKeys } from "../../firmware/contract";
import type { VirtualFlash } from "../board/storage";

/** Board `board`'s rule text; `peer` is the board index its `@N` source named, if any. */
export interface BoardRule {
  board: number;
  rule: string;
  peer: number | null;
}

export class RuleFlagError extends Error {}

/** Parses one `BOARD:RULE` flag; throws RuleFlagError naming the flag, the board and the part that is wrong. */
export function parseRuleFlag(text: string, devices: number, dhtPin: number): BoardRule {
  const m = /^(\d+):(.+)$/.exec(text);
  const where = `--rule '${text}'`;
  if (!m) throw new RuleFlagError(`${where}: must be BOARD:RULE, e.g. 1:temperature>24<23:pin=5 (board 1 switches GPIO 5 on above 24 °C, off below 23 °C)`);
  const board = Number(m[1]);
  if (board >= devices) throw new RuleFlagError(`${where}: board ${board} does not exist (this process runs boards 0..${devices - 1}; see --devices)`);
  let rule = m[2];
  let peer: number | null = null;
  const at = /@(\d+)([<>])/.exec(rule);
  if (at) {
    peer = Number(at[1]);
    if (peer >= devices) throw new RuleFlagError(`${where}: board ${board}: source @${peer}: board ${peer} does not exist (boards 0..${devices - 1})`);
    if (peer === board) throw new RuleFlagError(`${where}: board ${board}: source @${peer} is the board itself (leave '@' out for its own sensor)`);
    // a placeholder id the contract accepts; the real one is put in when the ids are known
    rule = rule.replace(at[0], `@board-${peer}${at[2]}`);
  }
  const parsed = parseRule(rule);
  if (parsed === null || typeof parsed === "string") throw new RuleFlagError(`${where}: board ${board}: ${parsed ?? "empty rule"}`);
  if (parsed.pin === dhtPin) throw new RuleFlagError(`${where}: board ${board}: pin=${dhtPin} is the DHT's data pin (--pin); pick another output GPIO`);
  return { board, rule, peer };
}

/** All `--rule` flags; one rule per board. */
export function parseRuleFlags(texts: string[], devices: number, dhtPin: number): BoardRule[] {
  const rules = texts.map((t) => parseRuleFlag(t, devices, dhtPin));
  rules.forEach((r, i) => {
    if (rules.findIndex((o) => o.board === r.board) !== i) throw new RuleFlagError(`--rule '${texts[i]}': board ${r.board} has a rule already (one output per board)`);
  });
  return rules;
}

/** The rule as the board gets it: a peer's board index replaced by its device id. */
export function ruleFor(r: BoardRule, ids: string[]): string {
  return r.peer === null ? r.rule : r.rule.replace(`@board-${r.peer}`, `@${ids[r.peer]}`);
}

function readJson(flash: VirtualFlash, name: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(flash.get(name)?.toString("latin1") ?? "null");
    return v && typeof v === "object" && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/** Writes each rule into its board's config file, and into its saved settings when it has some (they win at boot). */
export function provisionRules(flashes: VirtualFlash[], ids: string[], rules: BoardRule[]): void {
  for (const r of rules) {
    const flash = flashes[r.board];
    const rule = ruleFor(r, ids);
    for (const name of [CONFIG_FILE, SETTINGS_FILE]) {
      const file = readJson(flash, name);
      if (file) flash.writeFile(name, Buffer.from(JSON.stringify({ ...file, rule }), "latin1"), 0, 0);
    }
  }
}

/** A setting the board's saved settings (SETTINGS_FILE, left by `set`) hold against what its config file asks. */
export interface SettingOverride {
  key: string;
  saved: unknown;
  asked: unknown;
}

/**
 * The settings where the board's saved settings win over its config file at boot (as firmware/app/storedConfig.ts
 * loads them: a saved-settings file replaces every setting); empty when it has none or they agree.
 */
export function savedSettingOverrides(flash: VirtualFlash): SettingOverride[] {
  const stored = storedSettings(flash);
  if (!stored.saved) return [];
  const asked = stored.asked as unknown as Record<string, unknown>;
  const now = stored.saved as unknown as Record<string, unknown>;
  return settingKeys()
    .filter((k) => JSON.stringify(now[k]) !== JSON.stringify(asked[k]))
    .map((k) => ({ key: k, saved: now[k], asked: asked[k] }));
}

/** The board's config file and its saved settings as the firmware resolves them at boot (saved: null when there are
 * none, or the firmware refuses the file: info.configError says so). */
function storedSettings(flash: VirtualFlash): { saved: DeviceConfig | null; asked: DeviceConfig } {
  const file = readJson(flash, SETTINGS_FILE);
  const saved = file ? resolveDeviceConfig(file) : null;
  return { saved: saved && saved.ok ? saved.config : null, asked: resolveDeviceConfig(readJson(flash, CONFIG_FILE)).config };
}

/** `interval 10 (asked 5)`: one override, in words. */
export function describeOverride(o: SettingOverride): string {
  const show = (v: unknown) => (Array.isArray(v) ? (v.length ? v.join(",") : "none") : v === "" ? "none" : String(v));
  return `${o.key} ${show(o.saved)} (asked ${show(o.asked)})`;
}

/** The output GPIO of the board's rule in effect (saved settings win over the config file), or null without a rule. */
export function ruleOutputPin(flash: VirtualFlash): number | null {
  const stored = storedSettings(flash);
  const parsed = parseRule((stored.saved ?? stored.asked).rule);
  return parsed && typeof parsed === "object" ? parsed.pin : null;
}
