import { describe, expect, it } from "vitest";
import { LastReport, shouldReport } from "../../../firmware/app/reportFilter";
import type { Settings } from "../../../firmware/contract/payloads";

// values in hundredths, as the app hands them over
const every: Settings = { interval: 10, tempOffset: 0, humOffset: 0, tempDelta: 0, humDelta: 0, heartbeat: 0, groups: [], rule: "" };
const onChange: Settings = { ...every, tempDelta: 0.5, humDelta: 2, heartbeat: 300 };
const last: LastReport = { t: 2000, h: 5000, at: 1000 };

describe("shouldReport", () => {
  it("always reports the first reading", () => {
    expect(shouldReport(onChange, undefined, 5000, 2000, 5000, undefined)).toBe(true);
  });
  it("with deltas of 0 reports every reading, failed ones too", () => {
    expect(shouldReport(every, last, 2000, 2000, 5000, undefined)).toBe(true);
    expect(shouldReport(every, { ...last, error: "timeout" }, 2000, NaN, NaN, "timeout")).toBe(true);
  });
  const table: [string, number, number, boolean][] = [
    ["no change", 2000, 5000, false],
    ["temperature +0.49", 2049, 5000, false],
    ["temperature +0.5", 2050, 5000, true],
    ["temperature -0.5", 1950, 5000, true],
    ["humidity +1.99", 2000, 5199, false],
    ["humidity -2", 2000, 4800, true],
  ];
  for (const [name, t, h, want] of table) {
    it(`on change: ${name} -> ${want}`, () => {
      expect(shouldReport(onChange, last, 2000, t, h, undefined)).toBe(want);
    });
  }
  it("takes a delta that is not exact in binary as its hundredths (0.29 -> 29)", () => {
    const s = { ...onChange, tempDelta: 0.29 };
    expect(0.29 * 100).not.toBe(29);
    expect(shouldReport(s, last, 2000, 2029, 5000, undefined)).toBe(true);
    expect(shouldReport(s, last, 2000, 2028, 5000, undefined)).toBe(false);
  });
  it("reports when the error state changes, not when it repeats", () => {
    expect(shouldReport(onChange, last, 2000, NaN, NaN, "checksum")).toBe(true);
    expect(shouldReport(onChange, { ...last, error: "checksum" }, 3000, NaN, NaN, "checksum")).toBe(false);
    expect(shouldReport(onChange, { ...last, error: "checksum" }, 3000, NaN, NaN, "timeout")).toBe(true);
    expect(shouldReport(onChange, { ...last, error: "checksum" }, 3000, 2000, 5000, undefined)).toBe(true);
  });
  it("sends the heartbeat once `heartbeat` seconds passed", () => {
    expect(shouldReport(onChange, last, 1000 + 299_999, 2000, 5000, undefined)).toBe(false);
    expect(shouldReport(onChange, last, 1000 + 300_000, 2000, 5000, undefined)).toBe(true);
    expect(shouldReport(onChange, { ...last, error: "timeout" }, 1000 + 300_000, NaN, NaN, "timeout")).toBe(true);
  });
});
