/**
 * The layers of lstm-lab, bottom to top, and the check that imports only point down. The one place the layer order
 * is written; `lib/layers_test.ts` fails on an import that runs up (or sideways between sibling layers), and
 *
 *   deno run -A tools/layers.ts            prints the layer graph (what the README's "Architecture" shows)
 *   deno run -A tools/layers.ts --folders  prints the folder graph without the layer table (works on any checkout)
 *
 * A non-test module may import its own layer and any layer below. Test files (`*_test.ts`) may import any layer:
 * parity and integration tests compare layers. `dev/` harnesses belong to the layer of their folder.
 *
 * @module
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, normalize, relative, resolve } from "node:path";
import process from "node:process";

/** One layer: its name, its rank (higher imports lower; equal ranks are siblings that must not import each other). */
export interface Layer {
  name: string;
  rank: number;
  /** Repository-relative folders (ending in "/") or files that make up the layer. */
  paths: string[];
  what: string;
}

/** The layers, bottom to top. A path belongs to the layer with the longest matching entry. */
export const LAYERS: readonly Layer[] = [
  {
    name: "basics",
    rank: 0,
    paths: ["lib/arr.ts", "lib/math.ts", "lib/rng.ts", "lib/linalg.ts", "lib/quantile.ts"],
    what: "array types, engine-independent math, RNG, linear algebra, quantiles",
  },
  { name: "optim", rank: 1, paths: ["lib/optim/"], what: "optimizer descriptions and update rules, clipping" },
  {
    name: "nn",
    rank: 2,
    paths: ["lib/nn/"],
    what: "model definition, cells (forward beside backward), kernel contract, reference kernels, step interface",
  },
  { name: "tasks", rank: 3, paths: ["lib/tasks/"], what: "the benchmark problems' batch generators" },
  { name: "backend/cpu", rank: 4, paths: ["lib/backend/cpu/"], what: "WebAssembly SIMD kernels" },
  { name: "backend/webgpu", rank: 4, paths: ["lib/backend/webgpu/"], what: "the model on a GPU through WebGPU" },
  { name: "backend", rank: 5, paths: ["lib/backend/"], what: "choosing a backend, createModel" },
  { name: "io", rank: 6, paths: ["lib/io/"], what: "safetensors, PyTorch state dicts" },
  { name: "training", rank: 7, paths: ["lib/train.ts"], what: "the training loop" },
  { name: "experiment", rank: 8, paths: ["lib/experiment/"], what: "sweeps, the cell runner, result files" },
  { name: "plot", rank: 9, paths: ["lib/plot/"], what: "figures, report, notebooks" },
  { name: "public", rank: 10, paths: ["lib/mod.ts"], what: "the public entry point" },
  { name: "cli", rank: 10, paths: ["lib/experiment/cli.ts"], what: "the experiment command line and its answer" },
  { name: "explore", rank: 11, paths: ["lib/explore/"], what: "the gradient-flow explorer (a page on the public API)" },
  {
    name: "experiments",
    rank: 11,
    paths: ["experiments/"],
    what: "the declarative experiment files (user files: the library lists them at run time, never imports them)",
  },
];

/**
 * Upward imports that are known and not yet removed, each with the reason. `lib/layers_test.ts` fails on any other
 * upward import, and on an entry here that no longer occurs (so the list only shrinks).
 */
export const KNOWN_UPWARD: readonly { from: string; to: string; why: string }[] = [];

/** The layer a repository-relative path belongs to, or null. */
export function layerOf(path: string): Layer | null {
  let best: Layer | null = null, bestLen = -1;
  for (const layer of LAYERS) {
    for (const p of layer.paths) {
      const hit = p.endsWith("/") ? path.startsWith(p) : path === p;
      if (hit && p.length > bestLen) [best, bestLen] = [layer, p.length];
    }
  }
  return best;
}

/** One relative import of one module. */
export interface ImportEdge {
  from: string;
  to: string;
  /** Whether the importing file is a test. */
  test: boolean;
}

const SKIP = new Set(["node_modules", "testdata", "assembly", ".git"]);

