// Validation of the dashboard API's query parameters: every bad value is a 400 naming the parameter.
import { groupListProblem } from "../../provisioning/deviceConfig";
import { MAX_POINTS } from "../store/historyQueries";
import { RANGES } from "../view/dashboardData";

export class BadRequest extends Error {}

/** longest span a from/to query may cover */
export const MAX_SPAN_MS = 400 * 86_400_000;

export interface TimeRange {
  from: number;
  to: number;
}

function intParam(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = q.get(name);
  if (raw === null) return undefined;
  if (!/^-?\d{1,16}$/.test(raw)) throw new BadRequest(`${name}: '${raw.slice(0, 40)}' is not a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new BadRequest(`${name}: ${n} is out of range ${min}..${max}`);
  return n;
}

/** Rejects parameters the endpoint does not know, so typos do not silently do something else. */
export function onlyParams(q: URLSearchParams, allowed: string[]): void {
  for (const key of q.keys()) if (!allowed.includes(key)) throw new BadRequest(`unknown parameter '${key.slice(0, 40)}' (expected ${allowed.join(", ")})`);
}

/** `range=15m|1h|24h|7d` (ending now) or `from`/`to` in Unix ms; defaults to the last hour. */
export function timeRange(q: URLSearchParams, now: number, defaultRange = "1h"): TimeRange {
  const range = q.get("range");
  const from = intParam(q, "from", 0, 8.64e15);
  const to = intParam(q, "to", 0, 8.64e15);
  if (range !== null) {
    if (from !== undefined || to !== undefined) throw new BadRequest("give either range or from/to, not both");
    // own keys only: `in` would accept inherited names such as toString
    if (!Object.hasOwn(RANGES, range)) throw new BadRequest(`range: '${range.slice(0, 40)}' is not one of ${Object.keys(RANGES).join(", ")}`);
    return { from: now - RANGES[range], to: now + 1 };
  }
  if (from === undefined && to === undefined) return { from: now - RANGES[defaultRange], to: now + 1 };
  if (from === undefined || to === undefined) throw new BadRequest("from and to go together (Unix ms)");
  if (from >= to) throw new BadRequest("from must be before to");
  if (to - from > MAX_SPAN_MS) throw new BadRequest("from..to spans more than 400 days");
  return { from, to };
}

export function pointsParam(q: URLSearchParams, fallback = 600): number {
  return intParam(q, "points", 10, MAX_POINTS) ?? fallback;
}

/** devices per page of the device list: the default, and the most one request may ask for */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 200;
export const MAX_FILTER_CHARS = 64;

export interface PageParams {
  offset: number;
  limit: number;
  /** id substring, "" = every device */
  filter: string;
  /** only the members of this named group (by their info); null = every device */
  group?: string | null;
}

/** `offset` (0..), `limit` (1..MAX_PAGE), `q` (an id substring) and `group` (a group name) of the device list. */
export function pageParams(q: URLSearchParams): PageParams {
  const filter = q.get("q") ?? "";
  if (filter.length > MAX_FILTER_CHARS) throw new BadRequest(`q: longer than ${MAX_FILTER_CHARS} characters (device ids are at most 64)`);
  return {
    offset: intParam(q, "offset", 0, 1e9) ?? 0,
    limit: intParam(q, "limit", 1, MAX_PAGE) ?? DEFAULT_PAGE,
    filter,
    group: groupParam(q),
  };
}

/** `group=NAME`: a valid group name, or null when absent or empty. */
function groupParam(q: URLSearchParams): string | null {
  const group = q.get("group");
  if (group === null || group === "") return null;
  const problem = groupListProblem([group]);
  if (problem) throw new BadRequest(`group: ${problem.length > 200 ? problem.slice(0, 200) + "…" : problem}`);
  return group;
}
