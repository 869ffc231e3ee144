// Starts the app on a fake board with a fake MQTT client.
import { CONFIG_FILE } from "../../../firmware/contract/deviceConfig";
import { startApp, RunningApp } from "../../../firmware/app/app";
import { FakeMqttClient } from "./fakeMqttClient";
import { fakeHal, FakeBoardSet, MemoryStore } from "./fakeHal";

export const ID = "esp32-30aea40b1c2d";
export const R = "espdht/unconfigured";

export interface Started extends FakeBoardSet {
  app: RunningApp;
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
