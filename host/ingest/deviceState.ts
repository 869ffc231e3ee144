// Per-device state built from validated messages: online/offline, last reading, last seen, boot, seq gaps,
// duplicates, restarts, read errors and rejected messages. Pure (time is passed in) and bounded in memory.
import { isFailedReading, READ_ERRORS, ReadError, Reading, Reply } from "../../firmware/contract";
import type { DeviceView, RejectionLog } from "../view/deviceView";
import { ParseResult } from "./parseMessage";

export type ReadingVerdict = Readonly<{ accepted: true; duplicate: boolean; gap: number; restart: boolean }>;

/** the two common verdicts, shared: no object per reading */
const IN_ORDER: ReadingVerdict = Object.freeze({ accepted: true, duplicate: false, gap: 0, restart: false });
const DUPLICATE: ReadingVerdict = Object.freeze({ accepted: true, duplicate: true, gap: 0, restart: false });

export type ApplyOutcome =
  | { kind: "reading"; device: DeviceView; reading: Reading; verdict: ReadingVerdict }
  | { kind: "status" | "info"; device: DeviceView }
  | { kind: "reply"; device: DeviceView; reply: Reply }
  | { kind: "rejected"; device: DeviceView | null; reason: string }
  | { kind: "ignored" };

export const MAX_RECENT_REJECTIONS = 20;
export const MAX_REASONS = 32;
export const MAX_TOPIC_CHARS = 200;
/** seqs remembered per device to tell duplicates from late arrivals */
const SEQ_WINDOW = 1024;

function newRejectionLog(): RejectionLog {
  return { total: 0, byReason: {}, recent: [] };
}

function recordRejection(log: RejectionLog, at: number, topic: string, reason: string): void {
  log.total++;
  const key = reason in log.byReason || Object.keys(log.byReason).length < MAX_REASONS ? reason : "other";
  log.byReason[key] = (log.byReason[key] || 0) + 1;
  log.recent.push({ at, topic: topic.length > MAX_TOPIC_CHARS ? topic.slice(0, MAX_TOPIC_CHARS) + "…" : topic, reason });
  if (log.recent.length > MAX_RECENT_REJECTIONS) log.recent.shift();
}

function newView(id: string): DeviceView {
  const errors = {} as Record<ReadError, number>;
  for (const e of READ_ERRORS) errors[e] = 0;
  return {
    id, online: null, statusAt: null, info: null, lastSeen: null, lastReading: null, lastReadingAt: null, lastGood: null,
    boot: null, seq: null, readings: 0, gaps: 0, duplicates: 0, late: 0, restarts: 0, errors, rejected: newRejectionLog(),
  };
}

/** Which seqs of the current boot were seen, for the last SEQ_WINDOW seqs. */
class SeqWindow {
  private bits = new Uint8Array(SEQ_WINDOW);
  max = -1;
  reset(): void {
    this.bits.fill(0);
    this.max = -1;
  }
  /** the gap the last add() of a "new" seq opened */
  gap = 0;
  /** returns "new", "duplicate", "late" (fills a gap) or "old" (too old to tell); `gap` holds the gap opened */
  add(seq: number): "new" | "duplicate" | "late" | "old" {
    this.gap = 0;
    if (this.max < 0) {
      this.max = seq;
      this.bits[seq % SEQ_WINDOW] = 1;
      return "new";
    }
    if (seq > this.max) {
      this.gap = seq - this.max - 1;
      if (seq - this.max >= SEQ_WINDOW) this.bits.fill(0);
      else for (let s = this.max + 1; s < seq; s++) this.bits[s % SEQ_WINDOW] = 0;
      this.bits[seq % SEQ_WINDOW] = 1;
      this.max = seq;
      return "new";
    }
    if (this.max - seq >= SEQ_WINDOW) return "old";
    if (this.bits[seq % SEQ_WINDOW]) return "duplicate";
    this.bits[seq % SEQ_WINDOW] = 1;
    return "late";
  }
}

interface DeviceRecord {
  view: DeviceView;
  window: SeqWindow;
}

export interface FleetStateOptions {
  /** devices tracked at most; messages for further devices are rejected */
  maxDevices?: number;
}

