// Each injected fault shows up in what the real firmware publishes, and the board recovers when it ends.
// One fleet, one board per fault (board 0 is the control), against aedes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { startAedes, RunningBroker } from "../../support/brokers";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { Reading, validateReading } from "../../../firmware/contract";
import { startFleet, Fleet } from "../../../sim/fleet/fleet";
import { parseScenario } from "../../../sim/faults/scenario";
import { record, Received, Recorder } from "./subscriber";

const SCENARIO = JSON.stringify([
  { at: 0, fault: "dht-checksum", rate: 1, seconds: 8, devices: [1] },
  { at: 0, fault: "dht-timeout", rate: 1, seconds: 8, devices: [2] },
  { at: 5, fault: "wifi-drop", seconds: 8, devices: [3] },
  { at: 5, fault: "broker-unreachable", seconds: 6, devices: [4] },
  { at: 0, fault: "no-sntp", devices: [5] },
  { at: 0, fault: "duplicate-id", devices: [6, 7] },
  { at: 0, fault: "dht-stuck", devices: [8] },
]);

describe("faults on virtual boards running dist/firmware.js", () => {
  let broker: RunningBroker;
  let sub: Recorder;
  let fleet: Fleet;
  const root = "espdht/faulttest-" + randomBytes(4).toString("hex");
  const readings = (i: number): (Reading & { arrived: number })[] =>
    sub.messages.filter((m: Received) => m.topic === `${root}/${fleet.ids[i]}/reading`).map((m) => ({ ...(JSON.parse(m.text) as Reading), arrived: m.at }));
  const good = (r: Reading) => !("error" in r);

  beforeAll(async () => {
    broker = await startAedes();
    sub = await record(broker.url, root + "/#");
    fleet = await startFleet({
      broker: broker.url, root, devices: 9, interval: 2, model: "dht22", pin: 4, seed: "fault-test", dataDir: null, firmwareFile: FIRMWARE_OUT,
      staggerMs: 50, faults: parseScenario(SCENARIO, "scenario", 9), log: () => {},
    });
  });
  afterAll(async () => {
    await fleet?.stop();
    await sub?.close();
    await broker?.stop();
  });

  it("checksum errors become `checksum` readings, then good readings once the fault ends", async () => {
    await sub.until(() => readings(1).some((r) => "error" in r) && readings(1).some((r, i, all) => good(r) && all.slice(0, i).some((p) => "error" in p)), 45_000, "checksum errors then recovery");
    const errors = readings(1).filter((r) => "error" in r);
    expect(errors.every((r) => "error" in r && r.error === "checksum")).toBe(true);
    for (const r of readings(1)) expect(validateReading(r).ok).toBe(true);
  }, 120_000);

  it("an unanswered start pulse becomes `timeout` readings, then good readings", async () => {
    await sub.until(() => readings(2).some((r) => "error" in r) && readings(2).some((r, i, all) => good(r) && all.slice(0, i).some((p) => "error" in p)), 45_000, "timeouts then recovery");
    expect(readings(2).filter((r) => "error" in r).every((r) => "error" in r && r.error === "timeout")).toBe(true);
    expect(fleet.boards[2].spec.dht.stats.silent).toBeGreaterThan(0);
  }, 120_000);

  it("a Wi-Fi drop buffers readings, sent oldest first after the link returns", async () => {
    // readings taken while the AP was gone arrive late, in a burst, in seq order
    await sub.until(() => readings(3).filter((r) => r.ts !== null && r.arrived - r.ts > 4000).length >= 2, 60_000, "buffered readings after the drop");
    await sub.until(() => readings(3).some((r, i) => i > 3 && r.ts !== null && r.arrived - r.ts < 1500), 30_000, "live readings again");
    const seqs = readings(3).map((r) => r.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
    expect(fleet.boards[3].wire.connects).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it("an unreachable broker: readings are kept and delivered after the client reconnects", async () => {
    await sub.until(() => sub.messages.filter((m) => m.topic === `${root}/${fleet.ids[4]}/status` && m.text === "online").length >= 2, 60_000, "a second `online` from board 4");
    await sub.until(() => readings(4).filter((r) => r.ts !== null && r.arrived - r.ts > 3000).length >= 1, 30_000, "late readings from board 4");
    const seqs = readings(4).map((r) => r.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i));
  }, 120_000);

  it("a clock that never syncs leaves ts null", async () => {
    await sub.until(() => readings(5).length >= 3, 30_000, "3 readings from board 5");
    expect(readings(5).every((r) => r.ts === null)).toBe(true);
    expect(readings(0).slice(-1)[0].ts).not.toBeNull();
  }, 120_000);

  it("a duplicate device id: both boards speak as the first one and keep taking the session over", async () => {
    await sub.until(() => fleet.boards[6].wire.connects + fleet.boards[7].wire.connects >= 4, 45_000, "repeated takeovers");
    expect(fleet.boards[7].deviceId).toBe(fleet.ids[6]);
    expect(sub.messages.some((m) => m.topic.includes(fleet.ids[7]))).toBe(false);
  }, 120_000);

  it("a stuck sensor repeats the same values", async () => {
    await sub.until(() => readings(8).filter(good).length >= 4, 30_000, "4 readings from board 8");
    const values = readings(8).filter(good).map((r) => ("temperature" in r ? `${r.temperature}/${r.humidity}` : ""));
    expect(new Set(values).size).toBe(1);
  }, 120_000);

  it("the control board saw none of it", () => {
    expect(readings(0).length).toBeGreaterThan(5);
    expect(readings(0).every(good)).toBe(true);
    expect(fleet.boards.every((b) => b.uncaught === 0)).toBe(true);
  });
});
