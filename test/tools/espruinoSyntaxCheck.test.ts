import { describe, expect, it } from "vitest";
import { checkBundleText, checkSource } from "../../tools/espruinoSyntaxCheck";

/** [rule, code Espruino cannot run, a fixed version that passes] */
const RULES: [string, string, string][] = [
  ["label", "outer: for (let i = 0; i < 3; i++) { break outer; }", "for (let i = 0; i < 3; i++) { break; }"],
  ["computed-key", "const k = 'a'; const o = { [k]: 1 };", "const o: { [k: string]: number } = {}; o['a'] = 1;"],
  ["computed-key", "class A { ['m']() { return 1; } }", "class A { m() { return 1; } }"],
  ["reserved-method-name", "const o = { delete() { return 1; } };", "const o = { remove() { return 1; } };"],
  ["reserved-method-name", "class Q { default() {} }", "class Q { fallback() {} }"],
  ["tagged-template", "const t = (s: TemplateStringsArray) => s; t`x`;", "const x = `a${1}b`;"],
  ["private-field", "class P { #n = 0; get() { return this.#n; } }", "class P { n: number; constructor() { this.n = 0; } }"],
  ["object-spread", "const a = { x: 1 }; const b = { ...a, y: 2 };", "const a = { x: 1 }; const b = Object.assign({}, a, { y: 2 });"],
  ["spread", "const a = [1]; const b = [...a];", "const a = [1]; const b = a.slice();"],
  ["missing-global", "const m = new Map<string, number>();", "const m: { [k: string]: number } = {};"],
  ["missing-global", "const s = new Set([1]);", "const s = [1];"],
  ["missing-global", "const y = Symbol('x');", "const y = 'x';"],
  ["missing-global", "const w = new WeakMap();", "const w = {};"],
  ["missing-global", "const p = new Proxy({}, {});", "const p = {};"],
  ["missing-global", "const n = BigInt(5);", "const n = 5;"],
  ["missing-global", "const n = 5n;", "const n = 5;"],
  ["missing-api", "const a = Array.from('ab');", "const a = 'ab'.split('');"],
  ["missing-api", "const n = Math.trunc(2.5);", "const n = Math.floor(2.5);"],
  ["missing-api", "const ok = Number.isInteger(2);", "const ok = Math.floor(2) === 2;"],
  ["missing-api", "const o = Object.freeze({});", "const o = {};"],
  ["missing-api", "Promise.resolve(1).finally(() => 0);", "Promise.resolve(1).then(() => 0);"],
  ["async", "async function f() { return 1; }", "function f() { return Promise.resolve(1); }"],
  ["async", "const f = async () => 1;", "const f = () => Promise.resolve(1);"],
  ["generator", "function* g() { yield 1; }", "function g() { return [1]; }"],
  ["for-of", "for (const x of [1, 2]) { x; }", "const a = [1, 2]; for (let i = 0; i < a.length; i++) { a[i]; }"],
  ["loop-closure", "const fs: (() => number)[] = []; for (let i = 0; i < 3; i++) { fs.push(() => i); }",
    "const fs: (() => number)[] = []; for (let i = 0; i < 3; i++) { fs.push(((j) => () => j)(i)); }"],
  ["loop-closure", "const o: { [k: string]: number } = {}; const fs: (() => string)[] = []; for (const k in o) { fs.push(function () { return k; }); }",
    "const o: { [k: string]: number } = {}; const fs: (() => number)[] = []; for (const k in o) { fs.push(() => 1); }"],
  ["regex", "const r = /colou?r/;", "const r = /colou*r/;"],
  ["regex", "const r = /a{2}/;", "const r = /aa/;"],
  ["regex", "const r = /(ab)+/;", "const r = /ab[ab]*/;"],
  ["regex", "const r = /(a)\\1/;", "const r = /aa/;"],
  ["class-field-init", "class C { items: number[] = []; }", "class C { items: number[]; constructor() { this.items = []; } }"],
  ["class-field-init", "class C { static n = 1; }", "class C { static get n() { return 1; } }"],
  ["default-param", "function f(a = 1) { return a; }", "function f(a?: number) { return a === undefined ? 1 : a; }"],
  ["rest-param", "function f(...a: number[]) { return a; }", "function f(a: number[]) { return a; }"],
  ["destructuring", "const { a } = { a: 1 };", "const o = { a: 1 }; const a = o.a;"],
  ["destructuring", "const [x] = [1];", "const arr = [1]; const x = arr[0];"],
  ["destructuring", "let a = 1, b = 2; [a, b] = [b, a];", "let a = 1, b = 2; const t = a; a = b; b = t;"],
  ["destructuring", "const f = ({ a }: { a: number }) => a;", "const f = (o: { a: number }) => o.a;"],
  ["hoisting", "run(); function run() {}", "function run() {} run();"],
  ["espruino-global", "setTimeout(() => 0, 5);", "const clock = { setTimeout(fn: () => void, ms: number) { return [fn, ms]; } }; clock.setTimeout(() => 0, 5);"],
  ["espruino-global", "const s = require('Storage');", "const s = { require: 1 }; s.require;"],
];

