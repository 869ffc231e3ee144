// `espdht export`'s lines (CSV through the dashboard's code, JSON lines) over a store made by WorkerStore, and the
// writer: backpressure, abort, a reader that goes away, a failing disk, progress on a fake clock.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reading } from "../../../firmware/contract";
import { CSV_HEADER, csvLines } from "../../../host/store/csvExport";
import { exportLines, jsonlLine, writeExport } from "../../../host/store/exportReadings";
import { iterateReadingsOf } from "../../../host/store/historyQueries";
import { WorkerStore } from "../../../host/store/workerStore";

const T0 = 1_700_000_000_000;
const ALL: [number, number] = [-8.64e15, 8.64e15];
let dir: string;
let store: WorkerStore;

function good(id: string, boot: number, seq: number, ts: number | null, temperature = 21.5, humidity = 40.25): Reading {
  return { v: 1, id, boot, seq, up: seq * 10_000, ts, temperature, humidity };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-export-"));
  store = await WorkerStore.open(dir);
  // sim-b is added first: the export orders by device id, not by arrival
  for (let seq = 1; seq <= 30; seq++) store.add(good("sim-b", 1, seq, T0 + seq * 1000, 20 + seq / 10, 50), T0 + seq * 1000 + 7);
  store.add(good("sim-a", 2, 1, T0 + 5000), T0 + 5003); // same time as the boot-1 readings below: boot breaks the tie
  store.add(good("sim-a", 1, 4, T0 + 5000), T0 + 5001);
  store.add(good("sim-a", 1, 3, T0 + 5000), T0 + 5001);
  store.add({ v: 1, id: "sim-a", boot: 1, seq: 5, up: 50_000, ts: null, error: "checksum" }, T0 + 9000);
  store.add(good("sim-a", 1, 6, null, -3.5, 99.9), T0 + 12_000);
  store.add(good("sim-c", 1, 1, T0 - 1), T0);
  await store.settle();
});
afterAll(async () => {
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function text(lines: { header: string | null; rows: Iterable<string> }): string {
  return (lines.header ?? "") + [...lines.rows].join("");
}

describe("export lines", () => {
  it("CSV of several devices: the dashboard's header once, then each device's lines exactly as the dashboard's CSV has them", () => {
    const csv = text(exportLines(store.db, "csv", ["sim-a", "sim-b", "sim-c"], ...ALL));
    const dashboard = ["sim-a", "sim-b", "sim-c"].map((id) => [...csvLines(store.db, id, ...ALL)]);
    expect(dashboard.every((lines) => lines[0] === CSV_HEADER + "\r\n")).toBe(true);
    expect(csv).toBe(CSV_HEADER + "\r\n" + dashboard.map((lines) => lines.slice(1).join("")).join(""));
    expect(csv.split("\r\n").filter((l) => l === CSV_HEADER)).toHaveLength(1);
    expect(csv.split("\r\n").slice(1, 6)).toEqual([
      `sim-a,1,3,${new Date(T0 + 5000).toISOString()},${T0 + 5000},${T0 + 5001},30000,21.5,40.25,`,
      `sim-a,1,4,${new Date(T0 + 5000).toISOString()},${T0 + 5000},${T0 + 5001},40000,21.5,40.25,`,
      `sim-a,2,1,${new Date(T0 + 5000).toISOString()},${T0 + 5000},${T0 + 5003},10000,21.5,40.25,`,
      `sim-a,1,5,${new Date(T0 + 9000).toISOString()},,${T0 + 9000},50000,,,checksum`,
      `sim-a,1,6,${new Date(T0 + 12_000).toISOString()},,${T0 + 12_000},60000,-3.5,99.9,`,
    ]);
  });

  it("JSON lines: device, boot, seq, up, ts, time, received and the values or the error, one object per line", () => {
    const lines = text(exportLines(store.db, "jsonl", ["sim-a"], ...ALL)).split("\n");
    expect(lines.pop()).toBe(""); // every line ends in \n
    const objects = lines.map((l) => JSON.parse(l));
    expect(objects[0]).toEqual({ device: "sim-a", boot: 1, seq: 3, up: 30_000, ts: T0 + 5000, time: new Date(T0 + 5000).toISOString(), received: T0 + 5001, temperature: 21.5, humidity: 40.25 });
    expect(objects[3]).toEqual({ device: "sim-a", boot: 1, seq: 5, up: 50_000, ts: null, time: new Date(T0 + 9000).toISOString(), received: T0 + 9000, error: "checksum" });
    expect(objects[4]).toMatchObject({ seq: 6, ts: null, received: T0 + 12_000, temperature: -3.5, humidity: 99.9 });
    expect(Object.keys(objects[0])).toEqual(["device", "boot", "seq", "up", "ts", "time", "received", "temperature", "humidity"]);
    expect(jsonlLine({ device: "x", boot: 1, seq: 2, t: 0, ts: null, received: 3, up: 4, temperature: null, humidity: null, error: "timeout" })).toBe(
      '{"device":"x","boot":1,"seq":2,"up":4,"ts":null,"time":"1970-01-01T00:00:00.000Z","received":3,"error":"timeout"}\n',
    );
  });

  it("orders by device as given, then time, boot, seq, across pages and devices", () => {
    const seen = [...iterateReadingsOf(store.db, ["sim-a", "sim-c", "sim-b"], ...ALL, 2)].map((r) => `${r.device}/${r.t - T0}/${r.boot}/${r.seq}`);
    expect(seen.slice(0, 7)).toEqual(["sim-a/5000/1/3", "sim-a/5000/1/4", "sim-a/5000/2/1", "sim-a/9000/1/5", "sim-a/12000/1/6", "sim-c/-1/1/1", "sim-b/1000/1/1"]);
    expect(seen).toHaveLength(5 + 1 + 30);
  });

  it("takes readings in [from, to) by their time, for each device", () => {
    const rows = [...exportLines(store.db, "jsonl", ["sim-a", "sim-b", "sim-c"], T0 + 5000, T0 + 10_000).rows].map((l) => JSON.parse(l));
    expect(rows.map((r) => `${r.device}/${r.seq}`)).toEqual(["sim-a/3", "sim-a/4", "sim-a/1", "sim-a/5", "sim-b/5", "sim-b/6", "sim-b/7", "sim-b/8", "sim-b/9"]);
    expect(text(exportLines(store.db, "csv", ["sim-a"], T0 + 100_000, T0 + 200_000))).toBe(CSV_HEADER + "\r\n");
  });
});

/** A stream that takes a while per write and records whether each write() came while it asked us to wait. */
class SlowSink extends Writable {
  data = "";
  writesWhileFull = 0;
  writes = 0;
  constructor(private readonly fail: ((n: number) => NodeJS.ErrnoException | null) | null = null) {
    super({ highWaterMark: 256, decodeStrings: false });
  }
  override write(chunk: unknown, ...rest: never[]): boolean {
    if (this.writableNeedDrain) this.writesWhileFull++;
    return super.write(chunk, ...rest);
  }
  override _write(chunk: string, _enc: string, cb: (e?: Error | null) => void): void {
    this.writes++;
    const err = this.fail?.(this.writes) ?? null;
    setTimeout(() => {
      if (!err) this.data += chunk;
      cb(err);
    }, 1);
  }
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`write ${code}`), { code });
}

