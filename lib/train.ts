/**
 * The training loop, one for every backend: batches from a generator, a training step (forward, loss, BPTT,
 * clipping, an optimizer update: `TrainableModel.submitTrainStep`), until a budget, a target loss, or a success
 * criterion; reporting at an interval. A NaN or infinite loss or gradient ends the run as "diverged" (no update is
 * applied with it), keeping everything recorded so far.
 *
 * Readbacks: a step's results are read back before the loop looks at them. Where a readback costs a round trip (the
 * GPU: about 10 ms each in Deno, whatever the size), steps are submitted in groups and read back once per group:
 * - without `onStep`, up to `readEvery` (default: the model's `readbackGroup`, 32 on the GPU, 1 on the CPU) steps per
 *   readback, and always right after a step that ends a log interval when `targetLoss` is set: the result is exactly
 *   that of reading every step (a divergence stops the later updates of its group);
 * - with `onStep` (which may stop the run), every step by default (`readEvery` 1). A larger `readEvery` is allowed;
 *   then steps submitted after the one that stopped the run have already been applied (up to readEvery - 1 more) —
 *   unless `readAfter` forces a readback at the steps where the caller needs to decide.
 *
 * Deterministic: given the same model seed and the same batch generator, two runs produce identical bits, in Deno
 * and in Bun (the CPU kernels and all arithmetic here are IEEE-754 exact; see `math.ts`).
 *
 * @module
 */

import type { Arr } from "./arr.ts";
import type { Batch } from "./nn/batch.ts";
import { lossAndGradient, type LossKind } from "./nn/loss.ts";
import type { TrainableModel, TrainStepResult } from "./nn/trainable.ts";
import type { Optimizer } from "./optim/optimizer.ts";

export type { Batch };

/** What the loop knows after a step, passed to `onStep` and `metric`. */
export interface StepInfo<B extends Batch = Batch> {
  /** Steps taken (1 after the first update). */
  step: number;
  /** Training sequences seen (Σ B). */
  sequences: number;
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** The model outputs of this step (a view, valid until the next step). */
  outputs: Arr;
  batch: B;
}

/** A line of the training curve. */
export interface LogRecord {
  step: number;
  sequences: number;
  /** Mean training loss over the steps since the previous record. */
  loss: number;
  /** Mean global gradient norm (before clipping) since the previous record. */
  gradNorm: number;
  /** The user metric of the last step (e.g. fraction correct), when one is given. */
  metric?: number;
  /** With `correct`: the fraction of the training sequences since the previous record that were right. */
  accuracy?: number;
  elapsedMs: number;
}

/** Options of `train`. */
export interface TrainOptions<B extends Batch = Batch> {
  loss: LossKind;
  optimizer: Optimizer;
  /** The batch for step k (0-based); deterministic generators make deterministic runs. */
  batches: (step: number) => B;
  /** Budget in optimizer steps. At least one of maxSteps / maxSequences is required. */
  maxSteps?: number;
  /** Budget in training sequences. */
  maxSequences?: number;
  /** Stop ("target-loss") once the mean loss of a logging interval is at or below this. */
  targetLoss?: number;
  /** Clip the global gradient norm (Pascanu et al. 2013) to this threshold. */
  clipNorm?: number;
  /** Clip each gradient component to ± this value. */
  clipValue?: number;
  /** Truncated BPTT: detach the state every k steps. */
  truncate?: number;
  /** Record a `LogRecord` every this many steps (default 100) and at the end. */
  logEvery?: number;
  /** A metric of the step's outputs (e.g. fraction correct), recorded with each log line. */
  metric?: (info: StepInfo<B>) => number;
  /**
   * How many of the step's sequences were right (by the task's criterion, from its outputs): the log records then
   * get `accuracy`, the fraction over the sequences since the previous record.
   */
  correct?: (info: StepInfo<B>) => number;
  /** Called after every step, in order; return (or resolve to) true to stop with status "solved". */
  onStep?: (info: StepInfo<B>) => boolean | void | Promise<boolean | void>;
  /** Called with each log record (progress reporting). */
  onLog?: (record: LogRecord) => void;
  /** Steps submitted per readback (default 1 with `onStep`, else the model's `readbackGroup`). */
  readEvery?: number;
  /**
   * Return true to read back right after the step that brings the run to (`step`, `sequences`): where the caller's
   * `onStep` needs the model as it is after exactly that step (a measurement, an evaluation).
   */
  readAfter?: (step: number, sequences: number) => boolean;
  /** Read back each step's outputs for `onStep` / `metric` / `correct` (default: true when one is given). */
  readOutputs?: boolean;
  /** Read back the probes of each step (`StepInfo` gets no field for them; see `onResult`). */
  probes?: boolean;
  /** Called with each step's full readback (loss, gradient norm, outputs, probes) before `onStep`. */
  onResult?: (step: number, result: TrainStepResult) => void;
}

