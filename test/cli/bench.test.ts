// `espdht bench` argument checks: a bad option fails at once, before any minutes-long run starts.
import { describe, expect, it } from "vitest";
import { runCliToEnd as runCli, tempUserEnv as tempHome } from "../support/runCli";

describe("espdht bench", () => {
  // 'all' ran the whole ingest benchmark before it looked at --steps
  it.each([
    [["all", "--steps", "abc"], /--steps: 'abc' must be whole numbers/],
    [["sim", "--count", "1.5"], /--count: '1.5' must be a whole number/],
    [["ingest", "--steps", "0"], /--steps: '0' must be whole numbers/],
    [["journal", "--rounds", "0"], /--rounds: 0 is out of range 1..100/],
  ])("refuses %j before running anything", async (args, message) => {
    const { env } = tempHome();
    const r = await runCli(["bench", ...args], env, 20_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain("this takes a few minutes");
  }, 30_000);
});
