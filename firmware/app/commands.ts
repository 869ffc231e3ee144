// Commands from R/D/cmd and R/all/cmd: validated with the contract, carried out, answered on R/D/reply with
// `re` = the command's id. Malformed or unknown commands get an error reply and change nothing.
import { SETTINGS_FILE } from "../contract/deviceConfig";
import { Capability, Command, Reply, validateCommand, Validation } from "../contract/payloads";
import { groupCommandTopic } from "../contract/topics";
import { Hal, uptimeMs } from "../hal/hal";
import type { DeviceMqttClient, IncomingMessage } from "../mqtt/types";
import { utf8Decode } from "../mqtt/utf8";
import type { Device } from "./device";
import { brokerTarget } from "./link";
import { Publishing, readingPayload } from "./publishing";
import type { Sensing } from "./sensing";
import { readJsonSafely, settingsOf } from "./storedConfig";

/** One handler per op; `done` gets the reply's fields besides `re` and `ok`. */
export type CommandHandlers = { [op in Capability]: (c: Command, done: (fields: object) => void) => void };

export type ReplySender = (reply: Reply) => void;

/** Storage file remembering the last `restart` command, so a redelivered one cannot restart the board again. */
export const RESTART_FILE = "espdht.rst";

/** Handles one command payload (already UTF-8 decoded; null when it was not valid UTF-8). */
export function handleCommand(text: string | null, handlers: CommandHandlers, send: ReplySender): void {
  let v: Validation<Command> & { id?: string };
  try {
    // "" is not JSON either: null (bad UTF-8) fails here too, and is told apart below
    v = validateCommand(JSON.parse(text || ""));
  } catch (e) {
    v = { ok: false, error: "command is not valid " + (text === null ? "UTF-8" : "JSON") };
  }
  if (!v.ok) return send({ re: v.id || null, ok: false, error: v.error });
  const c = v.value;
  handlers[c.op](c, (fields) => send(Object.assign({ re: c.id, ok: true }, fields)));
}

/**
 * Subscribes to the device's and the group's command topics and returns what takes each incoming message:
 * `read` and `set` act through sensing and publishing, `restart` reboots a second after its reply.
 */
export function listenForCommands(hal: Hal, device: Device, client: DeviceMqttClient, sensing: Sensing, publishing: Publishing): (msg: IncomingMessage) => void {
  const config = device.config;
  const storage = hal.storage_;
  const own = device.topic_("cmd");
  const group = groupCommandTopic(config.root);
  const handlers: CommandHandlers = {
    read: (c, done) => sensing.readNow_((stored) => done({ reading: readingPayload(device, stored) })),
    set: (c, done) => {
      Object.assign(config, c.set);
      const settings = settingsOf(config);
      storage.writeJSON(SETTINGS_FILE, settings);
      sensing.reschedule_();
      publishing.info_();
      done({ settings });
    },
    // the effective config without secrets
    get: (c, done) => done({ config: Object.assign({}, config, { broker: brokerTarget(config), wifi: config.wifi && config.wifi.ssid, key: undefined }) }),
    ping: (c, done) => done({ up: uptimeMs(hal.clock_) }),
    restart: (c, done) => {
      done({});
      if (readJsonSafely(storage, RESTART_FILE) === c.id) return;
      storage.writeJSON(RESTART_FILE, c.id);
      hal.clock_.setTimeout(hal.reboot_, 1000);
    },
  };
  client.subscribe(own, 1);
  client.subscribe(group, 1);
  return (msg) => {
    if (msg.topic === own || msg.topic === group) handleCommand(utf8Decode(msg.payload), handlers, (reply) => publishing.publish_("reply", reply));
  };
}
