// `espdht config`: show the user config with secrets masked.
import { keyringPathFor } from "../../provisioning/keyring";
import { CommandSpec, parseCommandArgs } from "../args";
import { configPath, maskSecrets, readUserConfig } from "../userConfig";

const spec: CommandSpec = {
  name: "config",
  usage: "config [--json] [--path]",
  summary: "Show your espdht config (secrets masked) and where your keyring is. Change it with 'espdht init'.",
  options: {
    json: { type: "boolean", help: "print the masked config as JSON on stdout" },
    path: { type: "boolean", help: "print only where the config file is" },
  },
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv);
  if (!args) return 0;
  const file = configPath();
  if (args.values.path) {
    process.stdout.write(file + "\n");
    return 0;
  }
  const config = readUserConfig(file);
  if (!config) {
    process.stderr.write(`espdht config: no config at ${file} yet; run 'espdht init' (or any command creates one with defaults)\n`);
    return 1;
  }
  const masked = maskSecrets(config);
  if (args.values.json) {
    process.stdout.write(JSON.stringify(masked, null, 2) + "\n");
    return 0;
  }
  process.stdout.write(`# ${file}\n# board keys: ${keyringPathFor(file)}\n`);
  for (const [k, v] of Object.entries(masked)) process.stdout.write(`${k.padEnd(14)} ${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}\n`);
  return 0;
}
