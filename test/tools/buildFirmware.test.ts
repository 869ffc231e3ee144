import { describe, expect, it } from "vitest";
import * as esbuild from "esbuild";
import { esbuildOptions, MANGLED_PROPS, mangledNamesUsedAsStrings } from "../../tools/buildFirmware";
import { ESPRUINO_BUILTIN_MODULES } from "../../tools/espruinoPlatform";
import { checkBundleText } from "../../tools/espruinoSyntaxCheck";

/** Bundles a fixture with the device build's esbuild options. */
async function bundle(code: string): Promise<string> {
  const o = esbuildOptions(false);
  delete o.entryPoints;
  delete o.outfile;
  const r = await esbuild.build({ ...o, metafile: false, stdin: { contents: code, loader: "ts" } });
  return r.outputFiles![0].text;
}

describe("buildFirmware: esbuild refuses what it would lower into something Espruino cannot run", () => {
  const rejected: [string, string][] = [
    ["destructuring", "const { a } = { a: 1 }; console.log(a);"],
    ["default parameters", "function f(a = 1) { return a; } console.log(f());"],
    ["rest parameters", "function f(...a: number[]) { return a; } console.log(f(1));"],
    ["array spread", "const a = [1]; console.log([...a]);"],
    ["for-of", "for (const x of [1]) console.log(x);"],
    ["async functions", "async function f() { return 1; } f();"],
    ["generators", "function* g() { yield 1; } g();"],
  ];
  for (const [name, code] of rejected) {
    it(`rejects ${name}`, async () => {
      await expect(bundle(code)).rejects.toThrow(/not available|not supported|Transforming|cannot be/i);
    });
  }

  it("keeps require() of the board's built-in modules as require(), never __require", async () => {
    const out = await bundle(ESPRUINO_BUILTIN_MODULES.map((m) => `console.log(require(${JSON.stringify(m)}));`).join("\n"));
    for (const m of ESPRUINO_BUILTIN_MODULES) expect(out).toContain(`require("${m}")`);
    expect(checkBundleText("x.js", out)).toEqual([]);
  });

  it("an `import` of a built-in module would pull in __toESM: the bundle check catches it", async () => {
    const out = await bundle('import net from "net"; console.log(net);');
    expect(checkBundleText("x.js", out).map((v) => v.message).join()).toContain("module interop");
  });

  const lowered: [string, string, string][] = [
    ["a static class field", "class A { static n = 1; } console.log(A.n);", "class field helper"],
    ["#private", "class A { #n = 1; get() { return this.#n; } } console.log(new A().get());", "WeakMap"],
    ["a BigInt literal", "console.log(5n);", "a global Espruino lacks"],
    ["new Map", "console.log(new Map());", "a global Espruino lacks"],
    ["a character above U+FFFF", 'console.log("\u{1F600}");', "escape"],
  ];
  for (const [name, code, message] of lowered) {
    it(`${name} is lowered into something the bundle check catches`, async () => {
      const out = await bundle(code);
      expect(checkBundleText("x.js", out).map((v) => v.message).join()).toContain(message);
    });
  }

  it("object spread is lowered to a helper: the bundle check catches it", async () => {
    const out = await bundle("const a = { x: 1 }; console.log({ ...a });");
    expect(checkBundleText("x.js", out).map((v) => v.message).join()).toContain("object spread");
  });
});

describe("property mangling in the minified artifact", () => {
  it("fails the build on a mangled property name that the code also uses as a string", () => {
    const vs = mangledNamesUsedAsStrings('var a = 1;\nevents["onConnect"](x);\nwifi.on("ready", f);');
    expect(vs.map((v) => [v.line, v.rule])).toEqual([[2, "mangled-name"]]);
    expect(vs[0].message).toContain("'onConnect'");
  });

  it("mangles internal names only, never wire, config or Espruino API names", () => {
    for (const name of ["publish", "onConnect", "inflightRoom", "buffer_", "now", "setTimeout"]) expect(MANGLED_PROPS.test(name)).toBe(true);
    for (const name of ["temperature", "interval", "keepalive", "username", "password", "ok", "re", "id", "connected", "on", "write", "time", "lastTime", "readJSON", "_"]) {
      expect(MANGLED_PROPS.test(name)).toBe(false);
    }
  });
});
