/**
 * Reading experiment results into rows for the plots (node:fs only: works in Deno, Bun and the Deno Jupyter kernel).
 *
 * Where results live (see `lib/experiment/results.ts`): `results/<name>/` for the committed full runs,
 * `results/_runs/<name>-quick/` for quick runs. `loadResults` prefers the full run and falls back to the quick one
 * only when asked. It reads the merged tables (summary.jsonl, curves.jsonl, gradient_flow.jsonl, manifest.json);
 * when a run is still in progress (or was interrupted) and has cell files but no merged tables yet, it builds the
 * same rows from `cells/*.json` and marks the set "partial". An experiment with neither is `null`: "not run".
 * The results folder is `<repo>/results` unless the `LSTM_LAB_RESULTS` environment variable or a `root` option says
 * otherwise.
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  curveRows,
  type FlowLine,
  flowLines,
  flowRows,
  readCells,
  type SummaryRow,
  summaryRow,
} from "../experiment/results.ts";
import { quantileSorted } from "./stats.ts";

export type { SummaryRow } from "../experiment/results.ts";

/** The repository root (two folders above this file). */
export const REPO_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** One line of gradient_flow.jsonl: a gradient-norm profile point of one cell, plus the model fields joined in. */
export interface FlowRow {
  hash: string;
  label: string;
  variant: string;
  seed: number;
  cell: "lstm" | "rnn";
  /** "init", "end", or training sequences seen at a checkpoint. */
  at: "init" | "end" | number;
  /** Sequence length of the measurement batch. */
  T: number;
  /**
   * k = s − t: steps before the scored step s, the last step of the sequence that carries loss (k = 0 there; with
   * every sequence scored at its last step, s = T − 1).
   */
  lag: number;
  /** Quartiles and median over the batch of ‖∂L/∂h_t‖; null where the float32 value was not finite (overflow). */
  dhQ25: number | null;
  dhMedian: number | null;
  dhQ75: number | null;
  dhLogMean?: number | null;
  /** The same for ‖∂L/∂c_t‖ (LSTM only). */
  dcQ25?: number | null;
  dcMedian?: number | null;
  dcQ75?: number | null;
  dcLogMean?: number | null;
  /** λ₁ = ‖W_hh‖₂ of the top layer. */
  spectralNorm: number;
  /** Spectral radius of W_hh (RNN). */
  spectralRadius?: number;
  /** Joined from the cell's configuration: the LSTM's forget-gate bias at initialisation, when set. */
  forgetBias?: number;
  /** Joined from the cell's configuration: the RNN's requested spectral radius ρ, when set. */
  rho?: number;
  /** Name of the experiment. */
  experiment?: string;
  /**
   * The task's nominal length (the seqLen axis, else joined from task.params.T); `T` is the measured batch's length,
   * which is longer for tasks that draw lengths from [T, 1.1 T].
   */
  seqLen?: number;
  /** The sweep's axis values (seqLen, task.params.p, ...) are kept as they are. */
  [axis: string]: unknown;
}

/** One line of curves.jsonl: a point of a training curve. */
export interface CurveRow {
  hash: string;
  label: string;
  variant: string;
  seed: number;
  step: number;
  sequences: number;
  loss: number;
  accuracy: number;
  gradNorm: number;
  [axis: string]: unknown;
}

/** What was found for an experiment. */
export interface ResultSet {
  /** Experiment name, e.g. "gradient-flow". */
  name: string;
  /** The folder read. */
  dir: string;
  /** "full" (results/<name>) or "quick" (results/_runs/<name>-quick). */
  profile: "full" | "quick";
  /**
   * "complete": merged and every cell of the sweep finished; "partial": merged with cells missing, or no merged
   * tables yet (a run in progress or interrupted: rows built from the cell files).
   */
  state: "complete" | "partial";
  /** Whether the merged tables were read (false: built from cells/). */
  merged: boolean;
  /** Cells finished, and cells in the sweep (null when unknown: no manifest yet). */
  finished: number;
  expected: number | null;
  mergedAt: string | null;
  summary: SummaryRow[];
  curves: CurveRow[];
  flow: FlowRow[];
}

