// Builds firmware/main.ts into dist/firmware.js (minified: flashed, simulated, measured) and
// dist/firmware.debug.js, then fails on anything Espruino cannot run and on the size budget.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { ESPRUINO_BUILTIN_MODULES } from "./espruinoPlatform";
import { checkBundleText, checkSource, formatViolations, Violation } from "./espruinoSyntaxCheck";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const FIRMWARE_ENTRY = path.join(REPO_ROOT, "firmware", "main.ts");
export const FIRMWARE_OUT = path.join(REPO_ROOT, "dist", "firmware.js");
export const FIRMWARE_DEBUG_OUT = path.join(REPO_ROOT, "dist", "firmware.debug.js");
/**
 * Minified bundle budget: 23 KB with issue 12's named groups (+516 bytes), device-to-device links (+2,076) and the
 * thermostat (+2,458), then +160 for RAM (module tables built where used, links made only when a board has one: 1,687 -> 1,453
 * JsVars at idle); 17 KB since the spill to flash (issue 11), 16 KB since signing, 13 KB after the issue 9 split.
 * The bytes live in flash; RAM is the board's binding limit: 1,375 JsVars at idle with every feature in use, cap
 * 1,500 (bench/espruinoRam.ts --features all).
 */
export const SIZE_BUDGET_BYTES = 23 * 1024;

/** Syntax esbuild must reject instead of lowering into something Espruino cannot run (docs/espruino.md section 2). */
const UNSUPPORTED: Record<string, boolean> = {
  destructuring: false,
  "default-argument": false,
  "rest-argument": false,
  "array-spread": false,
  "for-of": false,
  generator: false,
  "async-await": false,
  "async-generator": false,
  "class-field": false,
  "class-static-field": false,
  "class-private-field": false,
  "class-private-method": false,
  bigint: false,
};

/** Files that may name Espruino globals (the Espruino HAL and the entry). */
const ESPRUINO_FACING = ["firmware/hal/espruino.ts", "firmware/main.ts"];

/**
 * Property names shortened in the minified artifact: names ending in "_", and the device-internal MQTT client
 * and socket API. Never a wire, config or Espruino API name (JSON keys and Espruino objects keep theirs);
 * a name that the code also uses as a string (the client emits events by name) must not be listed: the build
 * fails on that (mangledNamesUsedAsStrings), and the bundle tests and the simulator run the mangled artifact.
 */
export const MANGLED_PROPS = new RegExp(
  "[^_]_$|^(" +
    [
      "onConnect", "onData", "onClose", "onError", "onPublished", "onMessage", "inflightRoom", "publish", "subscribe",
      "unsubscribe", "start", "stop", "stats", "connects", "protocolErrors", "queueDropped", "connectTimeoutMs", "maxInflight",
      "queueLimit", "stableMs", "reconnectMaxMs", "reconnectMinMs", "maxPacketSize", "clientId", "clean", "will", "qos", "retain",
      "dup", "payload", "topic", "now", "setTimeout", "clearTimeout",
    ].join("|") +
    ")$",
);

/** String literals in the unminified bundle that name a mangled property: renaming would break them. */
export function mangledNamesUsedAsStrings(debugText: string): Violation[] {
  const out: Violation[] = [];
  const re = /["']([A-Za-z_$][\w$]*)["']/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(debugText))) {
    if (MANGLED_PROPS.test(m[1])) out.push({ file: "dist/firmware.debug.js", line: debugText.slice(0, m.index).split("\n").length, rule: "mangled-name", message: "'" + m[1] + "' is used as a string but the build shortens that property name (MANGLED_PROPS)" });
  }
  return out;
}

export class FirmwareBuildError extends Error {}

