// How one device looks to the views (watch, the dashboard server and its page): plain JSON-ready data and
// its health. Shared with the browser, so it imports nothing server-side (no node:*, no SQLite, no MQTT).
import type { Info, OutputState, ReadError, Reading } from "../../firmware/contract";

/** verified: the device's last accepted message carried a valid signature under its key in the keyring. */
export type Trust = "verified" | "unsigned";

export interface RecentRejection {
  at: number;
  topic: string;
  reason: string;
}

export interface RejectionLog {
  total: number;
  /** count per reason; at most MAX_REASONS distinct reasons, the rest under "other" */
  byReason: Record<string, number>;
  /** newest last, at most MAX_RECENT_REJECTIONS */
  recent: RecentRejection[];
}

/** Plain, JSON-ready view of one device (what watch, the API and SSE show). */
export interface DeviceView {
  id: string;
  /** null until a status message arrived */
  online: boolean | null;
  statusAt: number | null;
  info: Info | null;
  /** receive time of the last live (non-retained) message from the device */
  lastSeen: number | null;
  lastReading: Reading | null;
  lastReadingAt: number | null;
  /** last reading that carried values */
  lastGood: { t: number; temperature: number; humidity: number } | null;
  boot: number | null;
  /** highest seq seen in the current boot */
  seq: number | null;
  readings: number;
  /** seqs missing so far in the current and past boots (late arrivals fill them back) */
  gaps: number;
  duplicates: number;
  /** readings that arrived after a later seq (or from an earlier boot) */
  late: number;
  restarts: number;
  errors: Record<ReadError, number>;
  rejected: RejectionLog;
  /** how its last accepted reading, info or reply was believed */
  trust: Trust;
  /** fingerprint of its key in the keyring (never the key), null when it has none */
  keyFingerprint: string | null;
  /** the thermostat output's last state from `R/D/output` (retained); null once cleared, absent before any */
  output?: OutputState | null;
  /** "duplicate device id" suspected, and why; null (or absent before its first message) when not */
  duplicateId?: DuplicateIdFlag | null;
}

/** What makes the host think two boards share this id (host/ingest/duplicateId.ts). */
export type DuplicateIdSign = "device report" | "status flapping" | "interleaved boots" | "two IPs";

export interface DuplicateIdFlag {
  /** the signs seen within the last hour */
  signs: DuplicateIdSign[];
  /** host time of the first sign of this episode, and of the latest */
  since: number;
  last: number;
  /** the board's own report (info.dupId: sessions the broker ended soon after CONNACK, the last at `at`), if any */
  report: { n: number; at: number } | null;
  /** the two addresses info alternated between ("two IPs"), else empty */
  ips: string[];
  /** the two boots live readings alternated between ("interleaved boots"), else empty */
  boots: number[];
}

/** The named groups in the device's latest info ([] before any, or from firmware without groups). */
export function groupsOf(d: { info: Info | null }): string[] {
  return d.info?.groups ?? [];
}

/** Whether the device's latest info lists `group`; every device passes when `group` is null (no filter). */
export function inGroup(d: { info: Info | null }, group: string | null): boolean {
  return group === null || groupsOf(d).includes(group);
}

/** Every group named by these devices, sorted, at most `max` (a flood cannot grow a page's menu without bound). */
export function knownGroups(devices: Iterable<{ info: Info | null }>, max = 200): string[] {
  const all = new Set<string>();
  for (const d of devices) for (const g of groupsOf(d)) if (all.size < max) all.add(g);
  return [...all].sort();
}

/** The device's links from its latest info: the devices it sends its readings to and those it accepts them from. */
export function linksOf(d: { info: Info | null }): { to: string[]; from: string[] } {
  return d.info?.links ?? { to: [], from: [] };
}

/** The links in a few words: "to B, from A"; "-" for none (watch's LINKS column, the page's details). */
export function linksCell(d: { info: Info | null }): string {
  const l = linksOf(d);
  const parts = [...(l.to.length ? [`to ${l.to.join(",")}`] : []), ...(l.from.length ? [`from ${l.from.join(",")}`] : [])];
  return parts.length ? parts.join(", ") : "-";
}

/** The output in a few words: "on (rule)", "off (failsafe)"; "-" without an output (watch's OUTPUT column, the page's). */
export function outputCell(d: DeviceView): string {
  return d.output ? `${d.output.on ? "on" : "off"} (${d.output.why})` : "-";
}

export type Health = "online" | "offline" | "stale" | "unknown";

/** online but silent for three intervals (at least 30 s) is stale. */
export function deviceHealth(d: DeviceView, now: number): Health {
  if (d.online === false) return "offline";
  const interval = d.info ? d.info.interval : 10;
  const staleAfter = Math.max(30_000, 3 * interval * 1000);
  if (d.lastSeen !== null && now - d.lastSeen > staleAfter) return "stale";
  if (d.online === true) return "online";
  return d.lastSeen !== null ? "online" : "unknown";
}
