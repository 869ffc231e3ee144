// The dashboard's store health on the broker: `R/<dashboard client id>/health`, retained, so `watch` (which has
// no store) shows a failing store too. Host-only: devices never publish or read it.
import type { MqttClient } from "mqtt";
import { sizeText, StoreHealth } from "../store/historyStore";

export interface HostHealth extends StoreHealth {
  /** when it was published (Unix ms): a retained one from a host killed meanwhile shows its age */
  at: number;
}

export const hostHealthTopic = (root: string, clientId: string) => `${root}/${clientId}/health`;
export const hostHealthFilter = (root: string) => `${root}/+/health`;
/** the host publishing under a health topic (its client id), or null when the topic is not one */
export function hostOfHealthTopic(root: string, topic: string): string | null {
  const m = topic.startsWith(root + "/") ? /^([^/]+)\/health$/.exec(topic.slice(root.length + 1)) : null;
  return m && m[1].startsWith("espdht-dash-") ? m[1] : null;
}

/** Publishes the health retained; null clears it (a dashboard stopping cleanly leaves nothing to show). */
export function publishHostHealth(client: MqttClient, root: string, clientId: string, h: StoreHealth | null): Promise<void> {
  const payload = h ? JSON.stringify({ ...h, at: Date.now() } satisfies HostHealth) : "";
  // QoS 0 while readings are held (and for the clear at a stop, which may come then): MQTT.js reads no packet
  // meanwhile, so a QoS 1 PUBACK would wait as long as they do; otherwise QoS 1, so a change is not lost
  const qos = h === null || h.holding ? 0 : 1;
  return client.publishAsync(hostHealthTopic(root, clientId), payload, { qos, retain: true }).then(
    () => {},
    () => {}, // a broker whose ACL refuses it: the dashboard's own banner still shows it
  );
}

/** A health payload as published, or null when it is not one or was cleared (anything on the broker may arrive here). */
export function parseHostHealth(payload: Uint8Array): HostHealth | null {
  if (payload.length > 4096) return null;
  try {
    const h = JSON.parse(Buffer.from(payload).toString("utf8")) as HostHealth;
    if (typeof h !== "object" || h === null || typeof h.ok !== "boolean" || typeof h.at !== "number") return null;
    if (h.problem !== null && typeof h.problem !== "string") return null;
    return { ...h, problem: h.problem === null ? null : h.problem.slice(0, 300) };
  } catch {
    return null;
  }
}

/** One line for `watch` about a dashboard's store. */
export function hostHealthLine(host: string, h: HostHealth, now: number): string {
  const age = Math.max(0, Math.round((now - h.at) / 1000));
  if (h.ok) return `dashboard ${host}: store OK (journal ${sizeText(h.journalBytes)})`;
  const since = h.since ? `failing since ${new Date(h.since).toISOString()}` : "not OK";
  return `dashboard ${host}: store ${since}${h.holding ? ", readings held unacknowledged" : ""}: ${h.problem} (reported ${age} s ago)`;
}
