/**
 * The parts of a cell's run that the runner (`run_cell.ts`) composes: the optimizer a cell's settings describe, the
 * per-step bookkeeping of a training run (curve, stopping-rule window, gradient-flow checkpoints, evaluation points,
 * progress) and its outcome, and the test set.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import type { Adam as AdamT } from "../optim/adam.ts";
import { Adam } from "../optim/adam.ts";
import type { Optimizer } from "../optim/optimizer.ts";
import { RMSProp } from "../optim/rmsprop.ts";
import { SGD } from "../optim/sgd.ts";
import type { Rng } from "../rng.ts";
import type { Task, TaskBatch } from "../tasks/task.ts";
import type { StepInfo, TrainOptions, TrainResult } from "../train.ts";
import type { ModelConfig } from "../nn/model.ts";
import type { GradientFlow, RunOutcome, TestMetrics } from "./results.ts";
import type { Cell } from "./schema.ts";

/** Progress of a running cell, reported about twice a second. */
export interface CellProgress {
  sequences: number;
  maxSequences: number;
  loss: number;
}

/** A cell's optimizer settings. */
export type OptimizerSettings = NonNullable<Cell["training"]>["optimizer"];
/** A cell's stopping rule. */
export type StopRule = NonNullable<Cell["training"]>["stop"];

/**
 * The optimizer a cell's settings describe.
 *
 * @example
 * ```ts
 * import { makeOptimizer } from "./cell_training.ts";
 * const opt = makeOptimizer({ name: "adam", lr: 1e-3 });
 * ```
 */
export function makeOptimizer(o: OptimizerSettings): Optimizer {
  switch (o.name) {
    case "sgd":
      return new SGD({ lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay });
    case "rmsprop":
      return new RMSProp({
        lr: o.lr,
        alpha: o.alpha,
        eps: o.eps,
        momentum: o.momentum,
        centered: o.centered,
        weightDecay: o.weightDecay,
      });
    case "adam":
    case "adamw":
      return new Adam({
        lr: o.lr,
        betas: o.betas as ConstructorParameters<typeof AdamT>[0]["betas"],
        eps: o.eps,
        weightDecay: o.weightDecay,
        decoupled: o.name === "adamw",
      });
  }
}

/**
 * The last `size` training sequences: how many were correct and their mean loss (batch losses weighted by the batch
 * size). Whole batches are dropped while the rest still covers the window.
 *
 * @example
 * ```ts
 * import { SequenceWindow } from "./cell_training.ts";
 * const w = new SequenceWindow(64);
 * w.push(32, 30, 0.1);
 * w.push(32, 32, 0.05);
 * w.full; // true: 64 sequences, accuracy 62/64, mean loss 0.075
 * ```
 */
export class SequenceWindow {
  #batches: { n: number; correct: number; loss: number }[] = [];
  #n = 0;
  #correct = 0;
  #lossSum = 0;
  constructor(readonly size: number) {}

  /** Adds a batch of n sequences, `correct` of them right, with mean loss `loss`. */
  push(n: number, correct: number, loss: number): void {
    this.#batches.push({ n, correct, loss });
    this.#n += n;
    this.#correct += correct;
    this.#lossSum += loss * n;
    while (this.#batches.length > 1 && this.#n - this.#batches[0].n >= this.size) {
      const old = this.#batches.shift()!;
      this.#n -= old.n;
      this.#correct -= old.correct;
      this.#lossSum -= old.loss * old.n;
    }
  }
  /** Whether the window holds at least `size` sequences. */
  get full(): boolean {
    return this.size > 0 && this.#n >= this.size;
  }
  get accuracy(): number {
    return this.#correct / this.#n;
  }
  get loss(): number {
    return this.#lossSum / this.#n;
  }
}

/** The window the stopping rule judges (0 for rules without one). */
export function windowSize(stop: StopRule): number {
  return stop.kind === "st3" ? stop.lastN : stop.kind === "accuracy" || stop.kind === "loss" ? stop.window : 0;
}

