// `espdht build`: compile firmware/ into dist/firmware.js and fail on what Espruino cannot run.
import { parseCommandArgs, CommandSpec } from "../args";
import { buildFirmware } from "../../tools/buildFirmware";

const spec: CommandSpec = {
  name: "build",
  usage: "build [--quiet]",
  summary: "Build dist/firmware.js (minified, flashed and simulated) and dist/firmware.debug.js, then check the bundle for syntax Espruino cannot run and its size budget.",
  options: { quiet: { type: "boolean", help: "print nothing on success" } },
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv);
  if (!args) return 0;
  await buildFirmware({ quiet: !!args.values.quiet, enforceBudget: true });
  return 0;
}
