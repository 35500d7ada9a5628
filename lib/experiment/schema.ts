/**
 * The experiment schema: what an experiment file may say, checked before anything runs (valibot).
 *
 * An experiment names a task and its parameters, a base model, how to train (or nothing, for measurements at
 * initialisation), what to measure, and a sweep: axes crossed as a cartesian product (or paired), and named model
 * variants. `--quick` deep-merges the `quick` profile over the file. Every cell of the expanded sweep is checked
 * again against `CellConfig` (so an axis value out of range is reported with its path), and its task parameters by
 * the task itself.
 *
 * Version: `SCHEMA_VERSION`; result files carry it (see `results.ts`).
 *
 * @module
 */

import * as v from "valibot";

/** Version of the experiment and result schemas; bump on any incompatible change. */
export const SCHEMA_VERSION = 1;

const posInt = (what = "a positive integer") => v.pipe(v.number(), v.integer(what), v.minValue(1, what));
const nonNegInt = v.pipe(v.number(), v.integer("an integer ≥ 0"), v.minValue(0, "an integer ≥ 0"));
const positive = (what = "a number > 0") => v.pipe(v.number(), v.finite(what), v.gtValue(0, what));
const unit = v.pipe(v.number(), v.minValue(0, "a number in [0, 1)"), v.ltValue(1, "a number in [0, 1)"));

/** Initialisation of the model's parameters (see lib/init.ts). */
export const InitSpec = v.strictObject({
  inputWeights: v.optional(v.picklist(["uniform", "glorot"])),
  recurrentWeights: v.optional(v.union([
    v.picklist(["uniform", "glorot", "orthogonal", "identity"]),
    v.strictObject({
      spectralRadius: v.pipe(v.number(), v.finite(), v.minValue(0, "a number ≥ 0")),
      base: v.optional(v.picklist(["gaussian", "orthogonal"])),
    }),
  ])),
  gain: v.optional(positive()),
  bias: v.optional(v.picklist(["uniform", "zeros"])),
  forgetBias: v.optional(v.pipe(v.number(), v.finite("a finite number"))),
  readout: v.optional(v.picklist(["uniform", "glorot"])),
});

/** The model of a cell (its input and output sizes come from the task). */
export const ModelSpec = v.strictObject({
  cell: v.picklist(["lstm", "rnn"]),
  hiddenSize: posInt(),
  numLayers: v.optional(posInt(), 1),
  init: v.optional(InitSpec, {}),
  dtype: v.optional(v.picklist(["float32", "float64"]), "float32"),
});

/** The optimizer, PyTorch's names and defaults (see lib/optim). */
export const OptimizerSpec = v.variant("name", [
  v.strictObject({
    name: v.literal("sgd"),
    lr: positive(),
    momentum: v.optional(unit),
    nesterov: v.optional(v.boolean()),
    weightDecay: v.optional(v.pipe(v.number(), v.minValue(0))),
  }),
  v.strictObject({
    name: v.literal("rmsprop"),
    lr: positive(),
    alpha: v.optional(unit),
    eps: v.optional(positive()),
    momentum: v.optional(unit),
    centered: v.optional(v.boolean()),
    weightDecay: v.optional(v.pipe(v.number(), v.minValue(0))),
  }),
  v.strictObject({
    name: v.picklist(["adam", "adamw"]),
    lr: positive(),
    betas: v.optional(v.tuple([unit, unit])),
    eps: v.optional(positive()),
    weightDecay: v.optional(v.pipe(v.number(), v.minValue(0))),
  }),
]);

/**
 * When a run counts as solved:
 * - `st3`: Hochreiter & Schmidhuber's ST3(β): mean training error (loss) below β over the last `lastN` training
 *   sequences AND all of those sequences correct by the task's criterion;
 * - `accuracy`: at least `threshold` of the last `window` training sequences correct;
 * - `loss`: mean training loss over the last `window` sequences at or below `target`;
 * - `evaluate`: every `every` training sequences, the fraction correct on an evaluation set is at least
 *   `threshold`; the set is the task's own when its paper fixes one (embedded Reber: the training and the test set),
 *   otherwise `sequences` fresh sequences drawn once (stream 4 of the cell's seed);
 * - `never`: train for the whole budget (learnability is then judged on the test set).
 */
