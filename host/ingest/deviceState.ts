// Per-device state built from validated messages: online/offline, last reading, last seen, boot, seq gaps,
// duplicates, restarts, read errors, trust and rejected messages. Pure (time is passed in) and bounded in memory:
// proven devices and newcomers live in two bounded tables, and new ids are admitted at a bounded rate.
// A verified reading whose (boot, seq) was already accepted is a replay and is rejected (docs/trust.md).
import { isFailedReading, MAX_FUTURE_TS_MS, READ_ERRORS, ReadError, Reading, Reply } from "../../firmware/contract";
import type { FloodStats } from "../view/dashboardData";
import type { DeviceView, RejectionLog, Trust } from "../view/deviceView";
import { AdmissionBucket, AdmissionOptions } from "./admission";
import { DuplicateIdDetector } from "./duplicateId";
import { ParseResult } from "./parseMessage";

export type { FloodStats };

export type ReadingVerdict = Readonly<{ accepted: true; duplicate: boolean; gap: number; restart: boolean }>;

/** the two common verdicts, shared: no object per reading */
const IN_ORDER: ReadingVerdict = Object.freeze({ accepted: true, duplicate: false, gap: 0, restart: false });
const DUPLICATE: ReadingVerdict = Object.freeze({ accepted: true, duplicate: true, gap: 0, restart: false });

export type ApplyOutcome =
  | { kind: "reading"; device: DeviceView; reading: Reading; verdict: ReadingVerdict; trust: Trust }
  | { kind: "status" | "info"; device: DeviceView }
  | { kind: "output"; device: DeviceView; trust: Trust | null }
  | { kind: "reply"; device: DeviceView; reply: Reply }
  | { kind: "rejected"; device: DeviceView | null; reason: string }
  /** a device never seen before, turned away because the admission rate was used up (counted in flood()) */
  | { kind: "refused" }
  | { kind: "ignored" };

const REFUSED: ApplyOutcome = Object.freeze({ kind: "refused" });

export const MAX_RECENT_REJECTIONS = 20;
export const MAX_REASONS = 32;
export const MAX_TOPIC_CHARS = 200;
/** seqs remembered per device and boot to tell duplicates (and replays) from late arrivals */
const SEQ_WINDOW = 1024;
/** earlier boots whose seqs are remembered too, so a replay of one is recognised */
const PAST_BOOTS = 2;
export const REPLAYED = "reading: replayed";
export const FUTURE_TS = "reading: ts in the future";

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
    trust: "unsigned", keyFingerprint: null,
  };
}

