import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { errorText } from "../../cli/main";
import { REPO, runCliToEnd, tempUserEnv } from "../support/runCli";

describe("the last-resort error line", () => {
  // a store worker rejected with a plain object and the user read "espdht: [object Object]"
  it.each([
    [new Error("listen EADDRINUSE"), "listen EADDRINUSE"],
    [{ message: "store worker failed" }, "store worker failed"],
    [{ code: "SQLITE_BUSY" }, '{"code":"SQLITE_BUSY"}'],
    ["plain text", "plain text"],
    [undefined, "undefined"],
  ])("for %o is %s", (e, text) => {
    expect(errorText(e)).toBe(text);
  });

  it("survives a circular object", () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    expect(errorText(o)).toBe("[object Object]");
  });
});

describe("espdht --help", () => {
  const sources = (dir: string): string[] =>
    fs.readdirSync(path.join(REPO, dir), { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && e.name.endsWith(".ts") && !path.join(e.parentPath, e.name).includes(`${path.sep}web${path.sep}`))
      .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), "utf8"));

  it("documents every environment variable the CLI and the host programs read (and the README does too)", async () => {
    const read = new Set<string>();
    for (const text of [...sources("cli"), ...sources("host")]) for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]{2,})|\benv\[(?:"|')([A-Z][A-Z0-9_]{2,})/g)) read.add(m[1] ?? m[2]);
    // PASSWORD_ENV is read through a constant
    read.add("ESPDHT_BROKER_PASSWORD");
    expect([...read]).toEqual(expect.arrayContaining(["ESPDHT_CONFIG", "ESPDHT_DATA", "ESPDHT_WIFI_PASSWORD", "NO_COLOR"]));
    const r = await runCliToEnd(["--help"], tempUserEnv().env);
    expect(r.code).toBe(0);
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
    for (const name of read) {
      // the node:child_process env of a spawned CLI is not one the user sets
      if (name === "NODE_NO_WARNINGS") continue;
      expect(r.stdout, name).toContain(name);
      expect(readme, `README: ${name}`).toContain(name);
    }
  });
});