/** Why a run ended. */
export type TrainStatus = "solved" | "target-loss" | "budget" | "diverged";

/** The outcome of `train`. */
export interface TrainResult {
  status: TrainStatus;
  steps: number;
  sequences: number;
  history: LogRecord[];
  /** When diverged: the step and what was not finite. */
  diverged?: { step: number; what: "loss" | "gradient" };
  elapsedMs: number;
}

const EMPTY = new Float32Array(0);

/**
 * Trains `model` in place, on whichever backend it runs.
 *
 * @example
 * ```ts
 * import { createModel } from "./backend/model.ts";
 * import { Adam } from "./optim/adam.ts";
 * import { train } from "./train.ts";
 * import { Rng } from "./rng.ts";
 * const model = await createModel({ cell: "lstm", inputSize: 1, hiddenSize: 8, outputSize: 1, seed: 0 });
 * const rng = new Rng(1);
 * const T = 5, B = 8;
 * const result = await train(model, {
 *   loss: "mse",
 *   optimizer: new Adam({ lr: 1e-2 }),
 *   maxSteps: 50,
 *   batches: () => { // remember the first input of each sequence
 *     const x = rng.fillUniform(new Float32Array(T * B), -1, 1);
 *     return { x, T, B, target: x.slice(0, B) };
 *   },
 * });
 * result.history.at(-1)!.loss; // lower than at the start
 * model.dispose();
 * ```
 */
export async function train<B extends Batch = Batch>(
  model: TrainableModel,
  opts: TrainOptions<B>,
): Promise<TrainResult> {
  const run = new TrainingRun<B>("train", opts);
  const readEvery = opts.readEvery ?? (opts.onStep !== undefined ? 1 : model.readbackGroup);
  if (!(Number.isInteger(readEvery) && readEvery > 0)) {
    throw new RangeError(`train: readEvery = ${readEvery}, expected a positive integer`);
  }
  const readOutputs = opts.readOutputs ??
    (opts.onStep !== undefined || opts.metric !== undefined || opts.correct !== undefined);
  if (model.pendingSteps > 0) await model.readSteps(); // someone else's unread steps: not ours to report
  const stepOptions = {
    loss: opts.loss,
    optimizer: opts.optimizer,
    clipNorm: opts.clipNorm,
    clipValue: opts.clipValue,
    truncate: opts.truncate,
    probes: opts.probes,
    readOutputs,
  };
  const group: B[] = [];
  let done = false;
  while (!done && run.withinBudget()) {
    // Submit a group of steps (the budget is counted on submitted steps, as if each were read at once).
    group.length = 0;
    let subSteps = run.step, subSequences = run.sequences;
    while (subSteps < run.maxSteps && subSequences < run.maxSequences) {
      const batch = opts.batches(subSteps);
      model.submitTrainStep(batch, stepOptions);
      group.push(batch);
      subSteps++;
      subSequences += batch.B;
      if (group.length >= readEvery) break;
      if (opts.readAfter?.(subSteps, subSequences)) break;
      if (opts.targetLoss !== undefined && subSteps % run.logEvery === 0) break;
    }
    const results = await model.readSteps();
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (r.diverged !== null) {
        run.diverge(r.diverged);
        done = true;
        break;
      }
      opts.onResult?.(run.step + 1, r);
      const info = run.stepTaken(group[i], r.loss, r.gradNorm, r.outputs ?? EMPTY);
      if ((await opts.onStep?.(info)) === true) {
        run.solve();
        done = true;
        break;
      }
      if (run.logIfDue()) {
        done = true;
        break;
      }
    }
  }
  return run.finish();
}

/**
 * The bookkeeping of a training loop (used by `train`): the budget, step and sequence counts, the log records (means since the previous record), the user metric, the target loss, and the
 * outcome. The loop itself does the work and tells it what happened.
 *
 * @example
 * ```ts
 * import { TrainingRun } from "./train.ts";
 * const run = new TrainingRun("demo", { maxSteps: 2, logEvery: 1 });
 * while (run.withinBudget()) {
 *   run.stepTaken({ x: [], T: 1, B: 4, target: [] }, 0.5, 1, new Float32Array(0));
 *   if (run.logIfDue()) break;
 * }
 * run.finish(); // { status: "budget", steps: 2, sequences: 8, history: [2 records], ... }
 * ```
 */
export class TrainingRun<B extends Batch = Batch> {
  /** Steps taken. */
  step = 0;
  /** Training sequences seen. */
  sequences = 0;
  readonly maxSteps: number;
  readonly maxSequences: number;
  readonly logEvery: number;
  readonly #opts: Pick<TrainOptions<B>, "metric" | "correct" | "onLog" | "targetLoss">;
  readonly #start = performance.now();
  readonly #history: LogRecord[] = [];
  #lossSum = 0;
  #normSum = 0;
  #pending = 0;
  #correct = 0;
  #seqs = 0;
  #lastMetric: number | undefined;
  #status: TrainStatus = "budget";
  #diverged: TrainResult["diverged"];