function walk(root: string, dir: string, out: string[]): void {
  for (const name of readdirSync(join(root, dir))) {
    if (SKIP.has(name)) continue;
    const rel = dir === "" ? name : `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) walk(root, rel, out);
    else if (/\.(ts|json)$/.test(name) && !name.endsWith(".d.ts")) out.push(rel);
  }
}

// Static imports and re-exports (`import ... from "./x.ts"`, `export ... from`, `import "./x.ts"`) outside comments.
const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm;

/** Every relative import of the TypeScript modules under `dirs` (repository-relative), from `root`. */
export function scanImports(root: string, dirs: string[] = ["lib", "experiments"]): ImportEdge[] {
  const files: string[] = [];
  for (const d of dirs) walk(root, d, files);
  const edges: ImportEdge[] = [];
  for (const from of files.filter((f) => f.endsWith(".ts"))) {
    const src = readFileSync(join(root, from), "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    for (const m of src.matchAll(IMPORT)) {
      const to = normalize(join(from, "..", m[1])).replaceAll("\\", "/");
      edges.push({ from, to, test: from.endsWith("_test.ts") });
    }
  }
  return edges;
}

/** The imports of non-test modules that run up a layer or sideways between siblings; unknown files are reported too. */
export function upwardImports(edges: ImportEdge[]): { edge: ImportEdge; why: string }[] {
  const bad: { edge: ImportEdge; why: string }[] = [];
  for (const edge of edges) {
    const a = layerOf(edge.from), b = layerOf(edge.to);
    if (a === null && edge.test) continue; // a test outside every layer (e.g. lib/math_test.ts) may import anything
    if (a === null) bad.push({ edge, why: `${edge.from} is in no layer (add it to LAYERS in tools/layers.ts)` });
    else if (b === null) bad.push({ edge, why: `${edge.to} is in no layer (add it to LAYERS in tools/layers.ts)` });
    else if (!edge.test && a !== b && b.rank >= a.rank) {
      bad.push({ edge, why: `${a.name} (rank ${a.rank}) imports ${b.name} (rank ${b.rank})` });
    }
  }
  return bad;
}

/** Import cycles between modules (each as a list of files), test files excluded. */
export function importCycles(edges: ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) if (!e.test) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, 1 | 2>(), stack: string[] = [], cycles: string[][] = [];
  const visit = (f: string) => {
    state.set(f, 1);
    stack.push(f);
    for (const g of next.get(f) ?? []) {
      if (state.get(g) === 1) cycles.push(stack.slice(stack.indexOf(g)));
      else if (state.get(g) === undefined) visit(g);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of [...next.keys()].sort()) if (state.get(f) === undefined) visit(f);
  return cycles;
}

/** Group of a file for the folder graph: its folder, with lib/backend's two backends kept apart. */
export function folderOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] !== "lib") return parts[0];
  if (parts.length === 2) return `lib/${parts[1]}`;
  if (parts[1] === "backend" && parts.length > 3) return `lib/backend/${parts[2]}`;
  return `lib/${parts[1]}/`;
}

/** The graph as text, one line per group: `group -> the groups it imports` (test files left out). */
export function graphText(edges: ImportEdge[], group: (path: string) => string): string {
  const out = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.test) continue;
    const a = group(e.from), b = group(e.to);
    if (!out.has(a)) out.set(a, new Set());
    if (a !== b) out.get(a)!.add(b);
  }
  return [...out.keys()].sort().map((a) => `${a} -> ${[...out.get(a)!].sort().join(", ") || "(nothing)"}`).join("\n");
}

/**
 * The layer graph, top layer first: each layer, its folders and files, and the layers its modules import (test files
 * left out). The README's "Architecture" section shows this text (`lib/layers_test.ts` checks that it is current).
 */
export function layerGraph(edges: ImportEdge[]): string {
  const lines: string[] = [];
  const byRank = [...LAYERS].sort((a, b) => b.rank - a.rank || a.name.localeCompare(b.name));
  for (const l of byRank) {
    const deps = new Set<Layer>();
    for (const e of edges) {
      if (e.test || layerOf(e.from) !== l) continue;
      const b = layerOf(e.to);
      if (b !== null && b !== l) deps.add(b);
    }
    const names = [...deps].sort((a, b) => b.rank - a.rank || a.name.localeCompare(b.name)).map((d) => d.name);
    const where = l.paths.map((p) => p.replace(/^lib\//, "")).join(" ");
    lines.push(`${String(l.rank).padStart(2)} ${l.name.padEnd(15)} ${where}`);
    lines.push(`${" ".repeat(19)}→ ${names.join(", ") || "(nothing)"}`);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const root = resolve(process.argv.slice(2).find((a) => !a.startsWith("-")) ?? ".");
  const edges = scanImports(root);
  if (process.argv.includes("--folders")) {
    console.log(graphText(edges, folderOf));
  } else {
    console.log(layerGraph(edges));
    const bad = upwardImports(edges);
    for (const b of bad) console.log(`UPWARD: ${b.edge.from} -> ${b.edge.to}: ${b.why}`);
    console.log(`${relative(process.cwd(), root) || "."}: ${edges.length} imports, ${bad.length} upward`);
  }
}
