// One writer per data folder (the lock, its stale forms), the dashboard client id made once by concurrent
// processes, and the modes of the data folder and its files.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLIENT_ID_FILE, dashboardClientId } from "../../../host/ingest/dashboardClientId";
import { DataFolderInUseError, DataFolderLock, LOCK_FILE } from "../../../host/store/dataFolderLock";
import { openDatabase, STORE_FILE } from "../../../host/store/openDatabase";
import { WorkerStore } from "../../../host/store/workerStore";
import { REPO } from "../../support/runCli";

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-lock-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const mode = (p: string) => fs.statSync(p).mode & 0o777;
/** a pid that belonged to a process which has exited */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(r.stdout.toString());
}

describe("DataFolderLock", () => {
  it("is taken once: a second taker is refused with the holder's pid and command; released, it can be taken again", () => {
    const dir = tempDir();
    const lock = DataFolderLock.acquire(dir);
    expect(mode(path.join(dir, LOCK_FILE))).toBe(0o600);
    let refused: unknown;
    try {
      DataFolderLock.acquire(dir);
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(DataFolderInUseError);
    expect((refused as Error).message).toContain(`the data folder ${dir} is in use by process ${process.pid}`);
    expect((refused as Error).message).toMatch(/--data DIR/);
    lock.release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    DataFolderLock.acquire(dir).release();
  });

  it.each([
    ["its process has exited (kill -9)", () => ({ pid: deadPid(), start: "1", command: "espdht.js dashboard", since: 1 })],
    ["its pid now belongs to another process (started at another time)", () => ({ pid: process.pid, start: "1", command: "espdht.js dashboard", since: 1 })],
    ["it is not readable (a crash while it was written)", () => "{\"pid\":"],
  ])("is taken over when %s", (_name, content) => {
    const dir = tempDir();
    const c = content();
    fs.writeFileSync(path.join(dir, LOCK_FILE), typeof c === "string" ? c : JSON.stringify(c));
    const lock = DataFolderLock.acquire(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("never keeps options in the lock (a --password there would be on disk)", () => {
    const dir = tempDir();
    const lock = DataFolderLock.acquire(dir);
    const owner = JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8"));
    expect(owner.command.split(" ").length).toBeLessThanOrEqual(2);
    lock.release();
  });

  it("is held by an open WorkerStore and freed by its close", async () => {
    const dir = tempDir();
    const store = await WorkerStore.open(dir);
    await expect(WorkerStore.open(dir)).rejects.toBeInstanceOf(DataFolderInUseError);
    await store.close();
    await (await WorkerStore.open(dir)).close();
  });
});

describe("dashboard client id", () => {
  it("is created 0600 once; eight processes starting at the same moment agree on it", async () => {
    const dir = tempDir();
    const dataDir = path.join(dir, "data");
    const script = path.join(dir, "id.ts");
    fs.writeFileSync(script, `import { dashboardClientId } from ${JSON.stringify(path.join(REPO, "host/ingest/dashboardClientId.ts"))};\nprocess.stdout.write(dashboardClientId(process.argv[2]));\n`);
    const ids = await Promise.all(
      Array.from({ length: 8 }, () => new Promise<string>((resolve, reject) => {
        const c = spawn(process.execPath, ["--import", "tsx", script, dataDir], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        c.stdout.on("data", (d) => (out += d));
        c.stderr.on("data", (d) => (err += d));
        c.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
      })),
    );
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^espdht-dash-[0-9a-f]{12}$/);
    expect(fs.readFileSync(path.join(dataDir, CLIENT_ID_FILE), "utf8")).toBe(ids[0] + "\n");
    expect(mode(path.join(dataDir, CLIENT_ID_FILE))).toBe(0o600);
    expect(mode(dataDir)).toBe(0o700);
    expect(dashboardClientId(dataDir)).toBe(ids[0]);
  }, 60_000);

  it("names a file that holds something else instead of replacing it", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, CLIENT_ID_FILE), "mosquitto_sub\n");
    expect(() => dashboardClientId(dir)).toThrow(/holds 'mosquitto_sub', not a dashboard client id/);
  });
});

describe("data folder modes", () => {
  it("creates the folder 0700 and the store with its -wal and -shm 0600", async () => {
    const dir = path.join(tempDir(), "new", "data");
    const store = await WorkerStore.open(dir);
    store.add({ v: 1, id: "sim-a", boot: 1, seq: 1, up: 0, ts: null, temperature: 20, humidity: 50 }, Date.now());
    await store.settle();
    expect(mode(dir)).toBe(0o700);
    for (const f of [STORE_FILE, STORE_FILE + "-wal", STORE_FILE + "-shm", LOCK_FILE, "journal"]) {
      expect([f, mode(path.join(dir, f))]).toEqual([f, f === "journal" ? 0o700 : 0o600]);
    }
    await store.close();
  });

  it("tightens a folder and store files an older version left 0755/0644", () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o755);
    openDatabase(dir).close();
    for (const f of [STORE_FILE, STORE_FILE + "-wal", STORE_FILE + "-shm"]) {
      fs.writeFileSync(path.join(dir, f), "", { flag: "a" });
      fs.chmodSync(path.join(dir, f), 0o644);
    }
    openDatabase(dir).close();
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, STORE_FILE))).toBe(0o600);
    for (const f of [STORE_FILE + "-wal", STORE_FILE + "-shm"]) if (fs.existsSync(path.join(dir, f))) expect(mode(path.join(dir, f))).toBe(0o600);
  });
});
