// The product's import graph, read with the TypeScript compiler's own import scanner, and the two rules the
// layout keeps (docs/architecture.md "Layers"): no import cycle, and no import from a lower layer up to a higher one.
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

/** Layer of each top-level folder: imports may go to the same or a lower number, never higher. */
export const LAYERS: Record<string, number> = {
  bin: 6,
  cli: 5,
  bench: 4,
  host: 3,
  sim: 3,
  provisioning: 2,
  tools: 1,
  firmware: 0,
};

/** Relative path (with "/") -> relative paths it imports, for every product source file. */
export type ImportGraph = Map<string, string[]>;
/** Relative path -> the packages and node: built-ins it imports. */
export type PackageImports = Map<string, string[]>;

const SOURCE = /\.(ts|js|mjs)$/;

function sourceFiles(root: string, dir: string, out: string[]): void {
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir + "/" + entry.name;
    if (entry.isDirectory()) sourceFiles(root, rel, out);
    else if (SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(rel);
  }
}

/** A relative specifier as the file it names (tsx and esbuild resolve `./x` to x.ts or x/index.ts). */
function resolve(root: string, from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null; // a package or node: built-in
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  const candidates = [base, base + ".ts", base + ".js", base + "/index.ts"];
  if (base.endsWith(".js")) candidates.unshift(base.slice(0, -3) + ".ts");
  for (const c of candidates) if (fs.existsSync(path.join(root, c)) && fs.statSync(path.join(root, c)).isFile()) return c;
  return base; // unresolved: kept so a rule can still name it
}

export function readImportGraph(root: string): { graph: ImportGraph; packages: PackageImports } {
  const files: string[] = [];
  for (const top of Object.keys(LAYERS)) if (fs.existsSync(path.join(root, top))) sourceFiles(root, top, files);
  const graph: ImportGraph = new Map();
  const packages: PackageImports = new Map();
  for (const file of files) {
    const specs = ts.preProcessFile(fs.readFileSync(path.join(root, file), "utf8"), true, true).importedFiles.map((f) => f.fileName);
    const targets = specs.map((s) => resolve(root, file, s)).filter((t): t is string => t !== null);
    graph.set(file, [...new Set(targets)]);
    packages.set(file, [...new Set(specs.filter((s) => !s.startsWith(".")))]);
  }
  return { graph, packages };
}

export function layerOf(file: string): number | undefined {
  return LAYERS[file.split("/")[0]];
}

/** Imports that go up a layer, or out of the product (into test/ or anywhere unlisted). */
export function upwardImports(graph: ImportGraph): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const a = layerOf(from);
      const b = layerOf(to);
      if (b === undefined) out.push(`${from} -> ${to} (outside the product's layers)`);
      else if (a !== undefined && b > a) out.push(`${from} -> ${to} (layer ${from.split("/")[0]} imports the higher ${to.split("/")[0]})`);
    }
  }
  return out;
}

/** Every import cycle as its files (strongly connected components of two or more files, or a self-import). */
export function importCycles(graph: ImportGraph): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) connect(v);
  return cycles;
}

/** Every file `start` reaches through its imports, itself included. */
export function importClosure(graph: ImportGraph, start: string): Set<string> {
  const seen = new Set<string>();
  const visit = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const t of graph.get(f) ?? []) visit(t);
  };
  visit(start);
  return seen;
}
