// CSV replay for the virtual sensor: rows `time,temperature,humidity` (time in seconds from the start),
// interpolated linearly and looped.
import fs from "node:fs";
import type { DhtValues } from "./encode";

export interface CsvSeries {
  times: number[];
  values: DhtValues[];
}

export class CsvError extends Error {}

export function parseCsvSeries(text: string, where: string): CsvSeries {
  const times: number[] = [];
  const values: DhtValues[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith("#")) continue;
    const cells = line.split(",").map((c) => c.trim());
    if (times.length === 0 && values.length === 0 && cells[0] === "time") continue; // header
    const at = `${where}:${i + 1}`;
    if (cells.length !== 3) throw new CsvError(`${at}: expected 3 columns time,temperature,humidity, got ${cells.length}`);
    const [t, temperature, humidity] = cells.map(Number);
    if (!Number.isFinite(t) || t < 0) throw new CsvError(`${at}: time '${cells[0]}' must be seconds >= 0`);
    if (times.length && t <= times[times.length - 1]) throw new CsvError(`${at}: time ${t} must be greater than the previous row's`);
    if (!Number.isFinite(temperature) || temperature < -40 || temperature > 80) throw new CsvError(`${at}: temperature '${cells[1]}' must be -40..80`);
    if (!Number.isFinite(humidity) || humidity < 0 || humidity > 100) throw new CsvError(`${at}: humidity '${cells[2]}' must be 0..100`);
    times.push(t);
    values.push({ temperature, humidity });
  }
  if (!times.length) throw new CsvError(`${where}: no data rows (expected time,temperature,humidity)`);
  return { times, values };
}

export function readCsvSeries(file: string): CsvSeries {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new CsvError(`${file}: ${(e as Error).message}`);
  }
  return parseCsvSeries(text, file);
}

/** Value at `seconds` from the start; the series loops after its last row. */
export function sampleSeries(s: CsvSeries, seconds: number): DhtValues {
  const n = s.times.length;
  if (n === 1) return s.values[0];
  const period = s.times[n - 1];
  let t = period > 0 ? seconds % period : 0;
  if (t < s.times[0]) t = s.times[0];
  let i = 0;
  while (i < n - 2 && s.times[i + 1] <= t) i++;
  const t0 = s.times[i];
  const t1 = s.times[i + 1];
  const f = t1 > t0 ? Math.min(1, Math.max(0, (t - t0) / (t1 - t0))) : 0;
  const a = s.values[i];
  const b = s.values[i + 1];
  return { temperature: a.temperature + f * (b.temperature - a.temperature), humidity: a.humidity + f * (b.humidity - a.humidity) };
}
