// `espdht sim`: virtual ESP32 boards running the exact dist/firmware.js, with a virtual DHT, faults and fleets.
import fs from "node:fs";
import path from "node:path";
import { CommandSpec, groupsOption, numberOption, parseCommandArgs, UsageError } from "../args";
import { ensureFirmwareBuilt } from "../firmwareArtifact";
import { configPath, defaultDataDir, loadOrCreateUserConfig } from "../userConfig";
import { SENSOR_MODELS, SensorModel, validateTopicRoot, isUsableDhtPin } from "../../firmware/contract";
import { brokerUrlProblem } from "../../provisioning/brokerUrl";
import { DeviceConfigError } from "../../provisioning/deviceConfig";
import { KeyringError, keyringPathFor, readKeyringFile } from "../../provisioning/keyring";
import { startFleet, FleetError } from "../../sim/fleet/fleet";
import { startStatusLine } from "../../sim/fleet/statusLine";
import { FaultEvent, FAULT_HELP, FAULT_NAMES } from "../../sim/faults/faults";
import { readScenario, ScenarioError, validateEvent } from "../../sim/faults/scenario";
import { readCsvSeries, CsvError } from "../../sim/dht/csvReplay";
import { startSerialConsole, SerialConsole } from "../../sim/console/serialConsole";
import { displayUrl } from "../../host/mqtt/connectBroker";
import { DeviceLoginsError, deviceLoginsPathFor, ensureDeviceLogins } from "../../provisioning/deviceLogins";
import { simDeviceId } from "../../sim/fleet/deviceId";
import { LinkFlagError, parseLinkFlag } from "../../sim/fleet/fleetLinks";
import { parseRuleFlags, RuleFlagError, ruleFor } from "../../sim/fleet/fleetRules";
import { passwordFrom, warnSecretsOnArgv } from "../hostOptions";

const MAX_CONSOLES = 16;