export const StopSpec = v.variant("kind", [
  v.strictObject({ kind: v.literal("st3"), beta: positive(), lastN: v.optional(posInt(), 2000) }),
  v.strictObject({
    kind: v.literal("accuracy"),
    threshold: v.pipe(v.number(), v.gtValue(0), v.maxValue(1, "a number in (0, 1]")),
    window: v.optional(posInt(), 2000),
  }),
  v.strictObject({ kind: v.literal("loss"), target: positive(), window: v.optional(posInt(), 2000) }),
  v.strictObject({
    kind: v.literal("evaluate"),
    every: posInt(),
    threshold: v.pipe(v.number(), v.gtValue(0), v.maxValue(1, "a number in (0, 1]")),
    sequences: v.optional(posInt(), 2560),
  }),
  v.strictObject({ kind: v.literal("never") }),
]);

/** How a cell trains. The budget is in training sequences (Σ batch sizes), as the papers count. */
export const TrainingSpec = v.strictObject({
  optimizer: OptimizerSpec,
  batchSize: v.optional(posInt(), 32),
  maxSequences: posInt(),
  clipNorm: v.optional(positive()),
  clipValue: v.optional(positive()),
  truncate: v.optional(nonNegInt, 0),
  stop: v.optional(StopSpec, { kind: "never" }),
  /** Record the training curve every this many steps. */
  logEvery: v.optional(posInt(), 50),
});

/** What to measure besides training. */
export const MeasureSpec = v.strictObject({
  /**
   * ‖∂L/∂h_t‖ and ‖∂L/∂c_t‖ against t, with the loss at the last step, on a fresh batch: at initialisation ("init"),
   * after training ("end"), and after a number of training sequences (checkpoints).
   */
  gradientFlow: v.optional(v.strictObject({
    at: v.array(v.union([v.picklist(["init", "end"]), posInt()])),
    batchSize: v.optional(posInt(), 32),
  })),
  /** Test metrics on a fresh held-out set (2560 sequences, as in 1997); 0 to skip. */
  testSequences: v.optional(nonNegInt, 2560),
});

const ExperimentName = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and dashes"));

/** A task from the registry (lib/tasks/registry.ts) and its parameters; the task checks them. */
export const TaskRef = v.strictObject({
  name: v.string(),
  params: v.optional(v.record(v.string(), v.union([v.number(), v.string(), v.boolean()])), {}),
});

/** The fully resolved configuration of one sweep cell: everything its result depends on (it is hashed). */
export const CellConfig = v.strictObject({
  experiment: ExperimentName,
  /** Name of the variant (or "" without variants). */
  variant: v.string(),
  task: TaskRef,
  model: ModelSpec,
  training: v.optional(TrainingSpec),
  measure: v.optional(MeasureSpec, { testSequences: 2560 }),
  /** Seeds the model's initialisation (stream 0), the training data (stream 1) and the test data (stream 2). */
  seed: nonNegInt,
  backend: v.optional(v.picklist(["cpu", "webgpu"]), "cpu"),
});

/**
 * Which of the experiment's own cells answer a published row: those of these variants (absent: every variant) whose
 * task parameters have these values (e.g. `{ T: 100 }`; absent: any). Checked against the sweep's variants when the
 * report lists the experiments (lib/plot/reproduction.ts), so renaming a variant cannot silently empty a row.
 */
export const PublishedMatch = v.strictObject({
  variants: v.optional(v.pipe(v.array(v.string()), v.minLength(1, "a non-empty list of variant names"))),
  taskParams: v.optional(v.record(v.string(), v.number())),
});

/**
 * A published number to put beside ours in the reproduction tables (free-form, from the reference), with `ours`:
 * which of our cells answer it.
 */
