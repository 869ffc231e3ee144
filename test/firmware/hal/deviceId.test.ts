import { describe, expect, it } from "vitest";
import { deviceIdFromSerial } from "../../../firmware/hal/deviceId";

describe("deviceIdFromSerial", () => {
  it.each([
    ["an ESP32 eFuse MAC", "30aea40b-1c2d", "esp32-30aea40b1c2d"],
    ["a longer eFuse serial (the last 12 hex digits)", "30aea4ff-fe123456", "esp32-a4fffe123456"],
    ["upper-case hex", "30AEA40B-1C2D", "esp32-30aea40b1c2d"],
    ["a virtual board's own id", "sim-0a1b2c3d4e5f", "sim-0a1b2c3d4e5f"],
    ["an id with '_'", "bench_7", "bench_7"],
  ])("%s: %s -> %s", (_what, serial, id) => {
    expect(deviceIdFromSerial(serial)).toBe(id);
  });

  it("treats a serial that is not a valid device id as a MAC", () => {
    expect(deviceIdFromSerial("sim/0a1b2c3d4e5f")).toBe("esp32-0a1b2c3d4e5f");
    expect(deviceIdFromSerial("all")).toBe("esp32-a");
  });
});
