// Payload types and validators for `reading`, `info`, `cmd` and `reply` (docs/architecture.md "Topics").
// Over 150 lines: each payload's type sits beside its validator, the one definition of the wire both sides check.
// The device builds these and the host validates them; Espruino-safe (no Map/Set, no regex quantifiers).
import { PAYLOAD_VERSION } from "./version";
import { checkGroups, isValidDeviceId } from "./topics";
import { OutputWhy, ruleError } from "./output";
import { fromHex, KEY_BYTES } from "./trust";

export type ReadError = "checksum" | "timeout" | "range";
// a function on the device (a module-level array costs JsVars for as long as the board runs); the constant for the host
export const readErrors = (): ReadError[] => ["checksum", "timeout", "range"];
export const READ_ERRORS = /* @__PURE__ */ readErrors();
export type SensorModel = "dht22" | "dht11";
export const sensorModels = (): SensorModel[] => ["dht22", "dht11"];
export const SENSOR_MODELS = /* @__PURE__ */ sensorModels();

export interface ReadingBase {
  v: number;
  id: string;
  boot: number;
  seq: number;
  /** ms since boot */
  up: number;
  /** Unix ms (UTC) once the clock is set, else null */
  ts: number | null;
}
export interface GoodReading extends ReadingBase {
  temperature: number;
  humidity: number;
}
export interface FailedReading extends ReadingBase {
  error: ReadError;
}
export type Reading = GoodReading | FailedReading;

export type Validation<T> = { ok: true; value: T } | { ok: false; error: string };

/** A failed result (returned, never thrown): shared by the validators and the DHT decoder. */
export function invalid<Err extends string>(error: Err): { ok: false; error: Err } {
  return { ok: false, error };
}
/** The error for a payload that is not a JSON object: "<what> is not a JSON object". */
export const NOT_OBJECT = " is not a JSON object";

export function isObject(x: unknown): x is { [k: string]: unknown } {
  return typeof x === "object" && x !== null && !(x instanceof Array);
}
function isNum(x: unknown): x is number {
  return typeof x === "number" && isFinite(x);
}
function isCount(x: unknown): x is number {
  return isNum(x) && x >= 0 && Math.floor(x) === x;
}

/** Temperature limits of either part (DHT22 -40..80 C); values outside are impossible, not merely inaccurate. */
export const TEMPERATURE_LIMITS = { min: -40, max: 80 };
export const HUMIDITY_LIMITS = { min: 0, max: 100 };

export function buildReading(base: ReadingBase, temperature: number, humidity: number): GoodReading {
  return { v: base.v, id: base.id, boot: base.boot, seq: base.seq, up: base.up, ts: base.ts, temperature, humidity };
}
export function buildFailedReading(base: ReadingBase, error: ReadError): FailedReading {
  return { v: base.v, id: base.id, boot: base.boot, seq: base.seq, up: base.up, ts: base.ts, error };
}

export function validateReading(x: unknown): Validation<Reading> {
  if (!isObject(x)) return invalid("reading" + NOT_OBJECT);
  if (x.v !== PAYLOAD_VERSION) return invalid("v must be " + PAYLOAD_VERSION);
  if (!isValidDeviceId(x.id)) return invalid("id is not a valid device id");
  if (!isCount(x.boot)) return invalid("boot must be a non-negative integer");
  if (!isCount(x.seq)) return invalid("seq must be a non-negative integer");
  if (!isCount(x.up)) return invalid("up must be a non-negative integer (ms)");
  if (x.ts !== null && !(isCount(x.ts) && x.ts > 0)) return invalid("ts must be null or Unix ms");
  const hasError = x.error !== undefined;
  const hasT = x.temperature !== undefined;
  const hasH = x.humidity !== undefined;
  if (hasError) {
    if (readErrors().indexOf(x.error as ReadError) < 0) return invalid("error must be one of " + readErrors().join("|"));
    if (hasT || hasH) return invalid("a failed reading must not carry values");
    return { ok: true, value: buildFailedReading(x as unknown as ReadingBase, x.error as ReadError) };
  }
  if (!isNum(x.temperature)) return invalid("temperature must be a finite number");
  if (!isNum(x.humidity)) return invalid("humidity must be a finite number");
  if (x.temperature < TEMPERATURE_LIMITS.min || x.temperature > TEMPERATURE_LIMITS.max) return invalid("temperature out of range");
  if (x.humidity < HUMIDITY_LIMITS.min || x.humidity > HUMIDITY_LIMITS.max) return invalid("humidity out of range");
  return { ok: true, value: buildReading(x as unknown as ReadingBase, x.temperature, x.humidity) };
}

