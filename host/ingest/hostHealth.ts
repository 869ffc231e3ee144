// The dashboard's store health on the broker: `R/<host id>/health`, retained, so `watch` (which has no store)
// shows a failing store too. The host id is a random public name kept in the data folder, never the dashboard's
// client id (whoever knows that can take its persistent session over). Host-only: devices never publish or read it.
// Anyone on the broker can publish there too, so watch validates every field and keeps a bounded table.
import type { MqttClient } from "mqtt";
import { sizeText, StoreHealth } from "../store/historyStore";

export interface HostHealth extends StoreHealth {
  /** when it was published (Unix ms): a retained one from a host killed meanwhile shows its age */
  at: number;
}

/** A message on a health topic: a health, a clear (empty retained message), or why it was not taken. */
export type HostHealthMessage =
  | { kind: "health"; host: string; health: HostHealth }
  | { kind: "cleared"; host: string }
  | { kind: "malformed"; host: string | null; problem: string };

export const HOST_HEALTH_MAX_BYTES = 4096;
/** the longest problem text published and accepted */
export const PROBLEM_MAX_CHARS = 300;
/** the times a health may carry (Unix ms): 2020 .. 2100; anything else is not a clock reading */
const TIME_MIN = Date.UTC(2020, 0, 1);
const TIME_MAX = Date.UTC(2100, 0, 1);
const HOST_ID = /^host-[0-9a-f]{12}$/;

export const hostHealthTopic = (root: string, hostId: string) => `${root}/${hostId}/health`;
export const hostHealthFilter = (root: string) => `${root}/+/health`;

/** Whether the topic is under `R/+/health` (whatever the middle level holds). */
export function isHealthTopic(root: string, topic: string): boolean {
  return topic.startsWith(root + "/") && /^[^/]+\/health$/.test(topic.slice(root.length + 1));
}

/** The host publishing under a health topic (its host id), or null when the topic is not one. */
export function hostOfHealthTopic(root: string, topic: string): string | null {
  if (!isHealthTopic(root, topic)) return null;
  const host = topic.slice(root.length + 1, -"/health".length);
  return HOST_ID.test(host) ? host : null;
}

/** Publishes the health retained; null clears it (a dashboard stopping cleanly leaves nothing to show). */
export function publishHostHealth(client: MqttClient, root: string, hostId: string, h: StoreHealth | null): Promise<void> {
  const payload = h ? JSON.stringify({ ...h, problem: h.problem?.slice(0, PROBLEM_MAX_CHARS) ?? null, at: Date.now() } satisfies HostHealth) : "";
  // QoS 0 while readings are held (and for the clear at a stop, which may come then): MQTT.js reads no packet
  // meanwhile, so a QoS 1 PUBACK would wait as long as they do; otherwise QoS 1, so a change is not lost
  const qos = h === null || h.holding ? 0 : 1;
  return publishQuietly(client, hostHealthTopic(root, hostId), payload, qos);
}

/**
 * Clears the health an older version left retained under the dashboard's client id (which it revealed). Run once,
 * when the host id is new: every run would send the client id to whoever is subscribed at that moment.
 */
export function clearLegacyHostHealth(client: MqttClient, root: string, clientId: string): Promise<void> {
  return publishQuietly(client, `${root}/${clientId}/health`, "", 1);
}

function publishQuietly(client: MqttClient, topic: string, payload: string, qos: 0 | 1): Promise<void> {
  return client.publishAsync(topic, payload, { qos, retain: true }).then(
    () => {},
    () => {}, // a broker whose ACL refuses it: the dashboard's own banner still shows it
  );
}

/** Text from the broker made safe for a terminal: control and direction-changing characters become spaces. */
export function printable(text: string, max = PROBLEM_MAX_CHARS): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]+/g, " ").slice(0, max);
}

const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= TIME_MIN && (v as number) <= TIME_MAX;
const isByteCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Why a parsed payload is not a health, or null when it is one. */
function healthProblem(h: Record<string, unknown>): string | null {
  if (typeof h.ok !== "boolean") return "'ok' is not true or false";
  if (!isTime(h.at)) return "'at' is not a time (Unix ms, 2020..2100)";
  if (h.since !== null && !isTime(h.since)) return "'since' is not null or a time (Unix ms, 2020..2100)";
  if (typeof h.since === "number" && h.since > h.at) return "'since' is after 'at'";
  if (h.problem !== null && typeof h.problem !== "string") return "'problem' is not null or text";
  if (typeof h.problem === "string" && h.problem.length > PROBLEM_MAX_CHARS) return `'problem' is longer than ${PROBLEM_MAX_CHARS} characters`;
  if (h.ok && h.problem !== null) return "'ok' is true but there is a 'problem'";
  if (!h.ok && (typeof h.problem !== "string" || h.problem.trim() === "")) return "'ok' is false but 'problem' says nothing";
  if (!isByteCount(h.journalBytes)) return "'journalBytes' is not a byte count";
  if (!isByteCount(h.journalLimitBytes)) return "'journalLimitBytes' is not a byte count";
  if (typeof h.holding !== "boolean") return "'holding' is not true or false";
  return null;
}

