// The duplicate-id detector on its own, time passed in: each sign alone, the ordinary things that must not
// look like a twin (a reboot, a lease change, buffered readings, one reconnect), and the flag's hold.
import { describe, expect, it } from "vitest";
import { DuplicateIdDetector } from "../../../host/ingest/duplicateId";
import { FleetState } from "../../../host/ingest/deviceState";
import { parseDeviceMessage } from "../../../host/ingest/parseMessage";
import type { DeviceView } from "../../../host/view/deviceView";
import type { DeviceMessage } from "../../../host/ingest/parseMessage";
import type { Info, Reading } from "../../../firmware/contract";

const ID = "sim-dup";
const T0 = 1_764_000_000_000;
const view = () => ({ id: ID }) as DeviceView;
const status = (online: boolean): DeviceMessage => ({ kind: "status", deviceId: ID, online });
const reading = (boot: number, seq: number, ts: number | null): DeviceMessage => ({
  kind: "reading", deviceId: ID, trust: "unsigned", fingerprint: null,
  reading: { v: 1, id: ID, boot, seq, up: seq * 10_000, ts, temperature: 21, humidity: 50 } as Reading,
});
const info = (ip: string | null, dupId?: { n: number; at: number }): DeviceMessage => ({
  kind: "info", deviceId: ID, trust: "unsigned", fingerprint: null,
  info: { v: 1, id: ID, fw: "1", model: "dht22", pin: 4, interval: 10, ip, boot: 1, root: "r", caps: [], dropped: 0, configError: null, ...(dupId ? { dupId } : {}) } as Info,
});

/** feeds [ms after T0, message] pairs to one view; returns the view */
function feed(events: [number, DeviceMessage, boolean?][], d = new DuplicateIdDetector()): DeviceView & { detector: DuplicateIdDetector } {
  const v = view();
  for (const [at, m, retained] of events) d.observe(v, m, T0 + at, !!retained);
  return Object.assign(v, { detector: d });
}

