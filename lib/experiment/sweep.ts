/**
 * Expands an experiment into its cells: variants × axes (crossed, or paired where asked), each cell a fully resolved,
 * validated configuration with a content hash that names its result file.
 *
 * Axes are dotted paths into the cell configuration (`task.params.T`, `model.init.forgetBias`,
 * `training.optimizer.lr`, ...) or one of the aliases in `AXIS_ALIASES` (`seqLen`, `seed`, `lr`, `rho`, ...).
 * Order: variants outermost, then axes in the order written; a paired group takes the place of its first axis.
 * A cell's configuration is the experiment's, then its variant's, then (with `--quick`) the quick profile's, then
 * its axis values.
 *
 * @module
 */

import { createHash } from "node:crypto";
import {
  type Cell,
  CellConfig,
  check,
  ExperimentError,
  ExperimentSpec,
  formatPath,
  type PathKey,
  type ResolvedExperiment,
  show,
} from "./schema.ts";
import { createTask } from "../tasks/registry.ts";
import type { Task } from "../tasks/task.ts";

const GIB = 1024 * 1024 * 1024;

/** Cells a sweep may expand to unless `maxCells` (`--max-cells`) says more: each cell is a result file and a row. */
export const MAX_CELLS = 10_000;

/**
 * Memory a cell may need (estimated by `cellBytes`): the WebAssembly kernels address 4 GiB at most (wasm32), and
 * one cell runs per core beside the others.
 */
export const MAX_CELL_BYTES = 4 * GIB;

/** The longest sequence a task may generate (steps). */
export const MAX_SEQUENCE_LENGTH = 1_000_000;

/** Short names for the axes one sweeps most. */
export const AXIS_ALIASES: Readonly<Record<string, string>> = {
  seqLen: "task.params.T",
  T: "task.params.T",
  seed: "seed",
  lr: "training.optimizer.lr",
  rho: "model.init.recurrentWeights.spectralRadius",
  forgetBias: "model.init.forgetBias",
  cell: "model.cell",
  hiddenSize: "model.hiddenSize",
  batchSize: "training.batchSize",
  maxSequences: "training.maxSequences",
};

/** One cell of a sweep. */
export interface SweepCell {
  /** Position in the expanded sweep (0-based), the order shards are dealt from. */
  index: number;
  /** Content hash of `config` (16 hex digits): the name of its result file. */
  hash: string;
  /** Human-readable: the variant and the axis values, e.g. "rnn-rho0.9 seqLen=100 seed=3". */
  label: string;
  /** The axis values of this cell, by axis name as written in the file. */
  axes: Record<string, unknown>;
  config: Cell;
}

/** Options of `expandSweep`. */
export interface ExpandOptions {
  /** Apply the experiment's `quick` profile. */
  quick?: boolean;
  /** Backend every cell runs on (it is part of each cell's configuration and hash). */
  backend?: "cpu" | "webgpu";
  /** Where the experiment came from, for error messages. */
  source?: string;
  /** Refuse sweeps of more cells than this (default `MAX_CELLS`). */
  maxCells?: number;
}

/**
 * Validates an experiment (with its quick profile applied when asked) and expands it into cells.
 * Throws an ExperimentError naming the file, the field path, the value and what is allowed.
 *
 * @example
 * ```ts
 * import { expandSweep } from "./sweep.ts";
 * const cells = expandSweep({
 *   name: "demo",
 *   description: "two lengths, two seeds",
 *   task: { name: "adding", params: { T: 50 } },
 *   model: { cell: "lstm", hiddenSize: 16 },
 *   sweep: { axes: { seqLen: [50, 100], seed: [0, 1] } },
 * });
 * cells.length; // 4
 * ```
 */
