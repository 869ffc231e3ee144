// Argument parsing for every subcommand: node:util parseArgs, a generated --help, and clear errors.
import { parseArgs } from "node:util";
import { DeviceConfigError, parseGroupList } from "../provisioning/deviceConfig";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** shown in --help, e.g. "URL" */
  value?: string;
  help: string;
  default?: string | boolean;
  multiple?: boolean;
}
export type OptionSpecs = Record<string, OptionSpec>;

export interface CommandSpec {
  name: string;
  usage: string;
  summary: string;
  options: OptionSpecs;
  /** extra text after the options (examples) */
  epilog?: string;
}

export class UsageError extends Error {}

export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: espdht ${spec.usage}`, "", spec.summary, "", "Options:"];
  const all: OptionSpecs = { ...spec.options, help: { type: "boolean", short: "h", help: "show this help" } };
  for (const [name, o] of Object.entries(all)) {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? " " + o.value : ""}`;
    const def = o.default !== undefined && o.default !== false ? ` (default: ${o.default})` : "";
    lines.push(`  ${flag.padEnd(30)} ${o.help}${def}`);
  }
  if (spec.epilog) lines.push("", spec.epilog);
  return lines.join("\n") + "\n";
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/** parseArgs' message, but a value starting with '-' (a negative number) gets one line saying how to pass it. */
function argumentProblem(message: string, argv: string[], options: OptionSpecs): string {
  const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(message);
  if (!ambiguous) return message.replace(/\.?\s*To specify.*$/s, "");
  const names = ambiguous[1].split(", ");
  const value = argv[argv.findIndex((a) => names.includes(a)) + 1];
  // the long form takes `=value` (a short one would read "=value")
  const short = /^-(\w)$/.exec(names[names.length - 1]);
  const long = short ? Object.keys(options).find((k) => options[k].short === short[1]) : null;
  const flag = long ? `--${long}` : names[names.length - 1];
  return `${flag}: '${value}' looks like an option; write ${flag}=${value}`;
}

/** Parses argv; returns null when --help was printed. Throws UsageError naming the bad argument. */
export function parseCommandArgs(spec: CommandSpec, argv: string[], allowPositionals = false): Parsed | null {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = { help: { type: "boolean", short: "h" } };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type };
    if (o.short) options[name].short = o.short;
    if (o.multiple) options[name].multiple = true;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError(`${argumentProblem((e as Error).message, argv, spec.options)}\nRun 'espdht ${spec.name} --help' for usage.`);
  }
  if (parsed.values.help) {
    process.stdout.write(helpText(spec));
    return null;
  }
  const values = { ...parsed.values } as Parsed["values"];
  for (const [name, o] of Object.entries(spec.options)) if (values[name] === undefined && o.default !== undefined) values[name] = o.default;
  return { values, positionals: parsed.positionals };
}

/** Parses a number option with bounds, naming the flag in the error. */
export function numberOption(values: Parsed["values"], name: string, min: number, max: number, integer = false): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${name}: '${String(raw)}' is not a number`);
  if (integer && !Number.isInteger(n)) throw new UsageError(`--${name}: '${raw}' must be a whole number`);
  if (n < min || n > max) throw new UsageError(`--${name}: ${n} is out of range ${min}..${max}`);
  return n;
}

/** `--groups a,b` (empty: none) as a valid group list, or a usage error naming what is wrong. */
export function groupsOption(text: string): string[] {
  try {
    return parseGroupList(text, "--groups");
  } catch (e) {
    if (e instanceof DeviceConfigError) throw new UsageError(e.message);
    throw e;
  }
}