describe("duplicate-id detector", () => {
  it("the board's own report flags at once, with its count and time; the same report again is no new sign", () => {
    const v = feed([[0, info("10.0.0.2", { n: 4, at: T0 - 5000 })]]);
    expect(v.duplicateId).toEqual({ signs: ["device report"], since: T0 - 5000, last: T0 - 5000, report: { n: 4, at: T0 - 5000 }, ips: [], boots: [] });
    // an hour later the report (repeated in every info until the board restarts) has gone stale
    v.detector.observe(v, info("10.0.0.2", { n: 4, at: T0 - 5000 }), T0 + 3_600_000, false);
    expect(v.duplicateId).toBeNull();
    // a new kick (n or at changed) is evidence again
    v.detector.observe(v, info("10.0.0.2", { n: 6, at: T0 + 3_599_000 }), T0 + 3_600_000, false);
    expect(v.duplicateId).toMatchObject({ signs: ["device report"], report: { n: 6 } });
  });

  /** a reading of boot 1 taken `up` ms after the board's power-on, with its clock's ts (or null) */
  const readingAt = (up: number, ts: number | null): DeviceMessage => ({
    kind: "reading", deviceId: ID, trust: "unsigned", fingerprint: null,
    reading: { v: 1, id: ID, boot: 1, seq: Math.floor(up / 10_000), up, ts, temperature: 21, humidity: 50 } as Reading,
  });
  const H3 = 3 * 3_600_000;

  it("a report stamped in ms since boot (clock not set) is dated from the boot's start, which that boot's readings give", () => {
    const v = feed([[1000, info(null, { n: 3, at: 42_000 })]]);
    // nothing to date it by yet
    expect(v.duplicateId).toBeNull();
    // a reading taken 60 s after power-on: the boot began at T0 - 58.5 s, the kick loop was 16.5 s ago
    v.detector.observe(v, readingAt(60_000, null), T0 + 1500, false);
    expect(v.duplicateId).toMatchObject({ signs: ["device report"], since: T0 - 16_500, last: T0 - 16_500, report: { n: 3, at: 42_000 } });
  });

  it("after a host restart an old report in ms since boot does not flag again (the retained info is new only to the host)", () => {
    for (const ts of [T0, null]) {
      // a fresh detector: the host just started; the retained info says the board saw a kick loop 42 s after a
      // boot that its readings date three hours back (by its clock, or by receive time without one)
      const v = feed([[0, info("10.0.0.2", { n: 3, at: 42_000 }), true], [500, readingAt(H3, ts)]]);
      expect(v.duplicateId).toBeNull();
      // its next live info repeats the report: still nothing new
      v.detector.observe(v, info("10.0.0.2", { n: 3, at: 42_000 }), T0 + 60_000, false);
      expect(v.duplicateId).toBeNull();
      // a new kick loop (n changed) ten seconds ago by the board's uptime is evidence again
      v.detector.observe(v, info("10.0.0.2", { n: 5, at: H3 + 50_000 }), T0 + 60_000, false);
      expect(v.duplicateId).toMatchObject({ signs: ["device report"], report: { n: 5 } });
      expect(T0 + 60_000 - v.duplicateId!.last).toBeLessThan(15_000);
    }
  });

  it("status flapping: three sessions in ten minutes that ended within 15 s of their online", () => {
    const events: [number, DeviceMessage][] = [];
    for (let i = 0; i < 3; i++) events.push([i * 60_000, status(true)], [i * 60_000 + 2000, status(i % 2 === 0)]);
    const v = feed(events.slice(0, 5));
    expect(v.duplicateId).toBeNull();
    v.detector.observe(v, events[5][1], T0 + events[5][0], false);
    expect(v.duplicateId).toMatchObject({ signs: ["status flapping"], since: T0 + 122_000 });
  });

  it("no flapping from slow reconnects, retained status, or quick drops spread over more than the window", () => {
    // online, then the will 90 s later (keepalive timeout), five times
    const slow: [number, DeviceMessage][] = [];
    for (let i = 0; i < 5; i++) slow.push([i * 200_000, status(true)], [i * 200_000 + 90_000, status(false)]);
    expect(feed(slow).duplicateId).toBeNull();
    // the retained online at subscribe time, then the live one
    expect(feed([[0, status(true), true], [100, status(true)], [200, status(true), true]]).duplicateId).toBeNull();
    // one quick drop every 6 minutes: never three within 10 minutes
    const spread: [number, DeviceMessage][] = [];
    for (let i = 0; i < 6; i++) spread.push([i * 360_000, status(true)], [i * 360_000 + 1000, status(false)]);
    expect(feed(spread).duplicateId).toBeNull();
  });

  it("interleaved boots: live readings going back to the other boot twice", () => {
    const v = feed([
      [0, reading(3, 10, T0)],
      [1000, reading(7, 50, T0 + 1000)],
      [2000, reading(3, 11, T0 + 2000)], // back once
    ]);
    expect(v.duplicateId).toBeNull();
    v.detector.observe(v, reading(7, 51, T0 + 3000), T0 + 3000, false); // and again
    expect(v.duplicateId).toMatchObject({ signs: ["interleaved boots"], boots: [3, 7] });
  });

  it("a reboot, and readings buffered before it arriving late (old ts) or without ts, are no twin", () => {
    const v = feed([
      [0, reading(3, 10, T0)],
      [10_000, reading(4, 0, T0 + 10_000)],
      // spilled before the reboot, sent after it, interleaved with live ones
      [11_000, reading(3, 11, T0 - 600_000)],
      [12_000, reading(4, 1, T0 + 12_000)],
      [13_000, reading(3, 12, T0 - 590_000)],
      [14_000, reading(4, 2, null)],
      [15_000, reading(3, 13, null)],
      [16_000, reading(4, 3, T0 + 16_000)],
    ]);
    expect(v.duplicateId).toBeNull();
  });

  it("two IPs: info from one address, another, then the first again; a lease change alone is none", () => {
    expect(feed([[0, info("10.0.0.2")], [60_000, info("10.0.0.9")], [120_000, info("10.0.0.9")]]).duplicateId).toBeNull();
    const v = feed([[0, info("10.0.0.2")], [1000, info("10.0.0.9")], [2000, info("10.0.0.2")]]);
    expect(v.duplicateId).toMatchObject({ signs: ["two IPs"], ips: ["10.0.0.9", "10.0.0.2"] });
  });

  it("the flag holds an hour after its latest sign, then clears; several signs are listed together", () => {
    const d = new DuplicateIdDetector();
    const v = feed([[0, info("10.0.0.2")], [1000, info("10.0.0.9")], [2000, info("10.0.0.2", { n: 3, at: T0 + 1500 })]], d);
    expect(v.duplicateId!.signs.sort()).toEqual(["device report", "two IPs"]);
    d.observe(v, reading(1, 1, T0 + 3_000_000), T0 + 3_000_000, false);
    expect(v.duplicateId).not.toBeNull();
    d.observe(v, reading(1, 2, T0 + 3_602_001), T0 + 3_602_001, false);
    expect(v.duplicateId).toBeNull();
  });

  it("options: a shorter window and hold (injected), fewer flaps", () => {
    const d = new DuplicateIdDetector({ windowMs: 10_000, holdMs: 5000, quickMs: 1000, flaps: 2 });
    const v = feed([[0, status(true)], [500, status(true)], [900, status(true)]], d);
    expect(v.duplicateId).toMatchObject({ signs: ["status flapping"] });
    d.observe(v, status(true), T0 + 6000, false);
    expect(v.duplicateId).toBeNull();
  });

  it("a malformed dupId is rejected naming the field, and flags nothing", () => {
    const root = "espdht/t";
    const bad: unknown[] = [
      { n: 0, at: 1 }, { n: -1, at: 1 }, { n: 1.5, at: 1 }, { n: "3", at: 1 }, { n: 3 }, { at: 1 }, { n: 3, at: -1 }, { n: 3, at: 1.5 },
      { n: 3, at: "1764000000000" }, { n: 3, at: 1, extra: 1 }, { n: 2 ** 40, at: 1 }, null, [], 3, "n=3", true,
    ];
    const fleet = new FleetState();
    for (const dupId of bad) {
      const m = { ...(info("10.0.0.2") as { info: Info }).info, root, dupId };
      const out = fleet.apply(parseDeviceMessage(root, `${root}/${ID}/info`, new TextEncoder().encode(JSON.stringify(m)), null), T0);
      expect(out, JSON.stringify(dupId)).toMatchObject({ kind: "rejected", reason: expect.stringContaining("dupId") });
    }
    expect(fleet.get(ID)!.duplicateId ?? null).toBeNull();
    expect(fleet.get(ID)!.rejected.total).toBe(bad.length);
  });

  it("is wired into the fleet state: a view carries duplicateId (null when clean) from its first message", () => {
    const fleet = new FleetState();
    const root = "espdht/t";
    const text = (o: object) => new TextEncoder().encode(JSON.stringify(o));
    const ok = fleet.apply(parseDeviceMessage(root, `${root}/${ID}/status`, new TextEncoder().encode("online"), null), T0);
    expect(ok.kind).toBe("status");
    expect(fleet.get(ID)!.duplicateId).toBeNull();
    const m = (info(null, { n: 5, at: T0 }) as { info: Info }).info;
    const out = fleet.apply(parseDeviceMessage(root, `${root}/${ID}/info`, text({ ...m, root }), null), T0 + 10);
    expect(out.kind).toBe("info");
    expect(fleet.get(ID)!.duplicateId).toMatchObject({ signs: ["device report"], report: { n: 5, at: T0 } });
  });
});
