// The layout's rules, checked over the real tree: layers (cli on top; host, sim, bench below; provisioning;
// tools and firmware at the ground), no import cycle, and a browser bundle that reaches no server code.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { importClosure, importCycles, ImportGraph, readImportGraph, upwardImports } from "./importGraph";

const ROOT = path.resolve(__dirname, "../..");
const { graph, packages } = readImportGraph(ROOT);

/** What a page may load: our own browser code, the contract, and the chart library. */
const BROWSER_PACKAGES = ["uplot"];

describe("the checker itself", () => {
  const g: ImportGraph = new Map([
    ["host/a.ts", ["host/b.ts", "cli/main.ts"]],
    ["host/b.ts", ["host/a.ts", "firmware/x.ts"]],
    ["firmware/x.ts", []],
    ["cli/main.ts", []],
    ["bench/b.ts", ["test/support/brokers.ts"]],
  ]);
  it("finds a cycle", () => expect(importCycles(g)).toEqual([["host/a.ts", "host/b.ts"]]));
  it("finds an upward import and an import into test/", () => {
    expect(upwardImports(g)).toEqual([
      "host/a.ts -> cli/main.ts (layer host imports the higher cli)",
      "bench/b.ts -> test/support/brokers.ts (outside the product's layers)",
    ]);
  });
});

describe("the product's imports", () => {
  it("reads the tree", () => expect(graph.size).toBeGreaterThan(100));
  it("have no cycle", () => expect(importCycles(graph)).toEqual([]));
  it("never go up a layer, nor into test/", () => expect(upwardImports(graph)).toEqual([]));
  it("from the dashboard page reach only browser code, the contract and uPlot", () => {
    const pages = [...graph.keys()].filter((f) => f.startsWith("host/dashboard/web/"));
    expect(pages.length).toBeGreaterThan(3);
    const bad: string[] = [];
    for (const page of pages) {
      for (const f of importClosure(graph, page)) {
        for (const p of packages.get(f) ?? []) if (!BROWSER_PACKAGES.includes(p.split("/")[0])) bad.push(`${page} reaches ${f}, which imports ${p}`);
      }
    }
    expect(bad).toEqual([]);
  });
  it("of the firmware stay inside firmware/", () => {
    const out = [...graph].filter(([f]) => f.startsWith("firmware/")).flatMap(([f, ts]) => ts.filter((t) => !t.startsWith("firmware/")).map((t) => `${f} -> ${t}`));
    expect(out).toEqual([]);
  });
});

describe("documents the code points to", () => {
  it("are in the repository (docs/...), never outside it", () => {
    const bad: string[] = [];
    for (const file of graph.keys()) {
      const text = fs.readFileSync(path.join(ROOT, file), "utf8");
      for (const m of text.matchAll(/\b(ESPRUINO|DESIGN|STYLE)\.md\b/g)) bad.push(`${file} names ${m[0]}, which a clone does not contain`);
      for (const m of text.matchAll(/\bdocs\/[\w.-]+\.md\b/g)) if (!fs.existsSync(path.join(ROOT, m[0]))) bad.push(`${file} names ${m[0]}, which does not exist`);
    }
    expect(bad).toEqual([]);
  });
});
