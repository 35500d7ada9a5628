/**
 * The results schema (version `SCHEMA_VERSION`) and how results are stored.
 *
 * Layout, per experiment, under the output folder (`results/<experiment>/` for full runs):
 *
 *   cells/<hash>.json     one file per finished cell (`CellResult`), written atomically (temp file + rename);
 *                         a cell whose file exists and is valid is never recomputed
 *   cells/<hash>.lock     a cell being computed (`claim.ts`): other runs leave it alone
 *   rejected/             cell files found invalid (unreadable, truncated, another schema version, a name that is
 *                         not their configuration's hash), moved aside with a `.reason.txt` beside each; the cell is
 *                         then computed again
 *   summary.jsonl         one line per cell: its configuration flattened to dotted columns, status and metrics
 *   summary.csv           the same, as CSV
 *   curves.jsonl          training curves, one line per (cell, logged step)
 *   gradient_flow.jsonl   gradient norms, one line per (cell, measurement), arrays indexed by lag (`FlowLine`;
 *                         `flowRows` expands a line into one row per lag)
 *   manifest.json         the experiment, its cells (hash, label) and the metadata of the merge
 *
 * Every cell carries its full configuration and the metadata needed to reproduce it (git commit, runtime and version,
 * backend, machine, date, wall time). Shards of a sweep write side by side into the same `cells/` folder; merging is
 * reading that folder. The merged tables are written atomically too, so a reader never sees half a table.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type Cell, SCHEMA_VERSION } from "./schema.ts";
import { cellHash } from "./sweep.ts";

/** A point of a training curve (means over the steps since the previous point). */
export interface CurvePoint {
  step: number;
  sequences: number;
  loss: number;
  /** Fraction of training sequences correct by the task's criterion. */
  accuracy: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

/** Quantiles over a batch's sequences of a gradient norm, per lag k = 0, 1, ... (k steps before the loss). */
export interface NormProfile {
  q25: number[];
  median: number[];
  q75: number[];
  /** Mean of log10 of the norm (geometric mean, in decades). */
  logMean: number[];
}

/** One gradient-flow measurement. */
export interface GradientFlow {
  /** "init", "end", or the training sequences seen at a checkpoint. */
  at: "init" | "end" | number;
  T: number;
  B: number;
  /** Per layer: ‖W_hh‖₂ (largest singular value; Pascanu et al.'s λ₁) and, for the RNN, the spectral radius. */
  layers: { spectralNorm: number; spectralRadius?: number }[];
  /** ‖∂L/∂h_t‖₂ of the top layer. */
  dh: NormProfile;
  /** ‖∂L/∂c_t‖₂ of the top layer (LSTM). */
  dc: NormProfile | null;
}

/** Test metrics on fresh sequences. */
export interface TestMetrics {
  sequences: number;
  loss: number;
  accuracy: number;
  /** Sequences wrong by the task's criterion (1997's "wrong on test: x/2560"). */
  wrong: number;
}

/** How a cell ended. */
export type CellStatus = "solved" | "not-solved" | "trained" | "diverged" | "measured";

/** What running a cell produced. */
export interface RunOutcome {
  status: CellStatus;
  steps: number;
  sequences: number;
  /** Training sequences seen when the stopping rule was first met; null if it never was. */
  sequencesToSuccess: number | null;
  diverged?: { step: number; what: "loss" | "gradient" };
  curve: CurvePoint[];
  gradientFlow: GradientFlow[];
  test: TestMetrics | null;
  baseline: { description: string; loss: number; accuracy?: number };
  wallMs: number;
}

/** Where and how a cell ran. */
export interface RunMeta {
  commit: string;
  /** Uncommitted changes in the working tree when it ran. */
  dirty: boolean;
  /** Why a dirty tree was allowed to write these results (`--allow-dirty "why"`); absent when it was clean. */
  dirtyReason?: string;
  runtime: "deno" | "bun" | "node";
  runtimeVersion: string;
  backend: string;
  machine: { cores: number; cpu: string };
  date: string;
}

/** A cell's result file. */
export interface CellResult extends RunOutcome {
  schema: "lstm-lab/cell";
  version: number;
  hash: string;
  label: string;
  axes: Record<string, unknown>;
  config: Cell;
  meta: RunMeta;
}

let cachedMeta: Omit<RunMeta, "backend" | "date"> | null = null;

/**
 * Metadata of this process: git commit, runtime, machine.
 *
 * @example
 * ```ts
 * import { runMeta } from "./results.ts";
 * const meta = runMeta("cpu"); // { commit: "…", runtime: "deno", machine: { cores: 2, cpu: "AMD EPYC" }, … }
 * ```
 */
export function runMeta(backend: string, dirtyReason?: string): RunMeta {
  if (cachedMeta === null) {
    const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
    const runtime = g.Deno !== undefined ? "deno" : g.Bun !== undefined ? "bun" : "node";
    const cpuList = cpus();
    cachedMeta = {
      commit: git("rev-parse", "HEAD") || "unknown",
      dirty: workingTreeDirty(),
      runtime,
      runtimeVersion: g.Deno?.version.deno ?? g.Bun?.version ??
        (globalThis as { process?: { version: string } }).process?.version ?? "",
      machine: { cores: cpuList.length, cpu: cpuList[0]?.model?.trim() ?? "unknown" },
    };
  }
  const meta: RunMeta = { ...cachedMeta, backend, date: new Date().toISOString() };
  if (meta.dirty && dirtyReason !== undefined) meta.dirtyReason = dirtyReason;
  return meta;
}

function git(...args: string[]): string {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

/**
 * Whether the working tree of this process has uncommitted changes to tracked files (what `RunMeta.dirty` records).
 * Results written from such a tree cannot be traced to the code that produced them.
 *
 * @example
 * ```ts
 * import { workingTreeDirty } from "./results.ts";
 * if (workingTreeDirty()) console.log("commit first");
 * ```
 */
export function workingTreeDirty(): boolean {
  return git("status", "--porcelain", "--untracked-files=no") !== "";
}

/** The folder holding an experiment's cell files. */
export function cellsDir(outDir: string): string {
  return join(outDir, "cells");
}

/**
 * Writes a file atomically: to a temporary file in the same folder, then renamed over the final name, so a reader (or
 * a killed writer) sees the old content or the new, never part of it.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./results.ts";
 * // writeFileAtomic("results/_runs/demo/summary.csv", "a,b\n1,2\n");
 * ```
 */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Writes a cell result atomically (`writeFileAtomic`), so a killed run leaves either no file or a complete one.
 *
 * @example
 * ```ts
 * import { writeCellResult } from "./results.ts";
 * // writeCellResult("results/_runs/demo", result);
 * ```
 */
export function writeCellResult(outDir: string, result: CellResult): string {
  const dir = cellsDir(outDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${result.hash}.json`);
  writeFileAtomic(path, JSON.stringify(result) + "\n");
  return path;
}

const STATUSES: readonly string[] = ["solved", "not-solved", "trained", "diverged", "measured"];

/**
 * What is wrong with a cell file's content for the name `<hash>.json`, or null if it is a valid cell result: JSON,
 * this schema and version, the hash of its own configuration equal to its name, and the fields the tables read.
 *
 * @example
 * ```ts
 * import { cellProblem } from "./results.ts";
 * cellProblem("", "0123456789abcdef"); // "empty file"
 * ```
 */
export function cellProblem(text: string, hash: string): string | null {
  if (text.trim() === "") return "empty file";
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text);
  } catch (e) {
    return `not valid JSON (${(e as Error).message.split("\n")[0]}): truncated or overwritten?`;
  }
  if (r === null || typeof r !== "object" || Array.isArray(r)) return "not a JSON object";
  if (r.schema !== "lstm-lab/cell" || r.version !== SCHEMA_VERSION) {
    return `result schema ${JSON.stringify(r.schema)}@${JSON.stringify(r.version)}, this code reads ` +
      `"lstm-lab/cell"@${SCHEMA_VERSION}`;
  }
  if (r.hash !== hash) return `it records the hash ${JSON.stringify(r.hash)}, not its file name's ${hash}`;
  const config = r.config as Record<string, unknown> | undefined;
  if (config === null || typeof config !== "object" || typeof config.variant !== "string") return "no configuration";
  const own = cellHash(config);
  if (own !== hash) return `its configuration hashes to ${own}, not to its file name's ${hash}`;
  const isObj = (x: unknown) => x !== null && typeof x === "object" && !Array.isArray(x);
  const meta = r.meta as Record<string, unknown>;
  if (
    !STATUSES.includes(r.status as string) || typeof r.label !== "string" || !isObj(r.axes) ||
    typeof r.steps !== "number" || typeof r.sequences !== "number" || !Array.isArray(r.curve) ||
    !Array.isArray(r.gradientFlow) || !(r.test === null || isObj(r.test)) || !isObj(r.baseline) ||
    !isObj(meta) || !isObj(meta.machine) || typeof meta.runtime !== "string"
  ) {
    return "fields missing or of the wrong type (status, label, axes, steps, sequences, curve, gradientFlow, test, " +
      "baseline, meta)";
  }
  return null;
}

/**
 * Reads a cell file; if it is invalid (`cellProblem`) moves it aside to `rejected/` with the reason beside it, says
 * so on stderr, and returns null (the cell is then unfinished, and computed again). Null also when there is none.
 */
function loadCell(outDir: string, hash: string): CellResult | null {
  const path = join(cellsDir(outDir), `${hash}.json`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return null;
    text = "";
    return rejectCell(outDir, hash, `unreadable (${(e as Error).message.split("\n")[0]})`);
  }
  const problem = cellProblem(text, hash);
  if (problem !== null) return rejectCell(outDir, hash, problem);
  return JSON.parse(text) as CellResult;
}

function rejectCell(outDir: string, hash: string, reason: string): null {
  const from = join(cellsDir(outDir), `${hash}.json`);
  const dir = join(outDir, "rejected");
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const to = join(dir, `${hash}.${stamp}.${process.pid}.json`);
  try {
    mkdirSync(dir, { recursive: true });
    renameSync(from, to);
    writeFileSync(`${to}.reason.txt`, `${from}: ${reason}\n`);
    console.error(`${from}: invalid cell file (${reason}); moved to ${to}; the cell will be computed again`);
  } catch (e) {
    // Another run moved it first (ENOENT), or the folder is read-only: either way the cell counts as unfinished.
    if ((e as { code?: string }).code !== "ENOENT") {
      console.error(`${from}: invalid cell file (${reason}); could not move it aside: ${(e as Error).message}`);
    }
  }
  return null;
}

/**
 * Hashes of the valid finished cells in an output folder (of those in `wanted`, when given); invalid cell files are
 * moved aside (see `readCells`).
 *
 * @example
 * ```ts
 * import { finishedCells } from "./results.ts";
 * const done = finishedCells("results/gradient-flow"); // Set of hashes
 * ```
 */
export function finishedCells(outDir: string, wanted?: Set<string>): Set<string> {
  return new Set(readCells(outDir, wanted).map((r) => r.hash));
}

/**
 * Reads every valid finished cell of an output folder (optionally only those with the given hashes), in hash order.
 * A cell file that is not valid (empty, truncated, garbage, another schema version, or named other than its
 * configuration's hash) is moved to `rejected/` with the reason beside it, reported on stderr, and left out: the merge
 * goes on, and the next run computes the cell again.
 *
 * @example
 * ```ts
 * import { readCells } from "./results.ts";
 * const cells = readCells("results/gradient-flow");
 * ```
 */
export function readCells(outDir: string, only?: Set<string>): CellResult[] {
  const dir = cellsDir(outDir);
  if (!existsSync(dir)) return [];
  const hashes = readdirSync(dir).filter((f) => /^[0-9a-f]{16}\.json$/.test(f)).map((f) => f.slice(0, 16)).sort();
  const out: CellResult[] = [];
  for (const hash of hashes) {
    if (only !== undefined && !only.has(hash)) continue;
    const r = loadCell(outDir, hash);
    if (r !== null) out.push(r);
  }
  return out;
}

/** A flat row of the summary table: the cell's configuration as dotted columns, then its metrics. */
export type SummaryRow = Record<string, string | number | boolean | null>;

/**
 * The summary row of a cell.
 *
 * @example
 * ```ts
 * import { summaryRow, readCells } from "./results.ts";
 * const rows = readCells("results/adding-learnability").map(summaryRow);
 * ```
 */
export function summaryRow(r: CellResult): SummaryRow {
  const row: SummaryRow = { hash: r.hash, label: r.label, variant: r.config.variant };
  flatten(r.config, "", row);
  // A diverged cell has no final loss: its curve ends at the last finite point, which would look healthy.
  const last = r.status === "diverged" ? undefined : r.curve.at(-1);
  Object.assign(row, {
    status: r.status,
    steps: r.steps,
    sequences: r.sequences,
    sequencesToSuccess: r.sequencesToSuccess,
    finalLoss: last?.loss ?? null,
    finalAccuracy: last?.accuracy ?? null,
    testLoss: r.test?.loss ?? null,
    testAccuracy: r.test?.accuracy ?? null,
    testWrong: r.test?.wrong ?? null,
    testSequences: r.test?.sequences ?? null,
    baselineLoss: r.baseline.loss,
    divergedAtStep: r.diverged?.step ?? null,
    wallMs: Math.round(r.wallMs),
    commit: r.meta.commit,
    runtime: `${r.meta.runtime} ${r.meta.runtimeVersion}`,
    backend: r.meta.backend,
    cpu: r.meta.machine.cpu,
    cores: r.meta.machine.cores,
    date: r.meta.date,
  });
  return row;
}

function flatten(value: unknown, prefix: string, out: SummaryRow): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === "" ? k : `${prefix}.${k}`, out);
  } else if (prefix !== "") {
    out[prefix] = Array.isArray(value) ? JSON.stringify(value) : (value as string | number | boolean | null);
  }
}

