// The device program: Wi-Fi, sensing loop -> reading buffer -> MQTT, plus commands, info and Home Assistant discovery.
// Everything comes through the HAL and an injected MQTT client factory, so it runs under test in Node.
import { DeviceConfig, SETTINGS_FILE } from "../contract/deviceConfig";
import { COMMAND_OPS, Info, ReadError, STATUS_OFFLINE, STATUS_ONLINE } from "../contract/payloads";
import { deviceIdFromMac, deviceTopic, groupCommandTopic } from "../contract/topics";
import { FIRMWARE_VERSION, PAYLOAD_VERSION } from "../contract/version";
import { createDhtReader } from "../dht/dhtReader";
import { READ_ATTEMPTS } from "../dht/dhtTiming";
import { Hal, SocketTarget, TimerHandle, UNIX_2020_S } from "../hal/hal";
import type { DeviceMqttClient, MqttClientEvents, MqttClientOptions } from "../mqtt/types";
import { utf8Decode } from "../mqtt/utf8";
import { CommandHandlers, handleCommand } from "./commands";
import { BufferedReading, createReadingBuffer } from "./readingBuffer";
import { LastReport, shouldReport } from "./reportFilter";
import { countBoot, loadConfig, readJsonSafely, settingsOf } from "./storedConfig";

/** Home Assistant discovery (off by default), one retained sensor config per quantity: [name, unit]; the quantity
 * (device class, reading field) is the lower-cased name. Abbreviated keys (HA accepts them) keep payloads small. */
const SENSORS = [["Temperature", "\u00b0C"], ["Humidity", "%"]];

export type MqttClientFactory = (target: SocketTarget, options: MqttClientOptions, events: MqttClientEvents) => DeviceMqttClient;

/** Storage file remembering the last `restart` command, so a redelivered one cannot restart the board again. */
export const RESTART_FILE = "espdht.rst";

export interface RunningApp {
  id: string;
  config: DeviceConfig;
  configError: string | null;
}

/** A simulated board's serial is already a device id (`sim-...`); a real one is the eFuse MAC. */
export function deviceIdFor(serial: string): string {
  return serial.indexOf("sim-") ? deviceIdFromMac("esp32", serial) : serial;
}