/**
 * Whether a window-based stopping rule is met (ST3: mean loss below β and every sequence correct; accuracy; loss).
 * Rules without a window ("evaluate", "never") are judged elsewhere and return false here.
 *
 * @example
 * ```ts
 * import { SequenceWindow, solved } from "./cell_training.ts";
 * const w = new SequenceWindow(2);
 * w.push(2, 2, 0.001);
 * solved({ kind: "st3", beta: 0.01, lastN: 2 }, w); // true
 * ```
 */
export function solved(stop: StopRule, w: SequenceWindow): boolean {
  switch (stop.kind) {
    case "st3":
      return w.loss < stop.beta && w.accuracy === 1;
    case "accuracy":
      return w.accuracy >= stop.threshold;
    case "loss":
      return w.loss <= stop.target;
    case "evaluate":
    case "never":
      return false;
  }
}

/**
 * The test batches of a cell: `n` fresh sequences in batches of up to 256 drawn with `rng`, or, for a task whose
 * paper fixes its sets (`evaluationSets`), all sequences of those sets.
 *
 * @example
 * ```ts
 * import { testBatches } from "./cell_training.ts";
 * import { createTask } from "../tasks/registry.ts";
 * import { Rng } from "../rng.ts";
 * for (const batch of testBatches(createTask("latch", { T: 20 }), new Rng(0, 2), 512)) console.log(batch.B); // 256, 256
 * ```
 */
export function* testBatches(task: Task, rng: Rng, n: number): Generator<TaskBatch> {
  const fixed = task.evaluationSets?.();
  if (fixed !== undefined) {
    yield* fixed;
    return;
  }
  for (let seen = 0; seen < n;) {
    const batch = task.batch(rng, Math.min(256, n - seen));
    seen += batch.B;
    yield batch;
  }
}

/**
 * Accumulates test loss and criterion over batches.
 *
 * @example
 * ```ts
 * import { TestTally } from "./cell_training.ts";
 * const tally = new TestTally();
 * tally.add(0.1, new Uint8Array([1, 0]));
 * tally.result(); // { sequences: 2, loss: 0.1, accuracy: 0.5, wrong: 1 }
 * ```
 */
export class TestTally {
  #lossSum = 0;
  #correct = 0;
  #seen = 0;
  /** Adds a batch's mean loss and its per-sequence correctness. */
  add(loss: number, ok: Uint8Array): void {
    this.#lossSum += loss * ok.length;
    for (let b = 0; b < ok.length; b++) this.#correct += ok[b];
    this.#seen += ok.length;
  }
  result(): TestMetrics {
    const n = this.#seen;
    return { sequences: n, loss: this.#lossSum / n, accuracy: this.#correct / n, wrong: n - this.#correct };
  }
}

/** What is due after a training step. */
export interface StepDue {
  /** Training sequences at which gradient flow is due now (checkpoints passed by this step). */
  checkpoints: number[];
  /** The stopping rule's evaluation on its sets is due now ("evaluate" rules). */
  evaluate: boolean;
  /** A window-based stopping rule is met. */
  solved: boolean;
}

/**
 * What one cell's run adds to the training loop: the outcome (status, sequences to success, and the curve, which is
 * train's log: means every `logEvery` steps, with the fraction correct from `correct`), the stopping rule's window,
 * the gradient-flow checkpoints and evaluation points, and progress reports about twice a second.
 *
 * @example
 * ```ts
 * import { CellRecorder } from "./cell_training.ts";
 * // const rec = new CellRecorder(cell, task, gradientFlow, onProgress);
 * // const result = await train(model, { ..., correct: (info) => rec.correct(info),
 * //   onStep: (info) => { const due = rec.step(info); ...; return due.solved; } });
 * // rec.finish(result); return rec.outcome;
 * ```
 */
export class CellRecorder {
  readonly outcome: RunOutcome;
  readonly stop: StopRule;
  readonly #task: Task;
  readonly #maxSequences: number;
  readonly #onProgress?: (p: CellProgress) => void;
  readonly #window: SequenceWindow;
  readonly #checkpoints: number[];
  readonly #evalEvery: number;
  #nextEval: number;
  #scored: { info: StepInfo<TaskBatch>; correct: number } | null = null;
  #lastReport = performance.now();

