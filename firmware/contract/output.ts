// The thermostat rule (config and `set` field `rule`): one output pin switched from a source reading, written as a
// short readable string that device, simulator and host parse alike. Espruino-safe: split/indexOf, no regex.
//   QUANTITY[@PEER]>ON<OFF[:pin=N][:minOn=S][:minOff=S][:safe=on|off]   on above ON, off below OFF (ON > OFF)
//   QUANTITY[@PEER]<ON>OFF...                                            on below ON, off above OFF (ON < OFF)
// e.g. "temperature>24<23:pin=5" (a fan), "humidity@esp32-aabbccddeeff<40>45:pin=18:minOff=60:safe=off".
// "" is no rule: the output pin is left alone and `R/D/output` is cleared.
import { isValidDeviceId } from "./topics";
import { PAYLOAD_VERSION } from "./version";

export type RuleQuantity = "temperature" | "humidity";

export interface OutputRule {
  q: RuleQuantity;
  /** a linked peer's device id, or "" for the board's own sensor */
  src: string;
  /** true: on above `on`, off below `off`; false: on below `on`, off above `off` */
  rise: boolean;
  on: number;
  off: number;
  pin: number;
  /** seconds the output stays on (off) at least before the rule may switch it again */
  minOn: number;
  minOff: number;
  /** the state the output takes when the source is silent for 3 of its intervals or reports errors: 1 on, 0 off */
  safe: number;
}

/** Why an output is in its state: its rule, its failsafe (source silent or failing), or the state it starts in. */
export type OutputWhy = "rule" | "failsafe" | "boot";

/** GPIOs an ESP32 can drive as outputs: 0-5, 12-19, 21-23, 25-27 (a bit mask), 32, 33 (not the flash pins 6-11 nor the input-only 34-39). */
export function isUsableOutputPin(pin: number): boolean {
  return pin === 32 || pin === 33 || (pin >= 0 && pin < 32 && Math.floor(pin) === pin && ((0x0eeff03f >> pin) & 1) === 1);
}

/** The rule written in `text`, or what is wrong with it (a string starting "rule"); "" parses to null (no rule). */
export function parseRule(text: unknown): OutputRule | null | string {
  // inner functions: a top-level one would cost JsVars for as long as the board runs
  /** a number typed in the rule: digits, signs and points only (no "", no hex, no exponent; "1.2.3" is NaN) */
  const num = (s: string) => (/^[-+.0-9]+$/.test(s) ? +s : NaN);
  /** "rule: '<part>' must be <what>": every problem names the part of the rule that is wrong. Terse: it ships. */
  const bad = (part: string, what: string) => "rule: '" + part + "' must be " + what;
  if (text === "") return null;
  if (typeof text != "string" || text.length > 120) return "rule must be a string of up to 120 chars (\"\" for none)";
  const parts = text.split(":");
  const head = parts[0];
  const gt = head.indexOf(">");
  const lt = head.indexOf("<");
  const rise = gt < lt;
  const name = head.slice(0, rise ? gt : lt).split("@");
  const values = head.slice((rise ? gt : lt) + 1).split(rise ? "<" : ">");
  const on = num(values[0]);
  const off = num(values[1]);
  const rule = { q: name[0], src: name[1] || "", rise, on, off, pin: -1, minOn: 0, minOff: 0, safe: 0 } as OutputRule;
  if (gt < 0 || lt < 0 || values.length > 2 || !(rise ? on > off : on < off)) return bad(head, "QUANTITY>ON<OFF (ON > OFF) or QUANTITY<ON>OFF (ON < OFF)");
  if (rule.q != "temperature" && rule.q != "humidity") return bad(rule.q, "temperature or humidity");
  if (name.length > 2 || (name.length > 1 && !isValidDeviceId(rule.src))) return bad(name.slice(1).join("@"), "a device id");
  for (let i = 1; i < parts.length; i++) {
    const kv = parts[i].split("=");
    const k = kv[0];
    const v = kv[1];
    const n = num(v);
    // a repeated part would silently win over the first (pin=5:pin=12 drove GPIO 12)
    if (text.indexOf(":" + k + "=") != text.lastIndexOf(":" + k + "=")) return bad(parts[i], "given once");
    if (k == "pin" ? !isUsableOutputPin(n) : k == "safe" ? v != "on" && v != "off" : (k != "minOn" && k != "minOff") || !(n >= 0 && n <= 86400)) {
      return bad(parts[i], "pin=GPIO (0-5, 12-19, 21-23, 25-27, 32, 33), minOn=S, minOff=S (0..86400) or safe=on|off");
    }
    (rule as unknown as { [k: string]: number })[k] = k == "safe" ? +(v == "on") : n;
  }
  return rule.pin < 0 ? bad(text, "followed by :pin=GPIO (the output)") : rule;
}

/** The rule's problem, or null when valid ("" included). */
export function ruleError(text: unknown): string | null {
  const r = parseRule(text);
  return typeof r == "string" ? r : null;
}

/** Retained on `R/D/output` (signed like every JSON message) whenever the output switches or its reason changes, and at every connect. */
export interface OutputState {
  v: number;
  id: string;
  on: boolean;
  why: OutputWhy;
  pin: number;
  /** ms since boot when the output took this state */
  since: number;
  /** Unix ms of that moment once the clock is set, else null */
  ts: number | null;
}

export const OUTPUT_WHYS: OutputWhy[] = ["rule", "failsafe", "boot"];

/** Host side: an `R/D/output` payload (the signature tail already checked and removed by the trust layer). */
export function validateOutput(x: unknown): { ok: true; value: OutputState } | { ok: false; error: string } {
  const o = (x && typeof x == "object" && !(x instanceof Array) ? x : null) as { [k: string]: unknown } | null;
  const count = (n: unknown) => typeof n == "number" && n >= 0 && Math.floor(n) === n;
  const error = !o
    ? "output is not a JSON object"
    : o.v !== PAYLOAD_VERSION
      ? "v must be " + PAYLOAD_VERSION
      : !isValidDeviceId(o.id)
        ? "id is not a valid device id"
        : typeof o.on != "boolean"
          ? "on must be true or false"
          : OUTPUT_WHYS.indexOf(o.why as OutputWhy) < 0
            ? "why must be one of " + OUTPUT_WHYS.join("|")
            : !isUsableOutputPin(o.pin as number)
              ? "pin must be an ESP32 output GPIO"
              : !count(o.since)
                ? "since must be a non-negative integer (ms since boot)"
                : o.ts !== null && !(count(o.ts) && (o.ts as number) > 0)
                  ? "ts must be null or Unix ms"
                  : null;
  return error ? { ok: false, error } : { ok: true, value: o as unknown as OutputState };
}