export function startApp(hal: Hal, createClient: MqttClientFactory): RunningApp {
  const clock = hal.clock_;
  const storage = hal.storage_;
  let configError: string | null = null;
  const config = loadConfig(storage, (why) => { configError = (configError ? configError + "; " : "") + why; });
  const boot = countBoot(storage);
  const log = hal.log_;
  hal.telnet_.setOptions({ mode: config.telnet ? "on" : "off" });
  const id = deviceIdFor(hal.serial_());
  const prefix = deviceTopic(config.root, id, "" as "cmd"); // "R/D/": + status | info | reading | cmd | reply
  const cmdTopic = prefix + "cmd";
  const statusTopic = prefix + "status";
  const group = groupCommandTopic(config.root);
  const buffer = createReadingBuffer(config.bufferSize);
  const reader = createDhtReader(hal, config.pin, clock, config.model, READ_ATTEMPTS);
  const broker = config.broker;
  const target: SocketTarget = { host: broker.host, port: broker.port, tls: broker.tls };
  const mqttLog = (m: string) => log("mqtt: " + m);
  /** ms since boot, as readings and `ping` report it */
  const upNow = () => Math.round(clock.now());
  let last: LastReport | undefined;
  let loop: TimerHandle;
  /** publish the running cycle's reading whatever the filter says (a `read` command) */
  let forced: boolean;
  /** payload of the last reading published (a `read` command answers with its cycle's) */
  let lastReading: object;

  const publish = (kind: string, payload: object, retain?: boolean) => client.publish(prefix + kind, JSON.stringify(payload), 1, !!retain);

  const publishInfo = () => {
    const mem = hal.memory_();
    publish("info", <Info>{
      v: PAYLOAD_VERSION, id, fw: FIRMWARE_VERSION, model: config.model, pin: config.pin, interval: config.interval,
      // published only while connected, so the link has an address
      ip: hal.wifi_.getIP().ip, boot, root: config.root, caps: COMMAND_OPS, dropped: buffer.dropped_(), configError,
      mem: { free: mem.free, total: mem.total },
    }, true);
  };

  /** The reading payload (keys in contract order: v, id, boot, seq, up, ts, then values or error). */
  const payloadOf = (r: BufferedReading) => Object.assign({ v: PAYLOAD_VERSION, id, boot }, r);

  /** Hands buffered readings to the client, oldest first, while it has in-flight room (it retransmits those). */
  const flush = () => {
    let r: BufferedReading | null;
    while (client.connected && client.inflightRoom() && (r = buffer.shift_(upNow()))) publish("reading", payloadOf(r));
  };

  /** A DhtResult: a failed read has no values, t and h are then NaN; neither the filter nor the buffer looks at them. */
  const onRead = (r: { temperature?: number; humidity?: number; error?: ReadError }) => {
    const now = upNow();
    const error = r.error;
    // offset-corrected, in hundredths: what the buffer keeps and the filter compares
    const t = Math.round(((r.temperature as number) + config.tempOffset) * 100);
    // clamped: an offset must not push humidity out of 0..100 %, which hosts reject (NaN stays NaN)
    const h = Math.round(Math.min(Math.max((r.humidity as number) + config.humOffset, 0), 100) * 100);
    if (!forced && !shouldReport(config, last, now, t, h, error)) return;
    forced = false;
    last = { t, h, error, at: now };
    const wall = hal.time_();
    lastReading = payloadOf(buffer.push_(now, wall > UNIX_2020_S ? Math.round(wall * 1000) : 0, t, h, error));
    flush();
  };

  const schedule = () => {
    if (loop) clock.clearTimeout(loop);
    loop = clock.setTimeout(() => {
      loop = 0;
      schedule();
      // one sensing cycle; a tick while a cycle runs (slow retries) joins it: the reader calls onRead once
      reader(onRead);
    }, config.interval * 1000);
  };

  const client = createClient(
    target,
    // the broker's username and password (its host, port and tls ride along unused)
    Object.assign(<MqttClientOptions>{ clientId: id, clean: false, keepalive: config.keepalive, will: { topic: statusTopic, payload: STATUS_OFFLINE, qos: 1, retain: true } }, broker),
    {
      onConnect() {
        client.publish(statusTopic, STATUS_ONLINE, 1, true);
        publishInfo();
        if (config.homeAssistant) {
          SENSORS.forEach((sensor) => {
            const name = sensor[0];
            const q = name.toLowerCase();
            const uniq = id + "_" + q;
            client.publish("homeassistant/sensor/" + uniq + "/config", JSON.stringify({
              name, uniq_id: uniq, dev_cla: q, stat_cla: "measurement", unit_of_meas: sensor[1], stat_t: prefix + "reading",
              val_tpl: "{{value_json." + q + "}}", avty_t: statusTopic,
              dev: { ids: [id], name: id, mf: "espdht", mdl: config.model, sw: FIRMWARE_VERSION },
            }), 1, true);
          });
        }
        flush();
      },
      onPublished: flush,
      onMessage(msg) {
        if (msg.topic === cmdTopic || msg.topic === group) handleCommand(utf8Decode(msg.payload), handlers, (reply) => publish("reply", reply));
      },
      onClose: mqttLog,
      onError: mqttLog,
    },
  );

  const handlers: CommandHandlers = {
    read: (c, done) => {
      forced = true;
      reader(onRead);
      // the reader serves this caller right after onRead, with the same result
      reader(() => done({ reading: lastReading }));
    },
    set: (c, done) => {
      Object.assign(config, c.set);
      const settings = settingsOf(config);
      storage.writeJSON(SETTINGS_FILE, settings);
      schedule();
      publishInfo();
      done({ settings });
    },
    // the effective config without secrets
    get: (c, done) => done({ config: Object.assign({}, config, { broker: target, wifi: config.wifi && config.wifi.ssid }) }),
    ping: (c, done) => done({ up: upNow() }),
    restart: (c, done) => {
      done({});
      if (readJsonSafely(storage, RESTART_FILE) === c.id) return;
      storage.writeJSON(RESTART_FILE, c.id);
      clock.setTimeout(hal.reboot_, 1000);
    },
  };

  client.subscribe(cmdTopic, 1);
  client.subscribe(group, 1);
  // Wi-Fi: join, retry with a growing delay (5 s to 60 s), rejoin after a drop. Without credentials the board
  // joins with those saved on it (Wifi.save()): follow its events, and go on at once (the link may be up)
  const wifi = hal.wifi_;
  const cred = config.wifi;
  // ms before the next join: 5 s after a connect, doubling up to 60 s
  let delay = 5000;
  let wifiTimer: TimerHandle;
  const online = () => {
    wifi.setSNTP(config.ntpServer, "UTC0");
    // a no-op while the client is already started (connected or waiting to reconnect)
    client.start();
  };
  const retry = (why: unknown) => {
    log("wifi: " + why);
    if (wifiTimer || !cred) return;
    wifiTimer = clock.setTimeout(join, delay);
    delay = Math.min(delay * 2, 60000);
  };
  const join = () => {
    wifiTimer = 0;
    // the credentials are the options ({password}; Wifi ignores the extra ssid)
    if (cred) wifi.connect(cred.ssid, cred, (err) => { if (err) retry(err); });
    else online();
  };
  wifi.on("connected", () => {
    delay = 5000;
    online();
  });
  wifi.on("disconnected", () => retry("disconnected"));
  join();
  reader(onRead);
  schedule();
  return { id, config, configError };
}
