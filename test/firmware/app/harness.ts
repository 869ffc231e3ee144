// Starts the app on a fake board with a fake MQTT client; or boots just the Device, to test one part alone.
import { CONFIG_FILE } from "../../../firmware/contract/deviceConfig";
import { startApp } from "../../../firmware/app/app";
import { bootDevice, Device } from "../../../firmware/app/device";
import { FakeMqttClient } from "./fakeMqttClient";
import { fakeHal, FakeBoardSet, MemoryStore } from "./fakeHal";

export const ID = "esp32-30aea40b1c2d";
export const R = "espdht/unconfigured";

export interface Started extends FakeBoardSet {
  app: Device;
  client: FakeMqttClient;
  topic(kind: string): string;
}

export function start(opts: { config?: unknown; storage?: MemoryStore; clockStart?: number } = {}): Started {
  const set = fakeHal({ storage: opts.storage, clockStart: opts.clockStart ?? 0 });
  if (opts.config !== undefined) set.storage.files[CONFIG_FILE] = JSON.stringify(opts.config);
  let client: FakeMqttClient | null = null;
  const app = startApp(set.hal, (target, options, events) => (client = new FakeMqttClient(target, options, events)));
  const root = app.config.root;
  return { ...set, app, client: client!, topic: (kind) => root + "/" + app.id + "/" + kind };
}

/** A fake board with its config file written and the Device booted from it (what startApp does first). */
export function bootFake(config?: unknown): FakeBoardSet & { device: Device } {
  const set = fakeHal();
  if (config !== undefined) set.storage.files[CONFIG_FILE] = JSON.stringify(config);
  return { ...set, device: bootDevice(set.hal) };
}
