// Runs the real espruino CLI (npm `espruino`) fully offline with our local board file, and judges success
// from its output: the CLI exits 0 even when it cannot connect or a module is missing (docs/espruino.md section 6).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { ESPRUINO_BUILTIN_MODULES } from "../../tools/espruinoPlatform";

/**
 * Writes the local board description the CLI needs to package offline: the ESP32 build's built-in modules,
 * and binary_version, without which `--storage` uploads crash (docs/espruino.md section 6).
 */
export function writeBoardFile(dir: string): string {
  const file = path.join(dir, "ESP32.board.json");
  const board = { info: { name: "ESP32", binary_version: "2v29", builtin_modules: ESPRUINO_BUILTIN_MODULES } };
  fs.writeFileSync(file, JSON.stringify(board));
  return file;
}

export interface UploadRequest {
  /** /dev/ttyUSB0 or tcp://HOST[:PORT]; absent with dryRunFile */
  port?: string;
  /** write the exact upload to this file instead of a port */
  dryRunFile?: string;
  baud: number;
  /** from writeBoardFile */
  boardFile: string;
  firmwareFile: string;
  /** Storage name -> local file, uploaded before the firmware */
  storageFiles: Record<string, string>;
  timeoutMs: number;
  onLine?: (line: string) => void;
  /** aborting stops the CLI (Ctrl-C): the promise rejects with UploadInterrupted */
  signal?: AbortSignal;
}

export class UploadError extends Error {}
export class UploadInterrupted extends UploadError {}

function cliPath(): string {
  return createRequire(import.meta.url).resolve("espruino/bin/espruino-cli.js");
}

export function cliArgs(req: UploadRequest): string[] {
  // modules must be built into the board: point the CLI web module lookup at loopback, never the internet
  const args = [cliPath(), "--no-ble", "--board", req.boardFile, "--config", "MODULE_URL=http://127.0.0.1"];
  if (req.dryRunFile) args.push("-n", "-o", req.dryRunFile);
  else args.push("-p", req.port!, "-b", String(req.baud));
  for (const [name, file] of Object.entries(req.storageFiles)) args.push("--storage", `${name}:${file}`);
  args.push("--storage", ".bootcde:-", req.firmwareFile);
  return args;
}

/** Known failure lines of the CLI, mapped to what the user should hear. */
const FAILURES: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/Module (\S+) not found/, (m) => `packaging failed: module '${m[1]}' is not built into the ESP32 firmware (ESPRUINO_BUILTIN_MODULES in tools/espruinoPlatform.ts)`],
  [/Unable to connect/, () => "could not connect to the board"],
  [/ECONNREFUSED/, () => "connection refused: nothing listens there (is the board or 'espdht sim --console' running?)"],
  [/EHOSTUNREACH|ETIMEDOUT|ENOTFOUND/, () => "the board's address cannot be reached"],
  [/Cannot lock port|Resource temporarily unavailable|EBUSY/, () => "the port is busy: close other serial monitors (Arduino IDE, screen, the Web IDE) and retry"],
  [/EACCES|Permission denied/, () => "no permission to open the port: add yourself to the 'dialout' group (then log in again)"],
  [/Port .* not found|No such file or directory/, () => "the port does not exist"],
];

export function judgeOutput(output: string, dryRun: boolean): string | null {
  for (const [re, msg] of FAILURES) {
    const m = output.match(re);
    if (m) return msg(m);
  }
  if (dryRun) return /Writing output to/.test(output) ? null : "the CLI did not write the upload file";
  // the CLI reports 'Upload Complete' even to a silent peer: insist on hearing the board's console
  if (!/^--\] /m.test(output)) return "the board did not answer (no Espruino prompt): is Espruino flashed on it, and is it at 115200 baud?";
  const uncaught = /^--\] .*?(Uncaught .*)$/m.exec(output);
  if (uncaught) return `the board reported an error: ${uncaught[1]}`;
  return /Upload Complete/.test(output) ? null : "the CLI did not report 'Upload Complete'";
}

export function runEspruinoCli(req: UploadRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(req), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_NO_WARNINGS: "1" }, signal: req.signal });
    let output = "";
    let partial = "";
    const onData = (d: Buffer) => {
      const text = d.toString("latin1");
      output += text;
      partial += text;
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const line of lines) req.onLine?.(line.replace(/\r$/, ""));
      // a missing module is only a warning to the CLI: stop it at once
      if (/Module \S+ not found/.test(text)) child.kill("SIGTERM");
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new UploadError(`the board did not answer within ${Math.round(req.timeoutMs / 1000)} s (is Espruino flashed on it, and the baud rate 115200?)`));
    }, req.timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(req.signal?.aborted ? new UploadInterrupted("interrupted") : new UploadError(`could not start the espruino CLI: ${e.message}`));
    });
    child.on("exit", () => {
      clearTimeout(timer);
      if (req.signal?.aborted) return reject(new UploadInterrupted("interrupted"));
      const problem = judgeOutput(output, !!req.dryRunFile);
      if (problem) reject(new UploadError(problem + "\n--- espruino CLI output ---\n" + output.trim()));
      else resolve(output);
    });
  });
}