const spec: CommandSpec = {
  name: "sim",
  usage: "sim [options]",
  summary: "Run virtual Espruino ESP32 boards that execute dist/firmware.js (the file you flash), each with a virtual DHT22/DHT11, Wi-Fi, Storage and MQTT over TCP or TLS. Defaults come from your config ('espdht init').",
  options: {
    broker: { type: "string", value: "URL", help: "the boards' broker, mqtt://host:1883 or mqtts://host:8883 (default: your config; give this when your config's is ws:// or wss://)" },
    "topic-root": { type: "string", value: "ROOT", help: "topic root (default: your config)" },
    username: { type: "string", value: "NAME", help: "broker username every board logs in with (default: your config)" },
    password: { type: "string", value: "SECRET", help: "broker password (visible in 'ps': prefer --password-file or ESPDHT_BROKER_PASSWORD)" },
    "password-file": { type: "string", value: "FILE", help: "read the boards' broker password from FILE (first line)" },
    "device-logins": { type: "boolean", help: "each board logs in as its device id with its own password from device-logins.json (made when missing; default: your config's deviceLogins); then run 'espdht broker-users'" },
    devices: { type: "string", short: "n", value: "N", help: "number of boards in this process", default: "1" },
    interval: { type: "string", value: "SECONDS", help: "seconds between readings, at least 2 (default: your config); a board's own 'set interval' (saved in its Storage) wins until --fresh" },
    model: { type: "string", value: "dht22|dht11", help: "sensor model (default: your config)" },
    pin: { type: "string", value: "GPIO", help: "DHT data pin (default: your config)" },
    groups: { type: "string", value: "NAME,NAME", help: "named groups every board of this process is in (up to 4; 'espdht send group:NAME ...' reaches them; default: your config's); a board's own 'set groups' (saved in its Storage) wins until --fresh" },
    link: { type: "string", value: "FROM:TO[,...]", help: "device-to-device links by board index: board FROM sends each reading also to <root>/FROM-id/to/TO-id, which only board TO accepts (as 'espdht link' would set up; kept in their Storage), e.g. --link 0:1" },
    rule: { type: "string", value: "BOARD:RULE", multiple: true, help: "a thermostat on board BOARD: RULE is QUANTITY>ON<OFF (on above ON, off below OFF) or QUANTITY<ON>OFF, then :pin=GPIO and optionally :minOn=S :minOff=S :safe=on|off; QUANTITY@N follows board N's readings (with --link N:BOARD; QUANTITY@ID a device id, warned about when no link to BOARD is kept), e.g. --rule \"1:temperature>24<23:pin=5\" (repeatable, one per board)" },
    "room-cycle": { type: "string", value: "SECONDS[:C]", help: "each room warms and cools by C degrees (default 2) around its mean over SECONDS, so thermostats switch, e.g. 120:2" },
    seed: { type: "string", value: "SEED", help: "seed for ids, sensor values, jitter and faults (default: from your topic root, so ids stay the same)" },
    config: { type: "string", value: "FILE", help: "device config JSON (DeviceConfig shape) written to each board's Storage instead of the one made from the options" },
    data: { type: "string", value: "DIR", help: "folder for each board's Storage file (default: your data folder)" },
    fresh: { type: "boolean", help: "erase each board's Storage first (boot counter, saved settings, uploaded code); its key is kept" },
    keyring: { type: "string", value: "FILE", help: "keyring that gets each board's key (default: keys.json next to your config)" },
    "no-keys": { type: "boolean", help: "unsigned boards, as before keys, to compare (the keyring is only read)" },
    insecure: { type: "boolean", help: "accept a self-signed broker certificate (mqtts://)" },
    scenario: { type: "string", value: "FILE", help: 'faults over time: [{"at": 30, "fault": "wifi-drop", "seconds": 20}, ...]' },
    "checksum-rate": { type: "string", value: "RATE", help: "share of DHT answers with a corrupted bit (0..1)" },
    "timeout-rate": { type: "string", value: "RATE", help: "share of DHT start pulses left unanswered (0..1)" },
    stuck: { type: "boolean", help: "the DHT's values freeze" },
    "wifi-drop": { type: "string", value: "AT:SECONDS", help: "the access point vanishes AT seconds after start for SECONDS (repeatable)", multiple: true },
    "broker-unreachable": { type: "boolean", help: "the broker never answers the boards" },
    "broker-outage": { type: "string", value: "START:SECONDS[xSPEED]", help: "the broker is away from START (real seconds after start) for SECONDS of the boards' time, which runs SPEED times faster meanwhile (1..10000, default 1); readings spill to flash and arrive afterwards, e.g. 30:86400x2000 is a day offline in 43 s (repeatable)", multiple: true },
    "duplicate-id": { type: "boolean", help: "every board uses board 0's id (needs --devices 2 or more): they take the session from each other until each backs off; watch and the dashboard flag the id" },
    "no-sntp": { type: "boolean", help: "the clock never syncs (ts stays null)" },
    csv: { type: "string", value: "FILE", help: "replay time,temperature,humidity rows (seconds from start; looped) instead of the room model" },
    "base-temperature": { type: "string", value: "C", help: "mean room temperature of the model", default: "21" },
    "base-humidity": { type: "string", value: "%", help: "mean relative humidity of the model", default: "48" },
    "dht11-decimals": { type: "boolean", help: "DHT11 parts that send tenths (newer ones)" },
    console: { type: "string", value: "PORT", help: `serial console of board i on 127.0.0.1:PORT+i (up to ${MAX_CONSOLES} boards; 0 = free ports), e.g. for 'espdht flash --port tcp://127.0.0.1:PORT'. Loopback only; a connection that opens like HTTP is dropped unread (no web page can post code to it); its output starts after your first line; code typed there cannot reach Node, but it can read the board's Storage, as on a real board (its config holds the Wi-Fi and broker passwords)` },
    verbose: { type: "boolean", short: "v", help: "print what the boards print on their consoles" },
    json: { type: "boolean", help: "machine output on stdout: the boards at start, then one status object every 5 s" },
  },
  epilog: [
    "Faults (flags or --scenario):",
    ...FAULT_NAMES.map((f) => `  ${f.padEnd(20)} ${FAULT_HELP[f]}`),
    "",
    "Wi-Fi: the boards join a virtual access point ('espdht-sim', open): your real Wi-Fi password never goes",
    "into their Storage. Their Storage files are mode 0600 (they hold the broker login and the board's key).",
    "",
    "Keys: each board signs its readings with its own key, made at its first run and kept beside its",
    "Storage file in the data folder; --duplicate-id clones share board 0's key. Every key is written to",
    "the keyring, so 'espdht watch', 'dashboard' and 'send' verify the boards with no extra step.",
    "",
    "Saved settings: 'espdht send BOARD set ...' saves ALL the board's settings (interval, tempOffset, humOffset,",
    "tempDelta, humDelta, heartbeat, groups, rule) in its Storage, and they win over --interval, --groups and the",
    "config at every later start, as on a real board after a re-flash; sim names each one that overrides an option.",
    "--fresh erases them (and the boot counter, links and uploaded code; the key is kept).",
    "",
    "Time runs at real speed: the firmware talks to a real broker with real keepalives and timeouts, so",
    "speeding up the boards' clocks alone would not be honest. The one exception is --broker-outage with a",
    "SPEED: while the broker is away nothing on the wire can tell, so the boards' clocks, timers and sensors",
    "run faster, and real time resumes when they connect again. Ctrl-C powers the boards off (their wills fire).",
    "",
    "Examples:",
    "  espdht sim                                   one board, your broker and topic root",
    "  espdht sim --broker mqtt://127.0.0.1:1883 --devices 50 --interval 2",
    "  espdht sim --timeout-rate 0.2 --wifi-drop 30:20",
    "  espdht sim --broker-outage 20:86400x2000   a day offline from 20 s in (43 s), then the backlog",
    "  espdht sim --console 4000     then: espdht flash --port tcp://127.0.0.1:4000",
    '  espdht sim --devices 2 --link 0:1 --rule "1:temperature@0>24<23:pin=5" --room-cycle 120:2',
    "                                board 1's fan (GPIO 5) follows board 0's room, which warms and cools by 2 °C every 2 minutes",
    "  espdht sim --devices 2 --groups kitchen,floor1   then: espdht send group:kitchen read",
  ].join("\n"),
};

