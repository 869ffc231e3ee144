// Reads and validates a scenario file: a JSON array of fault events. Errors name the file, the item and
// the field, e.g. `scenario.json: item 2 ("wifi-drop"): seconds must be a number > 0`.
import fs from "node:fs";
import { FAULT_NAMES, FaultEvent, FaultName, RATED_FAULTS } from "./faults";

export class ScenarioError extends Error {}

const KEYS = ["at", "fault", "seconds", "rate", "speed", "devices"];
/** fastest a broker outage may run the boards' time (a day in about 9 s) */
export const MAX_OUTAGE_SPEED = 10000;

export function parseScenario(text: string, where: string, deviceCount: number): FaultEvent[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(`${where}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(data)) throw new ScenarioError(`${where}: expected a JSON array of events like [{"at": 30, "fault": "wifi-drop", "seconds": 20}]`);
  return data.map((item, i) => validateEvent(item, `${where}: item ${i + 1}`, deviceCount));
}

export function validateEvent(item: unknown, where: string, deviceCount: number): FaultEvent {
  if (!item || typeof item !== "object" || Array.isArray(item)) throw new ScenarioError(`${where}: must be an object like {"at": 30, "fault": "wifi-drop", "seconds": 20}`);
  const o = item as Record<string, unknown>;
  const fault = o.fault as FaultName;
  if (typeof fault !== "string" || FAULT_NAMES.indexOf(fault) < 0) throw new ScenarioError(`${where}: fault ${JSON.stringify(o.fault)} is not one of ${FAULT_NAMES.join(", ")}`);
  const here = `${where} ("${fault}")`;
  for (const k of Object.keys(o)) if (KEYS.indexOf(k) < 0) throw new ScenarioError(`${here}: unknown field '${k}' (expected ${KEYS.join(", ")})`);
  const at = o.at === undefined ? 0 : o.at;
  if (typeof at !== "number" || !Number.isFinite(at) || at < 0) throw new ScenarioError(`${here}: at must be seconds >= 0`);
  const ev: FaultEvent = { at, fault };
  if (o.seconds !== undefined) {
    if (typeof o.seconds !== "number" || !(o.seconds > 0)) throw new ScenarioError(`${here}: seconds must be a number > 0`);
    ev.seconds = o.seconds;
  }
  if (RATED_FAULTS.indexOf(fault) >= 0) {
    const rate = o.rate === undefined ? 1 : o.rate;
    if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) throw new ScenarioError(`${here}: rate must be a number 0..1`);
    ev.rate = rate;
  } else if (o.rate !== undefined) throw new ScenarioError(`${here}: rate applies only to ${RATED_FAULTS.join(" and ")}`);
  if (fault === "broker-outage") {
    if (ev.seconds === undefined) throw new ScenarioError(`${here}: seconds is needed (how long the broker is away, in the boards' time)`);
    const speed = o.speed === undefined ? 1 : o.speed;
    if (typeof speed !== "number" || !(speed >= 1 && speed <= MAX_OUTAGE_SPEED)) throw new ScenarioError(`${here}: speed must be a number 1..${MAX_OUTAGE_SPEED}`);
    ev.speed = speed;
  } else if (o.speed !== undefined) throw new ScenarioError(`${here}: speed applies only to broker-outage`);
  if (o.devices !== undefined) {
    if (!Array.isArray(o.devices) || o.devices.length === 0 || o.devices.some((d) => typeof d !== "number" || !Number.isInteger(d) || d < 0 || d >= deviceCount)) {
      throw new ScenarioError(`${here}: devices must be a non-empty array of board indexes 0..${deviceCount - 1}`);
    }
    ev.devices = o.devices as number[];
  }
  if (fault === "duplicate-id" && (ev.devices ? ev.devices.length : deviceCount) < 2) throw new ScenarioError(`${here}: needs at least 2 boards (use --devices 2 or more, or list 2+ devices)`);
  return ev;
}

export function readScenario(file: string, deviceCount: number): FaultEvent[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ScenarioError(`${file}: ${(e as Error).message}`);
  }
  return parseScenario(text, file, deviceCount);
}
