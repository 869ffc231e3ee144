// The thermostat end to end: virtual boards running dist/firmware.js in rooms that warm and cool, a real Mosquitto,
// and the host's ingest verifying each board's signed R/D/output. Board 1 switches GPIO 5 from its own sensor; board 2
// from board 0's readings over a device-to-device link, failing safe (on) when board 0 stops. Real time: about a minute.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../../support/brokers";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { startFleet, Fleet } from "../../../sim/fleet/fleet";
import { parseRuleFlags } from "../../../sim/fleet/fleetRules";
import { MqttIngest } from "../../../host/ingest/ingest";
import { DeviceTrust } from "../../../host/trust/deviceTrust";
import type { GoodReading, OutputState } from "../../../firmware/contract";
import { Keyring } from "../../../provisioning/keyring";

const ON = 21.8;
const OFF = 20.2;
/** readings every 2 s; the failsafe fires after 3 of the source's intervals */
const INTERVAL = 2;

interface Seen<T> {
  id: string;
  value: T;
  at: number;
}

async function until(pred: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("thermostat on virtual boards, real Mosquitto", () => {
  let broker: RunningBroker;
  let fleet: Fleet;
  let ingest: MqttIngest;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-thermostat-"));
  const root = "espdht/thermo-" + process.pid;
  const outputs: Seen<OutputState>[] = [];
  const readings: Seen<GoodReading>[] = [];
  const trusts: (string | null)[] = [];
  const outputsOf = (i: number) => outputs.filter((o) => o.id === fleet.ids[i]);
  const switches = (i: number) => outputsOf(i).filter((o, k, all) => k > 0 && o.value.on !== all[k - 1].value.on);
  const shown = (i: number) => outputsOf(i).map((o) => `${o.value.on ? "on" : "off"}/${o.value.why}@${o.value.since}`).join(" ");

  beforeAll(async () => {
    broker = await startMosquitto(["max_queued_messages 0"]);
    const keyring = path.join(dir, "keys.json");
    fleet = await startFleet({
      broker: broker.url, root, devices: 3, interval: INTERVAL, model: "dht22", pin: 4, seed: "thermostat-test", dataDir: path.join(dir, "boards"),
      firmwareFile: FIRMWARE_OUT, keys: true, keyring, staggerMs: 100, log: () => {},
      // every room swings 3 degrees around 21 over 24 s, with no day cycle: the thresholds are crossed both ways
      environment: { baseTemperature: 21, dayAmplitude: 0, cycleSeconds: 24, cycleAmplitude: 3 },
      links: [{ from: 0, to: 2 }],
      rules: parseRuleFlags([`1:temperature>${ON}<${OFF}:pin=5`, `2:temperature@0>${ON}<${OFF}:pin=5:safe=on`], 3, 4),
    });
    ingest = await MqttIngest.start({
      root, broker: { url: broker.url, username: null, password: null, ca: null }, clientId: "espdht-test-thermostat", clean: true,
      trust: new DeviceTrust(new Keyring(keyring)), log: () => {},
    });
    ingest.on((e) => {
      if (e.kind === "output" && e.output) {
        outputs.push({ id: e.device.id, value: e.output, at: Date.now() });
        trusts.push(e.trust);
      }
      if (e.kind === "reading" && !("error" in e.reading)) readings.push({ id: e.device.id, value: e.reading as GoodReading, at: Date.now() });
    });
  }, 60_000);

  afterAll(async () => {
    await ingest?.close();
    await fleet?.stop();
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a room that warms and cools switches board 1's output on above 21.8 and off below 20.2, each switch verified on R/D/output", async () => {
    await until(() => switches(1).length >= 2, 60_000, () => `two switches of board 1's output (seen: ${shown(1)})`);
    const mine = outputsOf(1);
    expect(mine[0].value).toMatchObject({ on: false, why: "boot", pin: 5 });
    expect(trusts.every((t) => t === "verified")).toBe(true);
    // each switch happened on the reading taken at that moment (same board time), and on the right side of the band
    const ownReadings = readings.filter((r) => r.id === fleet.ids[1]);
    for (const s of switches(1)) {
      expect(s.value.why).toBe("rule");
      const r = ownReadings.find((x) => Math.abs(x.value.up - s.value.since) < 100);
      expect(r, `the reading at up=${s.value.since}`).toBeDefined();
      if (s.value.on) expect(r!.value.temperature).toBeGreaterThan(ON);
      else expect(r!.value.temperature).toBeLessThan(OFF);
    }
    // hysteresis: readings inside the band never switched it
    const band = ownReadings.filter((r) => r.value.temperature >= OFF && r.value.temperature <= ON);
    expect(band.length).toBeGreaterThan(0);
    for (const r of band) expect(switches(1).some((s) => Math.abs(r.value.up - s.value.since) < 100)).toBe(false);
    // the pin of the virtual board is where the last message says
    expect(fleet.boards[1].outputs.get(5)).toBe(outputsOf(1).at(-1)!.value.on ? 1 : 0);
    expect(fleet.stats().outputs).toBe(2);
  }, 70_000);

  it("board 2 follows board 0's room over the link, and fails safe (on) within 3 of its intervals once board 0 stops", async () => {
    // boot state on (safe=on), then the rule
    await until(() => outputsOf(2).some((o) => o.value.why === "rule"), 40_000, () => `board 2 switching by its rule (seen: ${shown(2)})`);
    await until(() => outputsOf(2).at(-1)!.value.on === false, 40_000, () => `board 2 off by its rule in a cool phase (seen: ${shown(2)})`);
    const stoppedAt = Date.now();
    fleet.boards[0].powerOff();
    await until(() => outputsOf(2).at(-1)!.value.why === "failsafe", 15_000, () => `board 2's failsafe (seen: ${shown(2)})`);
    const failsafe = outputsOf(2).at(-1)!;
    expect(failsafe.value.on).toBe(true);
    // 3 intervals of silence (board 0's last reading came up to one interval before it stopped) plus the 1 s check
    expect(failsafe.at - stoppedAt).toBeLessThan((3 * INTERVAL + 2) * 1000);
    expect(failsafe.at - stoppedAt).toBeGreaterThan((2 * INTERVAL - 1) * 1000);
    expect(fleet.boards[2].outputs.get(5)).toBe(1);
    expect(ingest.fleet.get(fleet.ids[2])!.output).toMatchObject({ on: true, why: "failsafe", pin: 5 });
  }, 90_000);
});