/**
 * Writes summary.jsonl, summary.csv, curves.jsonl, gradient_flow.jsonl and manifest.json for the cells of an
 * experiment found in `outDir` (the cells given, or all finished ones).
 *
 * @example
 * ```ts
 * import { mergeResults } from "./results.ts";
 * // mergeResults("results/gradient-flow", { experiment: "gradient-flow", cells: [...] });
 * ```
 */
export function mergeResults(
  outDir: string,
  manifest: { experiment: string; profile: string; cells: { hash: string; label: string }[] },
): { rows: number; complete: boolean } {
  const wanted = new Set(manifest.cells.map((c) => c.hash));
  const results = readCells(outDir, wanted);
  const rows = results.map(summaryRow);
  mkdirSync(outDir, { recursive: true });
  writeFileAtomic(
    join(outDir, "summary.jsonl"),
    rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : ""),
  );
  writeFileAtomic(join(outDir, "summary.csv"), toCsv(rows));
  const curves = results.flatMap(curveRows).map((r) => JSON.stringify(r));
  const flows = results.flatMap(flowLines).map((r) => JSON.stringify(r));
  writeFileAtomic(join(outDir, "curves.jsonl"), curves.join("\n") + (curves.length ? "\n" : ""));
  writeFileAtomic(join(outDir, "gradient_flow.jsonl"), flows.join("\n") + (flows.length ? "\n" : ""));
  const complete = results.length === wanted.size;
  writeFileAtomic(
    join(outDir, "manifest.json"),
    JSON.stringify(
      {
        schema: "lstm-lab/manifest",
        version: SCHEMA_VERSION,
        ...manifest,
        finished: results.length,
        complete,
        mergedAt: new Date().toISOString(),
      },
      null,
      1,
    ) + "\n",
  );
  return { rows: rows.length, complete };
}

