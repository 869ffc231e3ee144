// The vm context a board's code runs in: only Espruino's globals. Builtins the Espruino interpreter lacks
// (tools/espruinoPlatform.ts) are removed, so firmware that leans on them fails here as it would on the device.
// Nothing of Node's realm reaches it (sim/board/membrane.ts): every global is made by the context itself.
import vm from "node:vm";
import { missingOnEspruino } from "../../tools/espruinoPlatform";
import { Membrane, REALM_KIT, RealmKit } from "./membrane";
import { NotEmulatedError, NOT_EMULATED_PREFIX, NOT_EMULATED_SUFFIX } from "./notEmulated";

const EVAL_MESSAGE = `${NOT_EMULATED_PREFIX}eval${NOT_EMULATED_SUFFIX} (code from strings is off on a simulated board: it could import Node's modules)`;

const PRELUDE = `(function (nowMs, random, evalMessage) {
  "use strict";
  ${missingOnEspruino().map((n) => `delete ${n.includes(".") ? n : "globalThis." + n};`).join(" ")}
  var RealDate = Date, define = Object.defineProperty;
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
  define(globalThis, "eval", { value: function () { throw new Error(evalMessage); }, writable: true, configurable: true });
  // Node formats this realm's stack traces with this realm's Error.prepareStackTrace (and its call sites): none
  define(Error, "prepareStackTrace", { value: undefined, writable: false, configurable: false });
  define(globalThis, "Error", { writable: false, configurable: false });
})`;

const kitScript = new vm.Script(REALM_KIT, { filename: "espruino-membrane.js" });
const preludeScript = new vm.Script(PRELUDE, { filename: "espruino-prelude.js" });

/**
 * Whether `code` could call import() (Node would answer with its own objects, and no vm option stops it on
 * Node 20). Deliberately coarse: the word `import` anywhere, strings and comments too, except as a property
 * name after a single dot; escaped keywords are a syntax error, and code from strings is off.
 */
export function mentionsImport(code: string): boolean {
  const word = /import(?![A-Za-z0-9_$])/g;
  for (let m = word.exec(code); m; m = word.exec(code)) {
    const before = code[m.index - 1];
    if (before !== undefined && /[A-Za-z0-9_$]/.test(before)) continue;
    if (before === "." && code[m.index - 2] !== ".") continue;
    return true;
  }
  return false;
}

function refuseImport(code: string, filename: string): void {
  if (mentionsImport(code)) {
    throw new NotEmulatedError("import", `Espruino has no modules; ${filename} has the word 'import' (the simulator refuses it even in strings and comments, since import() would reach Node)`);
  }
}

const scriptCache = new Map<string, vm.Script>();

/** Compiles once per distinct code (1,000 boards share one compiled firmware); throws for code it refuses. */
export function compiled(code: string, filename: string): vm.Script {
  const key = filename + "\0" + code;
  let s = scriptCache.get(key);
  if (!s) {
    refuseImport(code, filename);
    s = new vm.Script(code, { filename });
    if (scriptCache.size > 16) scriptCache.clear();
    scriptCache.set(key, s);
  }
  return s;
}

/** Runs console input in a board's context (refused like a program when it could import). */
export function evaluateIn(context: vm.Context, code: string): unknown {
  refuseImport(code, "the console input");
  return vm.runInContext(code, context, { filename: "console" });
}

export interface BoardRealm {
  context: vm.Context;
  membrane: Membrane;
}

/** A fresh context with Espruino's builtins and a membrane into it; no board globals yet. */
export function createBoardRealm(nowMs: () => number, random: () => number): BoardRealm {
  // an ordinary global object: a contextified one looks names up on a Node object too (its `constructor`)
  const sandbox = vm.constants?.DONT_CONTEXTIFY ?? Object.create(null);
  const context = vm.createContext(sandbox, { name: "espruino", codeGeneration: { strings: false, wasm: false } });
  const makeKit = kitScript.runInContext(context) as (prefix: string, suffix: string) => RealmKit;
  const membrane = new Membrane(makeKit(NOT_EMULATED_PREFIX, NOT_EMULATED_SUFFIX));
  const prelude = preludeScript.runInContext(context) as (n: unknown, r: unknown, m: string) => void;
  prelude(membrane.toRealm(nowMs), membrane.toRealm(random), EVAL_MESSAGE);
  return { context, membrane };
}

/** Puts the board's globals into its realm, each converted by the membrane. */
export function installGlobals(realm: BoardRealm, globals: Record<string, unknown>): void {
  const g = vm.runInContext("globalThis", realm.context) as Record<string, unknown>;
  for (const [k, v] of Object.entries(globals)) g[k] = realm.membrane.toRealm(v);
  g.global = g;
}

export function createEspruinoContext(globals: Record<string, unknown>, nowMs: () => number, random: () => number): vm.Context {
  const realm = createBoardRealm(nowMs, random);
  installGlobals(realm, globals);
  return realm.context;
}
