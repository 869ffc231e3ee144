// The README's setup line `npm link` puts `espdht` on the PATH; `npx espdht` works from the clone too.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/runCli";

describe("espdht on the PATH", () => {
  it("npm link installs an espdht command that runs from any folder", () => {
    // a private global prefix: the test never touches the machine's own
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-prefix-"));
    try {
      const env = { ...process.env, npm_config_prefix: prefix, npm_config_audit: "false", npm_config_fund: "false" };
      execFileSync("npm", ["link"], { cwd: REPO, env, stdio: "pipe", timeout: 60_000 });
      const bin = path.join(prefix, "bin", "espdht");
      const help = execFileSync(bin, ["--help"], { cwd: os.tmpdir(), encoding: "utf8", timeout: 60_000 });
      expect(help).toMatch(/^Usage: espdht <command>/);
    } finally {
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  }, 120_000);

  it("npx espdht runs the clone's own command", () => {
    const help = execFileSync("npx", ["--no-install", "espdht", "--help"], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
    expect(help).toMatch(/^Usage: espdht <command>/);
  }, 120_000);
});