export function expandSweep(experiment: unknown, opts: ExpandOptions = {}): SweepCell[] {
  const source = opts.source ?? "experiment";
  if (!isPlainObject(experiment)) {
    throw new ExperimentError(source, [
      `(top level): got ${show(experiment)}, expected an object (name, description, task, model, ...)`,
    ]);
  }
  let raw: unknown = experiment;
  // The quick profile's settings also override the variants' (a variant's own budget must not defeat --quick):
  // they are merged into the experiment, and again into every cell after its variant.
  let quickCell: Record<string, unknown> = {};
  let fromQuick = (_keys: PathKey[]) => false;
  if (experiment.quick !== undefined && !isPlainObject(experiment.quick)) {
    throw new ExperimentError(source, [`quick: got ${show(experiment.quick)}, expected an object (overrides)`]);
  }
  if (opts.quick) {
    const quick = experiment.quick;
    if (quick === undefined) {
      throw new ExperimentError(source, ["quick: missing, expected an object: every experiment needs a quick profile"]);
    }
    fromQuick = (keys) => hasPath(quick, keys);
    raw = deepMerge(experiment, quick);
    const { task, model, training, measure, seed } = quick as Record<string, unknown>;
    quickCell = Object.fromEntries(
      Object.entries({ task, model, training, measure, seed }).filter(([, v]) => v !== undefined),
    );
  }
  const { quick: _quick, ...rest } = raw as Record<string, unknown>;
  const exp = check(
    ExperimentSpec,
    rest,
    source,
    "",
    (keys) => (fromQuick(keys) ? `quick.${formatPath(keys)}` : formatPath(keys)),
  ) as ResolvedExperiment;
  const sweep = exp.sweep;
  const axisNames = Object.keys(sweep.axes);
  const problems: string[] = [];
  for (const name of axisNames) {
    const path = AXIS_ALIASES[name] ?? name;
    if (!/^(seed|task\.params\.\w+|model(\.\w+)+|training(\.\w+)+|measure(\.\w+)+)$/.test(path)) {
      problems.push(
        `sweep.axes.${name}: unknown axis; use a path into the cell (task.params.*, model.*, training.*, ` +
          `measure.*, seed) or an alias (${Object.keys(AXIS_ALIASES).join(", ")})`,
      );
    }
  }
  // Paired axes: zipped into one axis of tuples, at the place of the group's first axis.
  const groups: string[][] = axisNames.map((n) => [n]);
  for (const [g, pair] of (sweep.pair ?? []).entries()) {
    for (const n of pair) if (!(n in sweep.axes)) problems.push(`sweep.pair.${g}: "${n}" is not an axis`);
    const lengths = pair.map((n) => sweep.axes[n]?.length);
    if (lengths.every((n) => n !== undefined) && new Set(lengths).size > 1) {
      problems.push(
        `sweep.pair.${g}: paired axes need equal lengths, got ${pair.map((n, i) => `${n}: ${lengths[i]}`).join(", ")}`,
      );
    }
    const first = groups.findIndex((grp) => grp.includes(pair[0]));
    for (const n of pair.slice(1)) {
      const at = groups.findIndex((grp) => grp.length === 1 && grp[0] === n);
      if (at >= 0) groups.splice(at, 1);
    }
    if (first >= 0) groups[groups.findIndex((grp) => grp.includes(pair[0]))] = pair;
  }
  if (problems.length > 0) throw new ExperimentError(source, problems);

  const variants: [string, Record<string, unknown>][] = sweep.variants === undefined
    ? [["", {}]]
    : Object.entries(sweep.variants);
  const base: Record<string, unknown> = {
    experiment: exp.name,
    task: exp.task,
    model: exp.model,
    training: exp.training,
    measure: exp.measure,
    seed: exp.seed,
    backend: opts.backend ?? "cpu",
  };
  const count = variants.length * groups.reduce((n, grp) => n * sweep.axes[grp[0]].length, 1);
  const maxCells = opts.maxCells ?? MAX_CELLS;
  if (count > maxCells) {
    const sizes = groups.map((grp) => `${grp.join("+")}: ${sweep.axes[grp[0]].length}`);
    throw new ExperimentError(source, [
      `sweep: got ${count} cells (variants: ${variants.length}${sizes.map((x) => `, ${x}`).join("")}), expected at ` +
      `most ${maxCells} per run; split the sweep into several experiments, or raise the limit with --max-cells`,
    ]);
  }
  const cells: SweepCell[] = [];
  const combos = cartesian(
    groups.map((grp) => sweep.axes[grp[0]].map((_, i) => grp.map((n) => [n, sweep.axes[n][i]]))),
  );
  for (const [variant, overrides] of variants) {
    for (const combo of combos) {
      let cfg = deepMerge(deepMerge(base, overrides), quickCell) as Record<string, unknown>;
      cfg.variant = variant;
      const axes: Record<string, unknown> = {};
      for (const [name, value] of combo.flat() as [string, unknown][]) {
        cfg = setPath(cfg, AXIS_ALIASES[name] ?? name, value);
        axes[name] = value;
      }
      if (cfg.training === undefined) delete cfg.training;
      const label = [variant, ...Object.entries(axes).map(([k, val]) => `${k}=${JSON.stringify(val)}`)]
        .filter((s) => s !== "")
        .join(" ");
      // Where a cell's field was written: an axis, the variant, the quick profile, or the experiment.
      const where = (keys: PathKey[]) => {
        const p = formatPath(keys);
        const axis = Object.keys(axes).find((n) => {
          const full = AXIS_ALIASES[n] ?? n;
          return p === full || p.startsWith(`${full}.`) || p.startsWith(`${full}[`);
        });
        if (axis !== undefined) return `sweep.axes.${axis} (${p})`;
        if (hasPath(quickCell, keys)) return `quick.${p}`;
        if (hasPath(overrides, keys)) return `sweep.variants.${variant}.${p}`;
        return p;
      };
      const config = check(CellConfig, cfg, source, `cell "${label}"`, where) as Cell;
      let task: Task;
      try {
        task = createTask(config.task.name, config.task.params);
      } catch (e) {
        throw new ExperimentError(source, [`cell "${label}": ${taskProblem((e as Error).message, where)}`]);
      }
      const options = cellOptionsProblem(config);
      if (options !== null) throw new ExperimentError(source, [`cell "${label}": ${options}`]);
      const tooBig = sizeProblem(config, task);
      if (tooBig !== null) throw new ExperimentError(source, [`cell "${label}": ${tooBig}`]);
      cells.push({ index: cells.length, hash: cellHash(config), label, axes, config });
    }
  }
  const seen = new Map<string, string>();
  for (const c of cells) {
    const other = seen.get(c.hash);
    if (other !== undefined) {
      throw new ExperimentError(source, [`cells "${other}" and "${c.label}" have the same configuration`]);
    }
    seen.set(c.hash, c.label);
  }
  if (!opts.quick && experiment.quick !== undefined) {
    expandSweep(experiment, { ...opts, quick: true }); // a broken quick profile is an error in any run
  }
  return cells;
}

