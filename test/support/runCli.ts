// Runs `node bin/espdht.js ...` as a child process with a temporary user config and data folder.
import { spawn, ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const REPO = path.resolve(__dirname, "../..");

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<number | null>;
}

/** A fresh config + data folder; `config` is written as the user's config when given. */
export function tempUserEnv(config?: Record<string, unknown>): { env: NodeJS.ProcessEnv; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-cli-"));
  const configFile = path.join(dir, "config.json");
  if (config) fs.writeFileSync(configFile, JSON.stringify(config));
  return { dir, env: { ...process.env, ESPDHT_CONFIG: configFile, ESPDHT_DATA: path.join(dir, "data"), NO_COLOR: "1" } };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): CliRun {
  const child = spawn(process.execPath, [path.join(REPO, "bin/espdht.js"), ...args], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => { out += d; });
  child.stderr!.on("data", (d) => { err += d; });
  const done = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, done };
}

/** Runs the command to its end (killed after `timeoutMs`) and returns its exit code and output. */
export async function runCliToEnd(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runCli(args, env);
  const timer = setTimeout(() => run.child.kill("SIGKILL"), timeoutMs);
  const code = await run.done;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
