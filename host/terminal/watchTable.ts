// The rows of `espdht watch`: one line per device, as plain text (colour is added by the caller).
import { DeviceView, deviceHealth, DuplicateIdFlag, groupsOf, Health, inGroup, linksCell, outputCell, Trust } from "../view/deviceView";

export const WATCH_HEADER = ["DEVICE", "STATUS", "TRUST", "GROUPS", "TEMP °C", "HUM %", "OUTPUT", "LINKS", "AGE", "SEQ", "GAPS", "DUPS", "RESTARTS", "ERRORS", "REJECTED", "DUP ID"];

/** "3s", "4m", "2h", "5d"; "-" when never (the table's narrow AGE column; the page says "3 s ago"). */
export function formatAgeShort(ms: number | null): string {
  if (ms === null) return "-";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** "-", or the signs of a suspected duplicate id: "report n=5, flapping, boots 3/7, ips 10.0.0.2/10.0.0.9" */
export function duplicateIdCell(f: DuplicateIdFlag | null | undefined): string {
  if (!f) return "-";
  return f.signs
    .map((s) => (s === "device report" ? `report n=${f.report ? f.report.n : "?"}` : s === "status flapping" ? "flapping" : s === "interleaved boots" ? `boots ${f.boots.join("/")}` : `ips ${f.ips.join("/")}`))
    .join(", ");
}

/** The device's named groups from its info, "kitchen,floor1"; "-" for none (or no info yet). */
export function groupsCell(d: DeviceView): string {
  const groups = groupsOf(d);
  return groups.length ? groups.join(",") : "-";
}

/** The devices in `group` (by their latest info); all of them when `group` is null. */
export function devicesInGroup(devices: DeviceView[], group: string | null): DeviceView[] {
  return group === null ? devices : devices.filter((d) => inGroup(d, group));
}

export function watchRow(d: DeviceView, now: number): { cells: string[]; health: Health } {
  const health = deviceHealth(d, now);
  const errs = d.errors.checksum + d.errors.timeout + d.errors.range;
  const errDetail = errs ? ` (${Object.entries(d.errors).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")})` : "";
  const lastFailed = d.lastReading && "error" in d.lastReading ? d.lastReading.error : null;
  return {
    health,
    cells: [
      d.id,
      health,
      d.trust,
      groupsCell(d),
      lastFailed ? `(${lastFailed})` : d.lastGood ? d.lastGood.temperature.toFixed(1) : "-",
      lastFailed ? "" : d.lastGood ? d.lastGood.humidity.toFixed(1) : "-",
      outputCell(d),
      linksCell(d),
      formatAgeShort(d.lastSeen === null ? null : now - d.lastSeen),
      d.seq === null ? "-" : `${d.boot}:${d.seq}`,
      String(d.gaps),
      String(d.duplicates),
      String(d.restarts),
      `${errs}${errDetail}`,
      String(d.rejected.total),
      duplicateIdCell(d.duplicateId),
    ],
  };
}

const DUP_COLUMN = WATCH_HEADER.indexOf("DUP ID");
const COLOURS: Record<Health, string> = { online: "\x1b[32m", offline: "\x1b[31m", stale: "\x1b[33m", unknown: "\x1b[90m" };
const TRUST_COLOURS: Record<Trust, string> = { verified: "\x1b[32m", unsigned: "\x1b[90m" };

/** The table as lines, columns padded; `colour` adds ANSI colour to the status and trust columns. */
export function renderWatchTable(devices: DeviceView[], now: number, colour: boolean): string[] {
  const rows = devices.map((d) => ({ ...watchRow(d, now), trust: d.trust }));
  const widths = WATCH_HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i].length)));
  const line = (cells: string[], health?: Health, trust?: Trust) =>
    cells
      .map((c, i) => {
        const padded = c.padEnd(widths[i]);
        if (colour && health && i === 1) return COLOURS[health] + padded + "\x1b[0m";
        if (colour && trust && i === 2) return TRUST_COLOURS[trust] + padded + "\x1b[0m";
        if (colour && i === DUP_COLUMN && c !== "-" && health) return "\x1b[31m" + padded + "\x1b[0m";
        return padded;
      })
      .join("  ")
      .trimEnd();
  return [line(WATCH_HEADER), ...rows.map((r) => line(r.cells, r.health, r.trust))];
}
