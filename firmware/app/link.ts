// The link to the broker: the MQTT session the client keeps, and Wi-Fi: join, retry with a growing delay (5 s to
// 60 s), rejoin after a drop; once joined, SNTP and the client. Without credentials the board joins with those
// saved on it (Wifi.save()): follow its events, and go on at once (the link may be up).
import type { DeviceConfig } from "../contract/deviceConfig";
import { STATUS_OFFLINE } from "../contract/payloads";
import { keyedClientId, MAX_COMMAND_BYTES } from "../contract/trust";
import type { Hal, SocketTarget, TimerHandle } from "../hal/hal";
import type { DeviceMqttClient, MqttClientOptions } from "../mqtt/types";
import type { Device } from "./device";

/** The broker's address (its credentials go in the session options). */
export function brokerTarget(config: DeviceConfig): SocketTarget {
  const broker = config.broker;
  return { host: broker.host, port: broker.port, tls: broker.tls };
}

/**
 * A persistent session (clean off), the retained `offline` will, the broker's credentials. The client id is the
 * device id, or with a key one derived from it (docs/trust.md "Sessions": nobody can take the session over).
 * Messages over MAX_COMMAND_BYTES are read past: no command needs more.
 */
export function sessionOptions(hal: Hal, device: Device): MqttClientOptions {
  const key = device.key_;
  return Object.assign(
    <MqttClientOptions>{
      clientId: key ? keyedClientId(hal.sha256_, key) : device.id, clean: false, keepalive: device.config.keepalive,
      will: { topic: device.topic_("status"), payload: STATUS_OFFLINE, qos: 1, retain: true }, maxPacketSize: MAX_COMMAND_BYTES,
    },
    // the broker's username and password (its host, port and tls ride along unused)
    device.config.broker,
  );
}

/** Joins Wi-Fi now and keeps the link up for good: each time it is up, SNTP and the client are (re)started. */
export function keepLinkUp(hal: Hal, config: DeviceConfig, client: DeviceMqttClient): void {
  const cred = config.wifi;
  // ms before the next join: 5 s after a connect, doubling up to 60 s
  let delay = 5000;
  let wifiTimer: TimerHandle;
  const online = () => {
    hal.wifi_.setSNTP(config.ntpServer, "UTC0");
    // a no-op while the client is already started (connected or waiting to reconnect)
    client.start();
  };
  const retry = (why: unknown) => {
    hal.log_("wifi: " + why);
    if (wifiTimer || !cred) return;
    wifiTimer = hal.clock_.setTimeout(join, delay);
    delay = Math.min(delay * 2, 60000);
  };
  const join = () => {
    wifiTimer = 0;
    // the credentials are the options ({password}; Wifi ignores the extra ssid)
    if (cred) hal.wifi_.connect(cred.ssid, cred, (err) => { if (err) retry(err); });
    else online();
  };
  hal.wifi_.on("connected", () => {
    delay = 5000;
    online();
  });
  hal.wifi_.on("disconnected", () => retry("disconnected"));
  join();
}