function rate(values: Record<string, unknown>, name: string): number | undefined {
  return numberOption(values as never, name, 0, 1);
}

function faultsFromFlags(v: Record<string, unknown>, devices: number): FaultEvent[] {
  const out: FaultEvent[] = [];
  const checksum = rate(v, "checksum-rate");
  if (checksum) out.push({ at: 0, fault: "dht-checksum", rate: checksum });
  const timeout = rate(v, "timeout-rate");
  if (timeout) out.push({ at: 0, fault: "dht-timeout", rate: timeout });
  if (v.stuck) out.push({ at: 0, fault: "dht-stuck" });
  if (v["broker-unreachable"]) out.push({ at: 0, fault: "broker-unreachable" });
  if (v["no-sntp"]) out.push({ at: 0, fault: "no-sntp" });
  if (v["duplicate-id"]) {
    if (devices < 2) throw new UsageError("--duplicate-id needs --devices 2 or more");
    out.push({ at: 0, fault: "duplicate-id" });
  }
  for (const d of (v["broker-outage"] as string[] | undefined) ?? []) {
    const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)(?:x(\d+(?:\.\d+)?))?$/.exec(d);
    if (!m || Number(m[2]) <= 0) throw new UsageError(`--broker-outage: '${d}' must be START:SECONDS or START:SECONDSxSPEED, e.g. 30:21600x1000`);
    out.push(validateEvent({ at: Number(m[1]), fault: "broker-outage", seconds: Number(m[2]), speed: m[3] === undefined ? 1 : Number(m[3]) }, "--broker-outage", devices));
  }
  for (const d of (v["wifi-drop"] as string[] | undefined) ?? []) {
    const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(d);
    if (!m || Number(m[2]) <= 0) throw new UsageError(`--wifi-drop: '${d}' must be AT:SECONDS, e.g. 30:20`);
    out.push(validateEvent({ at: Number(m[1]), fault: "wifi-drop", seconds: Number(m[2]) }, "--wifi-drop", devices));
  }
  return out;
}

