// `espdht watch`: a live terminal table of the devices under the topic root, `--json` lines of readings,
// or `--once` for the current state.
import { MqttIngest } from "../../host/ingest/ingest";
import { throwawayClientId } from "../../host/ingest/dashboardClientId";
import { HostHealthBoard, HostHealthMessage } from "../../host/ingest/hostHealth";
import { displayUrl, protocolOf } from "../../host/mqtt/connectBroker";
import { LiveTable } from "../../host/terminal/liveTable";
import { floodLine } from "../../host/terminal/floodLine";
import { devicesInGroup, renderWatchTable, WATCH_HEADER } from "../../host/terminal/watchTable";
import { groupListProblem } from "../../provisioning/deviceConfig";
import { DeviceTrust } from "../../host/trust/deviceTrust";
import { CommandSpec, numberOption, parseCommandArgs, UsageError } from "../args";
import { HOST_OPTIONS, resolveHostOptions } from "../hostOptions";

const spec: CommandSpec = {
  name: "watch",
  usage: "watch [--json | --once] [options]",
  summary: `Watch your devices live: one row per device, redrawn in place, with the columns ${WATCH_HEADER.join(", ")}
(TRUST verified/unsigned; GROUPS its named groups; OUTPUT its thermostat output, "on (rule)" or "off (failsafe)"; LINKS "to A,B" the devices it sends its
readings to and "from C" those it accepts readings from; DUP ID two boards seem to share the id).\nDevices whose key is in the keyring must sign: their unsigned, forged, replayed or future-dated messages are rejected (counted under REJECTED).`,
  options: {
    ...HOST_OPTIONS,
    json: { type: "boolean", help: "print one JSON line per accepted reading (the reading plus 'trust': verified|unsigned, 'received', Unix ms, and 'duplicateId' when two boards seem to share the id) and per output change ({output: {on, why, pin, since, ts, ...} or null when cleared, id, trust, received}) on stdout; rejected messages are logged on stderr" },
    once: { type: "boolean", help: "print the current state and exit (with --json: a JSON array of devices)" },
    wait: { type: "string", value: "SECONDS", help: "with --once: how long to wait for retained status/info and readings", default: "3" },
    group: { type: "string", value: "NAME", help: "only the devices whose info lists this named group (rows, --json readings, --once)" },
  },
  epilog: "Examples:\n  espdht watch\n  espdht watch --json | jq .temperature\n  espdht watch --once --wait 15\n  espdht watch --group kitchen",
};