/** Which seqs of the current boot were seen, for the last SEQ_WINDOW seqs. */
class SeqWindow {
  private bits = new Uint8Array(SEQ_WINDOW);
  max = -1;
  /** true when `seq` was added and is still within the window */
  has(seq: number): boolean {
    return this.max >= 0 && seq <= this.max && this.max - seq < SEQ_WINDOW && this.bits[seq % SEQ_WINDOW] === 1;
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

function newRecord(id: string): DeviceRecord {
  return { view: newView(id), window: new SeqWindow(), pastBoots: [] };
}

interface DeviceRecord {
  view: DeviceView;
  /** the seqs of view.boot */
  window: SeqWindow;
  /** the seqs of the last few earlier boots, oldest first */
  pastBoots: { boot: number; window: SeqWindow }[];
}

export interface FleetStateOptions {
  /** proven devices kept at most (verified readings, or valid ones without a keyring); never evicted */
  maxEstablished?: number;
  /** unproven devices kept at most; the least recently seen is evicted to make room */
  maxNewcomers?: number;
  /** the rate at which devices never seen before are let in */
  admission?: AdmissionOptions;
  /** with a keyring: only a verified reading proves a device (an id outside the keyring stays a newcomer) */
  requireVerified?: boolean;
  /** ids that need no token and go straight to the established table (devices with a key in the keyring) */
  isKnown?: (id: string) => boolean;
}

export const DEFAULT_MAX_ESTABLISHED = 5000;
export const DEFAULT_MAX_NEWCOMERS = 1000;

export class FleetState {
  /** devices that proved themselves: a flood of new ids never touches them */
  private established = new Map<string, DeviceRecord>();
  /** unproven devices, least recently seen first (re-inserted on every message) */
  private newcomers = new Map<string, DeviceRecord>();
  /** ids to establish on their first message without a token (proven in an earlier run: the store has their readings) */
  private provenBefore = new Set<string>();
  private readonly maxEstablished: number;
  private readonly maxNewcomers: number;
  private readonly bucket: AdmissionBucket;
  private readonly requireVerified: boolean;
  private readonly isKnown: (id: string) => boolean;
  private counts = { admitted: 0, refused: 0, evicted: 0, promoted: 0 };
  /** rejections that name no device (unknown topics) */
  readonly unattributed: RejectionLog = newRejectionLog();
  /** sets each view's duplicateId from what its messages show */
  readonly duplicateIds = new DuplicateIdDetector();

  constructor(opts: FleetStateOptions = {}) {
    this.maxEstablished = opts.maxEstablished ?? DEFAULT_MAX_ESTABLISHED;
    this.maxNewcomers = opts.maxNewcomers ?? DEFAULT_MAX_NEWCOMERS;
    this.bucket = new AdmissionBucket(opts.admission);
    this.requireVerified = opts.requireVerified ?? false;
    this.isKnown = opts.isKnown ?? (() => false);
  }

  /** Every tracked device, sorted by id. */
  list(): DeviceView[] {
    const views: DeviceView[] = [];
    for (const r of this.established.values()) views.push(r.view);
    for (const r of this.newcomers.values()) views.push(r.view);
    return views.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: string): DeviceView | undefined {
    return (this.established.get(id) ?? this.newcomers.get(id))?.view;
  }

  /** true when the device proved itself (it cannot be evicted) */
  isEstablished(id: string): boolean {
    return this.established.has(id);
  }

  get size(): number {
    return this.established.size + this.newcomers.size;
  }

  flood(): FloodStats {
    return {
      established: this.established.size, maxEstablished: this.maxEstablished, newcomers: this.newcomers.size, maxNewcomers: this.maxNewcomers,
      ...this.counts, perSecond: this.bucket.perSecond, burst: this.bucket.burst,
    };
  }

  /** Ids proven in an earlier run (they had readings stored): established on their first message, no token. */
  rememberProven(ids: Iterable<string>): void {
    for (const id of ids) {
      if (this.provenBefore.size >= this.maxEstablished) break;
      this.provenBefore.add(id);
    }
  }

  /** The device's record; a device not tracked yet is admitted (known ids freely, others at the bucket's rate) or null. */
  private record(id: string, now: number): DeviceRecord | null {
    let r = this.established.get(id);
    if (r) return r;
    r = this.newcomers.get(id);
    if (r) {
      // least recently seen first: move to the end
      this.newcomers.delete(id);
      this.newcomers.set(id, r);
      return r;
    }
    const known = this.isKnown(id) || this.provenBefore.has(id);
    if (known && this.established.size < this.maxEstablished) {
      r = newRecord(id);
      this.established.set(id, r);
      this.provenBefore.delete(id);
      this.counts.admitted++;
      return r;
    }
    if (!known && !this.bucket.take(now)) {
      this.counts.refused++;
      return null;
    }
    if (this.newcomers.size >= this.maxNewcomers) {
      const oldest = this.newcomers.keys().next().value as string;
      this.newcomers.delete(oldest);
      this.counts.evicted++;
    }
    r = newRecord(id);
    this.newcomers.set(id, r);
    this.counts.admitted++;
    return r;
  }

  /** A newcomer's accepted reading proves it when it was verified (or valid, without a keyring). */
  private prove(id: string, trust: Trust): void {
    if (this.requireVerified && trust !== "verified") return;
    const r = this.newcomers.get(id);
    if (!r || this.established.size >= this.maxEstablished) return;
    this.newcomers.delete(id);
    this.established.set(id, r);
    this.counts.promoted++;
  }

  /** Applies one parsed message received at `now` on `topic`; `retained` messages do not count as seen now. */
  apply(msg: ParseResult, now: number, retained = false, topic?: string): ApplyOutcome {
    if (msg.kind === "ignored") return { kind: "ignored" };
    if (msg.kind === "rejected") return this.reject(msg.deviceId, msg.topic, msg.reason, now);
    const rec = this.record(msg.deviceId, now);
    if (!rec) return REFUSED;
    const v = rec.view;
    if (msg.kind === "reading") {
      const r = msg.reading;
      const where = topic ?? `${msg.deviceId}/reading`;
      if (r.ts !== null && r.ts > now + MAX_FUTURE_TS_MS) return this.reject(msg.deviceId, where, FUTURE_TS, now);
      // a device with a key signs each reading once; the same (boot, seq) again is someone replaying it
      if (msg.trust === "verified" && this.wasAccepted(rec, r.boot, r.seq)) return this.reject(msg.deviceId, where, REPLAYED, now);
    }
    if (!retained) v.lastSeen = now;
    this.duplicateIds.observe(v, msg, now, retained);
    if (msg.kind === "status") {
      v.online = msg.online;
      v.statusAt = now;
      return { kind: "status", device: v };
    }
    if (msg.kind === "output" && msg.output === null) {
      v.output = null;
      return { kind: "output", device: v, trust: null };
    }
    v.trust = msg.trust;
    v.keyFingerprint = msg.fingerprint;
    switch (msg.kind) {
      case "info":
        v.info = msg.info;
        this.noteBoot(rec, msg.info.boot, true);
        return { kind: "info", device: v };
      case "reply":
        return { kind: "reply", device: v, reply: msg.reply };
      case "output":
        v.output = msg.output;
        return { kind: "output", device: v, trust: msg.trust };
      case "reading": {
        const verdict = this.applyReading(rec, msg.reading, now);
        this.prove(msg.deviceId, msg.trust);
        return { kind: "reading", device: v, reading: msg.reading, verdict, trust: msg.trust };
      }
    }
  }

  /** Records a rejected message against its device (when the topic named one and it is admitted) or as unattributed. */
  reject(deviceId: string | null, topic: string, reason: string, now: number): ApplyOutcome {
    const rec = deviceId === null ? null : this.record(deviceId, now);
    if (deviceId !== null && !rec) return REFUSED;
    recordRejection(rec ? rec.view.rejected : this.unattributed, now, topic, reason);
    return { kind: "rejected", device: rec ? rec.view : null, reason };
  }

  private pastWindow(rec: DeviceRecord, boot: number): SeqWindow | null {
    for (let i = 0; i < rec.pastBoots.length; i++) if (rec.pastBoots[i].boot === boot) return rec.pastBoots[i].window;
    return null;
  }

  /** Whether a reading with this (boot, seq) was accepted already (as far as the remembered windows tell). */
  private wasAccepted(rec: DeviceRecord, boot: number, seq: number): boolean {
    const w = boot === rec.view.boot ? rec.window : this.pastWindow(rec, boot);
    return w !== null && w.has(seq);
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
    // the boot left behind keeps its seqs (a replay of it is still recognised); one seen before gets its own back
    const back = rec.pastBoots.filter((p) => p.boot === boot);
    rec.pastBoots = rec.pastBoots.filter((p) => p.boot !== boot);
    rec.pastBoots.push({ boot: v.boot, window: rec.window });
    if (rec.pastBoots.length > PAST_BOOTS) rec.pastBoots.shift();
    rec.window = back.length ? back[0].window : new SeqWindow();
    v.boot = boot;
    v.seq = rec.window.max >= 0 ? rec.window.max : null;
    return "restart";
  }

  private applyReading(rec: DeviceRecord, r: Reading, now: number): ReadingVerdict {
    const v = rec.view;
    const bootChange = this.noteBoot(rec, r.boot, false);
    if (bootChange === "earlier") {
      const past = this.pastWindow(rec, r.boot);
      if (past && past.add(r.seq) === "duplicate") {
        v.duplicates++;
        return DUPLICATE;
      }
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