/** Options of `loadResults` and `resultDir`. */
export interface LoadOptions {
  /** The results folder (default: `$LSTM_LAB_RESULTS`, else `<repo>/results`). */
  root?: string;
  /** Use results/_runs/<name>-quick when there is no full run (default false). */
  fallbackToQuick?: boolean;
  /** Read only this profile (overrides fallbackToQuick). */
  profile?: "full" | "quick";
  /** Skip reading gradient_flow.jsonl (large) when false (default true). */
  flow?: boolean;
  /** Skip reading curves.jsonl when false (default true). */
  curves?: boolean;
}

/**
 * The folder of an experiment's results for a profile, and whether anything is there (merged tables or cells).
 *
 * @example
 * ```ts
 * import { resultDir } from "./data.ts";
 * resultDir("latch", "quick"); // { dir: ".../results/_runs/latch-quick", present: true|false }
 * ```
 */
export function resultDir(name: string, profile: "full" | "quick", root?: string): { dir: string; present: boolean } {
  const base = root ?? process.env.LSTM_LAB_RESULTS ?? join(REPO_ROOT, "results");
  const dir = profile === "full" ? join(base, name) : join(base, "_runs", `${name}-quick`);
  const present = existsSync(join(dir, "summary.jsonl")) || countCells(dir) > 0;
  return { dir, present };
}

function countCells(dir: string): number {
  const cells = join(dir, "cells");
  if (!existsSync(cells)) return 0;
  return readdirSync(cells).filter((f) => /^[0-9a-f]{16}\.json$/.test(f)).length;
}

/**
 * Reads an experiment's results: the full run if present (else, when asked, the quick run), or null when neither is
 * there ("not run"). Gradient-flow rows get the cell's forget bias and requested spectral radius joined in from
 * the summary (by hash), so plots can label a line "LSTM b_f = 1" or "RNN ρ = 0.9".
 *
 * @example
 * ```ts
 * import { loadResults } from "./data.ts";
 * const gf = loadResults("gradient-flow", { fallbackToQuick: true });
 * if (gf === null) console.log("gradient-flow: not run");
 * else console.log(gf.profile, gf.state, gf.summary.length, gf.flow.length);
 * ```
 */
export function loadResults(name: string, opts: LoadOptions = {}): ResultSet | null {
  const profiles: ("full" | "quick")[] = opts.profile !== undefined
    ? [opts.profile]
    : opts.fallbackToQuick
    ? ["full", "quick"]
    : ["full"];
  for (const profile of profiles) {
    const { dir, present } = resultDir(name, profile, opts.root);
    if (present) return readResultDir(name, dir, profile, opts);
  }
  return null;
}

/**
 * Reads one results folder (merged tables, or cells/ when they are not merged yet).
 *
 * @example
 * ```ts
 * import { readResultDir } from "./data.ts";
 * // const set = readResultDir("latch", "/tmp/out/latch", "full");
 * ```
 */
export function readResultDir(
  name: string,
  dir: string,
  profile: "full" | "quick",
  opts: { flow?: boolean; curves?: boolean } = {},
): ResultSet {
  const manifestPath = join(dir, "manifest.json");
  const summaryPath = join(dir, "summary.jsonl");
  const wantFlow = opts.flow ?? true, wantCurves = opts.curves ?? true;
  let set: ResultSet;
  if (existsSync(manifestPath) && existsSync(summaryPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      cells: unknown[];
      finished: number;
      complete: boolean;
      mergedAt?: string;
    };
    set = {
      name,
      dir,
      profile,
      state: manifest.complete ? "complete" : "partial",
      merged: true,
      finished: manifest.finished,
      expected: manifest.cells.length,
      mergedAt: manifest.mergedAt ?? null,
      summary: readJsonl<SummaryRow>(summaryPath),
      curves: wantCurves ? readJsonl<CurveRow>(join(dir, "curves.jsonl")) : [],
      flow: wantFlow ? readJsonl<FlowLine>(join(dir, "gradient_flow.jsonl")).flatMap(flowRows) as FlowRow[] : [],
    };
  } else {
    const cells = readCells(dir);
    set = {
      name,
      dir,
      profile,
      state: "partial",
      merged: false,
      finished: cells.length,
      expected: null,
      mergedAt: null,
      summary: cells.map(summaryRow),
      curves: wantCurves ? cells.flatMap(curveRows) as CurveRow[] : [],
      flow: wantFlow ? cells.flatMap(flowLines).flatMap(flowRows) as FlowRow[] : [],
    };
  }
  joinModelFields(set);
  return set;
}