/** Reads a health payload (anything on the broker may arrive here): never throws. */
export function readHostHealth(host: string, payload: Uint8Array): HostHealthMessage {
  if (payload.length === 0) return { kind: "cleared", host };
  if (payload.length > HOST_HEALTH_MAX_BYTES) return { kind: "malformed", host, problem: `over ${HOST_HEALTH_MAX_BYTES} bytes` };
  let h: unknown;
  try {
    h = JSON.parse(Buffer.from(payload).toString("utf8"));
  } catch {
    return { kind: "malformed", host, problem: "not JSON" };
  }
  if (typeof h !== "object" || h === null || Array.isArray(h)) return { kind: "malformed", host, problem: "not a JSON object" };
  const o = h as Record<string, unknown>;
  const problem = healthProblem(o);
  if (problem) return { kind: "malformed", host, problem };
  // only the known fields, the text made printable
  const health: HostHealth = {
    ok: o.ok as boolean,
    problem: typeof o.problem === "string" ? printable(o.problem) : null,
    since: (o.since as number | null) ?? null,
    journalBytes: o.journalBytes as number,
    journalLimitBytes: o.journalLimitBytes as number,
    holding: o.holding as boolean,
    at: o.at as number,
  };
  return { kind: "health", host, health };
}

/** A health payload as published, or null when it is not one or was cleared. */
export function parseHostHealth(payload: Uint8Array): HostHealth | null {
  const m = readHostHealth("host-000000000000", payload);
  return m.kind === "health" ? m.health : null;
}

/** A message on `topic` (under R/+/health) read and handed to `deliver`; a failing `deliver` is reported, never thrown. */
export function deliverHostHealth(root: string, topic: string, payload: Uint8Array, deliver: (m: HostHealthMessage) => void, log: (m: string) => void): void {
  const host = hostOfHealthTopic(root, topic);
  const message: HostHealthMessage = host ? readHostHealth(host, payload) : { kind: "malformed", host: null, problem: `'${printable(topic, 120)}' names no host id (host-<12 hex>)` };
  try {
    deliver(message);
  } catch (e) {
    log(`espdht: the health message on ${printable(topic, 120)} could not be shown: ${printable(String((e as Error)?.message ?? e))}`);
  }
}

/** One line for `watch` about a dashboard's store. */
export function hostHealthLine(host: string, h: HostHealth, now: number): string {
  const age = Math.max(0, Math.round((now - h.at) / 1000));
  if (h.ok) return `dashboard ${host}: store OK (journal ${sizeText(h.journalBytes)})`;
  const since = h.since !== null ? `failing since ${new Date(h.since).toISOString()}` : "not OK";
  return `dashboard ${host}: store ${since}${h.holding ? ", readings held unacknowledged" : ""}: ${printable(h.problem ?? "")} (reported ${age} s ago)`;
}

/** Dashboards shown under watch's table at most; the rest are counted */
const LINES_SHOWN = 8;
/** a malformed message is reported at once, then at most once per this interval (a flood stays one line) */
const REPORT_EVERY_MS = 10_000;
/** dashboards heard from for the first time that get a line per interval at most (a flood of made-up ones is counted) */
const NEW_HOSTS_PER_WINDOW = 10;
/** a dashboard already shown gets a line per change, at most one per this interval; its latest state follows later */
const HOST_LINE_EVERY_MS = 1000;

/**
 * The dashboards' healths watch shows: at most `capacity` hosts, the least recently heard from forgotten first, so
 * a flood of made-up health topics cannot grow memory. A line is logged when a host's state changes, never for a
 * mere republish; new hosts are rate-limited and a shown host's last state always gets out (flush). Malformed
 * messages are counted and reported at a bounded rate.
 */
export class HostHealthBoard {
  private readonly hosts = new Map<string, HostHealth>();
  /** hosts that had a line, and when the last one was */
  private readonly shownAt = new Map<string, number>();
  /** shown hosts whose latest change waits for its turn */
  private readonly pending = new Set<string>();
  /** the first failure of a host held back by the rate limit: told with its next line even if it recovered meanwhile */
  private readonly heldFailure = new Map<string, HostHealth>();
  malformed = 0;
  private lastMalformed = "";
  private reportedMalformed = 0;
  private lastReportAt = -Infinity;
  private windowStart = -Infinity;
  private newInWindow = 0;
  private unshown = 0;

