// Store writer micro-benchmark: µs of the writing thread per reading row for batches like the ingest's
// (20 devices, batches of 8000 like the store's default), on a fresh file store, no MQTT. Run: npx tsx bench/storeWriterBench.ts [--rows N] [--batch N]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { openDatabase } from "../host/store/openDatabase";
import { RowPacker } from "../host/store/rowFormat";
import { StoreWriter } from "../host/store/storeWriter";
import type { Reading } from "../firmware/contract";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const rows = arg("rows", 200_000);
const batch = arg("batch", 8000);
const devices = Array.from({ length: 20 }, (_, d) => `bench-7-${d % 4}-${d}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-wbench-"));
const size = (f: string) => (fs.statSync(path.join(dir, f)).size / 1048576).toFixed(1);
try {
  const writer = new StoreWriter(openDatabase(dir));
  const packer = new RowPacker(batch);
  const t0 = Date.now();
  let busy = 0;
  for (let n = 0; n < rows; n++) {
    const seq = Math.floor(n / devices.length) + 1;
    const id = devices[n % devices.length];
    const r: Reading = { v: 1, id, boot: 1, seq, up: seq * 2000, ts: t0 + n, temperature: 20 + (seq % 100) / 10, humidity: 40 + (seq % 50) / 5 };
    packer.add(r, t0 + n + 3);
    if (packer.full || n === rows - 1) {
      const b = packer.take();
      const s = performance.now();
      writer.writeBatch(b, [[id, t0 + n]]);
      busy += performance.now() - s;
    }
  }
  process.stdout.write(`store writer: ${((busy * 1000) / rows).toFixed(2)} µs per reading over ${rows.toLocaleString("en")} rows in batches of ${batch}, file ${size("espdht.sqlite")} MB + WAL ${size("espdht.sqlite-wal")} MB\n`);
  writer.db.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
