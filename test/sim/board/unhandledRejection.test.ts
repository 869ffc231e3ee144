// A promise left rejected by a board's code is that board's "Uncaught" line, as on Espruino; it does not end the
// simulator (every other board with it). A rejection from Node's own code still ends the process.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const child = path.join(__dirname, "unhandledRejectionChild.ts");
const run = (arg: string) => spawnSync(process.execPath, ["--import", "tsx", child, arg], { encoding: "utf8", timeout: 60_000 });

describe("unhandled promise rejections on a virtual board", () => {
  it("are printed on the board in Espruino's words, and the board and process go on", () => {
    const r = run("board");
    expect(r.status, r.stderr).toBe(0);
    const { output, fromConsole } = JSON.parse(r.stdout.trim().split("\n").pop()!);
    expect(output).toContain("Uncaught Error: Unhandled promise rejection: Error: boom");
    expect(output).toContain("Uncaught Error: Unhandled promise rejection: 42");
    expect(output).toContain("still running");
    expect(fromConsole).toBe(7);
  }, 70_000);

  it("from Node's own code still end the process", () => {
    const r = run("host");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("a host bug");
  }, 70_000);
});