function readDeviceConfig(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`--config ${file}: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError(`--config ${file}: must be a JSON object (DeviceConfig shape)`);
  return parsed as Record<string, unknown>;
}

/** Unsigned boards whose ids have keys in the keyring look forged to the host: say so. */
function noKeysNote(ids: string[], keyring: string, log: (line: string) => void): void {
  let keyed = 0;
  try {
    const devices = readKeyringFile(keyring).devices;
    keyed = ids.filter((id) => devices[id]).length;
  } catch (e) {
    if (!(e instanceof KeyringError)) throw e;
  }
  if (keyed) log(`  unsigned boards: ${keyed} of these ids have a key in ${keyring}, so host programs reject their readings as 'unsigned' (a forger looks like this); another --seed gives ids the host accepts as unsigned`);
  else log("  unsigned boards: host programs show them as 'unsigned'");
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(spec, argv);
  if (!args) return 0;
  const v = args.values;
  const user = loadOrCreateUserConfig();
  const devices = numberOption(v, "devices", 1, 100_000, true)!;
  const interval = numberOption(v, "interval", 2, 86400) ?? user.interval;
  const model = (v.model as string | undefined) ?? user.model;
  if (SENSOR_MODELS.indexOf(model as SensorModel) < 0) throw new UsageError(`--model: '${model}' must be dht22 or dht11`);
  const pin = numberOption(v, "pin", 0, 39, true) ?? user.pin;
  if (!isUsableDhtPin(pin)) throw new UsageError(`--pin: GPIO ${pin} cannot carry DHT data on an ESP32 (avoid 6-11 and 34-39)`);
  if (v.groups !== undefined && v.config) throw new UsageError("--groups: not with --config (put 'groups' in that file)");
  const groups = v.groups === undefined ? user.groups : groupsOption(v.groups as string);
  // the groups written to the boards' config (a --config file brings its own); a board's saved `set groups` wins
  const configGroups = v.config ? {} : { groups: groups ?? [] };
  let links;
  try {
    links = v.link === undefined ? undefined : parseLinkFlag(v.link as string, devices);
  } catch (e) {
    if (e instanceof LinkFlagError) throw new UsageError(e.message);
    throw e;
  }
  let rules;
  try {
    rules = parseRuleFlags((v.rule as string[] | undefined) ?? [], devices, pin);
  } catch (e) {
    if (e instanceof RuleFlagError) throw new UsageError(e.message);
    throw e;
  }
  for (const r of rules) {
    if (r.peer !== null && !(links ?? []).some((l) => l.from === r.peer && l.to === r.board)) throw new UsageError(`--rule '${r.board}:${r.rule.replace(`@board-${r.peer}`, `@${r.peer}`)}': board ${r.board} follows board ${r.peer}, so it needs --link ${r.peer}:${r.board}`);
  }
  const cycleFlag = v["room-cycle"] as string | undefined;
  const cycle = cycleFlag === undefined ? null : /^(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/.exec(cycleFlag);
  if (cycle === null && cycleFlag !== undefined) throw new UsageError(`--room-cycle: '${cycleFlag}' must be SECONDS or SECONDS:DEGREES, e.g. 120:2`);
  if (cycle && !(Number(cycle[1]) >= 10 && Number(cycle[2] ?? 2) <= 20)) throw new UsageError(`--room-cycle: '${cycleFlag}': at least 10 seconds, at most 20 degrees`);
  if (links && v["no-keys"]) throw new UsageError("--link: links are signed, so the boards need keys (not with --no-keys)");
  const root = (v["topic-root"] as string | undefined) ?? user.root;
  const rootErr = validateTopicRoot(root);
  if (rootErr) throw new UsageError(`--topic-root: ${rootErr}`);
  const broker = (v.broker as string | undefined) ?? user.broker;
  const brokerErr = brokerUrlProblem(broker, "board");
  if (brokerErr) throw new UsageError(v.broker === undefined ? `${configPath()}: broker: ${brokerErr}` : `--broker: ${brokerErr}`);
  let faults: FaultEvent[];
  let series;
  try {
    faults = faultsFromFlags(v, devices).concat(v.scenario ? readScenario(v.scenario as string, devices) : []);
    series = v.csv ? readCsvSeries(v.csv as string) : undefined;
  } catch (e) {
    if (e instanceof ScenarioError || e instanceof CsvError) throw new UsageError(e.message);
    throw e;
  }
  warnSecretsOnArgv(v, "sim");
  const password = passwordFrom(v, user.password);
  const username = (v.username as string | undefined) ?? user.username;
  const seed = (v.seed as string | undefined) ?? root;
  let deviceLogins: Record<string, string> | null = null;
  const loginsFile = deviceLoginsPathFor(configPath());
  if (v["device-logins"] || user.deviceLogins) {
    try {
      deviceLogins = ensureDeviceLogins(loginsFile, Array.from({ length: devices }, (_, i) => simDeviceId(seed, i)));
    } catch (e) {
      if (e instanceof DeviceLoginsError) throw new UsageError(`device logins: ${e.message}`);
      throw e;
    }
  }
  const consolePort = numberOption(v, "console", 0, 65535, true);
  if (consolePort !== undefined && devices > MAX_CONSOLES) throw new UsageError(`--console: at most ${MAX_CONSOLES} boards can expose a console (got --devices ${devices})`);
  const json = !!v.json;
  const log = (line: string) => process.stderr.write(line + "\n");
  const keys = !v["no-keys"];
  const keyring = path.resolve((v.keyring as string | undefined) ?? keyringPathFor(configPath()));

  const firmwareFile = (await ensureFirmwareBuilt((m) => log(`espdht sim: ${m}`))).file;
  let status: ReturnType<typeof startStatusLine> | null = null;
  let fleet;
  try {
    fleet = await startFleet({
      broker, root, devices, interval, model: model as SensorModel, pin,
      seed,
      dataDir: (v.data as string | undefined) ?? defaultDataDir(),
      freshStorage: !!v.fresh,
      firmwareFile,
      deviceConfig: v.config ? readDeviceConfig(v.config as string) : undefined,
      // never the user's real Wi-Fi: the fleet's virtual access point (VIRTUAL_WIFI)
      username, password, deviceLogins, homeAssistant: user.homeAssistant, groups,
      insecure: !!v.insecure,
      keys,
      links,
      rules,
      keyring,
      faults,
      dht11Decimals: !!v["dht11-decimals"],
      environment: {
        baseTemperature: numberOption(v, "base-temperature", -40, 80)!, baseHumidity: numberOption(v, "base-humidity", 0, 100)!,
        ...(cycle ? { cycleSeconds: Number(cycle[1]), cycleAmplitude: Number(cycle[2] ?? 2) } : {}),
      },
      series,
      log: (l) => status ? status.log(l) : log(l),
    });
  } catch (e) {
    if (e instanceof FleetError || e instanceof DeviceConfigError) throw new UsageError(e.message);
    throw e;
  }
  const consoles: SerialConsole[] = [];
  if (consolePort !== undefined) {
    for (let i = 0; i < fleet.boards.length; i++) {
      try {
        consoles.push(await startSerialConsole(fleet.boards[i], consolePort === 0 ? 0 : consolePort + i));
      } catch (e) {
        await fleet.stop();
        for (const c of consoles) await c.close();
        throw new UsageError(`--console: cannot listen on 127.0.0.1:${consolePort + i} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
  }
  log(`espdht sim: ${devices} board${devices > 1 ? "s" : ""} -> ${displayUrl(broker)}, topic root ${fleet.root}, firmware ${path.relative(process.cwd(), firmwareFile)}`);
  for (let i = 0; i < Math.min(devices, 10); i++) {
    const key = (fleet.fingerprints[i] ? `  key ${fleet.fingerprints[i]}` : "  unsigned") + (!v.config && groups && groups.length ? `  groups ${groups.join(",")}` : "");
    log(`  board ${i}: ${fleet.ids[i]}${key}${consoles[i] ? `  serial console tcp://127.0.0.1:${consoles[i].port}` : ""}`);
  }
  if (devices > 10) log(`  ... and ${devices - 10} more`);
  for (const l of links ?? []) log(`  link: board ${l.from} -> board ${l.to} (${fleet.root}/${fleet.ids[l.from]}/to/${fleet.ids[l.to]})`);
  for (const r of rules) log(`  rule: board ${r.board} -> ${ruleFor(r, fleet.ids)} (its output on ${fleet.root}/${fleet.ids[r.board]}/output)`);
  if (deviceLogins) log(`  broker logins: each board logs in as its device id, passwords in ${loginsFile} (mode 600); 'espdht broker-users' writes them for Mosquitto`);
  if (fleet.fingerprints.some((f) => f)) log(`  keys: ${keys ? `each board's key is in ${keyring}` : "from --config"}`);
  else noKeysNote(fleet.ids, keyring, log);
  if (v.verbose) fleet.boards.forEach((b, i) => b.on("console", (t) => (status ? status.log(`[${fleet.ids[i]}] ${t.trimEnd()}`) : log(t.trimEnd()))));
  if (json) {
    process.stdout.write(JSON.stringify({ event: "start", root: fleet.root, broker: displayUrl(broker), boards: fleet.ids.map((id, i) => ({ index: i, id, keyFingerprint: fleet.fingerprints[i], console: consoles[i]?.port ?? null, ...configGroups })) }) + "\n");
  }
  status = startStatusLine(fleet);
  // each output pin's change, as the relay on it would see it
  fleet.boards.forEach((b, i) => b.on("output", (pin, level) => {
    if (json) process.stdout.write(JSON.stringify({ event: "output", at: Date.now(), board: i, id: fleet.ids[i], pin, on: level === 1 }) + "\n");
    else status?.log(`espdht sim: board ${i} (${fleet.ids[i]}): output GPIO ${pin} ${level ? "ON" : "off"}`);
  }));
  const jsonTimer = json ? setInterval(() => process.stdout.write(JSON.stringify({ event: "status", at: Date.now(), ...fleet.stats() }) + "\n"), 5000) : null;

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async () => {
      if (stopping) process.exit(130);
      stopping = true;
      if (jsonTimer) clearInterval(jsonTimer);
      status?.stop();
      log("espdht sim: powering the boards off (their wills publish 'offline')");
      await fleet.stop();
      for (const c of consoles) await c.close();
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(0);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