/** The fields that identify a cell in the long tables: hash, label, variant, seed and its axis values. */
function cellId(r: CellResult): Record<string, unknown> {
  return { hash: r.hash, label: r.label, variant: r.config.variant, seed: r.config.seed, ...r.axes };
}

/**
 * The lines of curves.jsonl for one cell: its training curve points with the cell's identity.
 *
 * @example
 * ```ts
 * import { curveRows, readCells } from "./results.ts";
 * const rows = readCells("results/latch").flatMap(curveRows); // { hash, variant, seed, step, loss, accuracy, ... }
 * ```
 */
export function curveRows(r: CellResult): Record<string, unknown>[] {
  const id = cellId(r);
  return r.curve.map((p) => ({ ...id, ...p }));
}

/** One line of gradient_flow.jsonl: one measurement of one cell; the arrays are indexed by lag k = T - 1 - t. */
export interface FlowLine {
  hash: string;
  label: string;
  variant: string;
  seed: number;
  cell: "lstm" | "rnn";
  at: "init" | "end" | number;
  T: number;
  B: number;
  /** λ₁ = ‖W_hh‖₂ of the top layer. */
  spectralNorm: number;
  /** Spectral radius of W_hh of the top layer (RNN). */
  spectralRadius?: number;
  dhQ25: number[];
  dhMedian: number[];
  dhQ75: number[];
  dhLogMean: number[];
  dcQ25?: number[];
  dcMedian?: number[];
  dcQ75?: number[];
  dcLogMean?: number[];
  /** The cell's axis values, as written in the experiment file. */
  [axis: string]: unknown;
}

