// `espdht watch` (real CLI, real Mosquitto) under hostile health topics: malformed retained healths of many kinds and a
// flood of made-up hosts are reported, and watch keeps showing readings and a real dashboard's health.
import fs from "node:fs";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../support/brokers";
import { runCli, tempUserEnv } from "../support/runCli";
import { until } from "../support/until";

const ROOT = "espdht/watchhealth";
const AT = Date.now();
const good = { ok: false, problem: "the disk is full", since: AT - 60_000, journalBytes: 2048, journalLimitBytes: 67108864, holding: true, at: AT };
const host = (i: number) => "host-" + i.toString(16).padStart(12, "0");

/** retained payloads watch must refuse, one per kind; the first crashed watch before (RangeError formatting 'since') */
const MALFORMED: [string, string][] = [
  ["since past the Date range", JSON.stringify({ ...good, since: 1e20 })],
  ["not JSON", "{ok:"],
  ["an array", JSON.stringify([good])],
  ["at a string", JSON.stringify({ ...good, at: "now" })],
  ["since after at", JSON.stringify({ ...good, since: AT + 5000 })],
  ["problem a number", JSON.stringify({ ...good, problem: 7 })],
  ["problem too long", JSON.stringify({ ...good, problem: "x".repeat(400) })],
  ["journalBytes negative", JSON.stringify({ ...good, journalBytes: -1 })],
  ["holding missing", JSON.stringify({ ...good, holding: undefined })],
  ["ok with a problem", JSON.stringify({ ...good, ok: true })],
  ["over 4096 bytes", JSON.stringify({ ...good, pad: "x".repeat(5000) })],
];

let broker: RunningBroker;
let env: NodeJS.ProcessEnv;
let dir: string;
let pub: MqttClient;

beforeAll(async () => {
  broker = await startMosquitto(["max_queued_messages 0"]);
  ({ env, dir } = tempUserEnv({ broker: broker.url, root: ROOT }));
  pub = await mqtt.connectAsync(broker.url, { clean: true, reconnectPeriod: 0 });
  for (const [i, [, payload]] of MALFORMED.entries()) await pub.publishAsync(`${ROOT}/${host(i + 1)}/health`, payload, { qos: 1, retain: true });
  // Mosquitto refuses control characters in topics (it drops the client), so a bad name is a printable one here
  await pub.publishAsync(`${ROOT}/not-a-host/health`, JSON.stringify(good), { qos: 1, retain: true });
  // a real-looking one, with escape sequences in its problem
  await pub.publishAsync(`${ROOT}/${host(0xabc)}/health`, JSON.stringify({ ...good, problem: "disk\u001b[2J full\r\nspoofed line" }), { qos: 1, retain: true });
});
afterAll(async () => {
  pub?.end(true);
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("espdht watch and the health topics", () => {
  it("reports malformed healths, shows the valid one without control characters, and goes on with readings", async () => {
    const run = runCli(["watch", "--json"], env);
    try {
      await until(() => run.stderr().includes("Ctrl-C to stop"), 20_000, "watch to subscribe");
      await until(() => run.stderr().includes(`dashboard ${host(0xabc)}: store failing since`), 10_000, "the valid health");
      // the first malformed one is told at once; the others within the next report (every 10 s)
      await until(() => /ignored 1 malformed health message \(last: /.test(run.stderr()), 10_000, "the first report");
      // a flood of made-up hosts: memory stays bounded (64) and watch stays up
      for (let i = 0; i < 300; i++) await pub.publishAsync(`${ROOT}/${host(0x10000 + i)}/health`, JSON.stringify({ ...good, at: Date.now() }), { qos: 0 });
      await pub.publishAsync(`${ROOT}/sim-wh/reading`, JSON.stringify({ v: 1, id: "sim-wh", boot: 1, seq: 1, up: 0, ts: null, temperature: 20.5, humidity: 40 }), { qos: 1 });
      await until(() => run.stdout().includes('"id":"sim-wh"'), 10_000, "the reading after the bad healths");
      await until(() => /ignored \d+ malformed health messages/.test(run.stderr()), 15_000, "the later report");
      expect(run.stderr()).toMatch(/\d+ more dashboard healths not shown \(too many new hosts at once\)/);
      const reported = [...run.stderr().matchAll(/ignored (\d+) malformed health messages?/g)].reduce((n, m) => n + Number(m[1]), 0);
      expect(reported).toBe(MALFORMED.length + 1); // + the topic without a host id
      expect(run.child.exitCode).toBeNull();
      expect(run.stderr()).not.toMatch(/RangeError|Invalid time value/);
      expect(run.stderr()).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/); // no escape, no carriage return
      expect(run.stderr()).toContain("disk [2J full spoofed line");
      // the flood's lines are cut short: 10 per 10 s, the rest counted
      expect(run.stderr().split("\n").filter((l) => /: dashboard host-/.test(l)).length).toBeLessThanOrEqual(20);
      console.log(`watch health: ${MALFORMED.length + 1} malformed kinds (${[...MALFORMED.map(([k]) => k), "a topic without a host id"].join(", ")}) reported, watch kept running`);
    } finally {
      run.child.kill("SIGINT");
      expect(await run.done).toBe(0);
    }
  }, 60_000);
});
