// The store's writer thread with an injected death: when <data>/crash-once exists, the next batch kills the thread
// before it is written (the file says how: "throw" = an uncaught exception, "exit" = the thread exits as after
// OOM), and the file is deleted so the restarted thread works.
import fs from "node:fs";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";

const CRASH_FILE = "crash-once";
const flag = path.join((workerData as { dir: string }).dir, CRASH_FILE);

function dieIfAsked(m: { kind: string }): void {
  if (m.kind !== "batch" || !fs.existsSync(flag)) return;
  const how = fs.readFileSync(flag, "utf8");
  fs.rmSync(flag);
  if (how === "exit") process.exit(3);
  throw new Error("injected crash in the store's writer");
}

// the real worker's message handler runs after dieIfAsked (a MessagePort has no prependListener); its
// messages only start flowing once that handler is attached, so none is missed
const port = parentPort!;
const on = port.on.bind(port) as (event: string, handler: (m: { kind: string }) => void) => typeof port;
port.on = ((event: string, handler: (m: { kind: string }) => void) =>
  on(event, event === "message" ? (m) => { dieIfAsked(m); handler(m); } : handler)) as typeof port.on;
await import("../../../host/store/storeWorker");
