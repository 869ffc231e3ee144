// The device program, wired from its parts (each is handed the HAL and what it needs; nothing is global):
//   device:     config, settings and boot count from Storage, the id from the HAL
//   sensing:    DHT reader -> offsets -> report filter -> reading buffer (-> spill to flash when full)
//   publishing: reading buffer and spill -> MQTT client; online, info and Home Assistant discovery on every connect
//   commands:   R/D/cmd and R/all/cmd -> handlers -> R/D/reply
//   link:       Wi-Fi join and backoff -> SNTP -> MQTT client started
//   peerLinks:  each published reading copied to linked targets (R/D/to/B); linked sources' readings kept (R/+/to/D)
//   thermostat: own or a linked peer's readings -> rule -> output pin -> R/D/output
import type { Hal, SocketTarget } from "../hal/hal";
import type { DeviceMqttClient, MqttClientEvents, MqttClientOptions } from "../mqtt/types";
import { listenForCommands } from "./commands";
import { bootDevice, Device } from "./device";
import { brokerTarget, keepLinkUp, sessionOptions } from "./link";
import { createPeerLinks, LinksOf, PeerLinks } from "./peerLinks";
import { createPublishing } from "./publishing";
import { createReadingBuffer } from "./readingBuffer";
import { createSensing } from "./sensing";
import { createSpill } from "./spillFile";
import { readJsonSafely } from "./storedConfig";
import { createThermostat, Thermostat } from "./thermostat";

export type MqttClientFactory = (target: SocketTarget, options: MqttClientOptions, events: MqttClientEvents) => DeviceMqttClient;

export function startApp(hal: Hal, createClient: MqttClientFactory): Device {
  const device = bootDevice(hal);
  const config = device.config;
  const spill = createSpill(hal.storage_, config.spillLimit, device.boot);
  const buffer = createReadingBuffer(config.bufferSize, config.spillLimit ? spill.add_ : undefined);
  const sensing = createSensing(hal, config, buffer, () => publishing.flush_(), (t, h) => {
    const th = thermostat();
    if (th) th(t, h);
  });
  const mqttLog = (m: string) => hal.log_("mqtt: " + m);
  // the client is told about its events before the parts exist: each event reaches them once they do
  const client = createClient(brokerTarget(config), sessionOptions(hal, device), {
    onConnect: () => {
      publishing.announce_();
      if (device.output_) device.output_(true);
    },
    onPublished: (token) => publishing.flush_(token),
    onMessage: (msg) => {
      onCommand(msg);
      if (linked) linked.receive_(msg);
    },
    onClose: mqttLog,
    onError: mqttLog,
  });
  // made at boot when Storage has links, else at the first link command: a board without links spends no RAM on them
  let linked: PeerLinks | 0 = 0;
  const links: LinksOf = (make) => linked || (make ? (linked = createPeerLinks(hal, device, client)) : 0);
  // "espdht.lnk": peerLinks.ts LINKS_FILE, written out (a kept constant costs JsVars)
  if (readJsonSafely(hal.storage_, "espdht.lnk")) links(true);
  const publishing = createPublishing(hal, device, buffer, spill, client, links);
  const onCommand = listenForCommands(hal, device, client, sensing, publishing, links);
  // made with the first rule (at boot, or at the first reading after `set rule`): a board without one spends no RAM on it.
  let made: Thermostat | 0 = 0;
  const thermostat = () => made || (config.rule ? (made = createThermostat(hal, device, client, publishing, links)) : 0);
  thermostat();
  keepLinkUp(hal, config, client);
  sensing.start_();
  return device;
}
