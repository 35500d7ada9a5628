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
import { MODEL_LSTM_VARIANTS } from "../nn/cells.ts";

/** Version of the experiment and result schemas; bump on any incompatible change. */
export const SCHEMA_VERSION = 1;

/**
 * Upper bounds on sizes, so that a typo (a hidden size of 10⁹, a budget of 1e300) is an error before anything runs
 * rather than a worker that runs out of memory, or trains for ever. Each is far above what the papers use; the
 * memory a cell needs as a whole is bounded in `sweep.ts` (`MAX_CELL_BYTES`).
 */
export const LIMITS = {
  /** Hidden units: an LSTM layer of 8192 units has 4·8192² = 2.7·10⁸ recurrent weights (1 GiB in float32, ×4 with
   * gradients and Adam's moments), beyond one worker's share of a machine; the papers use ≤ 1024. */
  hiddenSize: 8192,
  /** Stacked layers (the papers use 1-3). */
  numLayers: 64,
  /** Sequences per step, and per gradient-flow batch. */
  batchSize: 65_536,
  /** Training budget in sequences: 10⁹ is hours at 10⁵ sequences/s (the fastest, smallest cells on one core) and
   * weeks for the papers' model sizes; the longest runs in the papers are ~10⁷. */
  maxSequences: 1e9,
  /** Test, evaluation and window sizes (sequences). */
  sequences: 10_000_000,
  /** Steps: truncation length, log interval. */
  steps: 1e9,
  /** Seeds are exact integers (they seed 32-bit generators through splitmix32). */
  seed: Number.MAX_SAFE_INTEGER,
} as const;

const intIn = (min: number, max: number, what: string) =>
  v.pipe(v.number(what), v.integer(what), v.minValue(min, what), v.maxValue(max, what));
const posInt = (max: number = LIMITS.steps, what = `a positive integer ≤ ${fmt(max)}`) => intIn(1, max, what);
const nonNegInt = (max: number = LIMITS.steps) => intIn(0, max, `an integer in [0, ${fmt(max)}]`);

/** A record (string keys) that is not a list. */
const record = <S extends v.GenericSchema>(value: S, what = "an object") =>
  v.pipe(
    v.custom<Record<string, unknown>>((x) => x !== null && typeof x === "object" && !Array.isArray(x), what),
    v.record(v.string(), value, what),
  );

/** A bound as written in messages: 65536, 1e10. */
function fmt(n: number): string {
  const m = /^1e\+(\d+)$/.exec(n.toExponential());
  return n >= 1e9 && m !== null ? `1e${m[1]}` : String(n);
}
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
  gain: v.optional(positive("a finite number > 0")),
  bias: v.optional(v.picklist(["uniform", "zeros"])),
  forgetBias: v.optional(v.pipe(v.number(), v.finite("a finite number"))),
  readout: v.optional(v.picklist(["uniform", "glorot"])),
});

/**
 * The model of a cell (its input and output sizes come from the task). `cell`: "lstm" (the seed's cell; `variant` and
 * `peepholes` choose Greff et al. 2017's variants, lib/nn/cells.ts), "rnn" or "gru". The options are absent unless
 * written, so the cells that do not use them keep their hashes; that they belong to "lstm" is checked per cell
 * (`expandSweep`), since a variant of the sweep may change the cell.
 */