describe("writeExport", () => {
  const lines = () => exportLines(store.db, "csv", ["sim-a", "sim-b", "sim-c"], ...ALL);

  it("writes everything in chunks, waiting for 'drain' whenever write() says the buffer is full", async () => {
    const sink = new SlowSink();
    const result = await writeExport(sink, lines(), { chunkChars: 300 });
    expect(result).toEqual({ outcome: "done", rows: 36 });
    await new Promise((r) => sink.end(r));
    expect(sink.data).toBe(text(lines()));
    expect(sink.writes).toBeGreaterThan(5);
    expect(sink.writesWhileFull).toBe(0);
  });

  it("stops between chunks when the signal fires, and writes nothing when it already had", async () => {
    const aborter = new AbortController();
    const sink = new SlowSink((n) => (n === 3 ? (aborter.abort(), null) : null));
    const result = await writeExport(sink, lines(), { chunkChars: 300, signal: aborter.signal });
    expect(result.outcome).toBe("aborted");
    expect(result.rows).toBeLessThan(36);
    expect(sink.writes).toBe(3);

    const idle = new SlowSink();
    expect(await writeExport(idle, lines(), { signal: AbortSignal.abort() })).toEqual({ outcome: "aborted", rows: 0 });
    expect(idle.writes).toBe(0);
  });

  it("ends quietly when the reader goes away (EPIPE), and rejects with any other write error", async () => {
    const closed = new SlowSink((n) => (n === 2 ? errno("EPIPE") : null));
    const result = await writeExport(closed, lines(), { chunkChars: 300 });
    expect(result.outcome).toBe("closed");
    expect(closed.writes).toBe(2);

    const full = new SlowSink((n) => (n === 2 ? errno("ENOSPC") : null));
    await expect(writeExport(full, lines(), { chunkChars: 300 })).rejects.toThrow("write ENOSPC");
  });

  it("reports progress at most every progressEveryMs of its clock", async () => {
    let now = 0;
    const reports: [number, number][] = [];
    await writeExport(new SlowSink(), lines(), {
      chunkChars: 100,
      progressEveryMs: 2000,
      now: () => (now += 700),
      onProgress: (rows) => reports.push([now, rows]),
    });
    expect(reports.length).toBeGreaterThan(2);
    for (let i = 1; i < reports.length; i++) {
      expect(reports[i][0] - reports[i - 1][0]).toBeGreaterThanOrEqual(2000);
      expect(reports[i][1]).toBeGreaterThan(reports[i - 1][1]);
    }
  });
});
