// Calls to the dashboard server's JSON API.
import type { Reply } from "../../../firmware/contract";
import type { DashboardState, Series } from "../../view/dashboardData";
import type { DeviceView } from "../../view/deviceView";

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(((await res.json()) as { error: string }).error);
  return (await res.json()) as T;
}

/** One page of the device list (sorted by id), filtered by an id substring and a named group ("" = any). */
export function fetchState(offset: number, limit: number, filter: string, group = ""): Promise<DashboardState> {
  return getJson(`/api/state?offset=${offset}&limit=${limit}&q=${encodeURIComponent(filter)}&group=${encodeURIComponent(group)}`);
}

export function fetchDevice(id: string): Promise<DeviceView> {
  return getJson(`/api/devices/${encodeURIComponent(id)}`);
}

export function fetchSeries(id: string, range: string, points: number): Promise<Series> {
  return getJson(`/api/devices/${encodeURIComponent(id)}/series?range=${encodeURIComponent(range)}&points=${points}`);
}

export function csvUrl(id: string, range: string): string {
  return `/api/devices/${encodeURIComponent(id)}/readings.csv?range=${encodeURIComponent(range)}`;
}

export type CommandOutcome = { ok: true; reply: Reply } | { ok: false; error: string };

export async function postCommand(id: string, body: Record<string, unknown>): Promise<CommandOutcome> {
  const res = await fetch(`/api/devices/${encodeURIComponent(id)}/command`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = (await res.json()) as { reply?: Reply; error?: string };
  if (res.ok && data.reply) return { ok: true, reply: data.reply };
  return { ok: false, error: data.error ?? `HTTP ${res.status}` };
}
