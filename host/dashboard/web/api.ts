// Calls to the dashboard server's JSON API.
import type { Reply } from "../../../firmware/contract";
import type { Series } from "../../view/dashboardData";

export async function fetchSeries(id: string, range: string, points: number): Promise<Series> {
  const res = await fetch(`/api/devices/${encodeURIComponent(id)}/series?range=${encodeURIComponent(range)}&points=${points}`);
  if (!res.ok) throw new Error(((await res.json()) as { error: string }).error);
  return (await res.json()) as Series;
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