  /** Validates the budget and interval options; `who` names the loop in error messages. */
  constructor(
    who: string,
    opts: Pick<
      TrainOptions<B>,
      "maxSteps" | "maxSequences" | "logEvery" | "metric" | "correct" | "onLog" | "targetLoss"
    >,
  ) {
    this.maxSteps = opts.maxSteps ?? Infinity;
    this.maxSequences = opts.maxSequences ?? Infinity;
    if (this.maxSteps === Infinity && this.maxSequences === Infinity) {
      throw new RangeError(`${who}: give a budget, maxSteps or maxSequences`);
    }
    for (const [field, v] of [["maxSteps", opts.maxSteps], ["maxSequences", opts.maxSequences]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
        throw new RangeError(`${who}: ${field} = ${v}, expected a positive integer`);
      }
    }
    this.logEvery = opts.logEvery ?? 100;
    if (!(Number.isInteger(this.logEvery) && this.logEvery > 0)) {
      throw new RangeError(`${who}: logEvery = ${this.logEvery}, expected a positive integer`);
    }
    this.#opts = opts;
  }

  /** Whether another step fits in the budget. */
  withinBudget(): boolean {
    return this.step < this.maxSteps && this.sequences < this.maxSequences;
  }

  /** Records a step that was applied, and computes the user metric; returns what `onStep` gets. */
  stepTaken(batch: B, loss: number, gradNorm: number, outputs: Arr): StepInfo<B> {
    this.step++;
    this.sequences += batch.B;
    this.#lossSum += loss;
    this.#normSum += gradNorm;
    this.#pending++;
    const info: StepInfo<B> = { step: this.step, sequences: this.sequences, loss, gradNorm, outputs, batch };
    if (this.#opts.metric !== undefined) this.#lastMetric = this.#opts.metric(info);
    if (this.#opts.correct !== undefined) {
      this.#correct += this.#opts.correct(info);
      this.#seqs += batch.B;
    }
    return info;
  }

  /** The next step's loss or gradient was not finite: the run ends as diverged (no update was applied). */
  diverge(what: "loss" | "gradient"): void {
    this.#status = "diverged";
    this.#diverged = { step: this.step + 1, what };
  }

  /** The success criterion was met. */
  solve(): void {
    this.#status = "solved";
  }

  /** Writes a log record when the step ends an interval; returns true when it reached the target loss (stop). */
  logIfDue(): boolean {
    if (this.step % this.logEvery !== 0) return false;
    const record = this.#log()!;
    if (this.#opts.targetLoss !== undefined && record.loss <= this.#opts.targetLoss) {
      this.#status = "target-loss";
      return true;
    }
    return false;
  }

  #log(): LogRecord | undefined {
    if (this.#pending === 0) return undefined;
    const record: LogRecord = {
      step: this.step,
      sequences: this.sequences,
      loss: this.#lossSum / this.#pending,
      gradNorm: this.#normSum / this.#pending,
      elapsedMs: performance.now() - this.#start,
    };
    if (this.#lastMetric !== undefined) record.metric = this.#lastMetric;
    if (this.#opts.correct !== undefined) record.accuracy = this.#correct / this.#seqs;
    this.#history.push(record);
    this.#opts.onLog?.(record);
    this.#lossSum =
      this.#normSum =
      this.#pending =
      this.#correct =
      this.#seqs =
        0;
    return record;
  }

  /** Logs what is pending and returns the outcome. */
  finish(): TrainResult {
    this.#log();
    return {
      status: this.#status,
      steps: this.step,
      sequences: this.sequences,
      history: this.#history,
      diverged: this.#diverged,
      elapsedMs: performance.now() - this.#start,
    };
  }
}

/**
 * The loss of `model` on a batch, without gradients (evaluation). Returns the loss and the outputs (on the CPU a
 * view, valid until the model's next call).
 *
 * @example
 * ```ts
 * import { cpuModel } from "./backend/cpu/model.ts";
 * import { evaluate } from "./train.ts";
 * const model = cpuModel({ cell: "rnn", inputSize: 1, hiddenSize: 4, outputSize: 1 });
 * const { loss } = await evaluate(model, { x: [0.1, 0.2, 0.3], T: 3, B: 1, target: [0.5] }, "mse");
 * ```
 */
export async function evaluate(
  model: TrainableModel,
  batch: Batch,
  loss: LossKind,
): Promise<{ loss: number; outputs: Arr }> {
  const y = await model.forward(batch.x, batch.T, batch.B);
  const R = model.outputRows(batch.T, batch.B);
  const value = lossAndGradient(loss, R, model.outputWidth, y, batch.target, batch.mask ?? null, null);
  return { loss: value, outputs: y };
}
