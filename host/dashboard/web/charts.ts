// Temperature and humidity charts (uPlot): avg line with min/max, fed from the store and live points,
// capped in length so the page's memory stays bounded.
import uPlot from "uplot";
import type { Series } from "../../view/dashboardData";

/** points kept per series on the page */
export const MAX_PAGE_POINTS = 4000;

type Col = (number | null)[];

/** One quantity's columns: time (s), avg, min, max. */
export class ChartData {
  t: number[] = [];
  avg: Col = [];
  min: Col = [];
  max: Col = [];

  reset(t: number[], avg: Col, min: Col, max: Col): void {
    this.t = t.map((ms) => ms / 1000);
    this.avg = avg.slice();
    this.min = min.slice();
    this.max = max.slice();
  }

  /** Appends a live point (ms) in time order and drops what fell out of the window or the cap. */
  push(tMs: number, v: number | null, windowStartMs: number): void {
    const t = tMs / 1000;
    const n = this.t.length;
    if (n > 0 && t < this.t[n - 1]) return; // older than what is drawn: the next history fetch has it
    this.t.push(t);
    this.avg.push(v);
    this.min.push(v);
    this.max.push(v);
    let drop = 0;
    while (drop < this.t.length && this.t[drop] < windowStartMs / 1000) drop++;
    drop = Math.max(drop, this.t.length - MAX_PAGE_POINTS);
    if (drop > 0) {
      this.t.splice(0, drop);
      this.avg.splice(0, drop);
      this.min.splice(0, drop);
      this.max.splice(0, drop);
    }
  }

  get length(): number {
    return this.t.length;
  }
}

export function chartDataFromSeries(s: Series): { temp: ChartData; hum: ChartData } {
  const temp = new ChartData();
  const hum = new ChartData();
  temp.reset(s.t, s.tempAvg, s.tempMin, s.tempMax);
  hum.reset(s.t, s.humAvg, s.humMin, s.humMax);
  return { temp, hum };
}

export class Chart {
  private plot: uPlot;

  constructor(private readonly host: HTMLElement, title: string, unit: string, colour: string) {
    const opts: uPlot.Options = {
      title,
      width: Math.max(300, host.clientWidth || 600),
      height: 220,
      scales: { x: { time: true } },
      series: [
        {},
        { label: `avg ${unit}`, stroke: colour, width: 2, spanGaps: false },
        { label: `min ${unit}`, stroke: colour + "66", width: 1, dash: [4, 4] },
        { label: `max ${unit}`, stroke: colour + "66", width: 1, dash: [4, 4] },
      ],
      axes: [{}, { label: unit }],
    };
    this.plot = new uPlot(opts, [[], [], [], []], host);
    new ResizeObserver(() => this.plot.setSize({ width: Math.max(300, host.clientWidth), height: 220 })).observe(host);
  }

  draw(d: ChartData, fromMs: number, toMs: number): void {
    this.plot.setData([d.t, d.avg, d.min, d.max] as uPlot.AlignedData, true);
    this.plot.setScale("x", { min: fromMs / 1000, max: toMs / 1000 });
    this.host.dataset.points = String(d.length);
  }
}
