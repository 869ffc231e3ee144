// dist/firmware.js is rebuilt when missing or older than any of its sources, by every command that runs or
// flashes it (sim, start, flash). Temp folders stand in for the repository, so the real bundle is never touched.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { FirmwareArtifact } from "../../cli/firmwareArtifact";

const h = vi.hoisted(() => ({ artifact: null as FirmwareArtifact | null }));

// the commands call ensureFirmwareBuilt(log) with the real artifact: point them at the temp one instead
vi.mock("../../cli/firmwareArtifact", async (importActual) => {
  const actual = await importActual<typeof import("../../cli/firmwareArtifact")>();
  return { ...actual, ensureFirmwareBuilt: (log: (m: string) => void, a?: FirmwareArtifact) => actual.ensureFirmwareBuilt(log, a ?? h.artifact!) };
});

const { ensureFirmwareBuilt, firmwareIsStale } = await import("../../cli/firmwareArtifact");

/** A bundle built from src/ and lib/, and a build that counts its runs (or throws `failWith`). */
function tempArtifact(failWith?: Error): FirmwareArtifact & { builds: number; touch: (rel: string, secondsFromNow: number) => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-artifact-"));
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  write("src/main.ts", "main");
  write("src/app/app.ts", "app");
  write("lib/build.ts", "build");
  write("dist/firmware.js", "bundle");
  const touch = (rel: string, secondsFromNow: number) => {
    const t = new Date(Date.now() + secondsFromNow * 1000);
    fs.utimesSync(path.join(dir, rel), t, t);
  };
  for (const f of ["src/main.ts", "src/app/app.ts", "lib/build.ts"]) touch(f, -60);
  const a = {
    bundle: path.join(dir, "dist/firmware.js"),
    sources: [path.join(dir, "src"), path.join(dir, "lib")],
    builds: 0,
    touch,
    build: async () => {
      a.builds++;
      if (failWith) throw failWith;
      write("dist/firmware.js", "rebuilt bundle");
      return 14;
    },
  };
  return a;
}

describe("ensureFirmwareBuilt", () => {
  it("keeps a bundle newer than every source", async () => {
    const a = tempArtifact();
    const logs: string[] = [];
    expect(firmwareIsStale(a)).toBe(false);
    expect(await ensureFirmwareBuilt((m) => logs.push(m), a)).toEqual({ file: a.bundle, size: 6, rebuilt: false });
    expect(a.builds).toBe(0);
    expect(logs).toEqual([]);
  });

  it.each(["src/main.ts", "src/app/app.ts", "lib/build.ts"])("rebuilds after an edit to %s, then not again", async (source) => {
    const a = tempArtifact();
    a.touch(source, 5);
    const logs: string[] = [];
    expect(await ensureFirmwareBuilt((m) => logs.push(m), a)).toEqual({ file: a.bundle, size: 14, rebuilt: true });
    expect(a.builds).toBe(1);
    expect(logs[0]).toMatch(/^building .*firmware\.js \(missing or older than its sources\)$/);
    a.touch("dist/firmware.js", 10);
    await ensureFirmwareBuilt(() => {}, a);
    expect(a.builds).toBe(1);
  });

  it("builds a missing bundle", async () => {
    const a = tempArtifact();
    fs.rmSync(a.bundle);
    expect((await ensureFirmwareBuilt(() => {}, a)).rebuilt).toBe(true);
    expect(fs.readFileSync(a.bundle, "utf8")).toBe("rebuilt bundle");
  });
});

describe("every command that runs or flashes the firmware rebuilds a stale one first", () => {
  const rebuilt = new Error("stopped after the rebuild");
  const uploads = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-artifact-upload-"));
  afterAll(() => fs.rmSync(uploads, { recursive: true, force: true }));
  beforeEach(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-artifact-cli-"));
    vi.stubEnv("ESPDHT_CONFIG", path.join(dir, "config.json"));
    vi.stubEnv("ESPDHT_DATA", path.join(dir, "data"));
    h.artifact = tempArtifact(rebuilt);
    (h.artifact as ReturnType<typeof tempArtifact>).touch("src/main.ts", 5);
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    return () => {
      vi.unstubAllEnvs();
      vi.restoreAllMocks();
    };
  });

  it.each([
    ["sim", ["--broker", "mqtt://127.0.0.1:1"]],
    ["start", ["--port", "0", "--broker-port", "0"]],
    ["flash", ["--dry-run", path.join(uploads, "upload.js")]],
  ])("espdht %s", async (command, args) => {
    const { run } = (await import(`../../cli/commands/${command}.ts`)) as { run: (argv: string[]) => Promise<number> };
    await expect(run(args)).rejects.toBe(rebuilt);
    expect((h.artifact as ReturnType<typeof tempArtifact>).builds).toBe(1);
  });
});