/** A task's parameter error (lib/tasks) in the form of the schema's: path, value, what is allowed. */
function taskProblem(message: string, where: (keys: PathKey[]) => string): string {
  let m = /^([\w-]+): (\w+) = (.*), expected (.*)$/s.exec(message);
  if (m !== null) return `${where(["task", "params", m[2]])}: got ${m[3]}, expected ${m[4]} (task "${m[1]}")`;
  m = /^([\w-]+): unknown parameter "(\w+)"; allowed: (.*)$/s.exec(message);
  if (m !== null) return `${where(["task", "params", m[2]])}: unknown key, expected one of ${m[3]} (task "${m[1]}")`;
  m = /^unknown task (".*"); registered: (.*)$/s.exec(message);
  if (m !== null) return `${where(["task", "name"])}: got ${m[1]}, expected one of ${m[2]}`;
  return `task: ${message}`;
}

/**
 * Bytes a cell needs, estimated: its parameters with their gradients and two optimizer moments, and the activations
 * kept for backpropagation through time (per layer and step: the gates and the states, for every sequence of the
 * largest batch it runs: training, gradient flow or a test chunk of at most 256).
 *
 * @example
 * ```ts
 * import { cellBytes } from "./sweep.ts";
 * cellBytes({ cell: "lstm", hiddenSize: 8, numLayers: 1, dtype: "float32" }, 2, 1, 100, 32); // ~ 2e5
 * ```
 */
export function cellBytes(
  model: { cell: "lstm" | "rnn" | "gru"; hiddenSize: number; numLayers: number; dtype: "float32" | "float64" },
  inputSize: number,
  outputSize: number,
  T: number,
  B: number,
): number {
  // (the GRU keeps its hidden part apart: G more per row; the peepholes' 3H per layer are in the rounding)
  const G = model.cell === "lstm" ? 4 : model.cell === "gru" ? 3 : 1, H = model.hiddenSize, L = model.numLayers;
  const params = L * G * H * (inputSize + H + 2) + (L - 1) * G * H * (H - inputSize) + outputSize * (H + 1);
  const perRow = model.cell === "gru" ? 2 * G + 3 : G + 3;
  const activations = T * B * (L * perRow * H + inputSize + outputSize);
  return (4 * params + 2 * activations) * (model.dtype === "float64" ? 8 : 4);
}

