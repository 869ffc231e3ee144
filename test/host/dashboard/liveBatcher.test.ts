import { describe, expect, it } from "vitest";
import { FleetState } from "../../../host/ingest/deviceState";
import { LiveBatcher, MAX_DEVICES_PER_BATCH, MAX_POINTS_PER_BATCH, MAX_POINTS_TOTAL } from "../../../host/dashboard/liveBatcher";
import { pointsParam, timeRange, BadRequest } from "../../../host/dashboard/queryParams";
import { Reading } from "../../../firmware/contract";

function reading(seq: number, ts: number | null): Reading {
  return { v: 1, id: "sim-a", boot: 1, seq, up: seq, ts, temperature: 20, humidity: 50 };
}

describe("LiveBatcher", () => {
  it("hands out one batch per tick with the changed devices and their new points", () => {
    const fleet = new FleetState();
    const b = new LiveBatcher(fleet.unattributed);
    expect(b.take(0)).toBeNull();
    const device = { id: "sim-a" } as never; // only the id matters to the batcher
    b.add({ kind: "reading", device, reading: reading(1, 1000), receivedAt: 1500, trust: "unsigned" });
    b.add({ kind: "reading", device, reading: reading(2, null), receivedAt: 2500, trust: "unsigned" });
    b.add({ kind: "reading", device, reading: { v: 1, id: "sim-a", boot: 1, seq: 3, up: 3, ts: null, error: "checksum" }, receivedAt: 3500, trust: "unsigned" });
    b.add({ kind: "connection", connected: false });
    const batch = b.take(4000)!;
    expect(batch.devices).toHaveLength(1);
    expect(batch.points["sim-a"]).toEqual([[1000, 20, 50], [2500, 20, 50], [3500, null, null]]);
    expect(batch.connected).toBe(false);
    expect(b.take(4300)).toBeNull();
  });

  it("keeps at most MAX_POINTS_PER_BATCH points per device per batch", () => {
    const b = new LiveBatcher(new FleetState().unattributed);
    const device = { id: "sim-a" } as never;
    for (let i = 0; i < MAX_POINTS_PER_BATCH + 100; i++) b.add({ kind: "reading", device, reading: reading(i, 1000 + i), receivedAt: 0, trust: "unsigned" });
    const pts = b.take(0)!.points["sim-a"];
    expect(pts).toHaveLength(MAX_POINTS_PER_BATCH);
    expect(pts[0][0]).toBe(1100); // the newest are kept
    expect(b.dropped).toBe(100);
  });
});

describe("LiveBatcher bounds", () => {
  it("carries at most MAX_DEVICES_PER_BATCH devices; the rest follow in the next batches", () => {
    const b = new LiveBatcher(new FleetState().unattributed);
    for (let i = 0; i < MAX_DEVICES_PER_BATCH * 2 + 10; i++) b.add({ kind: "device", device: { id: `d${i}` } as never });
    const first = b.take(0)!;
    expect(first.devices).toHaveLength(MAX_DEVICES_PER_BATCH);
    expect(first.moreDevices).toBe(MAX_DEVICES_PER_BATCH + 10);
    expect(b.take(1)!.devices).toHaveLength(MAX_DEVICES_PER_BATCH);
    const last = b.take(2)!;
    expect(last.devices.map((d) => d.id)).toEqual(Array.from({ length: 10 }, (_, i) => `d${MAX_DEVICES_PER_BATCH * 2 + i}`));
    expect(last.moreDevices).toBeUndefined();
    expect(b.take(3)).toBeNull();
  });

  it("keeps at most MAX_POINTS_TOTAL points in all per batch", () => {
    const b = new LiveBatcher(new FleetState().unattributed);
    const devices = MAX_POINTS_TOTAL / 100 + 50;
    for (let seq = 0; seq < 100; seq++) {
      for (let d = 0; d < devices; d++) b.add({ kind: "reading", device: { id: `d${d}` } as never, reading: reading(seq, 1000 + seq), receivedAt: 0, trust: "unsigned" });
    }
    const batch = b.take(0)!;
    const points = Object.values(batch.points).reduce((n, p) => n + p.length, 0);
    expect(points).toBeLessThanOrEqual(MAX_POINTS_TOTAL);
    expect(b.dropped).toBe(devices * 100 - points);
  });

  it("adds the flood and live-connection counts when they change, and only then", () => {
    let refused = 0;
    const fleet = new FleetState();
    const live = { clients: 1, maxClients: 32, refused: 0, cutOff: 0, maxBacklogBytes: 1 };
    const b = new LiveBatcher(fleet.unattributed, () => ({ flood: { ...fleet.flood(), refused }, live }));
    expect(b.take(0)!.flood).toMatchObject({ refused: 0 });
    expect(b.take(1)).toBeNull();
    refused = 5;
    expect(b.take(2)!.flood).toMatchObject({ refused: 5 });
  });
});

describe("query parameters", () => {
  const q = (s: string) => new URLSearchParams(s);
  it("turns ranges and from/to into a time range", () => {
    expect(timeRange(q("range=1h"), 10_000_000)).toEqual({ from: 10_000_000 - 3_600_000, to: 10_000_001 });
    expect(timeRange(q("from=5&to=9"), 0)).toEqual({ from: 5, to: 9 });
    expect(pointsParam(q(""))).toBe(600);
    expect(pointsParam(q("points=100"))).toBe(100);
  });
  it.each([
    ["range=1y", "range: '1y' is not one of"],
    ["from=1.5&to=3", "from: '1.5' is not a whole number"],
    ["from=-1&to=3", "from: -1 is out of range"],
    ["from=1&to=100000000000000", "spans more than 400 days"],
  ])("rejects %s", (s, message) => {
    expect(() => timeRange(q(s), 0)).toThrow(BadRequest);
    expect(() => timeRange(q(s), 0)).toThrow(message);
  });
});
