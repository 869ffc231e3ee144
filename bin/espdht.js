#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx so `npm ci` is all a fresh clone needs.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
main(process.argv.slice(2)).then(
  (code) => { if (typeof code === "number") process.exitCode = code; },
  (err) => { process.stderr.write("espdht: " + (err && err.message ? err.message : String(err)) + "\n"); process.exitCode = 1; },
);