  constructor(cell: Cell, task: Task, gradientFlow: GradientFlow[], onProgress?: (p: CellProgress) => void) {
    const tr = cell.training;
    this.#task = task;
    this.stop = tr?.stop ?? { kind: "never" };
    this.#maxSequences = tr?.maxSequences ?? 0;
    this.#onProgress = onProgress;
    this.#window = new SequenceWindow(windowSize(this.stop));
    this.#checkpoints = (cell.measure.gradientFlow?.at ?? []).filter((a): a is number => typeof a === "number")
      .sort((a, b) => a - b);
    this.#evalEvery = this.stop.kind === "evaluate" ? this.stop.every : Infinity;
    this.#nextEval = this.#evalEvery;
    this.outcome = {
      status: "measured",
      steps: 0,
      sequences: 0,
      sequencesToSuccess: null,
      curve: [],
      gradientFlow,
      test: null,
      baseline: { description: task.baseline.description, loss: task.baseline.loss, accuracy: task.baseline.accuracy },
      wallMs: 0,
    };
  }

  /** Whether something is due once `sequences` training sequences have been seen (a checkpoint or an evaluation). */
  eventDue(sequences: number): boolean {
    return (this.#checkpoints.length > 0 && sequences >= this.#checkpoints[0]) || sequences >= this.#nextEval;
  }

  /** How many of a step's sequences meet the task's criterion (train's `correct`: the curve's accuracy). */
  correct(info: StepInfo<TaskBatch>): number {
    const ok = this.#task.correct(info.outputs, info.batch);
    let correct = 0;
    for (let b = 0; b < ok.length; b++) correct += ok[b];
    this.#scored = { info, correct };
    return correct;
  }

  /** Records a training step (scored by `correct` first) and says what is due. */
  step(info: StepInfo<TaskBatch>): StepDue {
    const correct = this.#scored?.info === info ? this.#scored.correct : this.correct(info);
    this.#window.push(info.batch.B, correct, info.loss);
    const checkpoints: number[] = [];
    while (this.#checkpoints.length > 0 && info.sequences >= this.#checkpoints[0]) {
      this.#checkpoints.shift();
      checkpoints.push(info.sequences);
    }
    const now = performance.now();
    if (this.#onProgress !== undefined && now - this.#lastReport > 500) {
      this.#lastReport = now;
      this.#onProgress({ sequences: info.sequences, maxSequences: this.#maxSequences, loss: info.loss });
    }
    let evaluate = false;
    if (info.sequences >= this.#nextEval) {
      evaluate = true;
      while (this.#nextEval <= info.sequences) this.#nextEval += this.#evalEvery;
    }
    return { checkpoints, evaluate, solved: this.#window.full && solved(this.stop, this.#window) };
  }

  /** Closes the curve and sets the status from the training loop's result. */
  finish(result: TrainResult): void {
    const o = this.outcome;
    for (const r of result.history) {
      o.curve.push({ step: r.step, sequences: r.sequences, loss: r.loss, accuracy: r.accuracy!, gradNorm: r.gradNorm });
    }
    o.steps = result.steps;
    o.sequences = result.sequences;
    if (result.status === "diverged") {
      o.status = "diverged";
      o.diverged = { step: result.diverged!.step, what: result.diverged!.what };
    } else if (result.status === "solved") {
      o.status = "solved";
      o.sequencesToSuccess = result.sequences;
    } else {
      o.status = this.stop.kind === "never" ? "trained" : "not-solved";
    }
  }
}

/**
 * The model a cell describes, sized for its task (one thread: the runner parallelises over cells). The same config
 * builds the CPU `Model` and the `WebGpuModel`, so a seed gives the same weights on both backends.
 *
 * @example
 * ```ts
 * import { modelConfigOf } from "./cell_training.ts";
 * import { createTask } from "../tasks/registry.ts";
 * const cell = {
 *   experiment: "demo", variant: "", seed: 0, backend: "cpu" as const,
 *   task: { name: "latch", params: { T: 20 } },
 *   model: { cell: "lstm" as const, hiddenSize: 8, numLayers: 1, init: {}, dtype: "float32" as const },
 *   measure: { testSequences: 0 },
 * };
 * modelConfigOf(cell, createTask("latch", { T: 20 })).inputSize; // 1
 * ```
 */
export function modelConfigOf(cell: Cell, task: Task): ModelConfig {
  return {
    cell: cell.model.cell,
    ...(cell.model.variant !== undefined ? { variant: cell.model.variant } : {}),
    ...(cell.model.peepholes !== undefined ? { peepholes: cell.model.peepholes } : {}),
    inputSize: task.inputSize,
    hiddenSize: cell.model.hiddenSize,
    numLayers: cell.model.numLayers,
    outputSize: task.outputSize,
    readout: task.readout,
    dtype: cell.model.dtype,
    init: cell.model.init,
    seed: cell.seed,
    threads: 1,
    // Cells run on the wasm kernels (bit-identical on every machine and runtime): every committed result was computed
    // on them, so a backend "cpu" cell means these kernels. The BLAS kernels' bits depend on the library and CPU.
    kernels: "wasm",
  };
}

/**
 * The training options a cell's `training` settings give, for `train` on any backend (the caller adds its
 * `onStep`): the task's loss, the optimizer, batches from `data` (stream 1 of the cell's seed), the budget, clipping
 * and truncation. The curve is kept by the `CellRecorder`, so the loop's own logging is off.
 *
 * @example
 * ```ts
 * import { trainOptionsOf } from "./cell_training.ts";
 * import { createTask } from "../tasks/registry.ts";
 * import { Rng } from "../rng.ts";
 * const training = {
 *   optimizer: { name: "adam" as const, lr: 1e-2 }, batchSize: 16, maxSequences: 1600, truncate: 0, logEvery: 10,
 *   stop: { kind: "never" as const },
 * };
 * const opts = trainOptionsOf(training, createTask("latch", { T: 20 }), new Rng(0, 1));
 * opts.batches(0).B; // 16
 * ```
 */
export function trainOptionsOf(
  training: NonNullable<Cell["training"]>,
  task: Task,
  data: Rng,
): Omit<TrainOptions<TaskBatch>, "onStep"> {
  return {
    loss: task.loss,
    optimizer: makeOptimizer(training.optimizer),
    batches: () => task.batch(data, training.batchSize),
    maxSequences: training.maxSequences,
    clipNorm: training.clipNorm,
    clipValue: training.clipValue,
    truncate: training.truncate,
    logEvery: training.logEvery, // the curve: means since the previous point, with accuracy (the caller's `correct`)
  };
}

/**
 * Fraction of a batch's sequences that meet the task's criterion, given the model's outputs on it.
 *
 * @example
 * ```ts
 * import { fractionCorrect } from "./cell_training.ts";
 * import { createTask } from "../tasks/registry.ts";
 * import { Rng } from "../rng.ts";
 * const task = createTask("latch", { T: 20 });
 * const set = task.batch(new Rng(0, 4), 8);
 * fractionCorrect(task, new Float32Array(set.target.length), set); // between 0 and 1
 * ```
 */
export function fractionCorrect(task: Task, y: Arr, set: TaskBatch): number {
  const ok = task.correct(y, set);
  let n = 0;
  for (let b = 0; b < ok.length; b++) n += ok[b];
  return n / ok.length;
}

/** The sets an "evaluate" stopping rule is judged on: the task's fixed sets, or fresh sequences drawn once. */
export function evaluationSets(cell: Cell, task: Task, rng: Rng): TaskBatch[] {
  const stop = cell.training?.stop;
  if (stop?.kind !== "evaluate") return [];
  return task.evaluationSets?.() ?? [task.batch(rng, stop.sequences)];
}
