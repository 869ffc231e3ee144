// `espdht dashboard`: the local web dashboard (history, live charts, per-device details, commands).
import { startDashboard } from "../../host/dashboard/startDashboard";
import { displayUrl } from "../../host/mqtt/connectBroker";
import { CommandSpec, numberOption, parseCommandArgs } from "../args";
import { HOST_OPTIONS, resolveHostOptions } from "../hostOptions";

const DEFAULT_PORT = 8080;

const spec: CommandSpec = {
  name: "dashboard",
  usage: "dashboard [--host ADDR] [--port N] [options]",
  summary: "Serve the local web dashboard: device list with verified/unsigned badges, live temperature/humidity charts with history, details, rejected messages, signed commands and CSV export.",
  options: {
    ...HOST_OPTIONS,
    host: { type: "string", value: "ADDR", help: "address to listen on", default: "127.0.0.1" },
    port: { type: "string", value: "N", help: `port to listen on (when ${DEFAULT_PORT} is taken, a free one is used)`, default: String(DEFAULT_PORT) },
    retention: { type: "string", value: "DAYS", help: "keep readings this many days (0 = forever)", default: "90" },
    "command-timeout": { type: "string", value: "SECONDS", help: "how long a command from the page waits for its reply", default: "10" },
    "journal-limit": { type: "string", value: "MB", help: "readings kept in the data folder's journal while the store cannot write; past it they are not acknowledged, so the broker keeps them", default: "64" },
  },
  epilog: [
    "A reading is acknowledged to the broker only once it is on this machine's disk (the journal in the data folder), so",
    "killing the dashboard loses nothing: the broker sends again what was not acknowledged. One dashboard per data folder:",
    "a second one on the same folder stops at once, naming the process that holds it.",
    "",
    "Example:\n  espdht dashboard --port 8090",
  ].join("\n"),
};

/** A warning when the page (and its device commands, which need no login) is reachable beyond this machine. */
export function exposureWarning(host: string): string | null {
  if (host === "localhost" || host === "::1" || host.startsWith("127.")) return null;
  return `espdht dashboard: warning: listening on ${host}: anyone who can reach this address can read your devices and send them commands (there is no login); use the default 127.0.0.1 unless this network is yours alone`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv);
  if (!args) return 0;
  const port = numberOption(args.values, "port", 0, 65535, true)!;
  const retentionDays = numberOption(args.values, "retention", 0, 36500)!;
  const commandTimeout = numberOption(args.values, "command-timeout", 1, 600)!;
  const journalLimitMb = numberOption(args.values, "journal-limit", 0.01, 1_000_000)!;
  const host = resolveHostOptions(args.values);
  const log = (m: string) => process.stderr.write(m + "\n");
  log(`espdht dashboard: connecting to ${displayUrl(host.broker.url)} under ${host.root}, store in ${host.dataDir}`);
  const dash = await startDashboard({
    broker: host.broker,
    root: host.root,
    dataDir: host.dataDir,
    host: String(args.values.host),
    port,
    // only the default port falls back: a port the user asked for is theirs to fix
    fallbackPort: args.values.port === String(DEFAULT_PORT) && !argv.some((a) => a.startsWith("--port")),
    retentionDays,
    commandTimeoutMs: commandTimeout * 1000,
    keyring: host.keyring,
    journalLimitBytes: journalLimitMb * 1024 * 1024,
    log,
  });
  const warning = exposureWarning(String(args.values.host));
  if (warning) log(warning);
  process.stdout.write(`espdht dashboard: ${dash.url}\n`);
  log("espdht dashboard: Ctrl-C to stop");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  log("espdht dashboard: stopping");
  await dash.close();
  return 0;
}
