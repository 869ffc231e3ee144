// `espdht sim --json` as child processes, for tests that run boards beside other espdht commands on a real broker.
import { ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { REPO } from "./runCli";
import { until } from "./until";

export interface SimProcess {
  child: ChildProcess;
  /** the boards' device ids, from the sim's start event */
  ids: string[];
  output: () => string;
}

export class SimProcesses {
  private readonly children: ChildProcess[] = [];

  /** `intervalSeconds`: the boards' reading interval (--interval) */
  constructor(private readonly intervalSeconds: number) {}

  /** `espdht sim` with these flags, until its start event names the boards. */
  async start(env: NodeJS.ProcessEnv, args: string[]): Promise<SimProcess> {
    const child = spawn(process.execPath, [path.join(REPO, "bin/espdht.js"), "sim", "--interval", String(this.intervalSeconds), "--json", ...args], { cwd: REPO, env });
    this.children.push(child);
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    await until(() => out.includes('"event":"start"'), 60_000, `sim ${args.join(" ")} to start: ${err}`);
    const start = JSON.parse(out.split("\n").find((l) => l.includes('"event":"start"'))!);
    return { child, ids: start.boards.map((b: { id: string }) => b.id), output: () => err + out };
  }

  /** Ctrl-C, as a user stops it */
  async stop(sim: SimProcess): Promise<void> {
    const exited = new Promise((r) => sim.child.once("exit", r));
    sim.child.kill("SIGINT");
    await exited;
  }

  /** every sim still running, killed (after the tests) */
  killAll(): void {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }
}
