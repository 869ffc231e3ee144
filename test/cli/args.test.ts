import { describe, expect, it } from "vitest";
import { CommandSpec, numberOption, parseCommandArgs, UsageError } from "../../cli/args";

const spec: CommandSpec = {
  name: "demo",
  usage: "demo [--wait SECONDS]",
  summary: "a demo command",
  options: {
    wait: { type: "string", value: "SECONDS", help: "how long", default: "3" },
    devices: { type: "string", short: "n", value: "N", help: "how many" },
  },
};

const errorOf = (argv: string[]) => {
  try {
    parseCommandArgs(spec, argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error("no error");
};

describe("command arguments", () => {
  // node's parseArgs reads "-1" as an option and answered with three lines about '--wait=-XYZ'
  it("a negative number names the option and how to pass it, in one line plus the help hint", () => {
    expect(errorOf(["--wait", "-1"])).toBe("--wait: '-1' looks like an option; write --wait=-1\nRun 'espdht demo --help' for usage.");
  });

  it("a short option with a negative number is told the long form", () => {
    expect(errorOf(["-n", "-3"])).toBe("--devices: '-3' looks like an option; write --devices=-3\nRun 'espdht demo --help' for usage.");
  });

  it("a value given with = reaches the range check", () => {
    const parsed = parseCommandArgs(spec, ["--wait=-1"])!;
    expect(() => numberOption(parsed.values, "wait", 0, 10)).toThrow("--wait: -1 is out of range 0..10");
  });

  it("an unknown option is named", () => {
    expect(errorOf(["--bogus"])).toBe("Unknown option '--bogus'\nRun 'espdht demo --help' for usage.");
  });

  it("a missing value is named", () => {
    expect(errorOf(["--wait"])).toBe("Option '--wait <value>' argument missing\nRun 'espdht demo --help' for usage.");
  });
});
