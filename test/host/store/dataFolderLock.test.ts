// One writer per data folder (the lock, its stale forms), the dashboard client id made once by concurrent
// processes, and the modes of the data folder and its files.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLIENT_ID_FILE, dashboardClientId, dashboardIds, HOST_ID_FILE } from "../../../host/ingest/dashboardClientId";
import { DataFolderInUseError, DataFolderLock, LOCK_FILE, UNREADABLE_STALE_MS } from "../../../host/store/dataFolderLock";
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
    ["it is not readable (a crash while it was written) and older than 10 s", () => "{\"pid\":"],
    ["it is empty and older than 10 s", () => ""],
  ])("is taken over when %s", (_name, content) => {
    const dir = tempDir();
    const c = content();
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, typeof c === "string" ? c : JSON.stringify(c));
    const old = (Date.now() - UNREADABLE_STALE_MS - 5000) / 1000;
    fs.utimesSync(file, old, old);
    const lock = DataFolderLock.acquire(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it.each([["empty", ""], ["unreadable", "{\"pid\":"]])("is NOT taken over when %s but younger than 10 s (it may be being written): the error names the file and what to do", (_name, content) => {
    const dir = tempDir();
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, content);
    expect(() => DataFolderLock.acquire(dir)).toThrow(new RegExp(`^the lock ${file} is empty or unreadable and was written 0 s ago: .*Try again in 10 s`));
    expect(fs.readFileSync(file, "utf8")).toBe(content);
  });

  // each round: a stale lock (its process killed) or none, then eight processes started at once try to take it
  it.each(["a stale lock (dead pid)", "no lock"])("of eight processes racing for a folder with %s, exactly one gets it", async (start) => {
    const dir = tempDir();
    const script = path.join(dir, "take.ts");
    fs.writeFileSync(script, [
      `import { DataFolderLock } from ${JSON.stringify(path.join(REPO, "host/store/dataFolderLock.ts"))};`,
      // start together: each waits for the same moment
      `const at = Number(process.argv[3]); while (Date.now() < at) {}`,
      // the winner holds it until every loser has surely tried (startup on 2 busy cores can take seconds)
      `try { const l = DataFolderLock.acquire(process.argv[2]); process.stdout.write("got"); setTimeout(() => l.release(), 8000); }`,
      `catch (e) { process.stdout.write("refused: " + (e as Error).message); }`,
    ].join("\n"));
    for (let round = 0; round < 2; round++) {
      const data = path.join(dir, `data${round}`);
      fs.mkdirSync(data);
      if (start !== "no lock") fs.writeFileSync(path.join(data, LOCK_FILE), JSON.stringify({ pid: deadPid(), start: "1", command: "espdht.js dashboard", since: 1 }));
      const at = Date.now() + 4000;
      const outs = await Promise.all(
        Array.from({ length: 8 }, () => new Promise<string>((resolve, reject) => {
          const c = spawn(process.execPath, ["--import", "tsx", script, data, String(at)], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
          let out = "";
          let err = "";
          c.stdout.on("data", (d) => (out += d));
          c.stderr.on("data", (d) => (err += d));
          c.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
        })),
      );
      expect(outs.filter((o) => o === "got")).toHaveLength(1);
      for (const o of outs.filter((o) => o !== "got")) expect(o).toMatch(/^refused: (the data folder .* is in use by process \d+|cannot take the lock .*: other processes keep taking it)/);
      expect(fs.readdirSync(data)).toEqual([]); // released, no temp file or marker left
    }
  }, 120_000);

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

  it.each([
    ["something else", "mosquitto_sub\n", `holds "mosquitto_sub", not a dashboard client id`],
    ["nothing (a write cut short)", "", "is empty, not a dashboard client id"],
    ["part of an id (a write cut short)", "espdht-da", `holds "espdht-da", not a dashboard client id`],
  ])("names a file that holds %s and says what to do, instead of replacing it", (_name, content, said) => {
    const dir = tempDir();
    const file = path.join(dir, CLIENT_ID_FILE);
    fs.writeFileSync(file, content);
    expect(() => dashboardClientId(dir)).toThrow(`${file} ${said} (espdht-dash-<hex>): it is broken (perhaps cut short by a crash or a full disk). Delete it and a new one is made`);
    expect(fs.readFileSync(file, "utf8")).toBe(content);
  });

  it("a write that fails (no room: ulimit -f 0) leaves no broken file, and the next start makes the id", () => {
    const dir = tempDir();
    const dataDir = path.join(dir, "data");
    const script = path.join(dir, "id.ts");
    fs.writeFileSync(script, `import { dashboardClientId } from ${JSON.stringify(path.join(REPO, "host/ingest/dashboardClientId.ts"))};\nprocess.stdout.write(dashboardClientId(process.argv[2]));\n`);
    const r = spawnSync("bash", ["-c", `ulimit -f 0; exec "${process.execPath}" --import tsx "${script}" "${dataDir}"`], { cwd: REPO });
    expect(r.status).not.toBe(0);
    expect(r.stderr.toString()).toMatch(/EFBIG|File too large/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
    expect(dashboardClientId(dataDir)).toMatch(/^espdht-dash-[0-9a-f]{12}$/);
  });

  it("the host id is another random id, kept beside it (0600); 'upgraded' only when the client id was there first", () => {
    const dir = tempDir();
    const first = dashboardIds(dir);
    expect(first.hostId).toMatch(/^host-[0-9a-f]{12}$/);
    expect(first.hostId.slice(5)).not.toBe(first.clientId.slice(12));
    expect(first.upgraded).toBe(false);
    expect(mode(path.join(dir, HOST_ID_FILE))).toBe(0o600);
    expect(dashboardIds(dir)).toEqual({ ...first, upgraded: false });
    const older = tempDir();
    fs.writeFileSync(path.join(older, CLIENT_ID_FILE), "espdht-dash-00112233aabb\n");
    expect(dashboardIds(older)).toMatchObject({ clientId: "espdht-dash-00112233aabb", upgraded: true });
    expect(dashboardIds(older).upgraded).toBe(false);
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
