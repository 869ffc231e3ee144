// A board's code (the firmware, or a line typed on its console) can leave a promise rejected with no handler.
// Node would end the whole simulator for it; Espruino prints "Uncaught Error: Unhandled promise rejection: ..."
// on that board and goes on. Each realm's rejections go to its board; any other stays fatal, as Node intends.
import vm from "node:vm";

/** the realm's own %Promise.prototype% (not its global `Promise`, which code may replace) -> its board's report */
const reporters = new WeakMap<object, (reason: unknown) => void>();
let listening = false;

function describe(reason: unknown): string {
  if (reason !== null && typeof reason === "object") {
    try {
      const e = reason as { name?: unknown; message?: unknown };
      if (typeof e.message === "string") return `${typeof e.name === "string" ? e.name : "Error"}: ${e.message}`;
    } catch {
      // a getter that throws: say what kind of value it was
    }
    return "[object]";
  }
  return String(reason);
}

function onUnhandled(reason: unknown, promise: Promise<unknown>): void {
  let report: ((reason: unknown) => void) | undefined;
  try {
    report = reporters.get(Object.getPrototypeOf(promise) as object);
  } catch {
    report = undefined;
  }
  if (report) return report(`Error: Unhandled promise rejection: ${describe(reason)}`);
  // not a board's: keep Node's default (the process ends with the error)
  throw reason;
}

/** Sends the unhandled rejections of promises made in `context` to `report` (a line in Espruino's words). */
export function reportRejectionsOf(context: vm.Context, report: (message: string) => void): void {
  // an async function's promise has the realm's intrinsic prototype whatever its globals say
  const proto = Object.getPrototypeOf(vm.runInContext("(async function () {})()", context)) as object;
  reporters.set(proto, report as (reason: unknown) => void);
  if (!listening) {
    listening = true;
    process.on("unhandledRejection", onUnhandled);
  }
}