export function isFailedReading(r: Reading): r is FailedReading {
  return (r as FailedReading).error !== undefined;
}

export type Capability = "read" | "set" | "get" | "ping" | "restart" | "rekey" | "link" | "unlink";
export const commandOps = (): Capability[] => ["read", "set", "get", "ping", "restart", "rekey", "link", "unlink"];
export const COMMAND_OPS = /* @__PURE__ */ commandOps();

/** Retained on `R/D/info` at every connect. */
export interface Info {
  v: number;
  id: string;
  fw: string;
  model: SensorModel;
  pin: number;
  /** seconds */
  interval: number;
  ip: string | null;
  boot: number;
  root: string;
  caps: Capability[];
  /** readings dropped because the offline buffer was full, since boot: past the spill limit or with Storage full */
  dropped: number;
  /** why the stored config was rejected (defaults in use), else null */
  configError: string | null;
  /** JsVars free / total at the time of connect, when the platform reports it */
  mem?: { free: number; total: number };
  /** since boot (docs/trust.md "Command safety"): commands ignored because they came retained */
  retainedCmds?: number;
  /** incoming messages over MAX_COMMAND_BYTES, read past and acknowledged */
  skipped?: number;
  /** commands answered "rate limited" */
  rateLimited?: number;
  /** commands refused as unsigned, badly signed, expired or replayed */
  refused?: number;
  /** readings dropped since boot because Storage was too full to spill them (also counted in dropped) */
  flashFull?: number;
  /** spill lines found unreadable (torn by a power cut, garbage) and skipped since boot */
  flashBad?: number;
  /**
   * present once the board saw a kick loop since boot (docs/architecture.md "Duplicate device ids"): the broker ended
   * n sessions in a row within 60 s of their CONNACK, the last at `at` (Unix ms, or ms since boot below 1.577e12)
   */
  dupId?: { n: number; at: number };
  /** device-to-device links (peer ids, never keys): `to` the devices it sends its readings to, `from` those it accepts readings from */
  links?: { to: string[]; from: string[] };
  /** link messages ignored since boot: from no configured peer or not signed with its link key; replayed or older than the last accepted */
  linkForged?: number;
  linkOld?: number;
  /** link messages accepted since boot (from a linked source, signed with its link key, newer than the last) */
  linkIn?: number;
  /** the named groups the device is in (config `groups`): it takes commands on `R/group/<name>/cmd` */
  groups?: string[];
  /** present while a thermostat rule is in effect: the rule (config `rule`) and its output's state (as on `R/D/output`) */
  output?: { rule: string; on: boolean; why: OutputWhy };
}

/** The optional counters of `info`. */
export const INFO_COUNTS = ["retainedCmds", "skipped", "rateLimited", "refused", "flashFull", "flashBad", "linkForged", "linkOld", "linkIn"];

