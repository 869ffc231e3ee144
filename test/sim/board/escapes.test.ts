// Code on a virtual board (its firmware, or what is typed on its console) cannot reach Node: the known ways
// out of a node:vm context through constructors of host objects, errors, callers, stack frames, poisoned
// prototypes and import() all end inside the board's own realm.
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import net from "node:net";
import vm from "node:vm";
import { startSerialConsole, SerialConsole } from "../../../sim/console/serialConsole";
import { mentionsImport } from "../../../sim/board/context";
import { makeBoard, Harness } from "../boardHarness";
import { ESCAPED, escapeProgram, LOCAL_PROBES, SOCKET_PROBES } from "./escapeProbes";

const nodeGlobal = globalThis as { __escaped?: number };

let h: Harness | null = null;
let con: SerialConsole | null = null;
let server: net.Server;
const accepted = new Set<net.Socket>();
let openPort = 0;
let closedPort = 0;

beforeAll(async () => {
  server = net.createServer((s) => {
    accepted.add(s);
    s.on("error", () => {});
    // reading is what lets the board's end() reach 'end' here, and the close back to the board
    s.on("data", () => {});
    s.write("hi");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  openPort = (server.address() as net.AddressInfo).port;
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});
afterAll(() => {
  for (const s of accepted) s.destroy();
  return new Promise<void>((r) => server.close(() => r()));
});
afterEach(async () => {
  await con?.close();
  h?.board.powerOff();
  con = null;
  h = null;
  delete nodeGlobal.__escaped;
});

/** label -> outcome of each probe the board printed */
function verdicts(output: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of output) {
    const m = /^probe (.+?): (.*)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

function expectNoEscape(output: string[]): void {
  const seen = verdicts(output);
  // every probe ran (a probe that never ran proves nothing)
  expect([...seen.keys()].sort()).toEqual([...LOCAL_PROBES, ...SOCKET_PROBES].sort());
  const escaped = [...seen].filter(([, v]) => v === ESCAPED || v === "did not throw").map(([k, v]) => `${k}: ${v}`);
  expect(escaped).toEqual([]);
  expect(nodeGlobal.__escaped).toBeUndefined();
}

describe("the probes detect a way out", () => {
  it("in a bare node:vm context, a host object's constructor reaches Node's process", () => {
    const printed: string[] = [];
    const context = vm.createContext({ E: { on() {} }, print: (s: string) => printed.push(s) });
    vm.runInContext(`
      function verdictOf(getF) { try { var F = getF(); return String(F("globalThis.__escaped = (globalThis.__escaped || 0) + 1; return typeof process")()); } catch (e) { return "threw " + e.message; } }
      print("probe E.constructor.constructor: " + verdictOf(function () { return E.constructor.constructor; }));`, context);
    expect(printed).toEqual([`probe E.constructor.constructor: ${ESCAPED}`]);
    expect(nodeGlobal.__escaped).toBe(1);
  });
});

describe("a virtual board is no way into Node", () => {
  it("firmware code: every probe stays inside the board", async () => {
    h = makeBoard(escapeProgram(openPort, closedPort));
    h.board.powerOn();
    await h.waitFor("probes done", 15_000);
    expectNoEscape(h.output);
    // what the probes saw, for the record: the board's own Function refuses code from strings
    expect(verdicts(h.output).get("E.constructor.constructor")).toBe("threw Code generation from strings disallowed for this context");
    expect(verdicts(h.output).get("socket internals")).toBe("threw espdht sim: net socket.host is not emulated");
    expect(verdicts(h.output).get("Error.prepareStackTrace frames")).toBe("stack is a string");
  }, 30_000);

  it("console input: every probe stays inside the board", async () => {
    h = makeBoard(null);
    h.board.powerOn();
    con = await startSerialConsole(h.board, 0);
    const socket = net.connect(con.port, "127.0.0.1");
    await new Promise<void>((r) => socket.once("connect", () => r()));
    socket.on("data", () => {});
    socket.write("\n" + escapeProgram(openPort, closedPort) + "\n");
    await h.waitFor("probes done", 15_000);
    expectNoEscape(h.output);
    socket.destroy();
  }, 30_000);

  it("refuses code that could import(), from firmware and from the console, before running any of it", async () => {
    h = makeBoard(`print("ran"); import("node:child_process").then(function (m) { print(typeof m.execSync); });`);
    h.board.powerOn();
    await h.waitFor("Uncaught");
    expect(h.output).toEqual([expect.stringMatching(/^Uncaught Error: espdht sim: import is not emulated \(Espruino has no modules/)]);
    expect(() => h!.board.evaluate(`import ("node:fs")`)).toThrow(/import is not emulated/);
    expect(() => h!.board.evaluate(`[...import("node:fs")]`)).toThrow(/import is not emulated/);
    // code from strings is off, so import() cannot be built from a string either
    expect(() => h!.board.evaluate(`eval("imp" + "ort('node:fs')")`)).toThrow(/eval is not emulated/);
    expect(() => h!.board.evaluate(`(function(){}).constructor("return imp" + "ort('node:fs')")()`)).toThrow(/Code generation from strings disallowed/);
    // a property named import is fine
    expect(h.board.evaluate(`var o = { f: 1 }; o.import = 2; o.import`)).toBe(2);
    expect(h.output).not.toContain("ran");
  });
});

describe("the import check", () => {
  it.each([
    ["import('fs')", true],
    ["x = import\n('fs')", true],
    ["import/**/('fs')", true],
    ["[...import('fs')]", true],
    ["'import'", true],
    ["// import later", true],
    ["a.import(1)", false],
    ["a?.import", false],
    ["important(1); reimport(2); import_(3); $import; import$", false],
  ])("%j -> %s", (code, refused) => {
    expect(mentionsImport(code)).toBe(refused);
  });
});
