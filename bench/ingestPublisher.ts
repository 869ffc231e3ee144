// Child process of the ingest benchmark: MQTT.js publishers acting as devices, blasting valid readings.
// Args (JSON in argv[2]): { url, root, publishers, devicesPerPublisher, perDevice, qos, rate, tag, boot? }.
// rate = readings/s over all publishers (0 = as fast as possible). Prints one JSON line when done.
import mqtt, { MqttClient } from "mqtt";
import type { PublishArgs } from "./ingestPublisherProcess";

type PublisherArgs = PublishArgs;

const MAX_OUTSTANDING = 2000;

function reading(id: string, boot: number, seq: number): string {
  return JSON.stringify({ v: 1, id, boot, seq, up: seq * 2000, ts: Date.now(), temperature: 20 + (seq % 100) / 10, humidity: 40 + (seq % 50) / 5 });
}

async function runPublisher(a: PublisherArgs, index: number, ratePerPublisher: number): Promise<number> {
  const client: MqttClient = await mqtt.connectAsync(a.url, { clientId: `bench-pub-${a.tag}-${index}`, clean: true, reconnectPeriod: 0 });
  const ids = Array.from({ length: a.devicesPerPublisher }, (_, d) => `bench-${a.tag}-${index}-${d}`);
  const total = a.perDevice * ids.length;
  let sent = 0;
  let outstanding = 0;
  let waiter: (() => void) | null = null;
  const started = Date.now();
  const acked = () => {
    outstanding--;
    if (waiter && outstanding < MAX_OUTSTANDING / 2) {
      const w = waiter;
      waiter = null;
      w();
    }
  };
  for (let seq = 1; seq <= a.perDevice; seq++) {
    for (const id of ids) {
      outstanding++;
      client.publish(`${a.root}/${id}/reading`, reading(id, a.boot ?? 1, seq), { qos: a.qos }, acked);
      sent++;
      if (outstanding >= MAX_OUTSTANDING) await new Promise<void>((r) => { waiter = r; });
    }
    if (ratePerPublisher > 0) {
      const due = started + (sent / ratePerPublisher) * 1000;
      const wait = due - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    } else if (seq % 50 === 0) {
      await new Promise((r) => setImmediate(r));
    }
  }
  while (outstanding > 0) await new Promise<void>((r) => { waiter = r; });
  await client.endAsync();
  return total;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]) as PublisherArgs;
  const started = Date.now();
  const counts = await Promise.all(Array.from({ length: a.publishers }, (_, i) => runPublisher(a, i, a.rate / a.publishers)));
  process.stdout.write(JSON.stringify({ published: counts.reduce((x, y) => x + y, 0), ms: Date.now() - started }) + "\n");
}

main().catch((e) => {
  process.stderr.write(`ingestPublisher: ${(e as Error).message}\n`);
  process.exit(1);
});
