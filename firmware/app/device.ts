// Who this board is and how it is configured: settled once at boot from Storage and the HAL, read by every part.
import { deviceTopicPrefix, DeviceTopicKind } from "../contract/topics";
import { signatureOf } from "../contract/trust";
import type { Hal } from "../hal/hal";
import { utf8Encode } from "../mqtt/utf8";
import { loadStored, StoredDevice } from "./storedConfig";

/** Command safety counters since boot, reported in `info` under these names. */
export interface CommandCounts {
  retainedCmds: number;
  rateLimited: number;
  refused: number;
}

export interface Device extends StoredDevice {
  id: string;
  counts_: CommandCounts;
  /** the thermostat's rule in effect and its output's state, for `info` (firmware/app/thermostat.ts sets it); `send`: also publish it */
  output_?: (send?: true) => { rule: string; on: boolean; why: string } | undefined;
  /** `R/D/<kind>`: the device's own topics */
  topic_(kind: DeviceTopicKind): string;
  /** the signature of `body` (JSON text) published on `topic`, under the current key (call only with a key) */
  mac_(topic: string, body: string): string;
}

/** Loads the config, counts the boot and switches the telnet console as configured (off unless asked for). */
export function bootDevice(hal: Hal): Device {
  // the closures below keep this scope: only what they need is in it
  const device = <Device>loadStored(hal.storage_);
  hal.telnet_.setOptions({ mode: device.config.telnet ? "on" : "off" });
  const prefix = deviceTopicPrefix(device.config.root, (device.id = hal.deviceId_()));
  return Object.assign(device, {
    // the link counters too (peerLinks.ts LinkCounts): info reports them also while the links are not made
    counts_: <CommandCounts>{ retainedCmds: 0, rateLimited: 0, refused: 0, linkForged: 0, linkOld: 0, linkIn: 0 },
    topic_: (kind: DeviceTopicKind) => prefix + kind,
    mac_: (topic: string, body: string) => signatureOf(hal.sha256_, device.key_ as Uint8Array, utf8Encode(topic), utf8Encode(body)),
  });
}
