// Run by unhandledRejection.test.ts in its own process (vitest itself fails a run on any unhandled rejection):
// a board whose code leaves a rejected promise, then, with "host" as argument, a rejection made by Node's code.
import { makeBoard } from "../boardHarness";

const h = makeBoard(`Promise.reject(new Error("boom")); setTimeout(function () { print("still running"); }, 50);`);
h.board.powerOn();
await h.waitFor("still running", 10_000);
const fromConsole = h.board.evaluate(`new Promise(function (ok, no) { no(42); }); 7`);
await h.waitFor("rejection: 42", 10_000);
process.stdout.write(JSON.stringify({ output: h.output, fromConsole }) + "\n");
h.board.powerOff();
if (process.argv[2] === "host") void Promise.reject(new Error("a host bug"));
else setTimeout(() => process.exit(0), 100);
