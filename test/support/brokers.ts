// Real brokers for integration tests, on loopback only: the product's own Mosquitto launcher and embedded
// aedes broker, with the `stop()` the tests call. A missing Mosquitto FAILS the test: nothing is skipped silently.
import type { Aedes } from "aedes";
import { startEmbeddedBroker } from "../../host/broker/embeddedBroker";
import { startMosquitto as startLocalMosquitto } from "../../host/broker/mosquitto";

export { freePort } from "../../host/broker/mosquitto";

export interface RunningBroker {
  host: string;
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Mosquitto 2 on a free loopback port, `extraConfig` lines appended to its generated config. */
export async function startMosquitto(extraConfig: string[] = []): Promise<RunningBroker> {
  const b = await startLocalMosquitto(extraConfig);
  return { host: b.host, port: b.port, url: b.url, stop: () => b.close() };
}

/** The embedded aedes broker on a free loopback port; `broker` is the aedes instance (for hooks). */
export async function startAedes(): Promise<RunningBroker & { broker: Aedes }> {
  const b = await startEmbeddedBroker({ port: 0 });
  return { host: b.host, port: b.port, url: b.url, broker: b.aedes, stop: () => b.close() };
}

/** Both real brokers, for suites that run the same cases against each. */
export const BROKERS: { name: string; start: () => Promise<RunningBroker> }[] = [
  { name: "aedes", start: startAedes },
  { name: "mosquitto", start: () => startMosquitto() },
];
