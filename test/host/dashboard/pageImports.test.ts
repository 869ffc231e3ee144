// The page bundle may only hold what is meant for the browser: its own files, the views it shares with the
// server (host/view), the device contract and uPlot. Anything else (the store, ingest, node:*) is a layering fault.
import path from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../../..");
const ALLOWED = ["host/dashboard/web/", "host/view/", "firmware/contract/", "node_modules/uplot/"];

describe("dashboard page bundle", () => {
  it("imports only host/dashboard/web, host/view, firmware/contract and uPlot", async () => {
    const result = await build({
      entryPoints: [path.join(ROOT, "host/dashboard/web/main.ts")],
      bundle: true,
      write: false,
      platform: "browser",
      format: "iife",
      metafile: true,
      logLevel: "silent",
      absWorkingDir: ROOT,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("host/view/deviceView.ts");
    expect(inputs.filter((f) => !ALLOWED.some((dir) => f.startsWith(dir)))).toEqual([]);
  });
});