/** The esbuild options of the device build (tests reuse them on fixtures through `stdin`). */
export function esbuildOptions(minify: boolean): esbuild.BuildOptions {
  return {
    entryPoints: [FIRMWARE_ENTRY],
    bundle: true,
    write: false,
    metafile: true,
    target: "es2015",
    format: "cjs",
    platform: "neutral",
    external: ESPRUINO_BUILTIN_MODULES,
    supported: UNSUPPORTED,
    minify,
    mangleProps: minify ? MANGLED_PROPS : undefined,
    legalComments: "none",
    logLevel: "silent",
    outfile: minify ? FIRMWARE_OUT : FIRMWARE_DEBUG_OUT,
  };
}

async function bundle(minify: boolean): Promise<{ text: string; inputs: string[] }> {
  let result: esbuild.BuildResult;
  try {
    result = await esbuild.build(esbuildOptions(minify));
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    const lines = (failure.errors || []).map((m) =>
      (m.location ? m.location.file + ":" + m.location.line + ": " : "") + "[esbuild] " + m.text);
    throw new FirmwareBuildError("firmware build failed:\n" + (lines.length ? lines.join("\n") : String(e)));
  }
  const out = result.outputFiles![0];
  return { text: out.text, inputs: Object.keys(result.metafile!.inputs) };
}

/** Source files of the bundle (esbuild's metafile), checked against the Espruino rules. */
export function checkFirmwareSources(inputs: string[]): Violation[] {
  const out: Violation[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const rel = path.relative(REPO_ROOT, path.resolve(REPO_ROOT, inputs[i])).split(path.sep).join("/");
    if (!rel.startsWith("firmware/")) {
      out.push({ file: rel, line: 1, rule: "import", message: "firmware may import only firmware/ (no npm, no node:*)" });
      continue;
    }
    const text = fs.readFileSync(path.join(REPO_ROOT, rel), "utf8");
    out.push(...checkSource(rel, text, { mayUseEspruinoGlobals: ESPRUINO_FACING.indexOf(rel) >= 0, isEntry: rel === "firmware/main.ts" }));
  }
  return out;
}

/**
 * `enforceBudget`: throw when the minified bundle is over SIZE_BUDGET_BYTES (`espdht build`; `flash` checks the size itself, also of a bundle it did not rebuild).
 * Without it an overrun is printed loudly and left to test/firmware/bundle.test.ts to fail, so the rest of
 * the suite (which needs the artifact) still runs.
 */
export async function buildFirmware(opts: { quiet?: boolean; enforceBudget?: boolean }): Promise<{ size: number; debugSize: number }> {
  const log = (s: string) => { if (!opts.quiet) process.stderr.write(s + "\n"); };
  const [min, debug] = await Promise.all([bundle(true), bundle(false)]);
  const violations = checkFirmwareSources(debug.inputs)
    .concat(checkBundleText("dist/firmware.debug.js", debug.text))
    .concat(checkBundleText("dist/firmware.js", min.text))
    .concat(mangledNamesUsedAsStrings(debug.text));
  if (violations.length) {
    throw new FirmwareBuildError("firmware uses what Espruino cannot run:\n" + formatViolations(violations));
  }
  const size = Buffer.byteLength(min.text);
  const debugSize = Buffer.byteLength(debug.text);
  fs.mkdirSync(path.dirname(FIRMWARE_OUT), { recursive: true });
  fs.writeFileSync(FIRMWARE_OUT, min.text);
  fs.writeFileSync(FIRMWARE_DEBUG_OUT, debug.text);
  log("dist/firmware.js " + size + " bytes minified (budget " + SIZE_BUDGET_BYTES + "), dist/firmware.debug.js " + debugSize + " bytes");
  if (size > SIZE_BUDGET_BYTES) {
    const msg = "dist/firmware.js is " + size + " bytes, over the " + SIZE_BUDGET_BYTES + "-byte budget";
    if (opts.enforceBudget) throw new FirmwareBuildError(msg);
    process.stderr.write("WARNING: " + msg + "\n");
  }
  return { size, debugSize };
}
