// Publishing, the second half of the one-way flow: reading buffer and spill -> MQTT client, oldest first, while the
// client has in-flight room (it retransmits those). On every connect: status `online`, the retained info and, when
// enabled, Home Assistant discovery, before the buffered readings. With a key every JSON message (reading, info,
// reply) is signed (docs/trust.md); status and discovery stay plain for Home Assistant.
import { commandOps, Info, STATUS_ONLINE } from "../contract/payloads";
import type { DeviceTopicKind } from "../contract/topics";
import { signatureTail } from "../contract/trust";
import { FIRMWARE_VERSION, PAYLOAD_VERSION } from "../contract/version";
import { Hal, uptimeMs } from "../hal/hal";
import type { DeviceMqttClient } from "../mqtt/types";
import type { Device } from "./device";
import type { LinksOf } from "./peerLinks";
import type { BufferedReading, ReadingBuffer } from "./readingBuffer";
import type { Spill } from "./spillFile";

export interface Publishing {
  /** on every connect: online, info, discovery, then the buffered readings */
  announce_(): void;
  /** hands buffered readings to the client while it is connected and has in-flight room; `acked`: a PUBACK's token */
  flush_(acked?: number): void;
  /** publishes the retained info (on connect, and after `set`) */
  info_(): void;
  /** publishes a JSON payload on the device's `kind` topic at QoS 1, signed when the device has a key */
  publish_(kind: DeviceTopicKind, payload: object, retain?: boolean): void;
}

/** The reading payload: the device's identity, then the stored reading (keys in contract order: v, id, boot, seq, up, ts, values or error);
 * a reading spilled in an earlier boot keeps its boot. */
export function readingPayload(device: Device, r: BufferedReading) {
  return Object.assign({ v: PAYLOAD_VERSION, id: device.id, boot: device.boot }, r);
}

export function createPublishing(hal: Hal, device: Device, buffer: ReadingBuffer, spill: Spill, client: DeviceMqttClient, links: LinksOf): Publishing {
  const id = device.id;
  const config = device.config;

  const publish = (kind: DeviceTopicKind, payload: object, retain?: boolean) => {
    const topic = device.topic_(kind);
    // each reading also goes to the linked targets, before it (the reading's publish token is returned)
    const l = links();
    if (l && kind == "reading") l.copy_(payload);
    let text = JSON.stringify(payload);
    if (device.key_) {
      // the body is the text without its closing brace; the tail closes it again
      text = text.slice(0, -1);
      text += signatureTail(device.mac_(topic, text));
    }
    return client.publish(topic, text, 1, !!retain);
  };

  const info = () => {
    const mem = hal.memory_();
    const l = links();
    publish("info", Object.assign(<Info>{
      v: PAYLOAD_VERSION, id, fw: FIRMWARE_VERSION, model: config.model, pin: config.pin, interval: config.interval,
      // published only while connected, so the link has an address
      ip: hal.wifi_.getIP().ip, boot: device.boot, root: config.root, caps: commandOps(), dropped: buffer.dropped_,
      configError: device.configError, mem: { free: mem.free, total: mem.total }, skipped: client.stats.skipped_,
      flashFull: spill.full_, flashBad: spill.bad_,
      groups: config.groups,
      output: device.output_ && device.output_(),
      // absent until the client saw a kick loop (another board with this id)
      dupId: client.stats.dup_,
      links: l ? l.list_() : { to: [], from: [] },
    }, device.counts_), true);
  };

  // spilled and RAM readings take turns, each oldest first: a day's backlog does not hold back live readings
  let turn = 0;
  /** `acked`: the token of a PUBACK that just came (a spill file may go) */
  const flush = (acked?: number) => {
    let r: BufferedReading | null;
    spill.acked_(acked);
    while (client.connected && client.inflightRoom() && (r = ((turn ^= 1) && spill.shift_()) || buffer.shift_(uptimeMs(hal.clock_)) || spill.shift_())) {
      const t = publish("reading", readingPayload(device, r));
      // only spilled readings carry their boot
      if (r.boot) spill.sent_ = t;
    }
  };

  return {
    announce_() {
      client.publish(device.topic_("status"), STATUS_ONLINE, 1, true);
      info();
      if (config.homeAssistant) {
        // Home Assistant discovery (off by default), one retained sensor config per quantity: [name, unit]; the quantity
        // (device class, reading field) is the lower-cased name. Abbreviated keys (HA accepts them) keep payloads small.
        // A literal here, not a module constant: it costs RAM only while it runs
        [["Temperature", "\u00b0C"], ["Humidity", "%"]].forEach((sensor) => {
          const name = sensor[0];
          const q = name.toLowerCase();
          const uniq = id + "_" + q;
          client.publish("homeassistant/sensor/" + uniq + "/config", JSON.stringify({
            name, uniq_id: uniq, dev_cla: q, stat_cla: "measurement", unit_of_meas: sensor[1], stat_t: device.topic_("reading"),
            val_tpl: "{{value_json." + q + "}}", avty_t: device.topic_("status"),
            dev: { ids: [id], name: id, mf: "espdht", mdl: config.model, sw: FIRMWARE_VERSION },
          }), 1, true);
        });
      }
      flush();
    },
    flush_: flush,
    info_: info,
    publish_: publish,
  };
}
