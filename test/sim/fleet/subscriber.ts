// An MQTT.js subscriber that records what the boards publish under a topic root, for the sim's tests.
import mqtt, { MqttClient } from "mqtt";

export interface Received {
  topic: string;
  text: string;
  retain: boolean;
  at: number;
}

export interface Recorder {
  client: MqttClient;
  messages: Received[];
  /** waits until `pred` holds over the messages (checked on every message) */
  until(pred: (m: Received[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

export async function record(url: string, filter: string): Promise<Recorder> {
  const client = mqtt.connect(url, { clean: true, reconnectPeriod: 0, clientId: "espdht-test-" + Math.random().toString(16).slice(2) });
  const messages: Received[] = [];
  const checks: (() => void)[] = [];
  client.on("message", (topic, payload, packet) => {
    messages.push({ topic, text: payload.toString(), retain: packet.retain, at: Date.now() });
    for (const c of checks.slice()) c();
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => client.subscribe(filter, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    client.once("error", reject);
  });
  return {
    client,
    messages,
    until(pred, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pred(messages)) return;
          checks.splice(checks.indexOf(check), 1);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          checks.splice(checks.indexOf(check), 1);
          reject(new Error(`timed out waiting for ${what}; last messages:\n${messages.slice(-20).map((m) => `${m.topic} ${m.text}`).join("\n")}`));
        }, timeoutMs);
        checks.push(check);
        check();
      });
    },
    close: () => new Promise((resolve) => client.end(true, {}, () => resolve())),
  };
}
