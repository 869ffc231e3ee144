// Acknowledged means stored, with the real CLI: `espdht dashboard` killed with SIGKILL at random moments while a
// publisher sends 10,000 QoS 1 readings through a real Mosquitto, then a full disk (a tiny tmpfs, or a file-size
// limit where mounting is not allowed); afterwards the store holds every reading exactly once.
import Database from "better-sqlite3";
import { execFileSync, spawnSync } from "node:child_process";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mqtt, { MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseHostHealth, HostHealth } from "../../host/ingest/hostHealth";
import { JOURNAL_DIR } from "../../host/store/ingestJournal";
import { STORE_FILE } from "../../host/store/openDatabase";
import { startMosquitto, RunningBroker } from "../support/brokers";
import { CliRun, REPO, runCli, tempUserEnv } from "../support/runCli";
import { until } from "../support/until";

const ROOT = "espdht/durable";
const DEVICES = ["sim-dur0", "sim-dur1", "sim-dur2", "sim-dur3"];
let broker: RunningBroker;
let publisher: MqttClient;
const dirs: string[] = [];

beforeAll(async () => {
  // max_queued_messages 0: Mosquitto keeps every message for the dashboard's session while it is down
  broker = await startMosquitto(["max_queued_messages 0"]);
  publisher = await mqtt.connectAsync(broker.url, { clientId: "durability-publisher", clean: true, reconnectPeriod: 0 });
}, 60_000);
afterAll(async () => {
  await publisher?.endAsync();
  await broker?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const T0 = Date.now() - 3_600_000;
/**
 * Reading number n (0-based) of the stream: devices in turn, seq counting per device. Half the devices have no
 * clock yet (ts null): their readings are stored at their receive time, so a second delivery (the broker's
 * redelivery after a kill) would be a second row unless de-duplication on (device, boot, seq) drops it.
 */
function reading(n: number): { topic: string; payload: string } {
  const d = n % DEVICES.length;
  const id = DEVICES[d];
  const seq = Math.floor(n / DEVICES.length) + 1;
  const ts = d % 2 === 0 ? T0 + seq * 1000 : null;
  return {
    topic: `${ROOT}/${id}/reading`,
    payload: JSON.stringify({ v: 1, id, boot: 1, seq, up: seq * 1000, ts, temperature: 20 + (seq % 50) / 10, humidity: 40 + (seq % 30) }),
  };
}

/** readings sent a second time so far (see publish) */
let resent = 0;

/**
 * Publishes readings [from, to) at QoS 1, `perTick` every 10 ms; resolves when the broker acknowledged them all.
 * Every 10th reading also sends the one 100 before it again, as a device does that lost the PUBACK: the host
 * must store it once.
 */
async function publish(from: number, to: number, perTick: number): Promise<void> {
  for (let n = from; n < to; n += perTick) {
    const sends: Promise<unknown>[] = [];
    for (let k = n; k < Math.min(to, n + perTick); k++) {
      const r = reading(k);
      sends.push(publisher.publishAsync(r.topic, r.payload, { qos: 1 }));
      if (k % 10 === 3 && k >= 100) {
        const again = reading(k - 100);
        sends.push(publisher.publishAsync(again.topic, again.payload, { qos: 1 }));
        resent++;
      }
    }
    await Promise.all(sends);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Counts {
  /** rows stored */
  rows: number;
  /** distinct (device, boot, seq) among them: rows - distinct are duplicates */
  distinct: number;
}
function storedCounts(dataDir: string): Counts {
  const file = path.join(dataDir, STORE_FILE);
  if (!fs.existsSync(file)) return { rows: 0, distinct: 0 };
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    // the publisher's devices only (virtual boards may send too)
    const rows = db.prepare("SELECT count(*) FROM readings WHERE device LIKE 'sim-dur%'").pluck().get() as number;
    const distinct = db.prepare("SELECT count(*) FROM (SELECT DISTINCT device, boot, seq FROM readings WHERE device LIKE 'sim-dur%')").pluck().get() as number;
    return { rows, distinct };
  } catch {
    return { rows: 0, distinct: 0 }; // the schema is not there yet
  } finally {
    db.close();
  }
}

/** per virtual board (sim-*, not the publisher's sim-dur*) and boot: the seqs stored */
function simRows(dataDir: string): { device: string; boot: number; lo: number; hi: number; n: number; seqs: number }[] {
  const file = path.join(dataDir, STORE_FILE);
  if (!fs.existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT device, boot, min(seq) lo, max(seq) hi, count(*) n, count(DISTINCT seq) seqs FROM readings WHERE device NOT LIKE 'sim-dur%' GROUP BY device, boot").all() as never;
  } catch {
    return [];
  } finally {
    db.close();
  }
}

function dashboardArgs(dataDir: string, extra: string[] = []): string[] {
  return ["dashboard", "--broker", broker.url, "--topic-root", ROOT, "--data", dataDir, "--port", "0", ...extra];
}

async function startDashboard(env: NodeJS.ProcessEnv, dataDir: string, extra: string[] = []): Promise<CliRun> {
  const run = runCli(dashboardArgs(dataDir, extra), env);
  await until(() => /http:\/\/127\.0\.0\.1:\d+\//.test(run.stdout()) || run.child.exitCode !== null, 60_000, "the dashboard's URL");
  if (run.child.exitCode !== null) throw new Error(`the dashboard exited ${run.child.exitCode}: ${run.stderr()}`);
  return run;
}

function figures(name: string, sent: number, c: Counts): string {
  return `${name}: sent ${sent}, stored ${c.distinct}, lost ${sent - c.distinct}, duplicates ${c.rows - c.distinct}`;
}

describe("espdht dashboard: acknowledged means stored", () => {
  it("keeps every one of 10,000 QoS 1 readings exactly once across kill -9 at random moments", async () => {
    const { env, dir } = tempUserEnv();
    dirs.push(dir);
    const dataDir = path.join(dir, "data");
    const SENT = 10_000;
    let dash = await startDashboard(env, dataDir); // its persistent session exists from here on
    // three virtual boards running the firmware send their own readings meanwhile (unsigned, every 2 s)
    const sim = runCli(["sim", "--broker", broker.url, "--topic-root", ROOT, "--devices", "3", "--interval", "2", "--data", path.join(dir, "boards"), "--no-keys", "--seed", "durable"], env);
    await until(() => simRows(dataDir).length > 0 || sim.child.exitCode !== null, 120_000, "the first reading of a virtual board");
    resent = 0;
    const publishing = publish(0, SENT, 25); // ~2,500 readings/s
    const kills: number[] = [];
    const started = Date.now();
    // four kills at random moments of the stream (one of them right after a restart, in the replay)
    for (let k = 0; k < 4; k++) {
      await new Promise((r) => setTimeout(r, k === 2 ? 150 : 300 + Math.random() * 1200));
      const before = storedCounts(dataDir).distinct;
      process.kill(dash.child.pid!, "SIGKILL");
      await dash.done;
      kills.push(Date.now() - started);
      const journal = path.join(dataDir, JOURNAL_DIR);
      const left = fs.existsSync(journal) ? fs.readdirSync(journal).length : 0;
      console.log(`kill -9 #${k + 1} at ${kills[k]} ms: ${before} stored, ${left} journal segment(s) left`);
      dash = await startDashboard(env, dataDir);
    }
    await publishing;
    const sentAt = Date.now() - started;
    sim.child.kill("SIGINT");
    expect(await sim.done).toBe(0);
    await until(() => storedCounts(dataDir).distinct >= SENT, 120_000, "every reading to be stored");
    dash.child.kill("SIGINT");
    expect(await dash.done).toBe(0);
    const c = storedCounts(dataDir);
    console.log(`${figures("kill -9 x4 while publishing", SENT, c)}, ${resent} sent twice (published in ${sentAt} ms, kills at ${kills.join(", ")} ms)`);
    // exactly what was sent: nothing lost, no reading stored twice
    expect({ stored: c.distinct, duplicates: c.rows - c.distinct }).toEqual({ stored: SENT, duplicates: 0 });
    // the boards' readings: per device and boot, every seq from the first stored to the last, once
    const boards = simRows(dataDir);
    console.log(`virtual boards: ${boards.map((b) => `${b.device} boot ${b.boot} seq ${b.lo}..${b.hi} (${b.n} stored, ${b.n - b.seqs} duplicates)`).join(", ")}`);
    expect(boards.length).toBeGreaterThanOrEqual(3);
    for (const b of boards) expect([b.n, b.seqs]).toEqual([b.hi - b.lo + 1, b.hi - b.lo + 1]);
    expect(fs.readdirSync(path.join(dataDir, JOURNAL_DIR))).toEqual([]); // a clean stop leaves no journal
  }, 300_000);

  // a full tmpfs fails the journal and the store alike; a file-size limit (ulimit -f: Node ignores SIGXFSZ, writes
  // get EFBIG) fails every file past the limit, and stays until the process is restarted without it
  it.each(["tmpfs", "ulimit"] as const)("stops acknowledging when the disk is full (%s), shows it in watch, and stores everything once it has room", async (kind) => {
    const { env, dir } = tempUserEnv();
    dirs.push(dir);
    const mountPoint = path.join(dir, "disk");
    fs.mkdirSync(mountPoint);
    if (kind === "tmpfs" && spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint]).status !== 0) {
      // CI runs as root on the project's machine: there a refused mount is a broken setup, not a reason to skip
      if (process.env.CI) throw new Error("full disk (tmpfs): mount -t tmpfs was refused; CI must run as root");
      console.log("full disk (tmpfs): mount is refused here (not root); the ulimit case covers a full disk");
      return;
    }
    const dataDir = path.join(mountPoint, "data");
    const SENT = 3000;
    const healths: HostHealth[] = [];
    const watcher = await mqtt.connectAsync(broker.url, { clean: true, reconnectPeriod: 0 });
    watcher.on("message", (_t, p) => {
      const h = parseHostHealth(p);
      if (h) healths.push(h);
    });
    await watcher.subscribeAsync(`${ROOT}/+/health`, { qos: 1 });
    // and what a user sees: `espdht watch` (no store of its own) prints the dashboard's store health as it changes
    const watch = runCli(["watch", "--broker", broker.url, "--topic-root", ROOT], env);
    let dash: CliRun | null = null;
    try {
      if (kind === "tmpfs") {
        dash = await startDashboard(env, dataDir);
        await publish(0, 500, 50);
        await until(() => storedCounts(dataDir).distinct === 500, 30_000, "the first 500 readings");
        // fill the disk: the journal's writes (and the store's commits) fail with ENOSPC
        const filler = path.join(mountPoint, "filler");
        spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"], { stdio: "ignore" });
        await publish(500, SENT, 50);
        await until(() => healths.some((h) => !h.ok && h.holding), 60_000, "the dashboard to report that it holds readings");
        const during = storedCounts(dataDir).distinct;
        expect(during).toBeLessThan(SENT);
        console.log(`full disk: ${during} of ${SENT} stored while the disk was full; the dashboard reports: ${healths.find((h) => h.holding)?.problem}`);
        fs.rmSync(filler);
      } else {
        // 100 KB per file: the store's WAL outgrows it within the first few hundred readings; the journal's
        // segments still fit, so it absorbs readings up to its bound (30 KB here), then the acks stop
        const cmd = `ulimit -f 100; exec "${process.execPath}" "${path.join(REPO, "bin/espdht.js")}" ${dashboardArgs(dataDir, ["--journal-limit", "0.03"]).join(" ")}`;
        const child = spawn("bash", ["-c", cmd], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        const done = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
        dash = { child, stdout: () => out, stderr: () => err, done };
        await until(() => /http:\/\//.test(out), 60_000, "the dashboard's URL");
        await publish(0, SENT, 50);
        await until(() => healths.some((h) => !h.ok && h.holding), 60_000, "the dashboard to report that it holds readings").catch((e: Error) => {
          throw new Error(`${e.message}; it said: ${err.slice(0, 1500)}\n--- health: ${JSON.stringify(healths.slice(-3))}`);
        });
        const during = storedCounts(dataDir).distinct;
        expect(during).toBeLessThan(SENT);
        console.log(`file-size limit: ${during} of ${SENT} stored under the limit; the dashboard reports: ${healths.find((h) => h.holding)?.problem}`);
        // Ctrl-C while readings are held: it stops promptly (nothing waits for a PUBACK MQTT.js will not read)
        const stopping = Date.now();
        child.kill("SIGINT");
        expect(await done).toBe(0);
        expect(Date.now() - stopping).toBeLessThan(10_000);
        dash = await startDashboard(env, dataDir); // without the limit
      }
      // a timeout names what the dashboard and watch said
      const explain = (e: Error) => {
        throw new Error(`${e.message}\n--- dashboard:\n${dash?.stderr().slice(-1500)}\n--- watch:\n${watch.stderr().slice(-1500)}\n--- health: ${JSON.stringify(healths.slice(-3))}`);
      };
      await until(() => storedCounts(dataDir).distinct >= SENT, 120_000, "every reading to be stored after the disk has room").catch(explain);
      await until(() => healths.length > 0 && healths[healths.length - 1].ok, 60_000, "the dashboard to report the store OK again").catch(explain);
      const failedThenOk = () => {
        const parts = watch.stderr().split(/readings held unacknowledged/);
        return parts.length > 1 && /store OK/.test(parts[parts.length - 1]);
      };
      await until(failedThenOk, 60_000, "watch to show the store failing, then OK").catch(explain);
      console.log(`watch printed: ${watch.stderr().split("\n").filter((l) => /store/.test(l)).join(" | ")}`);
      dash.child.kill("SIGINT");
      expect(await dash.done).toBe(0);
      dash = null;
      const c = storedCounts(dataDir);
      console.log(figures(kind === "tmpfs" ? "full disk (4 MB tmpfs filled)" : "file-size limit (ulimit -f 100)", SENT, c));
      expect({ stored: c.distinct, duplicates: c.rows - c.distinct }).toEqual({ stored: SENT, duplicates: 0 });
    } finally {
      if (dash && dash.child.exitCode === null) {
        dash.child.kill("SIGKILL");
        await dash.done;
      }
      await watcher.endAsync();
      watch.child.kill("SIGINT");
      await watch.done;
      if (kind === "tmpfs") execFileSync("umount", [mountPoint]);
    }
  }, 300_000);
});