/**
 * The lines of gradient_flow.jsonl for one cell (one per measurement).
 *
 * @example
 * ```ts
 * import { flowLines, readCells } from "./results.ts";
 * const lines = readCells("results/gradient-flow").flatMap(flowLines);
 * ```
 */
export function flowLines(r: CellResult): FlowLine[] {
  const id = cellId(r);
  return r.gradientFlow.map((g) => {
    const top = g.layers.at(-1)!;
    const line: FlowLine = {
      ...id,
      cell: r.config.model.cell,
      at: g.at,
      T: g.T,
      B: g.B,
      spectralNorm: top.spectralNorm,
      dhQ25: g.dh.q25,
      dhMedian: g.dh.median,
      dhQ75: g.dh.q75,
      dhLogMean: g.dh.logMean,
    } as FlowLine;
    if (top.spectralRadius !== undefined) line.spectralRadius = top.spectralRadius;
    if (g.dc !== null) {
      Object.assign(line, { dcQ25: g.dc.q25, dcMedian: g.dc.median, dcQ75: g.dc.q75, dcLogMean: g.dc.logMean });
    }
    return line;
  });
}

const FLOW_ARRAYS = ["dhQ25", "dhMedian", "dhQ75", "dhLogMean", "dcQ25", "dcMedian", "dcQ75", "dcLogMean"] as const;

