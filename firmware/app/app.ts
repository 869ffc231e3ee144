// The device program: sensing loop -> reading buffer -> MQTT, plus commands, info and discovery.
// Everything comes through the HAL and an injected MQTT client factory, so it runs under test in Node.
import { DeviceConfig, SETTINGS_FILE } from "../contract/deviceConfig";
import {
  buildFailedReading, buildReading, COMMAND_OPS, Info, ReadError, Reply, Settings, STATUS_OFFLINE, STATUS_ONLINE,
} from "../contract/payloads";
import { deviceIdFromMac, deviceTopic, DeviceTopicKind, groupCommandTopic } from "../contract/topics";
import { FIRMWARE_VERSION, PAYLOAD_VERSION } from "../contract/version";
import { createDhtReader } from "../dht/dhtReader";
import type { Hal, SocketTarget, TimerHandle } from "../hal/hal";
import type { DeviceMqttClient, MqttClientEvents, MqttClientOptions } from "../mqtt/types";
import { utf8Decode } from "../mqtt/utf8";
import { handleCommand } from "./commands";
import { discoveryPayload, discoveryTopic } from "./homeAssistant";
import { BufferedReading, createReadingBuffer } from "./readingBuffer";
import { LastReport, shouldReport } from "./reportFilter";
import { countBoot, loadConfig, settingsOf } from "./storedConfig";
import { keepWifiUp } from "./wifiLink";

export type MqttClientFactory = (target: SocketTarget, options: MqttClientOptions, events: MqttClientEvents) => DeviceMqttClient;

/** Storage file remembering the last `restart` command, so a redelivered one cannot restart the board again. */
export const RESTART_FILE = "espdht.rst";
/** DHT attempts per reading cycle. */
export const READ_ATTEMPTS = 3;

export interface RunningApp {
  id: string;
  boot: number;
  config: DeviceConfig;
  configError: string | null;
  client: DeviceMqttClient;
}

/** A simulated board's serial is already a device id (`sim-...`); a real one is the eFuse MAC. */
export function deviceIdFor(serial: string): string {
  return serial.indexOf("sim-") === 0 ? serial : deviceIdFromMac("esp32", serial);
}