export const PublishedRow = v.objectWithRest(
  { ours: v.optional(PublishedMatch) },
  // (PublishedMatch in the union only so that TypeScript accepts `ours` beside the index signature)
  v.union([v.number(), v.string(), v.null(), PublishedMatch]),
);

/** What an experiment is for in the report and the notebooks. */
export const ExperimentRole = v.picklist(["gradient-flow", "learnability", "reproduction"]);

/** The sweep: axes (dotted paths into the cell config, or aliases), named variants, and axes to pair. */
export const SweepSpec = v.strictObject({
  axes: v.optional(v.record(v.string(), v.pipe(v.array(v.unknown()), v.minLength(1, "a non-empty list"))), {}),
  variants: v.optional(v.record(v.string(), v.record(v.string(), v.unknown()))),
  pair: v.optional(v.array(v.pipe(v.array(v.string()), v.minLength(2, "at least two axes")))),
});

/** An experiment file's default export (or JSON document). */
export const ExperimentSpec = v.strictObject({
  name: ExperimentName,
  description: v.string(),
  /** Where the published numbers come from, e.g. "Hochreiter & Schmidhuber 1997, Table 7". */
  reference: v.optional(v.string()),
  /** Its role in the report and the notebooks (which list experiments/ at run time). */
  role: v.optional(ExperimentRole),
  published: v.optional(v.array(PublishedRow)),
  task: TaskRef,
  model: ModelSpec,
  training: v.optional(TrainingSpec),
  measure: v.optional(MeasureSpec, { testSequences: 2560 }),
  seed: v.optional(nonNegInt, 0),
  sweep: v.optional(SweepSpec, {}),
  /** Overrides for `--quick` (deep-merged; arrays replace): must finish in under a minute on 2 cores. */
  quick: v.optional(v.record(v.string(), v.unknown())),
});

/** An experiment as written in a file (defaults optional). */
export type Experiment = v.InferInput<typeof ExperimentSpec>;
/** An experiment after validation (defaults filled in). */
export type ResolvedExperiment = v.InferOutput<typeof ExperimentSpec>;
/** One cell as run (defaults filled in). */
export type Cell = v.InferOutput<typeof CellConfig>;

/** A validation failure: names the file, each offending field path, the value and what is allowed. */
export class ExperimentError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`${source}: invalid experiment\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ExperimentError";
  }
}

/**
 * Validates with a schema; on failure throws an ExperimentError listing every problem as
 * `path: got <value>, expected <what>`.
 *
 * @example
 * ```ts
 * import { check, ExperimentSpec } from "./schema.ts";
 * const exp = check(ExperimentSpec, {
 *   name: "demo",
 *   description: "LSTM on the adding problem",
 *   task: { name: "adding", params: { T: 50 } },
 *   model: { cell: "lstm", hiddenSize: 32 },
 * }, "demo.ts");
 * ```
 */
export function check<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  source: string,
  prefix = "",
): v.InferOutput<S> {
  const r = v.safeParse(schema, input);
  if (r.success) return r.output;
  throw new ExperimentError(source, r.issues.map((i) => describeIssue(i, prefix)));
}

function describeIssue(issue: v.BaseIssue<unknown>, prefix: string): string {
  const path = [prefix, v.getDotPath(issue)].filter((s) => s !== "" && s !== null).join(".") || "(top level)";
  if (issue.kind === "schema" && issue.type === "strict_object" && issue.expected === "never") {
    return `${path}: unknown key (value ${show(issue.input)})`;
  }
  const expected = issue.expected ?? "";
  const got = show(issue.input);
  const message = issue.message.startsWith("Invalid") ? `expected ${expected}` : `expected ${issue.message}`;
  return `${path}: got ${got}, ${message}`;
}

function show(value: unknown): string {
  const s = JSON.stringify(value);
  return s === undefined ? String(value) : s.length > 80 ? s.slice(0, 77) + "..." : s;
}
