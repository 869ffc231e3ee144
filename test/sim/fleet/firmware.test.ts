// The simulator runs the real dist/firmware.js against real brokers (aedes and Mosquitto): an MQTT.js
// subscriber sees `online`, a retained `info`, valid readings, and `offline` from the will at power-off.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { BROKERS, RunningBroker } from "../../support/brokers";
import { FIRMWARE_OUT } from "../../../tools/buildFirmware";
import { validateInfo, validateReading, Reading } from "../../../firmware/contract";
import { startFleet, Fleet } from "../../../sim/fleet/fleet";
import { record, Recorder } from "./subscriber";

describe.each(BROKERS)("dist/firmware.js on virtual boards, against $name", ({ start }) => {
  let broker: RunningBroker;
  let sub: Recorder;
  let fleet: Fleet;
  const root = "espdht/simtest-" + randomBytes(4).toString("hex");

  beforeAll(async () => {
    broker = await start();
    sub = await record(broker.url, root + "/#");
    fleet = await startFleet({ broker: broker.url, root, devices: 2, interval: 2, model: "dht22", pin: 4, seed: "firmware-test", dataDir: null, firmwareFile: FIRMWARE_OUT, staggerMs: 100, log: () => {} });
  });
  afterAll(async () => {
    await fleet?.stop();
    await sub?.close();
    await broker?.stop();
  });

  it("publishes online, info and valid readings from each board", async () => {
    const readingsOf = (id: string) => sub.messages.filter((m) => m.topic === `${root}/${id}/reading`).map((m) => JSON.parse(m.text) as Reading);
    await sub.until((ms) => fleet.ids.every((id) => ms.filter((m) => m.topic === `${root}/${id}/reading`).length >= 3), 30_000, "3 readings from each board");
    for (const id of fleet.ids) {
      expect(sub.messages.find((m) => m.topic === `${root}/${id}/status`)?.text).toBe("online");
      const info = sub.messages.find((m) => m.topic === `${root}/${id}/info`);
      const v = validateInfo(JSON.parse(info!.text));
      expect(v.ok).toBe(true);
      expect(v.ok && v.value).toMatchObject({ id, model: "dht22", pin: 4, interval: 2, root });
      const readings = readingsOf(id);
      for (const r of readings) {
        expect(validateReading(r)).toEqual({ ok: true, value: r });
        expect(r.id).toBe(id);
        expect("temperature" in r && r.temperature).toBeGreaterThan(5);
      }
      expect(readings.map((r) => r.seq)).toEqual(readings.map((_, i) => readings[0].seq + i));
      // SNTP set the clock after a second or two
      expect(readings[readings.length - 1].ts).toBeGreaterThan(Date.now() - 60_000);
    }
    // the firmware's MQTT client id is the simulated device id
    expect(fleet.boards.map((b) => b.deviceId)).toEqual(fleet.ids);
    // and it switched the unauthenticated telnet console off at boot (docs/espruino.md section 4)
    expect(fleet.boards.map((b) => b.telnet.mode)).toEqual(["off", "off"]);
    expect(fleet.boards.every((b) => b.uncaught === 0)).toBe(true);
  });

  it("leaves info retained for late subscribers", async () => {
    const late = await record(broker.url, `${root}/+/info`);
    try {
      await late.until((ms) => ms.length >= 2, 10_000, "retained info of both boards");
      expect(late.messages.every((m) => m.retain)).toBe(true);
    } finally {
      await late.close();
    }
  });

  it("publishes offline from the will when a board loses power", async () => {
    const id = fleet.ids[0];
    fleet.boards[0].powerOff();
    await sub.until((ms) => ms.some((m) => m.topic === `${root}/${id}/status` && m.text === "offline"), 15_000, "offline from the will");
    // the other board keeps going
    const before = sub.messages.filter((m) => m.topic === `${root}/${fleet.ids[1]}/reading`).length;
    await sub.until((ms) => ms.filter((m) => m.topic === `${root}/${fleet.ids[1]}/reading`).length > before, 10_000, "another reading from board 1");
  });
});
