import { describe, expect, it } from "vitest";
import { FleetState, MAX_RECENT_REJECTIONS } from "../../../host/ingest/deviceState";
import { deviceHealth } from "../../../host/view/deviceView";
import { parseDeviceMessage } from "../../../host/ingest/parseMessage";
import { Reading } from "../../../firmware/contract";

const ROOT = "espdht/test";
const enc = (s: string) => new TextEncoder().encode(s);

function reading(seq: number, boot = 1, extra: Partial<Record<string, unknown>> = {}): Reading {
  return { v: 1, id: "sim-a", boot, seq, up: seq * 1000, ts: null, temperature: 20 + seq / 10, humidity: 50, ...extra } as Reading;
}
function feed(state: FleetState, r: object, now: number, id = "sim-a") {
  return state.apply(parseDeviceMessage(ROOT, `${ROOT}/${id}/reading`, enc(JSON.stringify(r))), now);
}

describe("FleetState readings", () => {
  it("counts gaps, duplicates, late arrivals and restarts", () => {
    const s = new FleetState();
    for (const seq of [1, 2, 3]) feed(s, reading(seq), 1000 + seq);
    expect(s.get("sim-a")).toMatchObject({ gaps: 0, duplicates: 0, restarts: 0, seq: 3, readings: 3, boot: 1 });

    const gap = feed(s, reading(7), 2000);
    expect(gap).toMatchObject({ kind: "reading", verdict: { gap: 3, duplicate: false } });
    expect(s.get("sim-a")!.gaps).toBe(3);

    const dup = feed(s, reading(7), 2001);
    expect(dup).toMatchObject({ verdict: { duplicate: true } });
    expect(s.get("sim-a")).toMatchObject({ duplicates: 1, readings: 4 });

    feed(s, reading(5), 2002); // late arrival fills one gap, does not move the latest reading
    expect(s.get("sim-a")).toMatchObject({ gaps: 2, late: 1, seq: 7, readings: 5 });
    expect(s.get("sim-a")!.lastReading!.seq).toBe(7);
    expect(feed(s, reading(5), 2003)).toMatchObject({ verdict: { duplicate: true } });

    const restart = feed(s, reading(0, 2), 3000);
    expect(restart).toMatchObject({ verdict: { restart: true, gap: 0 } });
    expect(s.get("sim-a")).toMatchObject({ restarts: 1, boot: 2, seq: 0 });
    // seq 7 of the new boot is new, not a duplicate of boot 1's seq 7
    expect(feed(s, reading(1, 2), 3001)).toMatchObject({ verdict: { duplicate: false, gap: 0 } });
    // a reading from the earlier boot arriving late is accepted but does not restart again
    expect(feed(s, reading(8, 1), 3002)).toMatchObject({ verdict: { restart: false, duplicate: false } });
    expect(s.get("sim-a")).toMatchObject({ restarts: 1, boot: 2, seq: 1 });
  });

  it("counts read errors by type and keeps the last good values", () => {
    const s = new FleetState();
    feed(s, reading(1), 10);
    feed(s, { v: 1, id: "sim-a", boot: 1, seq: 2, up: 1, ts: null, error: "checksum" }, 20);
    feed(s, { v: 1, id: "sim-a", boot: 1, seq: 3, up: 1, ts: 25, error: "timeout" }, 30); // a ts after now would be refused as from the future
    feed(s, { v: 1, id: "sim-a", boot: 1, seq: 4, up: 1, ts: null, error: "checksum" }, 40);
    const d = s.get("sim-a")!;
    expect(d.errors).toEqual({ checksum: 2, timeout: 1, range: 0 });
    expect(d.lastGood).toEqual({ t: 10, temperature: 20.1, humidity: 50 });
    expect(d.lastReading).toMatchObject({ seq: 4, error: "checksum" });
    expect(d.lastSeen).toBe(40);
  });

  it("a new boot in info counts one restart, not another when its readings follow", () => {
    const s = new FleetState();
    feed(s, reading(5), 1);
    const info = { v: 1, id: "sim-a", fw: "0.1.0", model: "dht22", pin: 4, interval: 10, ip: null, boot: 2, root: ROOT, caps: [], dropped: 0, configError: null };
    s.apply(parseDeviceMessage(ROOT, `${ROOT}/sim-a/info`, enc(JSON.stringify(info))), 2, true);
    feed(s, reading(0, 2), 3);
    expect(s.get("sim-a")).toMatchObject({ restarts: 1, boot: 2, info: { fw: "0.1.0" } });
  });
});