export function validateInfo(x: unknown): Validation<Info> {
  if (!isObject(x)) return invalid("info" + NOT_OBJECT);
  if (x.v !== PAYLOAD_VERSION) return invalid("v must be " + PAYLOAD_VERSION);
  if (!isValidDeviceId(x.id)) return invalid("id is not a valid device id");
  if (typeof x.fw !== "string") return invalid("fw must be a string");
  if (sensorModels().indexOf(x.model as SensorModel) < 0) return invalid("model must be dht22 or dht11");
  if (!isCount(x.pin)) return invalid("pin must be a non-negative integer");
  if (!isNum(x.interval) || x.interval < 2) return invalid("interval must be a number of seconds >= 2");
  if (x.ip !== null && typeof x.ip !== "string") return invalid("ip must be a string or null");
  if (!isCount(x.boot)) return invalid("boot must be a non-negative integer");
  if (typeof x.root !== "string") return invalid("root must be a string");
  if (!(x.caps instanceof Array)) return invalid("caps must be an array");
  if (!isCount(x.dropped)) return invalid("dropped must be a non-negative integer");
  if (x.configError !== null && typeof x.configError !== "string") return invalid("configError must be a string or null");
  for (let i = 0; i < INFO_COUNTS.length; i++) {
    const k = INFO_COUNTS[i];
    if (x[k] !== undefined && !isCount(x[k])) return invalid(k + " must be a non-negative integer");
  }
  const dup = x.dupId;
  if (dup !== undefined && !(isObject(dup) && isCount(dup.n) && dup.n > 0 && isCount(dup.at))) return invalid("dupId must be {n, at}: a count > 0 and a time (ms)");
  const groupsError = x.groups === undefined ? null : checkGroups(x.groups);
  // it quotes the bad name, which a stranger chose: bounded and without control characters (watch prints reasons)
  if (groupsError) return invalid(groupsError.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?").substr(0, 120));
  const links = x.links as { [k: string]: unknown } | undefined;
  if (links !== undefined && !(isObject(links) && isIdList(links.to) && isIdList(links.from))) return invalid("links must be {to, from}: lists of at most " + MAX_LINKS + " device ids");
  return { ok: true, value: x as unknown as Info };
}

/** A device sends its readings to at most this many peers, and accepts readings from at most this many. */
export const MAX_LINKS = 4;

function isIdList(x: unknown): boolean {
  return x instanceof Array && x.length <= MAX_LINKS && x.every(isValidDeviceId);
}

/** Device settings a `set` command may change (periods in SECONDS). */
export interface Settings {
  interval: number;
  tempOffset: number;
  humOffset: number;
  /** report-on-change: publish when |change| >= delta (0 = every reading) ... */
  tempDelta: number;
  humDelta: number;
  /** ... or when this many seconds passed since the last publish (0 = no heartbeat needed) */
  heartbeat: number;
  /** named groups (up to MAX_GROUPS): the device takes commands on `R/group/<name>/cmd` for each */
  groups: string[];
  /** the thermostat rule (firmware/contract/output.ts), "" for none */
  rule: string;
}
export const settingKeys = (): (keyof Settings)[] => ["interval", "tempOffset", "humOffset", "tempDelta", "humDelta", "heartbeat", "groups", "rule"];
export const SETTING_KEYS = /* @__PURE__ */ settingKeys();

/** Checks a numeric field: an error message, null when valid, undefined when `key` is not numeric. */
export function checkNumber(key: string, value: unknown): string | null | undefined {
  // Numeric fields of the device, settings first: key -> [min, max, whole number (1)]. Built at each call: a module
  // constant would cost the board ~59 JsVars for as long as it runs
  const rules: { [key: string]: number[] } = {
    interval: [2, 86400],
    tempOffset: [-20, 20],
    humOffset: [-20, 20],
    tempDelta: [0, 50],
    humDelta: [0, 50],
    heartbeat: [0, 86400],
    port: [1, 65535, 1],
    bufferSize: [1, 2000, 1],
    spillLimit: [0, 30000, 1],
    keepalive: [5, 3600, 1],
  };
  if (!rules.hasOwnProperty(key)) return undefined;
  const r = rules[key];
  return isNum(value) && value >= r[0] && value <= r[1] && (!r[2] || Math.floor(value) === value)
    ? null
    : key + " must be " + (r[2] ? "a whole number " : "") + r[0] + ".." + r[1] + (r[1] === 86400 ? " seconds" : "");
}

export interface Command {
  id: string;
  op: Capability;
  /** present for `set`: the settings to change */
  set?: Partial<Settings>;
  /** `rekey`: 32 hex digits, and the new key XOR rekeyKeystream(current key, nonce) as 64 hex digits */
  nonce?: string;
  key?: string;
  /** `link`/`unlink` on the sending device: the peer it sends its readings to */
  target?: string;
  /** `link`/`unlink` on the receiving device: the peer it accepts readings from (`link` carries the link key as `rekey` does, under linkKeystream) */
  source?: string;
}

/** The signed envelope's fields (docs/trust.md "Signed commands"): any command may carry them, none is a setting. */
export const envelopeKeys = (): string[] => ["to", "n", "exp", "sig"];
export const ENVELOPE_KEYS = /* @__PURE__ */ envelopeKeys();

/** Longest command id accepted, so replies stay small. */
export const MAX_COMMAND_ID = 64;

/** Validates a command; on failure returns the id too (when one could be read) so the reply can name it. */
export function validateCommand(x: unknown): Validation<Command> & { id?: string } {
  if (!isObject(x)) return invalid("command" + NOT_OBJECT);
  const id = x.id;
  if (typeof id !== "string" || !id || id.length > MAX_COMMAND_ID) return invalid("id must be a string of 1..64 chars");
  const op = x.op as Capability;
  let error: string | null = commandOps().indexOf(op) < 0 ? "unknown op '" + x.op + "' (expected " + commandOps().join("|") + ")" : null;
  const set: Partial<Settings> = {};
  let count = 0;
  if (op === "set") {
    for (const key in x) {
      if (error || key === "id" || key === "op" || envelopeKeys().indexOf(key) >= 0) continue;
      error = settingKeys().indexOf(key as keyof Settings) < 0 ? "unknown setting '" + key + "'" : key == "groups" ? checkGroups(x[key]) : key == "rule" ? ruleError(x[key]) : checkNumber(key, x[key]) || null;
      (set as { [k: string]: unknown })[key] = x[key];
      count++;
    }
    if (!count) error = "set needs one of " + settingKeys().join(", ");
  }
  const rekey = op === "rekey";
  if (rekey && !(fromHex(x.nonce, 16) && fromHex(x.key, KEY_BYTES))) error = "rekey needs nonce (32 hex) and key (64 hex)";
  const linking = op === "link";
  const link = linking || op === "unlink";
  // one side per command: target (the sender's) or source (the receiver's, with the key when linking)
  if (link && !(isValidDeviceId(x.target) ? x.source === undefined : isValidDeviceId(x.source) && (!linking || (fromHex(x.nonce, 16) && fromHex(x.key, KEY_BYTES)))))
    error = op + " needs target (a device id) or source (a device id" + (linking ? ", with nonce (32 hex) and key (64 hex))" : ")");
  if (error) return { ok: false, error, id };
  // a link command's fields are all checked above: passed on as they came (the envelope's too; it ships, so short)
  return { ok: true, value: op === "set" ? { id, op, set } : link ? (x as unknown as Command) : rekey ? { id, op, nonce: x.nonce as string, key: x.key as string } : { id, op } };
}

/** The wire form of a command: `{"id","op", ...settings}`. */
export function buildCommand(id: string, op: Capability, set?: Partial<Settings>): { [k: string]: unknown } {
  const out: { [k: string]: unknown } = { id, op };
  if (set) for (const k in set) out[k] = (set as { [k: string]: unknown })[k];
  return out;
}

export interface Reply {
  /** the command id, or null when the command was too malformed to have one */
  re: string | null;
  ok: boolean;
  error?: string;
  [extra: string]: unknown;
}

export function validateReply(x: unknown): Validation<Reply> {
  if (!isObject(x)) return invalid("reply" + NOT_OBJECT);
  if (x.re !== null && typeof x.re !== "string") return invalid("re must be a string or null");
  if (typeof x.ok !== "boolean") return invalid("ok must be a boolean");
  if (x.ok === false && typeof x.error !== "string") return invalid("a failed reply must carry an error string");
  return { ok: true, value: x as unknown as Reply };
}

export const STATUS_ONLINE = "online";
export const STATUS_OFFLINE = "offline";
export function validateStatus(text: string): Validation<"online" | "offline"> {
  if (text === STATUS_ONLINE || text === STATUS_OFFLINE) return { ok: true, value: text };
  return invalid("status must be 'online' or 'offline'");
}
