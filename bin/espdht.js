#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx so `npm ci` is all a fresh clone needs.
import { register } from "tsx/esm/api";

register();
// `espdht watch --json | head` closes our stdout early: that is the reader's choice, not an error
process.stdout.on("error", (err) => {
  if (err && err.code === "EPIPE") process.exit(0);
  throw err;
});
const { main } = await import("../cli/main.ts");
main(process.argv.slice(2)).then(
  (code) => { if (typeof code === "number") process.exitCode = code; },
  (err) => { process.stderr.write("espdht: " + (err && err.message ? err.message : String(err)) + "\n"); process.exitCode = 1; },
);
