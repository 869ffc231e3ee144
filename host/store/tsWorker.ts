// Starts a worker thread running a TypeScript module: the worker registers tsx first (the CLI itself runs
// through tsx, and workers do not inherit its loader).
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

export function startTsWorker(entry: URL, workerData: unknown): Worker {
  const require = createRequire(import.meta.url);
  // the ESM build of tsx's API (require.resolve picks the CommonJS one)
  const tsxApi = pathToFileURL(require.resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}
