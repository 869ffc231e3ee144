// Runs `espdht` as a user would (a child process) with a private config and data folder.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const REPO = path.resolve(__dirname, "../..");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tempHome(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-cli-"));
  return { dir, env: { ESPDHT_CONFIG: path.join(dir, "config.json"), ESPDHT_DATA: path.join(dir, "data") } };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO, "bin/espdht.js"), ...args], { cwd: REPO, env: { ...process.env, ...env, NODE_NO_WARNINGS: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`espdht ${args.join(" ")} timed out\n${stderr}`)); }, timeoutMs);
    child.on("exit", (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}
