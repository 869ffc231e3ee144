// One dashboard per data folder, with the real CLI and a real Mosquitto: a second one refuses at once naming the
// first (no session shared, so no kick loop), `export` still reads the folder, the lock of a dashboard killed
// with -9 is taken over, and the folder's files are the owner's alone.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_ID_FILE } from "../../host/ingest/dashboardClientId";
import { LOCK_FILE } from "../../host/store/dataFolderLock";
import { JOURNAL_DIR } from "../../host/store/ingestJournal";
import { STORE_FILE } from "../../host/store/openDatabase";
import { startMosquitto, RunningBroker } from "../support/brokers";
import { CliRun, runCli, runCliToEnd, tempUserEnv } from "../support/runCli";
import { until } from "../support/until";

const ROOT = "espdht/lock";
let broker: RunningBroker;
const dirs: string[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
}, 60_000);
afterAll(async () => {
  await broker?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const mode = (p: string) => fs.statSync(p).mode & 0o777;

async function startDashboard(env: NodeJS.ProcessEnv, dataDir: string): Promise<CliRun> {
  const run = runCli(["dashboard", "--broker", broker.url, "--topic-root", ROOT, "--data", dataDir, "--port", "0"], env);
  await until(() => /http:\/\/127\.0\.0\.1:\d+\//.test(run.stdout()) || run.child.exitCode !== null, 60_000, "the dashboard's URL");
  return run;
}

describe("espdht dashboard: one owner per data folder", () => {
  it("refuses a second dashboard at once naming the first's pid, keeps the first connected, and takes over after kill -9", async () => {
    const { env, dir } = tempUserEnv();
    dirs.push(dir);
    const dataDir = path.join(dir, "data");
    const first = await startDashboard(env, dataDir);
    try {
      const started = Date.now();
      const second = await runCliToEnd(["dashboard", "--broker", broker.url, "--topic-root", ROOT, "--data", dataDir, "--port", "0"], env, 60_000);
      console.log(`second dashboard refused in ${Date.now() - started} ms: ${second.stderr.trim().split("\n").pop()}`);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`the data folder ${dataDir} is in use by process ${first.child.pid} (espdht.js dashboard)`);
      expect(second.stdout).toBe("");
      // no kick loop: the first never lost its session to a twin
      await new Promise((r) => setTimeout(r, 2500));
      expect(first.stderr()).not.toMatch(/reconnecting/);
      // export reads the folder while the dashboard runs
      const exported = await runCliToEnd(["export", "--data", dataDir], env, 60_000);
      expect(exported.code).toBe(0);
      // the folder and every file in it are the owner's alone
      expect(mode(dataDir)).toBe(0o700);
      for (const f of [STORE_FILE, STORE_FILE + "-wal", STORE_FILE + "-shm", CLIENT_ID_FILE, LOCK_FILE]) expect([f, mode(path.join(dataDir, f))]).toEqual([f, 0o600]);
      expect(mode(path.join(dataDir, JOURNAL_DIR))).toBe(0o700);
    } finally {
      process.kill(first.child.pid!, "SIGKILL");
      await first.done;
    }
    // the lock of the killed dashboard is left behind, and taken over
    expect(fs.existsSync(path.join(dataDir, LOCK_FILE))).toBe(true);
    const third = await startDashboard(env, dataDir);
    expect(third.child.exitCode).toBeNull();
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, LOCK_FILE), "utf8")).pid).toBe(third.child.pid);
    third.child.kill("SIGINT");
    expect(await third.done).toBe(0);
    expect(fs.existsSync(path.join(dataDir, LOCK_FILE))).toBe(false); // a clean stop removes it
  }, 180_000);
});
