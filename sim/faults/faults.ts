// Faults a simulator run can inject, from flags or a scenario file: what, when, for how long, on which boards.

export const FAULT_NAMES = ["dht-checksum", "dht-timeout", "dht-stuck", "wifi-drop", "broker-unreachable", "broker-outage", "duplicate-id", "no-sntp"] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

export const FAULT_HELP: Record<FaultName, string> = {
  "dht-checksum": "the sensor answers with a corrupted bit at `rate` (0..1): checksum errors",
  "dht-timeout": "the sensor does not answer the start pulse at `rate` (0..1): timeouts",
  "dht-stuck": "the sensor's values freeze",
  "wifi-drop": "the access point disappears; the firmware must reconnect",
  "broker-unreachable": "the broker stops answering (connections cut, new ones fail)",
  "broker-outage": "a long broker-unreachable: `seconds` of the boards' time, which runs `speed` times faster meanwhile (readings spill to flash)",
  "duplicate-id": "boards share the first listed board's id (needs 2+ devices); they reboot into it and take the broker session from each other until they back off (kick loop)",
  "no-sntp": "SNTP never sets the clock (ts stays null)",
};

export interface FaultEvent {
  /** seconds after the fleet starts */
  at: number;
  fault: FaultName;
  /** how long it lasts; undefined = until the end */
  seconds?: number;
  /** for dht-checksum / dht-timeout */
  rate?: number;
  /** broker-outage: the boards' time runs this many times faster while it lasts (1: real time) */
  speed?: number;
  /** board indexes; undefined = every board */
  devices?: number[];
}

export const RATED_FAULTS: FaultName[] = ["dht-checksum", "dht-timeout"];
