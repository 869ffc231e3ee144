// Home Assistant MQTT discovery (off by default): one retained sensor config per quantity.
import { FIRMWARE_VERSION } from "../contract/version";
import type { DeviceMqttClient } from "../mqtt/types";

/** [name, unit]; the quantity (device class, reading field) is the lower-cased name. */
const SENSORS = [["Temperature", "\u00b0C"], ["Humidity", "%"]];

/**
 * Publishes (retained, QoS 1) each quantity's config; `prefix` is the device's topic prefix (`R/D/`).
 * Abbreviated keys (HA accepts them) keep the payloads small on the device.
 */
export function publishDiscovery(id: string, model: string, prefix: string, client: DeviceMqttClient): void {
  SENSORS.forEach((sensor) => {
    const name = sensor[0];
    const q = name.toLowerCase();
    const uniq = id + "_" + q;
    client.publish("homeassistant/sensor/" + uniq + "/config", JSON.stringify({
      name,
      uniq_id: uniq,
      dev_cla: q,
      stat_cla: "measurement",
      unit_of_meas: sensor[1],
      stat_t: prefix + "reading",
      val_tpl: "{{value_json." + q + "}}",
      avty_t: prefix + "status",
      dev: { ids: [id], name: id, mf: "espdht", mdl: model, sw: FIRMWARE_VERSION },
    }), 1, true);
  });
}