export const ModelSpec = v.strictObject({
  cell: v.picklist(["lstm", "rnn", "gru"]),
  variant: v.optional(v.picklist(MODEL_LSTM_VARIANTS)),
  peepholes: v.optional(v.boolean()),
  hiddenSize: posInt(LIMITS.hiddenSize),
  numLayers: v.optional(posInt(LIMITS.numLayers), 1),
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
  v.strictObject({ kind: v.literal("st3"), beta: positive(), lastN: v.optional(posInt(LIMITS.sequences), 2000) }),
  v.strictObject({
    kind: v.literal("accuracy"),
    threshold: v.pipe(v.number(), v.gtValue(0), v.maxValue(1, "a number in (0, 1]")),
    window: v.optional(posInt(LIMITS.sequences), 2000),
  }),
  v.strictObject({ kind: v.literal("loss"), target: positive(), window: v.optional(posInt(LIMITS.sequences), 2000) }),
  v.strictObject({
    kind: v.literal("evaluate"),
    every: posInt(LIMITS.maxSequences),
    threshold: v.pipe(v.number(), v.gtValue(0), v.maxValue(1, "a number in (0, 1]")),
    sequences: v.optional(posInt(LIMITS.sequences), 2560),
  }),
  v.strictObject({ kind: v.literal("never") }),
]);

/** How a cell trains. The budget is in training sequences (Σ batch sizes), as the papers count. */
export const TrainingSpec = v.strictObject({
  optimizer: OptimizerSpec,
  batchSize: v.optional(posInt(LIMITS.batchSize), 32),
  maxSequences: posInt(LIMITS.maxSequences),
  clipNorm: v.optional(positive()),
  clipValue: v.optional(positive()),
  truncate: v.optional(nonNegInt(), 0),
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
    at: v.array(v.union([v.picklist(["init", "end"]), posInt(LIMITS.maxSequences)])),
    batchSize: v.optional(posInt(LIMITS.batchSize), 32),
  })),
  /** Test metrics on a fresh held-out set (2560 sequences, as in 1997); 0 to skip. */
  testSequences: v.optional(nonNegInt(LIMITS.sequences), 2560),
});

const ExperimentName = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and dashes"));

/** A task from the registry (lib/tasks/registry.ts) and its parameters; the task checks them. */
export const TaskRef = v.strictObject({
  name: v.string(),
  params: v.optional(record(v.union([v.number(), v.string(), v.boolean()])), {}),
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
  seed: nonNegInt(LIMITS.seed),
  backend: v.optional(v.picklist(["cpu", "webgpu"]), "cpu"),
});

/**
 * Which of the experiment's own cells answer a published row: those of these variants (absent: every variant) whose
 * task parameters have these values (e.g. `{ T: 100 }`; absent: any). Checked against the sweep's variants when the
 * report lists the experiments (lib/plot/reproduction.ts), so renaming a variant cannot silently empty a row.
 */
export const PublishedMatch = v.strictObject({
  variants: v.optional(v.pipe(v.array(v.string()), v.minLength(1, "a non-empty list of variant names"))),
  taskParams: v.optional(record(v.number())),
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
  axes: v.optional(record(v.pipe(v.array(v.unknown(), "a non-empty list"), v.minLength(1, "a non-empty list"))), {}),
  variants: v.optional(
    v.pipe(record(record(v.unknown())), v.minEntries(1, "at least one variant")),
  ),
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
  seed: v.optional(nonNegInt(LIMITS.seed), 0),
  sweep: v.optional(SweepSpec, {}),
  /** Overrides for `--quick` (deep-merged; arrays replace): must finish in under a minute on 2 cores. */
  quick: v.optional(record(v.unknown())),
});

/** An experiment as written in a file (defaults optional). */
export type Experiment = v.InferInput<typeof ExperimentSpec>;
/** An experiment after validation (defaults filled in). */
export type ResolvedExperiment = v.InferOutput<typeof ExperimentSpec>;
/** One cell as run (defaults filled in). */
export type Cell = v.InferOutput<typeof CellConfig>;

/** A validation failure: names the file, each offending field path, the value and what is allowed. */
export class ExperimentError extends Error {
  /** One line per problem: `<file>: <path>: got <value>, expected <what is allowed>`. */
  constructor(readonly source: string, readonly problems: string[]) {
    super(problems.map((p) => `${source}: ${p}`).join("\n"));
    this.name = "ExperimentError";
  }
}