export function startApp(hal: Hal, createClient: MqttClientFactory): RunningApp {
  const clock = hal.clock;
  const board = hal.board;
  const loaded = loadConfig(hal.storage);
  const config = loaded.config;
  const boot = countBoot(hal.storage);
  board.setTelnet(config.telnet);
  if (loaded.error) board.log("config: " + loaded.error);
  const id = deviceIdFor(board.serial());
  const topic = (kind: DeviceTopicKind) => deviceTopic(config.root, id, kind);
  const buffer = createReadingBuffer(config.bufferSize);
  const reader = createDhtReader(hal.dhtPin(config.pin), clock, config.model, READ_ATTEMPTS);
  let last: LastReport | null = null;
  let loop: TimerHandle | null = null;
  let started = false;

  const client = createClient(
    { host: config.broker.host, port: config.broker.port, tls: config.broker.tls },
    {
      clientId: id, clean: false, keepalive: config.keepalive, username: config.broker.username, password: config.broker.password,
      will: { topic: topic("status"), payload: STATUS_OFFLINE, qos: 1, retain: true },
    },
    {
      onConnect() {
        client.publish(topic("status"), STATUS_ONLINE, 1, true);
        publishInfo();
        if (config.homeAssistant) {
          client.publish(discoveryTopic(id, "temperature"), discoveryPayload(id, config, "temperature", "\u00b0C", topic), 1, true);
          client.publish(discoveryTopic(id, "humidity"), discoveryPayload(id, config, "humidity", "%", topic), 1, true);
        }
        flush();
      },
      onPublished: () => flush(),
      onMessage(msg) {
        if (msg.topic === topic("cmd") || msg.topic === groupCommandTopic(config.root)) {
          handleCommand(utf8Decode(msg.payload), commandTarget, sendReply);
        }
      },
      onClose: (reason) => board.log("mqtt: " + reason),
      onError: (message) => board.log("mqtt: " + message),
    },
  );

  const publishInfo = () => {
    const info: Info = {
      v: PAYLOAD_VERSION, id, fw: FIRMWARE_VERSION, model: config.model, pin: config.pin, interval: config.interval,
      ip: hal.wifi.ip(), boot, root: config.root, caps: COMMAND_OPS, dropped: buffer.dropped(), configError: loaded.error,
    };
    const mem = board.memory();
    if (mem) info.mem = mem;
    client.publish(topic("info"), JSON.stringify(info), 1, true);
  };

  const sendReply = (reply: Reply) => { client.publish(topic("reply"), JSON.stringify(reply), 1, false); };

  const payloadOf = (r: BufferedReading) => {
    const base = { v: PAYLOAD_VERSION, id, boot, seq: r.seq, up: r.up, ts: r.ts };
    return r.error ? buildFailedReading(base, r.error) : buildReading(base, r.temperature as number, r.humidity as number);
  };

  /** Hands buffered readings to the client, oldest first, while it has in-flight room (it retransmits those). */
  const flush = () => {
    while (client.connected && client.inflightRoom() > 0) {
      const r = buffer.shift(Math.round(clock.now()));
      if (!r) return;
      client.publish(topic("reading"), JSON.stringify(payloadOf(r)), 1, false);
    }
  };

  /** Callers waiting for the running cycle's reading (null: no cycle running); `forcedCycle`: publish it whatever the filter says. */
  let waiting: ((reading: object) => void)[] | null = null;
  let forcedCycle = false;

  /** One sensing cycle. A tick while a cycle runs (slow retries) is skipped; a `read` command joins it. */
  const sense = (forced: boolean, done?: (reading: object) => void) => {
    if (forced) forcedCycle = true;
    if (waiting) {
      if (done) waiting.push(done);
      return;
    }
    waiting = done ? [done] : [];
    forcedCycle = forced;
    reader.read((res) => {
      const callers = waiting as ((reading: object) => void)[];
      waiting = null;
      const now = clock.now();
      const up = Math.round(now);
      const error: ReadError | null = res.ok ? null : res.error;
      const t = res.ok ? Math.round((res.temperature + config.tempOffset) * 100) / 100 : 0;
      const h = res.ok ? Math.round((res.humidity + config.humOffset) * 100) / 100 : 0;
      if (!forcedCycle && !shouldReport(config, last, now, t, h, error)) return;
      last = { t, h, error, at: now };
      const ts = hal.wallClock.unixMs();
      const seq = buffer.push(up, ts, t, h, error);
      const reading = payloadOf(error ? { seq, up, ts, error } : { seq, up, ts, temperature: t, humidity: h });
      for (let i = 0; i < callers.length; i++) callers[i](reading);
      flush();
    });
  };

  const schedule = () => {
    if (loop !== null) clock.clearTimeout(loop);
    loop = clock.setTimeout(() => {
      loop = null;
      schedule();
      sense(false);
    }, config.interval * 1000);
  };

  const commandTarget = {
    readNow: (done: (reading: object) => void) => sense(true, done),
    applySettings(set: Partial<Settings>): Settings {
      for (const key in set) config[key as keyof Settings] = set[key as keyof Settings] as number;
      const settings = settingsOf(config);
      hal.storage.writeJSON(SETTINGS_FILE, settings);
      schedule();
      publishInfo();
      return settings;
    },
    effectiveConfig() {
      const out: { [k: string]: unknown } = {};
      for (const key in config) if (key !== "wifi" && key !== "broker") out[key] = config[key as keyof DeviceConfig];
      out.broker = { host: config.broker.host, port: config.broker.port, tls: config.broker.tls };
      out.wifi = config.wifi ? config.wifi.ssid : null;
      return out;
    },
    up: () => Math.round(clock.now()),
    restart(cmdId: string) {
      let done: unknown;
      try { done = hal.storage.readJSON(RESTART_FILE); } catch (e) { done = null; }
      if (done === cmdId) return;
      hal.storage.writeJSON(RESTART_FILE, cmdId);
      clock.setTimeout(() => board.restart(), 1000);
    },
  };

  client.subscribe(topic("cmd"), 1);
  client.subscribe(groupCommandTopic(config.root), 1);
  const online = () => {
    hal.wifi.startSntp(config.ntpServer);
    if (!started) client.start();
    started = true;
  };
  keepWifiUp(hal.wifi, clock, config.wifi, online, (m) => board.log(m));
  if (!config.wifi) online();
  sense(false);
  schedule();
  return { id, boot, config, configError: loaded.error, client };
}