describe("espruinoSyntaxCheck: source rules", () => {
  for (const [rule, bad, good] of RULES) {
    it(`${rule}: rejects \`${bad}\``, () => {
      const vs = checkSource("firmware/x.ts", "// fixture\n" + bad);
      expect(vs.map((v) => v.rule)).toContain(rule);
      const v = vs.find((x) => x.rule === rule)!;
      expect(v.file).toBe("firmware/x.ts");
      expect(v.line).toBe(2);
    });
    it(`${rule}: accepts the fix \`${good}\``, () => {
      expect(checkSource("firmware/x.ts", good)).toEqual([]);
    });
  }

  it("lets the Espruino HAL and the entry name Espruino globals", () => {
    expect(checkSource("firmware/hal/espruino.ts", "const s = require('Storage'); setTimeout(() => 0, 1);", { mayUseEspruinoGlobals: true })).toEqual([]);
  });

  it("rejects an export from the entry only", () => {
    expect(checkSource("firmware/main.ts", "export const x = 1;", { isEntry: true, mayUseEspruinoGlobals: true }).map((v) => v.rule)).toEqual(["entry-export"]);
    expect(checkSource("firmware/main.ts", "const x = 1; export { x };", { isEntry: true, mayUseEspruinoGlobals: true }).map((v) => v.rule)).toEqual(["entry-export"]);
    expect(checkSource("firmware/lib.ts", "export const x = 1;")).toEqual([]);
  });

  it("ignores types: Map in a type position never reaches the device", () => {
    expect(checkSource("firmware/x.ts", "type T = Map<string, number>; interface I { s: Set<number>; } declare const q: WeakMap<object, number>;")).toEqual([]);
  });

  it("allows what Espruino runs: classes, getters, template literals, for-in without closures, ?. and ??", () => {
    const ok = "class A extends Object { get v() { return 1; } static make() { return new A(); } }\n" +
      "const o: { [k: string]: number } = { a: 1 }; for (const k in o) { const copy = k; [1].forEach(() => copy); }\n" +
      "const t = `x${o.a}`; const z = (o as any)?.b ?? 2; const r = /ab*c[?]+/;";
    expect(checkSource("firmware/x.ts", ok)).toEqual([]);
  });

  it("names every violation with file, line and rule", () => {
    const vs = checkSource("firmware/many.ts", "const a = new Map();\n\nconst { b } = { b: 1 };");
    expect(vs).toEqual([
      { file: "firmware/many.ts", line: 1, rule: "missing-global", message: "Map does not exist on Espruino" },
      { file: "firmware/many.ts", line: 3, rule: "destructuring", message: "destructuring is not supported" },
    ]);
  });
});

describe("espruinoSyntaxCheck: bundle text", () => {
  const helpers = ["WeakMap", "__privateGet(", "__spreadValues(", "__async(", "__toESM(", "function* g(){}", "__require(", "__publicField(", "module.exports = x", "exports.x = 1"];
  for (const h of helpers) {
    it(`flags ${h}`, () => {
      const vs = checkBundleText("dist/firmware.js", "var a=1;\nvar b=" + h + ";");
      expect(vs.length).toBe(1);
      expect(vs[0]).toMatchObject({ file: "dist/firmware.js", line: 2, rule: "bundle-helper" });
    });
  }
  it("passes a clean bundle", () => {
    expect(checkBundleText("dist/firmware.js", "var a=require(\"net\");a.connect({},function(){});")).toEqual([]);
  });
});