export class FleetState {
  private devices = new Map<string, DeviceRecord>();
  private readonly maxDevices: number;
  /** rejections that name no device (unknown topics, too many devices) */
  readonly unattributed: RejectionLog = newRejectionLog();

  constructor(opts: FleetStateOptions = {}) {
    this.maxDevices = opts.maxDevices ?? 5000;
  }

  list(): DeviceView[] {
    return [...this.devices.values()].map((r) => r.view).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: string): DeviceView | undefined {
    return this.devices.get(id)?.view;
  }

  get size(): number {
    return this.devices.size;
  }

  private record(id: string): DeviceRecord | null {
    let r = this.devices.get(id);
    if (r) return r;
    if (this.devices.size >= this.maxDevices) return null;
    r = { view: newView(id), window: new SeqWindow() };
    this.devices.set(id, r);
    return r;
  }

  /** Applies one parsed message received at `now`; `retained` messages do not count as seen now. */
  apply(msg: ParseResult, now: number, retained = false): ApplyOutcome {
    if (msg.kind === "ignored") return { kind: "ignored" };
    if (msg.kind === "rejected") return this.reject(msg.deviceId, msg.topic, msg.reason, now);
    const rec = this.record(msg.deviceId);
    if (!rec) return this.reject(null, msg.deviceId, `too many devices (limit ${this.maxDevices})`, now);
    const v = rec.view;
    if (!retained) v.lastSeen = now;
    switch (msg.kind) {
      case "status":
        v.online = msg.online;
        v.statusAt = now;
        return { kind: "status", device: v };
      case "info":
        v.info = msg.info;
        this.noteBoot(rec, msg.info.boot, true);
        return { kind: "info", device: v };
      case "reply":
        return { kind: "reply", device: v, reply: msg.reply };
      case "reading":
        return { kind: "reading", device: v, reading: msg.reading, verdict: this.applyReading(rec, msg.reading, now) };
    }
  }

  /** Records a rejected message against its device (when the topic named one) or as unattributed. */
  reject(deviceId: string | null, topic: string, reason: string, now: number): ApplyOutcome {
    const rec = deviceId === null ? null : this.record(deviceId);
    recordRejection(rec ? rec.view.rejected : this.unattributed, now, topic, reason);
    return { kind: "rejected", device: rec ? rec.view : null, reason };
  }

  /** A new boot number restarts seq tracking; info may report a lower one after Storage was wiped. */
  private noteBoot(rec: DeviceRecord, boot: number, fromInfo: boolean): "same" | "restart" | "earlier" {
    const v = rec.view;
    if (v.boot === null) {
      v.boot = boot;
      return "same";
    }
    if (boot === v.boot) return "same";
    if (boot < v.boot && !fromInfo) return "earlier";
    v.restarts++;
    v.boot = boot;
    v.seq = null;
    rec.window.reset();
    return "restart";
  }

  private applyReading(rec: DeviceRecord, r: Reading, now: number): ReadingVerdict {
    const v = rec.view;
    const bootChange = this.noteBoot(rec, r.boot, false);
    if (bootChange === "earlier") {
      v.late++;
      return this.count(v, r, now, IN_ORDER, false);
    }
    const seen = rec.window.add(r.seq);
    const gap = rec.window.gap;
    if (seen === "duplicate") {
      v.duplicates++;
      return DUPLICATE;
    }
    if (seen === "late") {
      v.late++;
      if (v.gaps > 0) v.gaps--;
    }
    if (seen === "old") v.late++;
    v.gaps += gap;
    const newest = seen === "new";
    if (newest) v.seq = r.seq;
    const verdict = gap === 0 && bootChange !== "restart" ? IN_ORDER : { accepted: true as const, duplicate: false, gap, restart: bootChange === "restart" };
    return this.count(v, r, now, verdict, newest);
  }

  private count(v: DeviceView, r: Reading, now: number, verdict: ReadingVerdict, newest: boolean): ReadingVerdict {
    v.readings++;
    if (isFailedReading(r)) v.errors[r.error]++;
    if (newest) {
      v.lastReading = r;
      v.lastReadingAt = now;
      if (!isFailedReading(r)) v.lastGood = { t: r.ts ?? now, temperature: r.temperature, humidity: r.humidity };
    }
    return verdict;
  }
}