function readJsonl<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const out: T[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) if (line.trim() !== "") out.push(JSON.parse(line));
  return out;
}

/** Adds forgetBias / rho / experiment from the summary to the flow and curve rows (by cell hash). */
function joinModelFields(set: ResultSet): void {
  const byHash = new Map<string, SummaryRow>();
  for (const s of set.summary) byHash.set(String(s.hash), s);
  for (const f of set.flow) {
    const s = byHash.get(f.hash);
    if (s === undefined) continue;
    const fb = s["model.init.forgetBias"], rho = s["model.init.recurrentWeights.spectralRadius"];
    if (typeof fb === "number") f.forgetBias = fb;
    if (typeof rho === "number") f.rho = rho;
    const T = s["task.params.T"];
    if (f.seqLen === undefined && typeof T === "number") f.seqLen = T;
    f.experiment = set.name;
  }
}

/** Options of `flowRowsFromProbes`. */
export interface ProbeRowOptions {
  /** The variant name the rows carry (the line's label in the plots). */
  variant: string;
  cell: "lstm" | "rnn";
  /** "init", "end" or a number of training sequences (default "init"). */
  at?: "init" | "end" | number;
  /** λ₁ = ‖W_hh‖₂ of the top layer (from `spectralNorm` in lib/mod.ts); needed for the RNN's bound line. */
  spectralNorm?: number;
  seed?: number;
  /**
   * Per sequence, the step whose output is scored (lag 0); default T − 1 for all. For tasks whose sequences have
   * different lengths in one batch, pass `batch.lengths` minus one.
   */
  lastStep?: ArrayLike<number>;
}

/**
 * Turns the probes of one backward pass (`model.backward(dy, { probes: true })`: per layer, ‖∂L/∂h_t‖ and
 * ‖∂L/∂c_t‖ as (T, B)) into gradient-flow rows, the same shape as gradient_flow.jsonl: quartiles over the batch
 * per lag k = (scored step) − t, the scored step being T − 1 unless `lastStep` says otherwise (the loss must be at
 * that step only), so the spec builders plot them directly.
 *
 * @example
 * ```ts
 * import { flowRowsFromProbes } from "./data.ts";
 * const T = 3, B = 2;
 * const dh = new Float32Array([0.1, 0.2, 0.3, 0.4, 1, 1]); // (T, B)
 * const rows = flowRowsFromProbes(dh, null, T, B, { variant: "rnn", cell: "rnn", spectralNorm: 0.9 });
 * rows[0].lag; // 0: the last step
 * rows[0].dhMedian; // 1
 * ```
 */
export function flowRowsFromProbes(
  dhNorm: ArrayLike<number>,
  dcNorm: ArrayLike<number> | null,
  T: number,
  B: number,
  opts: ProbeRowOptions,
): FlowRow[] {
  const rows: FlowRow[] = [];
  const last = (b: number) => (opts.lastStep === undefined ? T - 1 : opts.lastStep[b]);
  let maxLag = 0;
  for (let b = 0; b < B; b++) maxLag = Math.max(maxLag, last(b));
  // quartiles over the sequences that have a step k before their scored one
  const q = (norms: ArrayLike<number>, k: number) => {
    const v: number[] = [];
    for (let b = 0; b < B; b++) {
      const t = last(b) - k;
      if (t >= 0 && t < T) v.push(norms[t * B + b]);
    }
    v.sort((a, b) => a - b);
    const f = (x: number) => (Number.isFinite(x) ? x : null);
    return [f(quantileSorted(v, 0.25)), f(quantileSorted(v, 0.5)), f(quantileSorted(v, 0.75))];
  };
  for (let k = 0; k <= maxLag; k++) {
    const [q25, med, q75] = q(dhNorm, k);
    const row: FlowRow = {
      hash: `probe-${opts.variant}-${opts.at ?? "init"}`,
      label: opts.variant,
      variant: opts.variant,
      seed: opts.seed ?? 0,
      cell: opts.cell,
      at: opts.at ?? "init",
      T,
      lag: k,
      dhQ25: q25,
      dhMedian: med,
      dhQ75: q75,
      spectralNorm: opts.spectralNorm ?? NaN,
    };
    if (dcNorm !== null) [row.dcQ25, row.dcMedian, row.dcQ75] = q(dcNorm, k);
    rows.push(row);
  }
  return rows;
}
