// The line under watch's table about floods of unknown device ids: how many devices are tracked against their
// limits and, once a flood was turned away, how many messages were refused and newcomers evicted.
import type { FloodStats } from "../view/dashboardData";

export function floodLine(f: FloodStats): string {
  const tables = `devices: ${f.established} proven (limit ${f.maxEstablished}), ${f.newcomers} new (limit ${f.maxNewcomers})`;
  if (f.refused === 0 && f.evicted === 0) return tables;
  return `${tables}; FLOOD of unknown ids: ${f.refused} messages refused (new ids admitted at ${f.perSecond}/s), ${f.evicted} unproven devices evicted`;
}
