// Duplicate device ids (two boards with one id, so the broker hands their session back and forth): flagged from
// what the host sees of a device. Pure (time is passed in); its state hangs off each DeviceView in a WeakMap, so it
// lives exactly as long as the fleet state keeps the device. Signs, each counted within `windowMs`:
//   device report      info carries dupId (the board saw the broker end its fresh sessions: firmware/mqtt/client.ts),
//                      dated by the board: its Unix ms, or ms since its boot placed on the boot's start, which the
//                      host learns from that boot's readings (ts - up, or receive time - up without a clock). So a
//                      host restart, which makes every retained info new to it, does not bring an old report back.
//   status flapping    a live status message within `quickMs` of a live `online`, `flaps` times
//   interleaved boots  live readings (ts within `liveMs` of now) whose boot goes back to the one before, twice
//   two IPs            info from an address, then another, then the first again
// A flag stands while any sign is younger than `holdMs`.
import type { DeviceView, DuplicateIdFlag, DuplicateIdSign } from "../view/deviceView";
import type { DeviceMessage } from "./parseMessage";

export interface DuplicateIdOptions {
  /** how far back flaps and switch-backs are counted (default 10 min) */
  windowMs?: number;
  /** how long a flag stands after its latest sign (default 1 h) */
  holdMs?: number;
  /** a session the host saw end this soon after its `online` is a flap (default 15 s) */
  quickMs?: number;
  /** flaps within the window that make a sign (default 3) */
  flaps?: number;
  /** a reading is live when its ts is this close to the host's clock (default 60 s); others may be buffered ones */
  liveMs?: number;
}

/** a board's time at or above this (2020) is Unix ms; below, ms since its boot */
const UNIX_2020_MS = 1.577e12;

/** Remembered events, newest last: at most this many per kind. */
const KEEP = 8;

interface DeviceSigns {
  onlineAt: number | null;
  flaps: number[];
  /** the last two distinct boots of live readings, latest last */
  boots: number[];
  bootBacks: number[];
  ips: string[];
  ipBacks: number[];
  report: { n: number; at: number } | null;
  /** a report in ms since boot, waiting for a reading of that boot to date it */
  pending: { boot: number; at: number } | null;
  /** the newest boot's start (ms), the earliest its readings put it at */
  bootStart: { boot: number; at: number } | null;
  /** latest evidence per sign (receive time, or the board's own Unix time for its report) */
  seen: Partial<Record<DuplicateIdSign, number>>;
  since: number | null;
}

/** `to` after `at`, keeping the last two distinct values: true when `to` was the one before (a switch back). */
function switchBack<T>(pair: T[], to: T): boolean {
  if (pair.length && pair[pair.length - 1] === to) return false;
  const back = pair.length === 2 && pair[0] === to;
  pair.push(to);
  if (pair.length > 2) pair.shift();
  return back;
}

function note(times: number[], now: number, windowMs: number): number {
  times.push(now);
  while (times.length > KEEP || (times.length && now - times[0] > windowMs)) times.shift();
  return times.length;
}

export class DuplicateIdDetector {
  private readonly signs = new WeakMap<DeviceView, DeviceSigns>();
  private readonly windowMs: number;
  private readonly holdMs: number;
  private readonly quickMs: number;
  private readonly flaps: number;
  private readonly liveMs: number;

  constructor(o: DuplicateIdOptions = {}) {
    this.windowMs = o.windowMs ?? 600_000;
    this.holdMs = o.holdMs ?? 3_600_000;
    this.quickMs = o.quickMs ?? 15_000;
    this.flaps = o.flaps ?? 3;
    this.liveMs = o.liveMs ?? 60_000;
  }

  /** Looks at one accepted message of `v`'s device, received at `now`, and sets `v.duplicateId`. */
  observe(v: DeviceView, msg: DeviceMessage, now: number, retained: boolean): void {
    let s = this.signs.get(v);
    if (!s) {
      s = { onlineAt: null, flaps: [], boots: [], bootBacks: [], ips: [], ipBacks: [], report: null, pending: null, bootStart: null, seen: {}, since: null };
      this.signs.set(v, s);
    }
    const saw = (sign: DuplicateIdSign, at: number) => {
      s!.seen[sign] = Math.max(s!.seen[sign] ?? 0, at);
      if (s!.since === null) s!.since = at;
    };
    // a retained message is history, not a change seen now
    if (msg.kind === "status" && !retained) {
      if (s.onlineAt !== null && now - s.onlineAt <= this.quickMs && note(s.flaps, now, this.windowMs) >= this.flaps) saw("status flapping", now);
      s.onlineAt = msg.online ? now : null;
    } else if (msg.kind === "reading") {
      const r = msg.reading;
      // late readings (buffered, or without a clock) put the start later than it was: the earliest estimate wins
      const start = (r.ts ?? now) - r.up;
      const b = s.bootStart;
      if (!b || r.boot > b.boot) s.bootStart = { boot: r.boot, at: start };
      else if (r.boot === b.boot) b.at = Math.min(b.at, start);
      if (!retained && r.ts !== null && Math.abs(now - r.ts) <= this.liveMs && switchBack(s.boots, r.boot) && note(s.bootBacks, now, this.windowMs) >= 2) saw("interleaved boots", now);
    } else if (msg.kind === "info") {
      const info = msg.info;
      if (info.ip && switchBack(s.ips, info.ip) && note(s.ipBacks, now, this.windowMs) >= 1) saw("two IPs", now);
      const d = info.dupId;
      // the same report again (every info repeats it until the board restarts) is no new evidence
      if (d && !(s.report && s.report.n === d.n && s.report.at === d.at)) {
        s.report = { n: d.n, at: d.at };
        // a board with its clock set says when; otherwise (ms since boot) its boot's start, once known, dates it
        if (d.at >= UNIX_2020_MS) saw("device report", Math.min(d.at, now));
        else s.pending = { boot: info.boot, at: d.at };
      }
    }
    const p = s.pending;
    if (p && s.bootStart && s.bootStart.boot === p.boot) {
      saw("device report", Math.min(s.bootStart.at + p.at, now));
      s.pending = null;
    }
    v.duplicateId = this.flag(s, now);
  }

  private flag(s: DeviceSigns, now: number): DuplicateIdFlag | null {
    const signs = (Object.keys(s.seen) as DuplicateIdSign[]).filter((k) => now - s.seen[k]! <= this.holdMs);
    if (!signs.length) {
      s.since = null;
      return null;
    }
    return {
      signs,
      since: s.since!,
      last: Math.max(...signs.map((k) => s.seen[k]!)),
      report: s.report,
      ips: s.ips.length === 2 && s.seen["two IPs"] !== undefined ? [...s.ips] : [],
      boots: s.boots.length === 2 && s.seen["interleaved boots"] !== undefined ? [...s.boots] : [],
    };
  }
}