const REDRAW_MS = 250;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv);
  if (!args) return 0;
  const waitS = numberOption(args.values, "wait", 0, 3600)!;
  const group = args.values.group === undefined ? null : String(args.values.group);
  const groupProblem = group === null ? null : groupListProblem([group]);
  if (groupProblem) throw new UsageError(`--group: ${groupProblem}`);
  // the rows shown: every device, or the group's members
  const shown = () => devicesInGroup(ingest.fleet.list(), group);
  const host = resolveHostOptions(args.values);
  const log = (m: string) => process.stderr.write(m + "\n");
  log(`espdht watch: connecting to ${displayUrl(host.broker.url)}`);
  const trust = new DeviceTrust(host.keyring, {
    onError: (m) => log(`espdht watch: ${m}`),
    onBind: (id, fp) => log(`espdht watch: key ${fp} from the keyring's pending keys now belongs to ${id}`),
  });
  // dashboards' store health (retained on R/<host id>/health): lines under the table, or on stderr when it changes
  const hostHealth = new HostHealthBoard();
  let table: LiveTable | null = null;
  const onHostHealth = (m: HostHealthMessage) => {
    const line = hostHealth.offer(m, Date.now());
    if (line && !table && !args.values.once) log(`espdht watch: ${line}`);
  };
  let ingest: MqttIngest;
  try {
    ingest = await MqttIngest.start({ broker: host.broker, root: host.root, clientId: throwawayClientId("watch"), clean: true, trust, log, onHostHealth });
  } catch (e) {
    // SUBACK 0x87 (MQTT 5) / 0x80 (3.1.1): the broker's ACL does not let this user read the root
    const code = (e as { code?: unknown }).code;
    if (code !== 135 && code !== 128) throw e;
    log(`espdht watch: the broker refused the subscription to ${host.root}/+/... (${(e as Error).message}): ${host.broker.username !== null ? `user '${host.broker.username}'` : "an anonymous client"} may not read there; check the broker's ACL (docs/mosquitto.md)`);
    return 1;
  }
  const version = protocolOf(ingest.client);
  log(`espdht watch: subscribed to ${host.root}/+/{status,info,reading,reply,output} over MQTT ${version === 5 ? "5" : "3.1.1"}${args.values.once ? "" : " (Ctrl-C to stop)"}`);

  if (args.values.once) {
    // done early once every device seen has a status and a reading (after a short settle for retained messages)
    const deadline = Date.now() + waitS * 1000;
    const settled = Date.now() + Math.min(1000, waitS * 1000);
    while (Date.now() < deadline) {
      const list = shown();
      if (Date.now() >= settled && list.length > 0 && list.every((d) => d.online !== null && d.lastReading !== null)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const list = shown();
    if (args.values.json) process.stdout.write(JSON.stringify(list) + "\n");
    else process.stdout.write(renderWatchTable(list, Date.now(), !!process.stdout.isTTY && !process.env.NO_COLOR).join("\n") + "\n");
    await ingest.close();
    if (list.length === 0) {
      // Mosquitto grants a subscription its ACL denies and then delivers nothing: the only sign is this silence
      const acl = host.broker.username !== null ? ` (with an ACL on the broker, check that user '${host.broker.username}' may read ${host.root}/#)` : "";
      log(`espdht watch: no device${group === null ? "" : ` in group '${group}'`} seen under ${host.root} within ${waitS} s${acl}`);
      return 1;
    }
    return 0;
  }

  let snapshots: NodeJS.Timeout | null = null;
  if (args.values.json) {
    ingest.on((e) => {
      // a device suspected of sharing its id with another board says so on each of its readings
      const dup = e.kind === "reading" && e.device.duplicateId ? { duplicateId: e.device.duplicateId } : {};
      if (e.kind === "reading" && devicesInGroup([e.device], group).length) process.stdout.write(JSON.stringify({ ...e.reading, trust: e.trust, received: e.receivedAt, ...dup }) + "\n");
      else if (e.kind === "output" && devicesInGroup([e.device], group).length) process.stdout.write(JSON.stringify({ output: e.output, id: e.device.id, trust: e.trust, received: e.receivedAt }) + "\n");
      else if (e.kind === "rejected") log(`espdht watch: rejected ${e.topic}: ${e.reason}`);
    });
  } else if (process.stdout.isTTY) {
    table = new LiveTable(process.stdout, () => {
      const list = shown();
      const lines = renderWatchTable(list, Date.now(), !process.env.NO_COLOR);
      if (list.length === 0) lines.push(`(waiting for devices under ${host.root}${group === null ? "" : ` in group '${group}'`})`);
      lines.push(floodLine(ingest.fleet.flood()));
      lines.push(...hostHealth.lines(Date.now()));
      return lines;
    });
    table.start(REDRAW_MS);
  } else {
    // not a terminal: a plain snapshot every few seconds instead of cursor movement
    snapshots = setInterval(() => process.stdout.write([...renderWatchTable(shown(), Date.now(), false), floodLine(ingest.fleet.flood())].join("\n") + "\n\n"), 5000);
  }
  // health lines held back by their rate limits are told when those allow
  const healthReports = setInterval(() => {
    if (!table) for (const line of hostHealth.flush(Date.now())) log(`espdht watch: ${line}`);
  }, 1000);
  ingest.on((e) => { if (e.kind === "connection") log(`espdht watch: ${e.connected ? "connected" : "connection lost, retrying"}`); });

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  table?.stop();
  if (snapshots) clearInterval(snapshots);
  clearInterval(healthReports);
  await ingest.close();
  log("espdht watch: stopped");
  return 0;
}
