// The fleet status line says what a user needs at a glance: boards, Wi-Fi, MQTT, readings and errors.
import { describe, expect, it } from "vitest";
import { statusText } from "../../../sim/fleet/statusLine";
import type { Fleet, FleetStats } from "../../../sim/fleet/fleet";

function fleetWith(stats: FleetStats): Fleet {
  return { boards: [], ids: [], fingerprints: [], root: "espdht/home", stats: () => stats, stop: async () => {} };
}

describe("status line", () => {
  it("summarises the fleet", () => {
    const s = statusText(fleetWith({ boards: 3, on: 3, wifi: 3, mqtt: 2, readings: 41, errorReadings: 2, uncaught: 0, reboots: 1, loginRefused: 0, kickLoops: 0, backingOff: 0, outputs: 0, outputsOn: 0 }), 0, 3_723_000);
    expect(s).toBe("sim: 3 boards on espdht/home | wifi 3/3 | mqtt 2/3 | readings 41 (2 errors) | reboots 1 | up 01:02:03");
  });

  it("shows uncaught errors when there are any", () => {
    expect(statusText(fleetWith({ boards: 1, on: 1, wifi: 0, mqtt: 0, readings: 0, errorReadings: 0, uncaught: 4, reboots: 0, loginRefused: 0, kickLoops: 0, backingOff: 0, outputs: 0, outputsOn: 0 }), 0, 1000)).toBe(
      "sim: 1 board on espdht/home | wifi 0/1 | mqtt 0/1 | readings 0 | uncaught 4 | up 00:00:01",
    );
  });

  it("says when boards with one id take the session from each other, and how many wait out the longer backoff", () => {
    expect(statusText(fleetWith({ boards: 2, on: 2, wifi: 2, mqtt: 1, readings: 9, errorReadings: 0, uncaught: 0, reboots: 0, loginRefused: 0, kickLoops: 3, backingOff: 1, outputs: 0, outputsOn: 0 }), 0, 1000)).toBe(
      "sim: 2 boards on espdht/home | wifi 2/2 | mqtt 1/2 | readings 9 | duplicate id: 3 sessions taken over, 1 backing off | up 00:00:01",
    );
  });

  it("says when the broker refused boards' logins", () => {
    expect(statusText(fleetWith({ boards: 2, on: 2, wifi: 2, mqtt: 1, readings: 3, errorReadings: 0, uncaught: 0, reboots: 0, loginRefused: 1, kickLoops: 0, backingOff: 0, outputs: 0, outputsOn: 0 }), 0, 1000)).toBe(
      "sim: 2 boards on espdht/home | wifi 2/2 | mqtt 1/2 | readings 3 | login refused 1 (wrong broker username/password?) | up 00:00:01",
    );
  });

  it("counts the output pins the boards drive (thermostat relays) and how many are on", () => {
    expect(statusText(fleetWith({ boards: 2, on: 2, wifi: 2, mqtt: 2, readings: 5, errorReadings: 0, uncaught: 0, reboots: 0, loginRefused: 0, kickLoops: 0, backingOff: 0, outputs: 1, outputsOn: 1 }), 0, 1000)).toBe(
      "sim: 2 boards on espdht/home | wifi 2/2 | mqtt 2/2 | readings 5 | outputs on 1/1 | up 00:00:01",
    );
  });
});
