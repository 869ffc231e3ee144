// dist/firmware.js is the one artifact: build it when it is missing or older than its sources.
import fs from "node:fs";
import path from "node:path";
import { buildFirmware, FIRMWARE_OUT, REPO_ROOT } from "../tools/buildFirmware";

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

export function firmwareIsStale(): boolean {
  if (!fs.existsSync(FIRMWARE_OUT)) return true;
  const built = fs.statSync(FIRMWARE_OUT).mtimeMs;
  return newestMtime(path.join(REPO_ROOT, "firmware")) > built || newestMtime(path.join(REPO_ROOT, "tools")) > built;
}

/** Builds when needed; returns the bundle path. */
export async function ensureFirmwareBuilt(log: (m: string) => void): Promise<string> {
  if (firmwareIsStale()) {
    log("building dist/firmware.js (missing or older than its sources)");
    const r = await buildFirmware({ quiet: true });
    log(`built dist/firmware.js: ${r.size} bytes`);
  }
  return FIRMWARE_OUT;
}