/**
 * Validates with a schema; on failure throws an ExperimentError listing every problem as
 * `path: got <value>, expected <what>` (a missing field: `path: missing, expected <what>`; an unknown key:
 * `path: unknown key, expected one of <the keys allowed there>`). `where` maps a field's path to where it was written
 * (e.g. `quick.training.maxSequences` for a value that came from the quick profile); `prefix` goes before it.
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
  where: (keys: PathKey[]) => string = formatPath,
): v.InferOutput<S> {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new ExperimentError(source, [`${prefix || "(top level)"}: got ${show(input)}, expected an object`]);
  }
  const r = v.safeParse(schema, input);
  if (r.success) return r.output;
  // One problem per field (a value can break several rules of one field: NaN is neither finite nor > 0).
  const problems = r.issues.map((i) => describeIssue(schema, i, prefix, where));
  const seen = new Set<string>();
  throw new ExperimentError(
    source,
    problems.filter((p) => {
      const field = p.slice(0, p.lastIndexOf(": got ") >= 0 ? p.lastIndexOf(": got ") : p.length);
      return !seen.has(field) && seen.add(field) !== undefined;
    }),
  );
}

/** A key of a field path: an object key or a list index. */
export type PathKey = string | number;

/**
 * A field path as written in messages: `training.optimizer.lr`, `sweep.axes.seed[2]`.
 *
 * @example
 * ```ts
 * import { formatPath } from "./schema.ts";
 * formatPath(["sweep", "axes", "seed", 2]); // "sweep.axes.seed[2]"
 * ```
 */
export function formatPath(keys: PathKey[]): string {
  return keys.reduce<string>((s, k) => typeof k === "number" ? `${s}[${k}]` : s === "" ? k : `${s}.${k}`, "");
}

type AnySchema = v.GenericSchema & Record<string, unknown>;
type IssuePath = { key: unknown; input: unknown }[];

