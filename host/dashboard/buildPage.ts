// Builds the dashboard page at startup with esbuild (TypeScript + uPlot) and keeps it in memory.
import { build } from "esbuild";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export interface PageAssets {
  html: string;
  js: string;
  css: string;
}

const WEB_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "web");

export async function buildPage(): Promise<PageAssets> {
  const result = await build({
    entryPoints: [path.join(WEB_DIR, "main.ts")],
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    platform: "browser",
    write: false,
    logLevel: "silent",
    legalComments: "none",
  });
  const js = result.outputFiles[0].text;
  const require = createRequire(import.meta.url);
  const uplotCss = fs.readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
  const css = uplotCss + "\n" + fs.readFileSync(path.join(WEB_DIR, "style.css"), "utf8");
  const html = fs.readFileSync(path.join(WEB_DIR, "index.html"), "utf8");
  return { html, js, css };
}