/**
 * A gradient_flow.jsonl line expanded into one row per lag (`lag`, and the arrays' values at that lag; values that
 * were not finite — float32 overflow — are null, as JSON stores them).
 *
 * @example
 * ```ts
 * import { flowRows } from "./results.ts";
 * // flowRows(line) → [{ hash, variant, T, lag: 0, dhMedian: 0.03, ... }, { ..., lag: 1, ... }, ...]
 * ```
 */
export function flowRows(line: FlowLine): Record<string, unknown>[] {
  const base: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(line)) if (!(FLOW_ARRAYS as readonly string[]).includes(k)) base[k] = v;
  const rows: Record<string, unknown>[] = [];
  for (let k = 0; k < line.dhMedian.length; k++) {
    const row: Record<string, unknown> = { ...base, lag: k };
    for (const name of FLOW_ARRAYS) {
      const a = line[name] as (number | null)[] | undefined;
      if (a !== undefined) row[name] = a[k] === null || !Number.isFinite(a[k]) ? null : a[k];
    }
    rows.push(row);
  }
  return rows;
}

/**
 * Rows as CSV (RFC 4180 quoting), columns in order of first appearance.
 *
 * @example
 * ```ts
 * import { toCsv } from "./results.ts";
 * toCsv([{ a: 1, b: "x,y" }]); // 'a,b\n1,"x,y"\n'
 * ```
 */
export function toCsv(rows: SummaryRow[]): string {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return "";
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(","), ...rows.map((r) => cols.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}
