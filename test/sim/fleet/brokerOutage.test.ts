// A day offline, shortened: a virtual board running dist/firmware.js loses its broker for 6 hours of its own time
// (its clock, timers and sensor run 1,000 times faster while the broker is unreachable; the broker and the
// subscriber are real and run in real time). Afterwards a real MQTT subscriber receives every reading: none
// missing, none twice, each with its original boot and seq; then the same with a reboot in the middle. The broker is
// Mosquitto without persistence and with max_queued_messages 0 (no queue limit to drop from), so what the subscriber
// misses is lost by the board, not by the broker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startMosquitto, RunningBroker } from "../../support/brokers";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { defaultDeviceConfig } from "../../../firmware/contract/deviceConfig";
import { startFleet } from "../../../sim/fleet/fleet";
import type { VirtualBoard } from "../../../sim/board/board";
import { record, Recorder } from "./subscriber";

const SPEED = 1000;
const HOUR_US = 3600e6;

/** runs the board `hours` of its own time ahead while the broker is unreachable */
async function offline(board: VirtualBoard, hours: number, midway?: () => void): Promise<void> {
  const tick = () => new Promise((r) => setTimeout(r, 20));
  let until = board.clock.micros() + hours * HOUR_US;
  if (midway) {
    const half = board.clock.micros() + (hours / 2) * HOUR_US;
    while (board.clock.micros() < half) await tick();
    midway();
    // a reboot starts the board's clock from zero: the rest of the outage counts from its power-on
    while (board.state !== "on") await tick();
    until = board.clock.micros() + (hours / 2) * HOUR_US;
  }
  while (board.clock.micros() < until) await tick();
}