function describeIssue(
  root: v.GenericSchema,
  issue: v.BaseIssue<unknown>,
  prefix: string,
  where: (keys: PathKey[]) => string,
): string {
  const items = (issue.path ?? []) as unknown as IssuePath;
  const keys = items.map((p) => (typeof p.key === "number" ? p.key : String(p.key)));
  const path = [prefix, where(keys)].filter((s) => s !== "").join(": ") || "(top level)";
  if (issue.kind === "schema" && issue.type === "strict_object" && issue.expected === "never") {
    const parent = schemaAt(root, items.slice(0, -1), items.at(-1)?.input);
    const allowed = parent?.type === "strict_object" ? Object.keys(parent.entries as object) : [];
    return `${path}: unknown key, expected one of ${allowed.join(", ")}`;
  }
  const here = schemaAt(root, items, undefined);
  // An object where a union allows one (`recurrentWeights: { spectralRadius, base }`): its own problems.
  const objectOption = (unwrap(here)?.options as AnySchema[] | undefined)?.find((o) => o.type === "strict_object");
  if (issue.type === "union" && objectOption !== undefined && isObject(issue.input)) {
    const sub = v.safeParse(objectOption, issue.input);
    if (!sub.success) return describeIssue(objectOption, sub.issues[0], prefix, (k) => where([...keys, ...k]));
  }
  if (issue.kind === "schema" && issue.input === undefined && keys.length > 0 && issue.expected?.startsWith('"')) {
    return `${path}: missing, expected ${here === undefined ? "a value" : describeSchema(here)}`;
  }
  const got = show(issue.input);
  if (issue.kind === "schema" && here !== undefined && issue.type !== "variant" && issue.type !== "union") {
    return `${path}: got ${got}, expected ${describeSchema(here)}`;
  }
  const expected = issue.expected ?? "";
  const message = issue.message.startsWith("Invalid") ? `expected ${expected}` : `expected ${issue.message}`;
  return `${path}: got ${got}, ${message}`;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/** The schema at a field path (variants resolved by the input's discriminator), or undefined. */
function schemaAt(root: v.GenericSchema, items: IssuePath, lastInput: unknown): AnySchema | undefined {
  let s: AnySchema | undefined = root as AnySchema;
  for (const item of items) {
    s = pick(unwrap(s), item.input);
    if (s === undefined) return undefined;
    s = child(s, item.key);
  }
  return lastInput === undefined ? s : pick(unwrap(s), lastInput);
}

function unwrap(s: AnySchema | undefined): AnySchema | undefined {
  while (s !== undefined && (s.type === "optional" || s.type === "nullish" || s.type === "exact_optional")) {
    s = s.wrapped as AnySchema;
  }
  return s;
}

/** A variant's option by the input's discriminator; a union's object option for an object input. */
function pick(s: AnySchema | undefined, input: unknown): AnySchema | undefined {
  if (s === undefined) return undefined;
  const options = s.options as AnySchema[] | undefined;
  if (s.type === "variant" && options !== undefined && input !== null && typeof input === "object") {
    const value = (input as Record<string, unknown>)[s.key as string];
    return options.find((o) => {
      const d = unwrap((o.entries as Record<string, AnySchema>)[s.key as string]);
      return d?.type === "literal" ? d.literal === value : (d?.options as unknown[] | undefined)?.includes(value);
    }) ?? s;
  }
  if (s.type === "union" && options !== undefined && input !== null && typeof input === "object") {
    return options.find((o) => o.type === "strict_object" || o.type === "object") ?? s;
  }
  return s;
}

function child(s: AnySchema, key: unknown): AnySchema | undefined {
  if (s.type === "custom" && Array.isArray(s.pipe)) {
    const inner = (s.pipe as AnySchema[]).find((x) => x.kind === "schema" && x.type !== "custom");
    return inner === undefined ? undefined : child(inner, key);
  }
  if (s.type === "strict_object" || s.type === "object") {
    return (s.entries as Record<string, AnySchema>)[key as string];
  }
  if (s.type === "array") return s.item as AnySchema;
  if (s.type === "record") return s.value as AnySchema;
  if (s.type === "tuple") return (s.items as AnySchema[])[key as number];
  return undefined;
}

/** What a schema allows, in words: "a positive integer ≤ 8192", `"lstm" | "rnn"`, "an object with name ...". */
function describeSchema(schema: AnySchema): string {
  const s = unwrap(schema)!;
  const pipe = s.pipe as { kind: string; message?: unknown }[] | undefined;
  const custom = pipe?.map((a) => a.message).filter((m): m is string => typeof m === "string").at(-1);
  if (custom !== undefined) return custom;
  switch (s.type) {
    case "number":
      return typeof s.message === "string" ? s.message : "a number";
    case "string":
      return "a string";
    case "boolean":
      return "true or false";
    case "picklist":
      return (s.options as unknown[]).map((o) => JSON.stringify(o)).join(" | ");
    case "literal":
      return JSON.stringify(s.literal);
    case "array":
      return "a list";
    case "tuple":
      return `a list of ${(s.items as unknown[]).length}`;
    case "record":
      return "an object";
    case "strict_object":
    case "object":
      return `an object (${Object.keys(s.entries as object).join(", ")})`;
    case "variant": {
      const k = s.key as string;
      const values = (s.options as AnySchema[]).map((o) => describeSchema((o.entries as Record<string, AnySchema>)[k]));
      return `an object with ${k}: ${values.join(" | ")}`;
    }
    case "union":
      return (s.options as AnySchema[]).map(describeSchema).join(", or ");
    default:
      return String(s.expects ?? s.type);
  }
}

/** A value as shown in messages: JSON, except numbers JSON cannot write (NaN, Infinity) and undefined. */
export function show(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value === "bigint") return `${value}n`;
  let s: string | undefined;
  try {
    s = JSON.stringify(value, (_k, x) => typeof x === "number" && !Number.isFinite(x) ? String(x) : x);
  } catch {
    s = undefined;
  }
  return s === undefined ? String(value) : s.length > 80 ? s.slice(0, 77) + "..." : s;
}
