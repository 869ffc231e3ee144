// The build check and the simulator's board are both derived from tools/espruinoPlatform.ts: this proves they
// agree, so the simulator cannot run code that the build lets through but the board cannot run (or the reverse).
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { createEspruinoContext } from "../../sim/board/context";
import { createRequire, ModuleHost } from "../../sim/board/modules";
import {
  ESPRUINO_BUILTIN_MODULES, MISSING_GLOBALS, MISSING_PROTOTYPE_METHODS, MISSING_STATIC_MEMBERS, missingOnEspruino,
} from "../../tools/espruinoPlatform";
import { checkSource } from "../../tools/espruinoSyntaxCheck";

const rulesOf = (code: string) => checkSource("firmware/x.ts", code).map((v) => v.rule);

/** A use of each missing thing, as firmware source would write it. */
const uses: [string, string][] = [
  ...MISSING_GLOBALS.map((g): [string, string] => [g, `const x = ${g};`]),
  ...MISSING_STATIC_MEMBERS.map((m): [string, string] => [m, `const x = ${m};`]),
  ...MISSING_PROTOTYPE_METHODS.map((m): [string, string] => [m, `const a: any = 0; a.${m.slice(m.lastIndexOf(".") + 1)}();`]),
];

describe("one list of what Espruino lacks", () => {
  it.each(uses)("the build rejects %s", (_name, code) => {
    expect(rulesOf(code).some((r) => r === "missing-global" || r === "missing-api")).toBe(true);
  });

  it.each(missingOnEspruino())("a virtual board's realm has no %s", (name) => {
    const context = createEspruinoContext({}, () => 0, Math.random);
    expect(vm.runInContext(`typeof ${name.includes(".") ? name : "globalThis." + name}`, context)).toBe("undefined");
  });

  it("what the board keeps is allowed by the build (no false alarm on ordinary code)", () => {
    const code = "const o = Object.assign({}, { a: 1 }); const n = Math.floor(2.5); const s = 'ab'.padStart(3); const f = [1].find((x) => x > 0);";
    expect(rulesOf(code)).toEqual([]);
    const context = createEspruinoContext({}, () => 0, Math.random);
    expect(vm.runInContext("typeof Object.assign + typeof Math.floor + typeof ''.padStart + typeof [].find", context)).toBe("functionfunctionfunctionfunction");
  });
});

describe("one list of built-in modules", () => {
  // making a module only wires it to its host parts: empty stand-ins do
  const host = { radio: {}, network: {}, flash: {}, realm: () => ({}), telnet: { mode: "off" } } as unknown as ModuleHost;
  const require = createRequire(host);

  it.each(ESPRUINO_BUILTIN_MODULES)("require(%j) on a virtual board is a built-in (emulated, or 'not emulated')", (name) => {
    try {
      require(name);
    } catch (e) {
      expect(String(e)).toContain("is not emulated");
      expect(String(e)).not.toContain("not a built-in module");
    }
  });

  it("a module outside the list is not a built-in on the virtual board", () => {
    expect(() => require("MQTT")).toThrow(/not a built-in module of the ESP32 build/);
  });
});
