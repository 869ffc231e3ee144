// Home Assistant MQTT discovery (off by default): one retained sensor config per quantity.
import type { DeviceConfig } from "../contract/deviceConfig";
import type { DeviceTopicKind } from "../contract/topics";
import { FIRMWARE_VERSION } from "../contract/version";

export function discoveryTopic(id: string, quantity: string): string {
  return "homeassistant/sensor/" + id + "_" + quantity + "/config";
}

/** Abbreviated keys (HA accepts them) keep the payloads small on the device. */
export function discoveryPayload(id: string, config: DeviceConfig, quantity: string, unit: string, topicOf: (kind: DeviceTopicKind) => string): string {
  return JSON.stringify({
    name: quantity === "temperature" ? "Temperature" : "Humidity",
    uniq_id: id + "_" + quantity,
    dev_cla: quantity,
    stat_cla: "measurement",
    unit_of_meas: unit,
    stat_t: topicOf("reading"),
    val_tpl: "{{ value_json." + quantity + " }}",
    avty_t: topicOf("status"),
    dev: { ids: [id], name: id, mf: "espdht", mdl: config.model.toUpperCase(), sw: FIRMWARE_VERSION },
  });
}
