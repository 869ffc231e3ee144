// The vm context a board's code runs in: only Espruino's globals. Builtins the Espruino interpreter lacks
// (tools/espruinoPlatform.ts) are removed, so firmware that leans on them fails here as it would on the device.
import vm from "node:vm";
import { missingOnEspruino } from "../../tools/espruinoPlatform";

const PRELUDE = `(function (nowMs, random) {
  ${missingOnEspruino().map((n) => `delete ${n.includes(".") ? n : "globalThis." + n};`).join(" ")}
  var RealDate = Date;
  class EspruinoDate extends RealDate {
    constructor(a, b, c, d, e, f, g) {
      if (arguments.length === 0) super(nowMs());
      else if (arguments.length === 1) super(a);
      else super(a, b, c === undefined ? 1 : c, d || 0, e || 0, f || 0, g || 0);
    }
    static now() { return nowMs(); }
  }
  globalThis.Date = EspruinoDate;
  Math.random = random;
})`;

const scriptCache = new Map<string, vm.Script>();

/** Compiles once per distinct code (1,000 boards share one compiled firmware). */
export function compiled(code: string, filename: string): vm.Script {
  const key = filename + "\0" + code;
  let s = scriptCache.get(key);
  if (!s) {
    s = new vm.Script(code, { filename });
    if (scriptCache.size > 16) scriptCache.clear();
    scriptCache.set(key, s);
  }
  return s;
}

const preludeScript = new vm.Script(PRELUDE, { filename: "espruino-prelude.js" });

export function createEspruinoContext(globals: Record<string, unknown>, nowMs: () => number, random: () => number): vm.Context {
  const context = vm.createContext({}, { name: "espruino", codeGeneration: { strings: true, wasm: false } });
  (preludeScript.runInContext(context) as (n: () => number, r: () => number) => void)(nowMs, random);
  const g = vm.runInContext("globalThis", context) as Record<string, unknown>;
  for (const [k, v] of Object.entries(globals)) g[k] = v;
  g.global = g;
  return context;
}
