import { describe, expect, it } from "vitest";
import { BOOT_COUNT_FILE } from "../../../firmware/contract/deviceConfig";
import { bootFake, ID } from "./harness";

describe("bootDevice", () => {
  it("takes the id from the HAL and builds the device's topics under the configured root", () => {
    const s = bootFake({ root: "espdht/home1" });
    expect(s.device.id).toBe(ID);
    expect(s.device.topic_("status")).toBe(`espdht/home1/${ID}/status`);
    expect(s.device.topic_("reply")).toBe(`espdht/home1/${ID}/reply`);
  });

  it("counts the boot and switches telnet as configured", () => {
    const s = bootFake({ telnet: true });
    expect(s.device.boot).toBe(1);
    expect(s.storage.readJSON(BOOT_COUNT_FILE)).toBe(1);
    expect(s.board.telnet).toEqual(["on"]);
    expect(s.device.configError).toBeNull();
  });

  it("falls back to the defaults on an invalid config and keeps why", () => {
    const s = bootFake({ telnet: true, interval: 1 });
    expect(s.device.config.interval).toBe(10);
    expect(s.board.telnet).toEqual(["off"]);
    expect(s.device.configError).toContain("interval must be 2..86400");
  });
});
