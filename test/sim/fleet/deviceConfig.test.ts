// The fleet provisions its boards with flash's builder (plus the simulator's access point when the user has no
// Wi-Fi): a config a board would reject is refused before any board starts; a given config is written as is.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildDeviceConfig, DeviceConfigError } from "../../../provisioning/deviceConfig";
import { fleetDeviceConfig, FleetOptions, startFleet, VIRTUAL_WIFI } from "../../../sim/fleet/fleet";

const base: FleetOptions = {
  broker: "mqtt://127.0.0.1:1883", root: "espdht/fleetcfg", devices: 1, interval: 2, model: "dht22", pin: 4, seed: "cfg", dataDir: null, firmwareFile: "unused",
};

describe("fleetDeviceConfig", () => {
  it("is flash's device config, with the virtual access point when no Wi-Fi is given", () => {
    expect(fleetDeviceConfig(base)).toEqual(buildDeviceConfig({ ...base, username: null, password: null, homeAssistant: false, wifi: VIRTUAL_WIFI }));
    const own = { ssid: "home", password: "secret123" };
    expect(fleetDeviceConfig({ ...base, wifi: own, username: "u", password: "p" })).toMatchObject({ wifi: own, broker: { username: "u", password: "p" } });
  });

  it("returns a given device config as is", () => {
    const given = { interval: 1, colour: "red" };
    expect(fleetDeviceConfig({ ...base, deviceConfig: given })).toBe(given);
  });

  it("refuses, naming the field, a config the boards would reject", async () => {
    expect(() => fleetDeviceConfig({ ...base, broker: "ws://127.0.0.1:8080" })).toThrow(/broker: 'ws:\/\/127\.0\.0\.1:8080': a board speaks mqtt:\/\/ or mqtts:\/\/ only/);
    const firmwareFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "espdht-fleetcfg-")), "firmware.js");
    fs.writeFileSync(firmwareFile, "");
    await expect(startFleet({ ...base, firmwareFile, model: "dht33" as never, log: () => {} })).rejects.toThrow(DeviceConfigError);
    await expect(startFleet({ ...base, firmwareFile, model: "dht33" as never, log: () => {} })).rejects.toThrow(/would reject this config: .*model/);
  });
});
