/**
 * Executes the notebooks (`notebooks/*.ipynb`, Deno kernel) headless with Jupyter's nbconvert, in place (the
 * default: the committed notebooks then carry fresh outputs) or into another folder (`--out DIR`, as CI does, so
 * that the committed files are not rewritten). Fails if a cell throws, or if an output was lost: every output the
 * plotting helpers display carries a running number (see `display.ts` for the kernel race this guards against), and
 * a gap in those numbers means nbconvert dropped an output; the notebook is then run once more before failing.
 *
 * Usage: `deno task notebooks [--out DIR] [--timeout SECONDS] [name.ipynb ...]`
 *
 * Needs `jupyter nbconvert` with nbclient (Debian: `apt-get install jupyter-nbconvert python3-nbclient`) and the
 * Deno kernel (`deno jupyter --install`, run here when the kernelspec is missing). Each notebook runs with its own
 * folder as working directory, so its `../lib/mod.ts` imports resolve; `NO_COLOR=1` keeps ANSI colors out of the
 * outputs. Set `LSTM_LAB_QUICK=1` to let the notebooks fall back to quick runs (results/_runs/) where there is no
 * full run, and `LSTM_LAB_RESULTS=DIR` to read another results folder (both are passed on to the kernel).
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import process from "node:process";
import { REPO_ROOT } from "./data.ts";
import { DISPLAY_SEQ_KEY } from "./display.ts";

/** The folder of the shipped notebooks. */
export const NOTEBOOK_DIR: string = join(REPO_ROOT, "notebooks");

/**
 * The notebooks to run: the names given (in notebooks/), or every `*.ipynb` there, sorted.
 *
 * @example
 * ```ts
 * import { listNotebooks } from "./notebooks.ts";
 * listNotebooks(); // [".../notebooks/gradient_flow.ipynb", ...]
 * ```
 */
export function listNotebooks(names: string[] = []): string[] {
  if (names.length) return names.map((n) => (existsSync(n) ? resolve(n) : join(NOTEBOOK_DIR, n)));
  return readdirSync(NOTEBOOK_DIR).filter((f) => f.endsWith(".ipynb")).sort().map((f) => join(NOTEBOOK_DIR, f));
}

function hasDenoKernel(): boolean {
  const r = spawnSync("jupyter", ["--paths", "--json"], { encoding: "utf8" });
  if (r.status !== 0) return false;
  const paths = JSON.parse(r.stdout) as { data: string[] };
  return paths.data.some((d) => existsSync(join(d, "kernels", "deno", "kernel.json")));
}

interface NotebookJson {
  cells: { cell_type: string; outputs?: { metadata?: Record<string, { display?: number }> }[] }[];
}

/**
 * The outputs a kernel lost: the running numbers (see `display.ts`) missing between 1 and the last one present,
 * as "display n (before cell k)" lines, k counting every cell from 1. Empty when none is missing.
 *
 * @example
 * ```ts
 * import { lostDisplays } from "./notebooks.ts";
 * const out = (n: number) => ({ metadata: { "lstm-lab": { display: n } } });
 * lostDisplays({ cells: [{ cell_type: "code", outputs: [out(1), out(3)] }] }); // ["display 2 (before cell 1)"]
 * ```
 */
export function lostDisplays(nb: NotebookJson): string[] {
  const lost: string[] = [];
  let expected = 1;
  nb.cells.forEach((cell, k) => {
    for (const o of cell.outputs ?? []) {
      const n = o.metadata?.[DISPLAY_SEQ_KEY]?.display;
      if (n === undefined) continue;
      for (; expected < n; expected++) lost.push(`display ${expected} (before cell ${k + 1})`);
      expected = n + 1;
    }
  });
  return lost;
}

/** Options of `runNotebooks`. */
export interface RunNotebooksOptions {
  /** Write the executed notebooks here instead of in place. */
  outDir?: string;
  /** Per-cell timeout in seconds (default 600). */
  timeout?: number;
}

/**
 * Executes notebooks with `jupyter nbconvert --execute` (output streamed to this process's stderr); returns, per
 * notebook, whether it succeeded and how long it took.
 *
 * @example
 * ```ts
 * import { listNotebooks, runNotebooks } from "./notebooks.ts";
 * // const results = runNotebooks(listNotebooks(["quickstart.ipynb"]), { outDir: "/tmp/nb" });
 * ```
 */
export function runNotebooks(
  files: string[],
  opts: RunNotebooksOptions = {},
): { file: string; ok: boolean; seconds: number }[] {
  const check = spawnSync("jupyter", ["nbconvert", "--version"], { encoding: "utf8" });
  if (check.status !== 0) {
    throw new Error(
      "notebooks: `jupyter nbconvert` not found; install it (Debian: apt-get install jupyter-nbconvert python3-nbclient)",
    );
  }
  if (!hasDenoKernel()) {
    const r = spawnSync("deno", ["jupyter", "--install"], { stdio: "inherit" });
    if (r.status !== 0) throw new Error("notebooks: `deno jupyter --install` failed");
  }
  if (opts.outDir !== undefined) mkdirSync(opts.outDir, { recursive: true });
  const out: { file: string; ok: boolean; seconds: number }[] = [];
  for (const file of files) {
    const args = [
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      `--ExecutePreprocessor.timeout=${opts.timeout ?? 600}`,
      "--ExecutePreprocessor.record_timing=False", // no timestamps in the committed notebooks
      ...(opts.outDir === undefined ? ["--inplace"] : ["--output-dir", resolve(opts.outDir)]),
      file,
    ];
    const written = opts.outDir === undefined ? file : join(resolve(opts.outDir), basename(file));
    const t0 = performance.now();
    let ok = false;
    for (let attempt = 1; attempt <= 2 && !ok; attempt++) {
      const r = spawnSync("jupyter", args, {
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, NO_COLOR: "1" },
      });
      if (r.status !== 0) break; // a cell threw: no point in running it again
      const lost = lostDisplays(JSON.parse(readFileSync(written, "utf8")) as NotebookJson);
      ok = lost.length === 0;
      if (!ok) console.error(`notebooks: ${file}: the kernel lost ${lost.join(", ")} (attempt ${attempt} of 2)`);
    }
    const seconds = (performance.now() - t0) / 1000;
    out.push({ file, ok, seconds });
    console.error(`notebooks: ${file} ${ok ? "ok" : "FAILED"} in ${seconds.toFixed(1)} s`);
  }
  return out;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const names: string[] = [];
  const opts: RunNotebooksOptions = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--out") opts.outDir = args[++i];
    else if (args[i] === "--timeout") opts.timeout = Number(args[++i]);
    else if (args[i] === "-h" || args[i] === "--help") {
      console.log("Usage: deno task notebooks [--out DIR] [--timeout SECONDS] [name.ipynb ...]");
      process.exit(0);
    } else names.push(args[i]);
  }
  try {
    const results = runNotebooks(listNotebooks(names), opts);
    const failed = results.filter((r) => !r.ok);
    console.log(`notebooks: ${results.length - failed.length} passed, ${failed.length} failed`);
    if (failed.length) process.exit(1);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
