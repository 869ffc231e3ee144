// The `espdht` command line: one composition root per subcommand, loaded on demand.
import { UsageError } from "./args";
import { ConfigError } from "./userConfig";

type CommandModule = { run(argv: string[]): Promise<number | void> };

/** name -> [summary, loader]; each command lives in cli/commands/<name>.ts */
const COMMANDS: Record<string, [string, () => Promise<CommandModule>]> = {
  start: ["the all-local demo: embedded broker, three simulated boards and the dashboard", () => import("./commands/start")],
  init: ["create or change your config (broker, topic root, Wi-Fi, sensor)", () => import("./commands/init")],
  config: ["show your config (secrets masked)", () => import("./commands/config")],
  sim: ["run virtual ESP32 boards that execute dist/firmware.js", () => import("./commands/sim")],
  watch: ["live terminal view of your devices (or --json lines)", () => import("./commands/watch")],
  dashboard: ["local web dashboard with history, charts and commands", () => import("./commands/dashboard")],
  export: ["write stored readings as CSV or JSON lines (one, several or all devices, a time range)", () => import("./commands/export")],
  send: ["send one command to a device and wait for its reply", () => import("./commands/send")],
  keys: ["the device keys: list fingerprints, add a key, rotate a device's key", () => import("./commands/keys")],
  link: ["link device A to B: A's readings also go to R/A/to/B, signed with a key only B is given", () => import("./commands/link")],
  unlink: ["undo 'link A B'", () => import("./commands/unlink")],
  "broker-users": ["write Mosquitto password and ACL files for your devices' own logins", () => import("./commands/brokerUsers")],
  flash: ["upload the firmware and config to a board running Espruino", () => import("./commands/flash")],
  build: ["build dist/firmware.js (the one artifact flashed, simulated and measured)", () => import("./commands/build")],
  bench: ["run the performance benchmarks and print figures", () => import("./commands/bench")],
};

function usage(): string {
  const lines = ["Usage: espdht <command> [options]", "", "Commands:"];
  for (const [name, [summary]] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${summary}`);
  lines.push(
    "",
    "Environment:",
    "  ESPDHT_CONFIG           your config file (default: $XDG_CONFIG_HOME/espdht/config.json, else ~/.config/espdht/config.json);",
    "                          keys.json and device-logins.json live next to it",
    "  ESPDHT_DATA             data folder: history store, simulator Storage and board keys (default: $XDG_DATA_HOME/espdht,",
    "                          else ~/.local/share/espdht); --data DIR wins",
    "  ESPDHT_BROKER_PASSWORD  broker password for every command that connects (--password-file FILE wins)",
    "  ESPDHT_WIFI_PASSWORD    the Wi-Fi password 'espdht init' stores (--wifi-password wins)",
    "  NO_COLOR                'espdht watch' prints no colours",
    "",
    "Run 'espdht <command> --help' for the options of one command.",
  );
  return lines.join("\n") + "\n";
}

/** What to print for a failure nobody handled: its message, never "[object Object]" (workers and libraries throw non-Errors). */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  const message = (e as { message?: unknown } | null)?.message;
  if (typeof message === "string" && message) return message;
  if (typeof e === "object" && e !== null) {
    try {
      return JSON.stringify(e);
    } catch {
      // circular: fall through
    }
  }
  return String(e);
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  if (name === "--version") {
    const { FIRMWARE_VERSION } = await import("../firmware/contract");
    process.stdout.write(FIRMWARE_VERSION + "\n");
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`espdht: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await entry[1]();
    const code = await mod.run(rest);
    return typeof code === "number" ? code : 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`espdht ${name}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`espdht ${name}: ${errorText(e)}\n`);
    return 1;
  }
}
