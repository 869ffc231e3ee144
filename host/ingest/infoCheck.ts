// The host's strict look at `info` after the contract's validateInfo: only the fields the firmware sends
// (firmware/app/publishing.ts), strings and numbers within bounds, the interval within the device's own `set`
// limits. Retained info stays on the broker and in the store, so nothing unbounded may pass.
import { checkGroups, checkNumber, COMMAND_OPS, Info, isObject, isUsableDhtPin, isValidDeviceId, MAX_LINKS, OUTPUT_WHYS, OutputWhy, ruleError, validateTopicRoot } from "../../firmware/contract";

/** counters a board keeps in 32 bits at most */
export const MAX_COUNT = 0xffffffff;
export const MAX_FW_CHARS = 64;
export const MAX_CONFIG_ERROR_CHARS = 200;
/** an IPv6 address in text is at most 45 characters */
export const MAX_IP_CHARS = 45;
/** latest time a device may name (Unix ms), the JavaScript Date limit */
const MAX_TIME_MS = 8.64e15;

type Check = (v: unknown) => string | null;

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_COUNT;
const count: Check = (v) => (isCount(v) ? null : `must be a whole number 0..${MAX_COUNT}`);
/** no control characters: the text ends up in the terminal (watch) and the page */
const printable = (s: string) => !/[\u0000-\u001f\u007f-\u009f]/.test(s);
const text = (max: number, nullable: boolean): Check => (v) =>
  (v === null && nullable) || (typeof v === "string" && v.length >= 1 && v.length <= max && printable(v))
    ? null
    : `must be ${nullable ? "null or " : ""}text of 1..${max} printable characters`;
const onlyKeys = (o: Record<string, unknown>, keys: string[]) => Object.keys(o).every((k) => keys.includes(k)) && Object.keys(o).length === keys.length;

/** Every field of Info with its check; a field added to Info must be given one here (the compiler insists). */
const FIELDS: { [K in keyof Info]-?: Check } & Record<string, Check> = {
  v: () => null,
  id: () => null,
  fw: text(MAX_FW_CHARS, false),
  model: () => null,
  pin: (v) => (typeof v === "number" && isUsableDhtPin(v) ? null : "must be a GPIO a DHT can use (0-5, 12-19, 21-23, 25-27, 32, 33)"),
  interval: (v) => checkNumber("interval", v)?.replace(/^interval /, "") ?? null,
  ip: (v) => (v === null || (typeof v === "string" && v.length <= MAX_IP_CHARS && /^[0-9a-fA-F.:]+$/.test(v)) ? null : `must be null or an IP address (up to ${MAX_IP_CHARS} characters of 0-9 a-f . :)`),
  boot: count,
  root: (v) => (validateTopicRoot(v) === null ? null : "must be a topic root of 1..128 chars, no '+', '#' or empty level"),
  caps: (v) =>
    Array.isArray(v) && v.length <= COMMAND_OPS.length && v.every((c, i) => COMMAND_OPS.includes(c) && v.indexOf(c) === i)
      ? null
      : `must list distinct commands among ${COMMAND_OPS.join(", ")}`,
  dropped: count,
  configError: text(MAX_CONFIG_ERROR_CHARS, true),
  mem: (v) => (isObject(v) && onlyKeys(v, ["free", "total"]) && isCount(v.free) && isCount(v.total) && v.free <= v.total ? null : "must be {free, total}: whole numbers, free <= total"),
  retainedCmds: count,
  skipped: count,
  rateLimited: count,
  refused: count,
  spilled: count,
  flashFull: count,
  flashBad: count,
  // the contract's rule without its leading "groups "
  groups: (v) => checkGroups(v)?.replace(/^groups /, "") ?? null,
  links: (v) => (isObject(v) && onlyKeys(v, ["to", "from"]) && [v.to, v.from].every(isIdList) ? null : `must be {to, from} and nothing else: lists of at most ${MAX_LINKS} distinct device ids`),
  linkForged: count,
  linkOld: count,
  linkIn: count,
  output: (v) =>
    isObject(v) && onlyKeys(v, ["rule", "on", "why"]) && typeof v.rule === "string" && v.rule !== "" && ruleError(v.rule) === null && typeof v.on === "boolean" && OUTPUT_WHYS.includes(v.why as OutputWhy)
      ? null
      : `must be {rule, on, why}: a valid rule, true or false, one of ${OUTPUT_WHYS.join("|")}`,
  dupId: (v) => (isObject(v) && onlyKeys(v, ["n", "at"]) && isCount(v.n) && typeof v.at === "number" && Number.isInteger(v.at) && v.at >= 0 && v.at <= MAX_TIME_MS ? null : "must be {n, at} and nothing else"),
};

const KNOWN = Object.keys(FIELDS);

function isIdList(v: unknown): boolean {
  return Array.isArray(v) && v.length <= MAX_LINKS && v.every((id, i) => isValidDeviceId(id) && v.indexOf(id) === i);
}

/** The first thing wrong with an info the contract accepted, as "<field> <what>", or null when all is in bounds. */
export function strictInfoError(info: Info): string | null {
  const fields = info as unknown as Record<string, unknown>;
  for (const k of Object.keys(fields)) {
    if (!KNOWN.includes(k)) return `unknown field '${k.length > 40 ? k.slice(0, 40) + "…" : k}' (known: ${KNOWN.join(", ")})`;
    const v = fields[k];
    // optional fields are absent, never null or undefined in JSON
    const err = FIELDS[k](v);
    if (err) return `${k} ${err}`;
  }
  return null;
}
