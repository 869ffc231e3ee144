// dist/firmware.js is the one artifact: every command that runs or flashes it (sim, start, flash) builds it
// first when it is missing or older than its sources, so an edit to firmware/ is never silently ignored.
import fs from "node:fs";
import path from "node:path";
import { buildFirmware, FIRMWARE_OUT, REPO_ROOT } from "../tools/buildFirmware";

export interface FirmwareArtifact {
  /** the built bundle */
  bundle: string;
  /** folders whose files it is built from */
  sources: string[];
  /** writes the bundle; returns its size in bytes */
  build: () => Promise<number>;
}

export const FIRMWARE_ARTIFACT: FirmwareArtifact = {
  bundle: FIRMWARE_OUT,
  sources: [path.join(REPO_ROOT, "firmware"), path.join(REPO_ROOT, "tools")],
  build: async () => (await buildFirmware({ quiet: true })).size,
};

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

export function firmwareIsStale(a: Pick<FirmwareArtifact, "bundle" | "sources"> = FIRMWARE_ARTIFACT): boolean {
  if (!fs.existsSync(a.bundle)) return true;
  const built = fs.statSync(a.bundle).mtimeMs;
  return a.sources.some((dir) => newestMtime(dir) > built);
}

/** Builds when stale (saying so through `log`); returns the bundle's path and size. */
export async function ensureFirmwareBuilt(log: (m: string) => void, a: FirmwareArtifact = FIRMWARE_ARTIFACT): Promise<{ file: string; size: number; rebuilt: boolean }> {
  const name = path.relative(process.cwd(), a.bundle);
  if (!firmwareIsStale(a)) return { file: a.bundle, size: fs.statSync(a.bundle).size, rebuilt: false };
  log(`building ${name} (missing or older than its sources)`);
  const size = await a.build();
  log(`built ${name}: ${size} bytes`);
  return { file: a.bundle, size, rebuilt: true };
}