  constructor(readonly capacity = 64) {}

  get size(): number {
    return this.hosts.size;
  }

  get(host: string): HostHealth | undefined {
    return this.hosts.get(host);
  }

  /** Takes one message; returns the line to log now, or null (it may come with a later flush). */
  offer(m: HostHealthMessage, now: number): string | null {
    if (m.kind === "malformed") {
      this.malformed++;
      this.lastMalformed = `${m.host ?? "?"}: ${m.problem}`;
      return this.report(now);
    }
    const before = this.hosts.get(m.host);
    this.hosts.delete(m.host);
    if (m.kind === "cleared") {
      // a failure still waiting for its turn is told now: the dashboard stopped before watch said it was failing
      const held = this.heldFailure.get(m.host);
      this.forget(m.host);
      return held ? `${hostHealthLine(m.host, held, now)}; the dashboard has stopped since` : null;
    }
    this.hosts.set(m.host, m.health);
    if (this.hosts.size > this.capacity) this.forget(this.hosts.keys().next().value!);
    if (before && before.ok === m.health.ok && before.holding === m.health.holding && before.problem === m.health.problem) return null;
    const last = this.shownAt.get(m.host);
    if (last === undefined) {
      if (now - this.windowStart >= REPORT_EVERY_MS) {
        this.windowStart = now;
        this.newInWindow = 0;
      }
      if (this.newInWindow >= NEW_HOSTS_PER_WINDOW) {
        this.unshown++;
        return null;
      }
      this.newInWindow++;
    } else if (now - last < HOST_LINE_EVERY_MS) {
      this.pending.add(m.host);
      if (!m.health.ok && before?.ok && !this.heldFailure.has(m.host)) this.heldFailure.set(m.host, m.health);
      return null;
    }
    return this.show(m.host, m.health, now);
  }

  /** The line for a host's state now; a failure held back meanwhile comes first, so a brief one is never lost. */
  private show(host: string, h: HostHealth, now: number): string {
    const held = this.heldFailure.get(host);
    this.heldFailure.delete(host);
    this.pending.delete(host);
    this.shownAt.set(host, now);
    const line = hostHealthLine(host, h, now);
    if (!held || !h.ok) return line;
    return `${hostHealthLine(host, held, now)}; since then: ${line.slice(`dashboard ${host}: `.length)}`;
  }

  private forget(host: string): void {
    this.hosts.delete(host);
    this.shownAt.delete(host);
    this.pending.delete(host);
    this.heldFailure.delete(host);
  }

  /** What is due now: the latest state of shown hosts whose change waited, and the report of what was not shown. */
  flush(now: number): string[] {
    const out: string[] = [];
    for (const host of this.pending) {
      const h = this.hosts.get(host);
      if (!h || now - (this.shownAt.get(host) ?? -Infinity) < HOST_LINE_EVERY_MS) continue;
      out.push(this.show(host, h, now));
    }
    const report = this.report(now);
    if (report) out.push(report);
    return out;
  }

  /** The malformed messages and new hosts not shown, if it is time to report them. */
  report(now: number): string | null {
    const unreported = this.malformed - this.reportedMalformed;
    if ((unreported === 0 && this.unshown === 0) || now - this.lastReportAt < REPORT_EVERY_MS) return null;
    this.reportedMalformed = this.malformed;
    this.lastReportAt = now;
    const parts: string[] = [];
    if (unreported > 0) parts.push(`ignored ${unreported} malformed health message${unreported > 1 ? "s" : ""} (last: ${this.lastMalformed})`);
    if (this.unshown > 0) parts.push(`${this.unshown} more dashboard health${this.unshown > 1 ? "s" : ""} not shown (too many new hosts at once)`);
    this.unshown = 0;
    return parts.join("; ");
  }

  /** Lines under watch's table: the most recently heard from first. */
  lines(now: number): string[] {
    const all = [...this.hosts].reverse();
    const out = all.slice(0, LINES_SHOWN).map(([host, h]) => hostHealthLine(host, h, now));
    if (all.length > LINES_SHOWN) out.push(`(${all.length - LINES_SHOWN} more dashboards report their health)`);
    if (this.malformed > 0) out.push(`malformed health messages ignored: ${this.malformed} (last: ${this.lastMalformed})`);
    return out;
  }
}
