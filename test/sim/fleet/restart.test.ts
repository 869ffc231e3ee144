// Storage is the board's flash: the boot counter and the stored config survive a virtual restart (the reset
// button; the `restart` command is refused in the first minute after boot) and a new simulator run on the same
// data folder; a bad --config is flagged.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startAedes, RunningBroker } from "../../support/brokers";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { startFleet, fleetDeviceConfig } from "../../../sim/fleet/fleet";
import { record, Recorder } from "./subscriber";

describe("virtual restart and persistent Storage with dist/firmware.js", () => {
  let broker: RunningBroker;
  let sub: Recorder;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-restart-"));
  const root = "espdht/restarttest";
  const base = { root, devices: 1, interval: 2, model: "dht22" as const, pin: 4, seed: "restart", dataDir, firmwareFile: FIRMWARE_OUT, rebootMs: 200 };

  beforeAll(async () => {
    broker = await startAedes();
    sub = await record(broker.url, root + "/#");
  });
  afterAll(async () => {
    await sub?.close();
    await broker?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const infos = (id: string) => sub.messages.filter((m) => m.topic === `${root}/${id}/info`).map((m) => JSON.parse(m.text));

  it("counts boots across a reset and across simulator runs", async () => {
    let fleet = await startFleet({ ...base, broker: broker.url, log: () => {} });
    const id = fleet.ids[0];
    try {
      await sub.until(() => infos(id).length >= 1, 15_000, "info");
      const firstBoot = infos(id)[0].boot;
      // a restart this soon after boot is refused, so a redelivered one cannot loop the board
      sub.client.publish(`${root}/${id}/cmd`, JSON.stringify({ id: "r1", op: "restart" }), { qos: 1 });
      await sub.until((ms) => ms.some((m) => m.topic === `${root}/${id}/reply` && JSON.parse(m.text).re === "r1"), 15_000, "the restart reply");
      expect(JSON.parse(sub.messages.find((m) => m.topic === `${root}/${id}/reply`)!.text)).toMatchObject({ re: "r1", ok: false });
      expect(fleet.boards[0].boots).toBe(1);
      fleet.boards[0].reboot();
      await sub.until(() => infos(id).some((i) => i.boot === firstBoot + 1), 20_000, "info after the reset");
      expect(fleet.boards[0].boots).toBe(2);
      await fleet.stop();
      // a new run on the same data folder finds the same flash
      fleet = await startFleet({ ...base, broker: broker.url, log: () => {} });
      await sub.until(() => infos(id).some((i) => i.boot === firstBoot + 2), 20_000, "info from the next run");
      expect(fs.existsSync(path.join(dataDir, "sim", `${id}.storage.json`))).toBe(true);
      await fleet.stop();
      // --fresh: a wiped flash counts from the first boot again
      const before = infos(id).length;
      fleet = await startFleet({ ...base, broker: broker.url, freshStorage: true, log: () => {} });
      await sub.until(() => infos(id).length > before, 20_000, "info from the fresh run");
      expect(infos(id)[infos(id).length - 1].boot).toBe(1);
    } finally {
      await fleet.stop();
    }
  }, 90_000);

  it("writes --config as is and warns when the firmware will reject it", async () => {
    const logs: string[] = [];
    const cfg = { ...fleetDeviceConfig({ ...base, broker: broker.url }), interval: 1 };
    const fleet = await startFleet({ ...base, seed: "badconfig", broker: broker.url, deviceConfig: cfg, log: (l) => logs.push(l) });
    try {
      expect(logs.join("\n")).toContain("the boards will reject this device config and use defaults: interval must be 2..86400 seconds");
      expect(JSON.parse(fleet.boards[0].spec.flash.get("espdht.json")!.toString("latin1"))).toEqual(cfg);
    } finally {
      await fleet.stop();
    }
  });
});
