// `espdht start` (npm start): the all-local demo. One process: an embedded broker on loopback, three virtual
// boards running dist/firmware.js, and the dashboard. Works offline; Ctrl-C stops everything cleanly.
// The boards sign with their own keys, kept in the demo's own keyring that its dashboard reads: never the user's.
import path from "node:path";
import { startEmbeddedBroker } from "../../host/broker/embeddedBroker";
import { startDashboard } from "../../host/dashboard/startDashboard";
import { Keyring, KeyringError, KEYRING_FILE } from "../../provisioning/keyring";
import { startFleet } from "../../sim/fleet/fleet";
import { statusText } from "../../sim/fleet/statusLine";
import { CommandSpec, numberOption, parseCommandArgs, UsageError } from "../args";
import { ensureFirmwareBuilt } from "../firmwareArtifact";
import { defaultDataDir } from "../userConfig";

export const DEMO_ROOT = "espdht/demo";

const spec: CommandSpec = {
  name: "start",
  usage: "start [--devices N] [--interval SECONDS] [--port N] [--broker-port N] [--ws-port N]",
  summary: "The all-local demo: an embedded MQTT broker on 127.0.0.1, virtual ESP32 boards running dist/firmware.js (built first when missing or stale), and the web dashboard. Nothing leaves this machine.",
  options: {
    devices: { type: "string", value: "N", help: "virtual boards", default: "3" },
    interval: { type: "string", value: "SECONDS", help: "seconds between readings (>= 2)", default: "5" },
    port: { type: "string", value: "N", help: "dashboard port (a free one when it is taken)", default: "8080" },
    "broker-port": { type: "string", value: "N", help: "embedded broker port (a free one when it is taken)", default: "1883" },
    "ws-port": { type: "string", value: "N", help: "embedded broker's MQTT-over-WebSocket port (default: the broker port + 1; a free one when it is taken)" },
    data: { type: "string", value: "DIR", help: `where the demo keeps its history, board Storage and keyring (${KEYRING_FILE}) (default: <data folder>/demo)` },
    seed: { type: "string", value: "N", help: "seed for board ids and sensor noise", default: "1" },
  },
  // the demo's own keyring: without it watch shows the boards as unsigned (start prints the same command at run time)
  epilog: `Topic root: ${DEMO_ROOT}. Watch the same boards, verified, from another terminal with\n  espdht watch --broker mqtt://127.0.0.1:1883 --topic-root ${DEMO_ROOT} --keyring ${path.join(defaultDataDir(), "demo", KEYRING_FILE)}\nor over WebSocket (the boards stay on TCP) with --broker ws://127.0.0.1:1884 instead (with --data DIR: --keyring DIR/${KEYRING_FILE};\nstart prints the exact command, with the ports it got).`,
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv);
  if (!args) return 0;
  const devices = numberOption(args.values, "devices", 1, 1000, true)!;
  const interval = numberOption(args.values, "interval", 2, 86400)!;
  const port = numberOption(args.values, "port", 0, 65535, true)!;
  const brokerPort = numberOption(args.values, "broker-port", 0, 65535, true)!;
  const wsPort = numberOption(args.values, "ws-port", 0, 65535, true);
  const dataDir = path.resolve(String(args.values.data ?? path.join(defaultDataDir(), "demo")));
  const keyringFile = path.join(dataDir, KEYRING_FILE);
  let keyring: Keyring;
  try {
    keyring = new Keyring(keyringFile);
  } catch (e) {
    if (e instanceof KeyringError) throw new UsageError(`${e.message} (the demo's own keyring: delete it, the boards' keys are written again)`);
    throw e;
  }
  const log = (m: string) => process.stderr.write(`espdht start: ${m}\n`);

  const firmwareFile = (await ensureFirmwareBuilt(log)).file;
  const broker = await startEmbeddedBroker({ port: brokerPort, wsPort });
  log(`embedded broker on ${broker.url}${brokerPort && broker.port !== brokerPort ? ` (${brokerPort} was taken)` : ""}`);
  log(`MQTT over WebSocket on ${broker.wsUrl}${wsPort && broker.wsPort !== wsPort ? ` (${wsPort} was taken)` : ""}`);
  const closers: (() => Promise<void>)[] = [() => broker.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((e) => log(`while stopping: ${(e as Error).message}`));
  };
  try {
    const dash = await startDashboard({
      broker: { url: broker.url, username: null, password: null, ca: null },
      root: DEMO_ROOT,
      dataDir,
      port,
      fallbackPort: true,
      retentionDays: 7,
      // the keys the fleet writes below are picked up on the boards' first messages
      keyring,
      log: (m) => process.stderr.write(m + "\n"),
    });
    closers.push(() => dash.close());
    const fleet = await startFleet({
      broker: broker.url, root: DEMO_ROOT, devices, interval, model: "dht22", pin: 4, seed: String(args.values.seed),
      dataDir, firmwareFile, keys: true, keyring: keyringFile, log: (m) => log(m),
    });
    closers.push(() => fleet.stop());
    process.stdout.write(`\n  Dashboard: ${dash.url}\n\n`);
    log(`${devices} virtual board${devices > 1 ? "s" : ""} (${fleet.ids.join(", ")}) reading every ${interval} s under ${DEMO_ROOT}; history in ${dataDir}`);
    log(`each board signs with its own key (the demo's keyring: ${keyringFile}); the dashboard verifies them`);
    log(`watch from another terminal: espdht watch --broker ${broker.url} --topic-root ${DEMO_ROOT} --keyring ${keyringFile} (or over WebSocket: --broker ${broker.wsUrl})`);
    log("Ctrl-C to stop");

    const startedAt = Date.now();
    const tty = process.stderr.isTTY;
    const summary = () => {
      const views = dash.ingest.fleet.list();
      const stored = views.reduce((n, v) => n + v.readings, 0);
      const text = `${statusText(fleet, startedAt)} | dashboard: ${views.filter((v) => v.online).length}/${views.length} online, ${stored} readings`;
      process.stderr.write(tty ? `\r\x1b[2K${text}` : text + "\n");
    };
    const timer = setInterval(summary, tty ? 1000 : 15_000);

    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        // a second Ctrl-C while stopping exits at once
        process.once("SIGINT", () => process.exit(130));
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    clearInterval(timer);
    if (tty) process.stderr.write("\n");
    log("stopping: boards off (their wills publish 'offline'), dashboard, broker");
  } finally {
    await closeAll();
  }
  return 0;
}