describe("a long broker outage: readings spill to flash and all arrive afterwards", () => {
  let broker: RunningBroker;
  let sub: Recorder;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-outage-"));
  const root = "espdht/outagetest";
  const base = { root, devices: 1, interval: 10, model: "dht22" as const, pin: 4, dataDir, firmwareFile: FIRMWARE_OUT, rebootMs: 200, keys: false };

  beforeAll(async () => {
    broker = await startMosquitto(["persistence false", "max_queued_messages 0"]);
    sub = await record(broker.url, root + "/#");
  });
  afterAll(async () => {
    await sub?.close();
    await broker?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const readings = (id: string) =>
    sub.messages.filter((m) => m.topic === `${root}/${id}/reading`).map((m) => JSON.parse(m.text) as { boot: number; seq: number; ts: number | null });
  const infos = (id: string) => sub.messages.filter((m) => m.topic === `${root}/${id}/info`).map((m) => JSON.parse(m.text));

  /** `reboot` false: the fleet's own broker-outage fault (what --broker-outage 15:21600x1000 does); true: by hand, with a reboot */
  async function run(seed: string, reboot: boolean) {
    const faults = reboot ? [] : [{ at: 15, fault: "broker-outage" as const, seconds: 6 * 3600, speed: SPEED }];
    const fleet = await startFleet({ ...base, seed, broker: broker.url, faults, log: () => {} });
    const board = fleet.boards[0];
    const id = fleet.ids[0];
    try {
      await sub.until(() => readings(id).length >= 2, 30_000, "the first readings");
      if (!reboot) {
        // the fault starts 15 s after power-on and lasts 6 hours of the board's time (21.6 s)
        while (board.clock.speed === 1) await new Promise((r) => setTimeout(r, 20));
        const flashWrites = await new Promise<number>((resolve) => {
          const poll = setInterval(() => {
            if (board.clock.speed !== 1) return;
            clearInterval(poll);
            resolve(board.spec.flash.writes);
          }, 5);
        });
        return await collect(id, board, flashWrites, 0, 0);
      }
      board.setBrokerReachable(false);
      board.setSpeed(SPEED);
      // the readings in RAM when the board reboots are lost with its power; what went to flash is not
      let takenBefore = 0;
      let bootBefore = 0;
      await offline(board, 6, reboot ? () => {
        const spilledFiles = board.spec.flash.names().filter((n) => n.startsWith("espdht.sp")).length;
        expect(spilledFiles).toBeGreaterThan(0);
        bootBefore = board.boots;
        takenBefore = board.spec.dht.stats.answered;
        board.reboot();
      } : undefined);
      const flashWrites = board.spec.flash.writes;
      // the broker comes back while the board's time still runs fast: its reconnect backoff (up to 5 minutes of
      // its time) ends at once; from its CONNECT on, real time again
      board.setBrokerReachable(true);
      while (!board.wire.connected) await new Promise((r) => setTimeout(r, 5));
      board.setSpeed(1);
      return await collect(id, board, flashWrites, takenBefore, bootBefore);
    } finally {
      await fleet.stop();
    }
  }

  async function collect(id: string, board: VirtualBoard, flashWrites: number, takenBefore: number, bootBefore: number) {
    {
      const bootOf = (r: { boot: number }) => r.boot;
      // taken: every seq up to the newest of each boot; received: each (boot, seq) once
      // done when each boot's seqs are complete up to its newest, and the newest boot has readings after the outage
      await sub.until(() => {
        const rs = readings(id);
        const boots = [...new Set(rs.map(bootOf))];
        return rs.length > 1400 && boots.every((b) => {
          const seqs = rs.filter((r) => r.boot === b).map((r) => r.seq);
          return new Set(seqs).size === Math.max(...seqs) + 1;
        });
      }, 120_000, "every reading after the outage").catch((e) => console.log(String(e).slice(0, 300)));
      await new Promise((r) => setTimeout(r, 2000));
      const diag = readings(id);
      for (const b of [...new Set(diag.map(bootOf))]) {
        const seqs = diag.filter((r) => r.boot === b).map((r) => r.seq);
        const have = new Set(seqs);
        const max = Math.max(...seqs);
        const missing = [];
        for (let i = 0; i <= max; i++) if (!have.has(i)) missing.push(i);
        console.log(`boot ${b}: ${seqs.length} received, max seq ${max}, missing ${missing.length} ${missing.slice(0, 10).join(",")}...${missing.slice(-5).join(",")}; board boots ${board.boots}; dht answered ${board.spec.dht.stats.answered}; flash ${board.spec.flash.names().join("|")}`);
      }
      // the board keeps reading (every 10 s, published within ms): count at a moment its newest reading has arrived
      const newestBootCount = () => { const all = readings(id); const b = Math.max(...all.map(bootOf)); return all.filter((r) => r.boot === b).length; };
      await sub.until(() => newestBootCount() === board.spec.dht.stats.answered - takenBefore, 15_000, "the newest reading").catch(() => {});
      const rs = readings(id);
      const keys = rs.map((r) => r.boot + "/" + r.seq);
      const boots = [...new Set(rs.map(bootOf))].sort((a, b) => a - b);
      const perBoot = boots.map((b) => rs.filter((r) => r.boot === b).map((r) => r.seq).sort((x, y) => x - y));
      const info = infos(id)[infos(id).length - 1];
      return { rs, keys, boots, perBoot, info, flashWrites, takenBefore, taken: board.spec.dht.stats.answered, bootBefore, board };
    }
  }

  it("6 hours offline (the broker-outage fault): every reading arrives once, the flash files removed", async () => {
    const r = await run("outage6h", false);
    expect(r.boots.length).toBe(1);
    const seqs = r.perBoot[0];
    // 6 hours at 10 s: up to 2,160 readings (each late timer, 1 ms of real time, costs the board a second at x1000:
    // fewer on a busy machine), all of them
    expect(seqs.length).toBeGreaterThan(1700);
    expect(seqs).toEqual([...Array(seqs.length).keys()]);
    expect(new Set(r.keys).size).toBe(r.keys.length);
    expect(r.info).toMatchObject({ dropped: 0, flashFull: 0 });
    // one flash write per 16 readings (and a short block where the RAM ring wraps)
    expect(r.flashWrites).toBeLessThan(seqs.length / 12);
    expect(r.board.spec.flash.names().filter((n) => n.startsWith("espdht.sp"))).toEqual([]);
    expect(seqs.length).toBe(r.taken);
    console.log(`outage 6 h: taken ${r.taken}, received ${r.keys.length} (${new Set(r.keys).size} distinct), flash writes ${r.flashWrites}`);
  }, 180_000);

  it("6 hours offline with a reboot in the middle: what was spilled arrives with its original boot and seq", async () => {
    const r = await run("outage6hreboot", true);
    expect(r.boots.length).toBe(2);
    const [before, after] = r.perBoot;
    // the boot before the reboot: everything up to what went to flash, with no gap (the RAM buffer's last readings, at most 48, died with the power)
    expect(before).toEqual([...Array(before.length).keys()]);
    expect(before.length).toBeGreaterThan(700);
    expect(after).toEqual([...Array(after.length).keys()]);
    expect(after.length).toBeGreaterThan(700);
    expect(r.bootBefore).toBe(r.boots[0]);
    expect(new Set(r.keys).size).toBe(r.keys.length);
    expect(r.board.spec.flash.names().filter((n) => n.startsWith("espdht.sp"))).toEqual([]);
    // every reading of the second boot; of the first, all but what was in RAM at the reboot (at most the RAM buffer)
    expect(after.length).toBe(r.taken - r.takenBefore);
    const lost = r.takenBefore - before.length;
    expect(lost).toBeLessThanOrEqual(defaultDeviceConfig().bufferSize);
    console.log(`outage 6 h + reboot: taken ${r.taken} (boot ${r.boots[0]}: ${r.takenBefore}), received ${r.keys.length}, lost at the reboot (RAM) ${lost}, duplicates ${r.keys.length - new Set(r.keys).size}, flash writes ${r.flashWrites}`);
  }, 180_000);
});