/** The LSTM's options (variant, peepholes) on another cell. */
function cellOptionsProblem(config: Cell): string | null {
  const m = config.model;
  for (const field of ["variant", "peepholes"] as const) {
    if (m[field] !== undefined && m.cell !== "lstm") {
      return `model.${field}: got ${JSON.stringify(m[field])}, expected no ${field}: only cell "lstm" has options ` +
        `(this cell is "${m.cell}")`;
    }
  }
  return null;
}

function sizeProblem(config: Cell, task: Task): string | null {
  if (task.maxLength > MAX_SEQUENCE_LENGTH) {
    return `task.params: sequences of ${task.maxLength} steps, expected at most ${MAX_SEQUENCE_LENGTH}`;
  }
  const B = Math.max(
    config.training?.batchSize ?? 1,
    config.measure.gradientFlow?.batchSize ?? 1,
    Math.min(256, config.measure.testSequences),
  );
  const bytes = cellBytes(config.model, task.inputSize, task.outputSize, task.maxLength, B);
  if (bytes <= MAX_CELL_BYTES) return null;
  const gib = (n: number) => `${(n / GIB).toPrecision(3)} GiB`;
  return `needs about ${gib(bytes)} (hiddenSize ${config.model.hiddenSize}, numLayers ${config.model.numLayers}, ` +
    `T ${task.maxLength}, batch ${B}, ${config.model.dtype}), expected at most ${gib(MAX_CELL_BYTES)} per cell (the ` +
    `WebAssembly kernels' 32-bit address space); reduce the sequence length, the batch size or the hidden size`;
}

/**
 * The cells of shard k of n (1-based k): every n-th cell from the k-th, so long and short cells spread evenly.
 *
 * @example
 * ```ts
 * import { shardOf } from "./sweep.ts";
 * shardOf([0, 1, 2, 3, 4].map((index) => ({ index })), 2, 2); // cells 1 and 3
 * ```
 */
export function shardOf<C extends { index: number }>(cells: C[], k: number, n: number): C[] {
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(k) && k >= 1 && k <= n)) {
    throw new RangeError(`--shard ${k}/${n}: expected k/n with integers 1 ≤ k ≤ n`);
  }
  return cells.filter((c) => c.index % n === k - 1);
}

/**
 * SHA-256 of the canonical JSON (keys sorted) of a cell configuration, first 16 hex digits.
 *
 * @example
 * ```ts
 * import { cellHash } from "./sweep.ts";
 * cellHash({ b: 1, a: 2 }) === cellHash({ a: 2, b: 1 }); // true
 * ```
 */
export function cellHash(config: unknown): string {
  return createHash("sha256").update(canonicalJson(config)).digest("hex").slice(0, 16);
}

/**
 * JSON with object keys sorted at every level (undefined members dropped), so equal configurations hash equally.
 *
 * @example
 * ```ts
 * import { canonicalJson } from "./sweep.ts";
 * canonicalJson({ b: [1, { d: 1, c: 2 }], a: null }); // '{"a":null,"b":[1,{"c":2,"d":1}]}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Merges `over` into a copy of `base`: objects recursively, anything else (arrays included) replaced.
 *
 * @example
 * ```ts
 * import { deepMerge } from "./sweep.ts";
 * deepMerge({ a: { b: 1, c: 2 }, d: [1] }, { a: { c: 3 }, d: [2] }); // { a: { b: 1, c: 3 }, d: [2] }
 * ```
 */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : structuredClone(v);
  return out;
}

/** Whether a value is set at a path of an object (every key present and the value not undefined). */
function hasPath(obj: unknown, keys: PathKey[]): boolean {
  let at = obj;
  for (const k of keys) {
    if (at === null || typeof at !== "object" || !(k in (at as object))) return false;
    at = (at as Record<PathKey, unknown>)[k];
  }
  return keys.length > 0 && at !== undefined;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/** A copy of `obj` with the value at a dotted path set (intermediate non-objects are replaced by objects). */
function setPath(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const out = structuredClone(obj);
  const keys = path.split(".");
  let at: Record<string, unknown> = out;
  for (const k of keys.slice(0, -1)) {
    if (!isPlainObject(at[k])) at[k] = {};
    at = at[k] as Record<string, unknown>;
  }
  at[keys[keys.length - 1]] = structuredClone(value);
  return out;
}

function cartesian<T>(lists: T[][]): T[][] {
  return lists.reduce<T[][]>((acc, list) => acc.flatMap((prefix) => list.map((x) => [...prefix, x])), [[]]);
}
