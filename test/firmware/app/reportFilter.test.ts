import { describe, expect, it } from "vitest";
import { shouldReport } from "../../../firmware/app/reportFilter";
import type { Settings } from "../../../firmware/contract/payloads";

const every: Settings = { interval: 10, tempOffset: 0, humOffset: 0, tempDelta: 0, humDelta: 0, heartbeat: 0 };
const onChange: Settings = { ...every, tempDelta: 0.5, humDelta: 2, heartbeat: 300 };
const last = { t: 20, h: 50, error: null, at: 1000 };

describe("shouldReport", () => {
  it("always reports the first reading", () => {
    expect(shouldReport(onChange, null, 5000, 20, 50, null)).toBe(true);
  });
  it("with deltas of 0 reports every reading, failed ones too", () => {
    expect(shouldReport(every, last, 2000, 20, 50, null)).toBe(true);
    expect(shouldReport(every, { ...last, error: "timeout" }, 2000, 0, 0, "timeout")).toBe(true);
  });
  const table: [string, number, number, boolean][] = [
    ["no change", 20, 50, false],
    ["temperature +0.49", 20.49, 50, false],
    ["temperature +0.5 (exact in hundredths)", 20.5, 50, true],
    ["temperature -0.5", 19.5, 50, true],
    ["humidity +1.99", 20, 51.99, false],
    ["humidity -2", 20, 48, true],
  ];
  for (const [name, t, h, want] of table) {
    it(`on change: ${name} -> ${want}`, () => {
      expect(shouldReport(onChange, last, 2000, t, h, null)).toBe(want);
    });
  }
  it("reports float sums that land on the delta (20.3 -> 20.8)", () => {
    expect(shouldReport(onChange, { ...last, t: 20.3 }, 2000, 20.8, 50, null)).toBe(true);
  });
  it("reports when the error state changes, not when it repeats", () => {
    expect(shouldReport(onChange, last, 2000, 0, 0, "checksum")).toBe(true);
    expect(shouldReport(onChange, { ...last, error: "checksum" }, 3000, 0, 0, "checksum")).toBe(false);
    expect(shouldReport(onChange, { ...last, error: "checksum" }, 3000, 0, 0, "timeout")).toBe(true);
    expect(shouldReport(onChange, { ...last, error: "checksum" }, 3000, 20, 50, null)).toBe(true);
  });
  it("sends the heartbeat once `heartbeat` seconds passed", () => {
    expect(shouldReport(onChange, last, 1000 + 299_999, 20, 50, null)).toBe(false);
    expect(shouldReport(onChange, last, 1000 + 300_000, 20, 50, null)).toBe(true);
    expect(shouldReport(onChange, { ...last, error: "timeout" }, 1000 + 300_000, 0, 0, "timeout")).toBe(true);
  });
});