describe("FleetState status and health", () => {
  it("tracks online/offline and tells stale devices", () => {
    const s = new FleetState();
    s.apply(parseDeviceMessage(ROOT, `${ROOT}/sim-a/status`, enc("online")), 1000);
    expect(deviceHealth(s.get("sim-a")!, 1000)).toBe("online");
    expect(deviceHealth(s.get("sim-a")!, 1000 + 31_000)).toBe("stale");
    s.apply(parseDeviceMessage(ROOT, `${ROOT}/sim-a/status`, enc("offline")), 50_000);
    expect(deviceHealth(s.get("sim-a")!, 50_000)).toBe("offline");
  });

  it("a retained status does not count as seen now", () => {
    const s = new FleetState();
    s.apply(parseDeviceMessage(ROOT, `${ROOT}/sim-a/status`, enc("offline")), 1000, true);
    expect(s.get("sim-a")).toMatchObject({ online: false, lastSeen: null });
  });
});

describe("FleetState rejections", () => {
  const badPayloads: [string, string][] = [
    ["invalid JSON", "{{"],
    ["wrong types", JSON.stringify({ v: 1, id: "sim-a", boot: "1", seq: 1, up: 1, ts: null, temperature: 1, humidity: 1 })],
    ["NaN", '{"v":1,"id":"sim-a","boot":1,"seq":1,"up":1,"ts":null,"temperature":NaN,"humidity":1}'],
    ["oversized", "x".repeat(5000)],
    ["null", "null"],
    ["number", "42"],
    ["deeply nested", "[".repeat(3000) + "]".repeat(3000)],
  ];

  it("rejects each bad payload with a reason and still accepts good readings after", () => {
    const s = new FleetState();
    let now = 0;
    for (const [name, payload] of badPayloads) {
      const out = s.apply(parseDeviceMessage(ROOT, `${ROOT}/sim-a/reading`, enc(payload)), ++now);
      expect(out.kind, name).toBe("rejected");
    }
    const unknown = s.apply(parseDeviceMessage(ROOT, `${ROOT}/sim-a/bogus`, enc("1")), ++now);
    expect(unknown).toMatchObject({ kind: "rejected", device: null, reason: "unknown topic" });
    expect(s.unattributed.total).toBe(1);

    const d = s.get("sim-a")!;
    expect(d.rejected.total).toBe(badPayloads.length);
    expect(d.rejected.byReason["reading: invalid JSON"]).toBe(2);
    expect(d.rejected.recent.map((r) => r.reason)).toContain("reading: boot must be a non-negative integer");
    expect(d.readings).toBe(0);

    expect(feed(s, reading(1), ++now)).toMatchObject({ kind: "reading", verdict: { accepted: true } });
    expect(s.get("sim-a")!.readings).toBe(1);
  });

  it("keeps the rejection log bounded", () => {
    const s = new FleetState();
    for (let i = 0; i < 500; i++) s.reject("sim-a", `${ROOT}/sim-a/reading`, `reason ${i}`, i);
    const log = s.get("sim-a")!.rejected;
    expect(log.total).toBe(500);
    expect(log.recent).toHaveLength(MAX_RECENT_REJECTIONS);
    expect(log.recent.at(-1)!.reason).toBe("reason 499");
    expect(Object.keys(log.byReason).length).toBeLessThanOrEqual(33);
    expect(log.byReason.other).toBe(500 - 32);
  });

  it("keeps unproven devices in a bounded table, evicting the least recently seen", () => {
    const s = new FleetState({ maxNewcomers: 2, admission: { perSecond: 1000, burst: 1000 } });
    const status = (id: string, now: number) => s.apply(parseDeviceMessage(ROOT, `${ROOT}/${id}/status`, enc("online")), now);
    status("d1", 1);
    status("d2", 2);
    status("d1", 3); // d1 seen again: d2 is now the oldest
    status("d3", 4);
    expect(s.list().map((d) => d.id)).toEqual(["d1", "d3"]);
    expect(s.flood()).toMatchObject({ newcomers: 2, established: 0, evicted: 1, admitted: 3 });
  });
});
