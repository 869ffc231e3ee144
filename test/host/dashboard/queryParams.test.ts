import { describe, expect, it } from "vitest";
import { BadRequest, timeRange } from "../../../host/dashboard/queryParams";
import { RANGES } from "../../../host/view/dashboardData";

const NOW = 1_700_000_000_000;
const q = (s: string) => new URLSearchParams(s);

describe("dashboard query parameters", () => {
  it.each(Object.keys(RANGES))("range=%s ends now", (range) => {
    expect(timeRange(q(`range=${range}`), NOW)).toEqual({ from: NOW - RANGES[range], to: NOW + 1 });
  });

  // inherited Object properties are not ranges: they gave from = NaN (an empty series, a 500 on CSV)
  it.each(["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"])("range=%s is a 400 naming the parameter", (range) => {
    expect(() => timeRange(q(`range=${range}`), NOW)).toThrow(BadRequest);
    expect(() => timeRange(q(`range=${range}`), NOW)).toThrow(/^range: /);
  });
});
