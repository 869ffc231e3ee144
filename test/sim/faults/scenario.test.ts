// A malformed scenario is refused with an error that names the file, the item and the field.
import { describe, expect, it } from "vitest";
import path from "node:path";
import { parseScenario, readScenario } from "../../../sim/faults/scenario";

describe("scenario files", () => {
  it("accepts the documented shape, with defaults", () => {
    expect(parseScenario('[{"at": 30, "fault": "wifi-drop", "seconds": 20}, {"fault": "dht-checksum", "rate": 0.25, "devices": [1]}, {"at": 5, "fault": "dht-timeout"}]', "s.json", 2)).toEqual([
      { at: 30, fault: "wifi-drop", seconds: 20 },
      { at: 0, fault: "dht-checksum", rate: 0.25, devices: [1] },
      { at: 5, fault: "dht-timeout", rate: 1 },
    ]);
  });

  it("a broker outage: seconds of the boards' time, at a speed (1 by default)", () => {
    expect(parseScenario('[{"at": 20, "fault": "broker-outage", "seconds": 86400, "speed": 2000}, {"fault": "broker-outage", "seconds": 60}]', "s.json", 1)).toEqual([
      { at: 20, fault: "broker-outage", seconds: 86400, speed: 2000 },
      { at: 0, fault: "broker-outage", seconds: 60, speed: 1 },
    ]);
  });

  it("reads the example scenario shipped in sim/scenarios", () => {
    const events = readScenario(path.join(__dirname, "../../../sim/scenarios/flaky-home.json"), 1);
    expect(events.map((e) => e.fault)).toEqual(["dht-checksum", "wifi-drop", "broker-unreachable", "dht-timeout"]);
  });

  it.each([
    ["{", /^s\.json: not valid JSON/],
    ['{"at": 1}', /^s\.json: expected a JSON array/],
    ["[3]", /^s\.json: item 1: must be an object/],
    ['[{"at": 1, "fault": "meteor"}]', /^s\.json: item 1: fault "meteor" is not one of dht-checksum, /],
    ['[{"at": 1, "fault": "wifi-drop"}, {"at": -1, "fault": "wifi-drop"}]', /^s\.json: item 2 \("wifi-drop"\): at must be seconds >= 0$/],
    ['[{"at": 1, "fault": "wifi-drop", "seconds": 0}]', /item 1 \("wifi-drop"\): seconds must be a number > 0/],
    ['[{"fault": "dht-checksum", "rate": 2}]', /item 1 \("dht-checksum"\): rate must be a number 0\.\.1/],
    ['[{"fault": "wifi-drop", "rate": 0.5}]', /item 1 \("wifi-drop"\): rate applies only to dht-checksum and dht-timeout/],
    ['[{"fault": "wifi-drop", "devices": [2]}]', /item 1 \("wifi-drop"\): devices must be a non-empty array of board indexes 0\.\.1/],
    ['[{"fault": "wifi-drop", "secs": 2}]', /item 1 \("wifi-drop"\): unknown field 'secs'/],
    ['[{"fault": "duplicate-id", "devices": [0]}]', /item 1 \("duplicate-id"\): needs at least 2 boards/],
    ['[{"fault": "broker-outage"}]', /item 1 \("broker-outage"\): seconds is needed/],
    ['[{"fault": "broker-outage", "seconds": 60, "speed": 0.5}]', /item 1 \("broker-outage"\): speed must be a number 1\.\.10000/],
    ['[{"fault": "wifi-drop", "speed": 2}]', /item 1 \("wifi-drop"\): speed applies only to broker-outage/],
  ])("refuses %s", (text, message) => {
    expect(() => parseScenario(text, "s.json", 2)).toThrow(message);
  });
});
