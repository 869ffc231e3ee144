// `espdht export` as users run it: the real CLI on stores made by the product (a running dashboard on a real broker,
// WorkerStore), its arguments and errors, --out, Ctrl-C, `| head`, and flat memory over a million rows.
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../cli/main";
import { parseTimeOption } from "../../cli/commands/export";
import type { Reading } from "../../firmware/contract";
import { RunningDashboard, startDashboard } from "../../host/dashboard/startDashboard";
import { CSV_HEADER } from "../../host/store/csvExport";
import { countReadings } from "../../host/store/historyQueries";
import { STORE_FILE } from "../../host/store/openDatabase";
import { WorkerStore } from "../../host/store/workerStore";
import { RunningBroker, startAedes } from "../support/brokers";
import { REPO, runCli, runCliToEnd } from "../support/runCli";
import { until } from "../support/until";

const T0 = 1_700_000_000_000;
const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-export-cli-"));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** The child's environment: no user config or data folder of the machine's user is touched. */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = tempDir();
  return { ...process.env, ESPDHT_CONFIG: path.join(home, "config.json"), ESPDHT_DATA: path.join(home, "data"), NO_COLOR: "1", ...extra };
}

/** `espdht <args>` in this process (argument handling is fast to test here), its output captured. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

function good(id: string, seq: number, ts: number | null, boot = 1): Reading {
  return { v: 1, id, boot, seq, up: seq * 10_000, ts, temperature: 20 + seq / 4, humidity: 40 + seq / 8 };
}

describe("espdht export on a running dashboard's store", () => {
  const ROOT = "espdht/exporttest";
  let broker: RunningBroker;
  let dash: RunningDashboard;
  let dataDir: string;
  const devices: MqttClient[] = [];
  const now = Date.now();
  const from = now - 3_600_000;
  const to = now + 600_000; // readings without ts are timed when received, after `now`

  beforeAll(async () => {
    broker = await startAedes();
    dataDir = path.join(tempDir(), "data");
    dash = await startDashboard({
      broker: { url: broker.url, username: null, password: null, ca: null },
      root: ROOT, dataDir, port: 0, keyring: null, log: () => {},
    });
    for (const id of ["sim-x2", "sim-x1"]) {
      const c = await mqtt.connectAsync(broker.url, { clientId: id, clean: true, reconnectPeriod: 0 });
      devices.push(c);
      await c.publishAsync(`${ROOT}/${id}/status`, "online", { qos: 1, retain: true });
      for (let seq = 1; seq <= 40; seq++) {
        const r: Reading = seq === 7 ? { v: 1, id, boot: 3, seq, up: seq * 10_000, ts: now - 60_000, error: "checksum" } : { ...good(id, seq, seq > 35 ? null : now - (40 - seq) * 30_000), boot: 3 };
        await c.publishAsync(`${ROOT}/${id}/reading`, JSON.stringify(r), { qos: 1 });
      }
    }
    await until(() => countReadings(dash.store.db) === 80, 20_000, "80 stored readings");
    await dash.store.settle();
  });
  afterAll(async () => {
    for (const c of devices) c.end(true);
    await dash?.close();
    await broker?.stop();
  });

  async function routeCsv(id: string): Promise<string> {
    const res = await fetch(new URL(`/api/devices/${id}/readings.csv?from=${from}&to=${to}`, dash.url));
    expect(res.status).toBe(200);
    return res.text();
  }

  it("writes a device's CSV byte for byte as the dashboard's CSV route does, while the dashboard runs", async () => {
    const route = await routeCsv("sim-x1");
    expect(route.split("\r\n")).toHaveLength(1 + 40 + 1);
    const run = await runCliToEnd(["export", "sim-x1", "--data", dataDir, "--from", String(from), "--to", String(to)], childEnv());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(route);
  });

  it("writes several devices with the header once, by device then time; jsonl carries the same rows", async () => {
    const [x1, x2] = [await routeCsv("sim-x1"), await routeCsv("sim-x2")];
    const all = await runCliToEnd(["export", "--data", dataDir, "--from", new Date(from).toISOString(), "--to", String(to)], childEnv());
    expect(all.code).toBe(0);
    expect(all.stdout).toBe(x1 + x2.slice(CSV_HEADER.length + 2));
    const jsonl = await runCliToEnd(["export", "--data", dataDir, "--device", "sim-x2", "--format", "jsonl"], childEnv());
    expect(jsonl.code).toBe(0);
    const rows = jsonl.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(rows).toHaveLength(40);
    expect(rows.find((r) => r.seq === 7)).toEqual({ device: "sim-x2", boot: 3, seq: 7, up: 70_000, ts: now - 60_000, time: new Date(now - 60_000).toISOString(), received: expect.any(Number), error: "checksum" });
    expect(rows.find((r) => r.seq === 1)).toMatchObject({ device: "sim-x2", seq: 1, ts: now - 39 * 30_000, temperature: 20.25, humidity: 40.125 });
  });
});

describe("espdht export arguments", () => {
  let dataDir: string;
  let file: string;

  beforeAll(async () => {
    dataDir = tempDir();
    const store = await WorkerStore.open(dataDir);
    for (let seq = 0; seq < 20; seq++) store.add(good("sim-a", seq, T0 + seq * 1000), T0 + seq * 1000 + 3);
    for (let seq = 0; seq < 20; seq++) store.add(good("sim-b", seq, T0 + seq * 1000), T0 + seq * 1000 + 3);
    store.add(good("sim-c", 1, null), T0 + 30_000);
    await store.settle();
    await store.close();
    file = path.join(dataDir, STORE_FILE);
  });

  const seqs = (csv: string) => csv.trim().split("\r\n").slice(1).map((l) => l.split(",").slice(0, 3).join("/"));

  it("--help says what it does, with examples", async () => {
    const r = await cli(["export", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: espdht export [DEVICE...]");
    expect(r.stdout).toMatch(/Examples:\n {2}espdht export > all\.csv/);
    expect(r.stdout).toContain("--from TIME");
  });

  it("exports every device by default, or those named as arguments and with --device", async () => {
    const all = await cli(["export", "--data", dataDir]);
    expect(all.code).toBe(0);
    expect(seqs(all.stdout)).toHaveLength(41);
    expect(seqs(all.stdout)[40]).toBe("sim-c/1/1");
    const some = await cli(["export", "sim-c", "--data", dataDir, "--device", "sim-a"]);
    expect(seqs(some.stdout)).toEqual([...Array.from({ length: 20 }, (_, i) => `sim-a/1/${i}`), "sim-c/1/1"]);
  });

  it("takes --from/--to as Unix ms or ISO 8601 (Z or an offset) alike: readings in [from, to)", async () => {
    const ms = await cli(["export", "sim-a", "--data", dataDir, "--from", String(T0 + 5000), "--to", String(T0 + 8000)]);
    expect(seqs(ms.stdout)).toEqual(["sim-a/1/5", "sim-a/1/6", "sim-a/1/7"]);
    const iso = await cli(["export", "sim-a", "--data", dataDir, "--from", new Date(T0 + 5000).toISOString(), "--to", "2023-11-15T00:13:28+02:00"]);
    expect(iso.stdout).toBe(ms.stdout);
    const open = await cli(["export", "sim-a", "--data", dataDir, "--from", "2023-11-14T22:13:38Z"]);
    expect(seqs(open.stdout)).toEqual(["sim-a/1/18", "sim-a/1/19"]);
  });

  it.each([
    [["--format", "xml"], "--format: 'xml' is not one of csv, jsonl"],
    [["--from", "yesterday"], "--from: 'yesterday' is not a time; use ISO 8601 (2024-05-01, 2024-05-01T12:00, 2024-05-01T12:00:00Z, 2024-05-01T12:00+02:00) or Unix ms (1714564800000)"],
    [["--to", "2024-02-30"], "--to: '2024-02-30' has day 30, and 2024-02 has 29 days"],
    [["--to", "2024-13-01"], "--to: '2024-13-01' has month 13"],
    [["--from", "2024-05-01T24:00"], "--from: '2024-05-01T24:00' has an hour, minute or second out of range"],
    [["--from", "2024-05-01T12:00+15:00"], "--from: '2024-05-01T12:00+15:00' has offset +15:00"],
    [["--from", "-5"], "--from: '-5' looks like an option; write --from=-5"],
    [["--from", "99999999999999999"], "--from: '99999999999999999' is not a time"],
    [["--from", "2024-05-02", "--to", "2024-05-01"], "--from 2024-05-02 ("],
    [["--from", "1000", "--to", "1000"], "--from 1000 (1970-01-01T00:00:01.000Z) must be before --to 1000"],
    [["sim-a", "sim-nope"], "unknown device 'sim-nope' in FILE (devices there: sim-a, sim-b, sim-c)"],
    [["--device", ""], "a device id is empty"],
    [["--bogus"], "Unknown option '--bogus'"],
  ])("%j is refused naming what was wrong (exit 2)", async (args, message) => {
    const r = await cli(["export", "--data", dataDir, ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("espdht export: " + message.replace("FILE", file));
  });

  it("names a missing data folder or store (exit 1) and an --out it cannot write (exit 2), creating nothing", async () => {
    const missing = path.join(tempDir(), "nothing-here");
    const r = await cli(["export", "--data", missing]);
    expect(r).toMatchObject({ code: 1, stdout: "" });
    expect(r.stderr).toBe(`espdht export: no data folder ${missing} (the dashboard records history there; pass --data DIR for another folder)\n`);
    expect(fs.existsSync(missing)).toBe(false);
    const empty = tempDir();
    expect((await cli(["export", "--data", empty])).stderr).toContain(`no history store in ${empty} (${STORE_FILE} is missing`);
    expect(fs.readdirSync(empty)).toEqual([]);
    const noFolder = path.join(empty, "sub", "out.csv");
    expect(await cli(["export", "--data", dataDir, "--out", noFolder])).toMatchObject({ code: 2, stderr: `espdht export: --out: the folder ${path.dirname(noFolder)} does not exist\n` });
    expect(await cli(["export", "--data", dataDir, "-o", empty])).toMatchObject({ code: 2, stderr: `espdht export: --out: ${empty} is a folder\n` });
  });

  it("warns when a Unix ms value looks like Unix seconds", async () => {
    const r = await cli(["export", "--data", dataDir, "--from", "1700000000", "sim-c"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: --from 1700000000 is read as Unix ms (1970-01-20T16:13:20.000Z); in Unix seconds it would be 1700000000000");
  });

  it("--out FILE from the default data folder: the rows land in FILE (through FILE.tmp), a summary on stderr", async () => {
    const out = path.join(tempDir(), "history.jsonl");
    fs.writeFileSync(out, "an older export\n");
    const r = await runCliToEnd(["export", "--format", "jsonl", "-o", out], childEnv({ ESPDHT_DATA: dataDir }));
    expect(r).toMatchObject({ code: 0, stdout: "" });
    expect(r.stderr).toBe(`espdht export: 41 rows of 3 devices written to ${out}\n`);
    const lines = fs.readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(41);
    expect(lines[40]).toMatchObject({ device: "sim-c", seq: 1, ts: null, received: T0 + 30_000 });
    expect(fs.existsSync(out + ".tmp")).toBe(false);
  });

  it("reads a time without Z or an offset as local time (TZ=Asia/Kolkata, +05:30)", async () => {
    const env = childEnv({ TZ: "Asia/Kolkata" });
    const local = await runCliToEnd(["export", "sim-b", "--data", dataDir, "--from", "2023-11-15T03:43:35", "--to", "2023-11-15 03:43:37.5"], env);
    expect(local.stderr).toBe("");
    expect(seqs(local.stdout)).toEqual(["sim-b/1/15", "sim-b/1/16", "sim-b/1/17"]);
  });
});

describe("parseTimeOption", () => {
  it.each([
    ["1700000000000", T0],
    ["0", 0],
    ["2023-11-14T22:13:20Z", T0],
    ["2023-11-14T22:13:20.5z", T0 + 500],
    ["2023-11-14T22:13:20.123456Z", T0 + 123],
    ["2023-11-14T23:13:20+01:00", T0],
    ["2023-11-14T21:13:20-0100", T0],
    ["2023-11-14T22:13Z", T0 - 20_000],
    ["2024-02-29", new Date(2024, 1, 29).getTime()],
    ["2024-05-01T12:00", new Date(2024, 4, 1, 12, 0).getTime()],
    ["0099-01-01T00:00Z", Date.parse("0099-01-01T00:00:00Z")], // not 1999: two-digit years are not shifted
  ])("%s is %d", (raw, ms) => {
    expect(parseTimeOption("from", raw)).toEqual({ ms, warning: null });
  });
});

/** `espdht export ...` in a child that prints its peak RSS (KB) as the last stderr line. */
function exportMeasuringRss(args: string[]): Promise<{ code: number | null; stderr: string; maxRssKb: number }> {
  const script = [
    'import { register } from "tsx/esm/api";',
    "register();",
    `const { main } = await import(${JSON.stringify(path.join(REPO, "cli/main.ts"))});`,
    "const code = await main(process.argv.slice(1));",
    'process.stderr.write("maxRSS " + process.resourceUsage().maxRSS + "\\n");',
    "process.exitCode = code;",
  ].join("\n");
  const child = spawn(process.execPath, ["--input-type=module", "-e", script, "export", ...args], { cwd: REPO, env: childEnv(), stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on("close", (code) => resolve({ code, stderr, maxRssKb: Number(/maxRSS (\d+)\n$/.exec(stderr)?.[1] ?? NaN) })),
  );
}

describe("espdht export on a million rows", () => {
  const ROWS = 1_000_000;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDir();
    await (await WorkerStore.open(dataDir)).close(); // the product's schema
    const db = new Database(path.join(dataDir, STORE_FILE));
    db.prepare("INSERT INTO device_keys (key, id) VALUES (1, 'sim-big')").run();
    const insert = db.prepare("INSERT INTO reading_rows (device, t, boot, seq, lag, up, temperature, humidity, error) VALUES (1, ?, 1, ?, 5, ?, ?, ?, NULL)");
    db.transaction(() => {
      for (let i = 0; i < ROWS; i++) insert.run(T0 + i * 1000, i, i * 1000, 20 + (i % 100) / 10, 40 + (i % 50) / 10);
    })();
    db.close();
  }, 120_000);

  // V8 grows its young generation to a fixed cap under steady allocation (which 10,000 rows never reach), hence the
  // allowance over the small export; from 250,000 to 1,000,000 rows the peak must stay flat. Holding the rows or
  // the text instead would take hundreds of MB.
  it("keeps its peak memory flat as the row count grows", async () => {
    const small = await exportMeasuringRss(["--data", dataDir, "--to", String(T0 + 10_000 * 1000), "-o", "/dev/null"]);
    const mid = await exportMeasuringRss(["--data", dataDir, "--to", String(T0 + 250_000 * 1000), "-o", "/dev/null"]);
    const big = await exportMeasuringRss(["--data", dataDir, "-o", "/dev/null", "--progress"]);
    expect(small.stderr).toContain("espdht export: 10,000 rows of sim-big written to /dev/null");
    expect(mid.stderr).toContain("espdht export: 250,000 rows of sim-big written to /dev/null");
    const bigLines = big.stderr.trim().split("\n");
    expect(bigLines.slice(-2)).toEqual(["espdht export: 1,000,000 rows of sim-big written to /dev/null", `maxRSS ${big.maxRssKb}`]);
    for (const l of bigLines.slice(0, -2)) expect(l).toMatch(/^espdht export: [\d,]+ rows \([\d,]+ rows\/s\)$/);
    expect([small.code, mid.code, big.code]).toEqual([0, 0, 0]);
    const mb = (kb: number) => Math.round(kb / 1024);
    console.log(`export peak RSS: 10,000 rows ${mb(small.maxRssKb)} MB, 250,000 rows ${mb(mid.maxRssKb)} MB, 1,000,000 rows ${mb(big.maxRssKb)} MB`);
    expect(big.maxRssKb - small.maxRssKb).toBeLessThan(96 * 1024);
    expect(big.maxRssKb - mid.maxRssKb).toBeLessThan(32 * 1024);
  }, 120_000);

  it("Ctrl-C stops it, removes the partial file and exits 130", async () => {
    const out = path.join(tempDir(), "all.csv");
    const run = runCli(["export", "--data", dataDir, "--out", out], childEnv());
    const size = () => (fs.existsSync(out + ".tmp") ? fs.statSync(out + ".tmp").size : 0);
    await until(() => size() > 1_000_000, 30_000, "a partial export");
    run.child.kill("SIGINT");
    expect(await run.done).toBe(130);
    expect(run.stderr()).toMatch(/^espdht export: interrupted after [\d,]+ rows; .*all\.csv not written\n$/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(out + ".tmp")).toBe(false);
  }, 60_000);

  it("exits 0 quietly when its reader stops early (| head)", async () => {
    const run = runCli(["export", "--data", dataDir, "--format", "jsonl"], childEnv());
    let got = "";
    await new Promise<void>((resolve) => {
      run.child.stdout!.removeAllListeners("data");
      run.child.stdout!.on("data", (d) => {
        got += d;
        if (got.includes("\n")) {
          run.child.stdout!.destroy();
          resolve();
        }
      });
    });
    expect(await run.done).toBe(0);
    expect(run.stderr()).toBe("");
    expect(JSON.parse(got.split("\n")[0])).toMatchObject({ device: "sim-big", seq: 0 });
  }, 60_000);
});
