/**
 * The interface every long-time-lag task implements: a seeded batch generator, the steps that carry loss, the
 * paper's success criterion per sequence, and the trivial baseline predictor.
 *
 * A task knows nothing of models: it produces time-major batches (`x` (T, B, I), targets per output row) and scores
 * outputs. Sequences of different lengths in one batch are right-padded with zeros to the longest, and the loss
 * mask selects each sequence's own scored steps, so padding changes nothing the model is trained or scored on.
 *
 * Definitions and published numbers: docs/tasks.md (Hochreiter & Schmidhuber 1997 and the papers after it).
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { lossAndGradient, type LossKind } from "../nn/loss.ts";
import type { Rng } from "../rng.ts";
import type { Batch } from "../nn/batch.ts";

/** Where a task's outputs are read: only after the last step of every sequence, or at every step (with a mask). */
export type TaskReadout = "last" | "every";

/** A batch of a task: a training batch plus what scoring needs. */
export interface TaskBatch extends Batch {
  /** Length of each sequence (B); all equal to T unless the task draws lengths. */
  lengths: Int32Array;
  /** Task-specific data scoring needs (e.g. legal next symbols), opaque to models. */
  extra?: unknown;
}

/** The trivial predictor a task is compared with (a model that has not learned the long-range dependency). */
export interface Baseline {
  /** What it predicts, in words. */
  description: string;
  /** Its expected loss under this task's loss, as published (or derived exactly), for these parameters. */
  loss: number;
  /** Its expected fraction of sequences judged correct by the task's criterion, when known. */
  accuracy?: number;
  /** The baseline's outputs for a batch (same layout as a model's), to measure its loss and accuracy. */
  outputs(batch: TaskBatch): Float32Array;
}

/**
 * A configured task (its parameters fixed).
 *
 * @example
 * ```ts
 * import { createTask } from "./registry.ts";
 * import { Rng } from "../rng.ts";
 * const task = createTask("adding-1997", { T: 100 });
 * const batch = task.batch(new Rng(0), 32); // x (T, 32, 2), target, mask at each sequence's last step
 * ```
 */
export interface Task {
  /** Registry name, e.g. "adding-1997". */
  readonly name: string;
  /** The resolved parameters (defaults filled in). */
  readonly params: Readonly<Record<string, number | string | boolean>>;
  /** Input features per step. */
  readonly inputSize: number;
  /** Outputs per scored row (classes for cross-entropy). */
  readonly outputSize: number;
  readonly loss: LossKind;
  readonly readout: TaskReadout;
  /** The longest sequence the generator produces (for sizing). */
  readonly maxLength: number;
  /** Which steps carry loss, in words (e.g. "the last step of each sequence"). */
  readonly lossSteps: string;
  /** The success criterion of the paper for one sequence, in words (e.g. "|error| < 0.04 at the last step"). */
  readonly criterion: string;
  /** The source of the task definition. */
  readonly reference: string;
  readonly baseline: Baseline;
  /** B fresh sequences drawn with `rng` (deterministic given its state). */
  batch(rng: Rng, B: number): TaskBatch;
  /** Per sequence, 1 if the model's outputs for it meet the criterion, else 0. */
  correct(outputs: Arr | Float32Array, batch: TaskBatch): Uint8Array;
  /**
   * Only for tasks with a fixed data set (embedded-reber): the whole set, in order, as one batch — for criteria
   * judged on every sequence of a set. Absent for tasks that generate fresh sequences.
   */
  fixedSet?(): TaskBatch;
  /**
   * Only for tasks whose paper judges success on fixed sets (embedded-reber: "every string of the training and the
   * test set"): those sets, each as one batch. The runner's `evaluate` stopping rule uses them instead of fresh
   * sequences.
   */
  evaluationSets?(): TaskBatch[];
}

/**
 * A task definition in the registry: its name, parameters with defaults, and a constructor that validates them.
 *
 * @example
 * ```ts
 * import { tasks } from "./registry.ts";
 * const def = tasks["copy"];
 * console.log(def.description, def.defaults); // e.g. { T: 100, ... }
 * ```
 */
export interface TaskDefinition {
  readonly name: string;
  /** One line: what the task tests. */
  readonly description: string;
  /** Every parameter with its default value; `create` rejects unknown names. */
  readonly defaults: Readonly<Record<string, number | string | boolean>>;
  /** Documentation of each parameter. */
  readonly paramDocs: Readonly<Record<string, string>>;
  /** Builds the task; throws a RangeError naming the parameter, the value and what is allowed. */
  create(params?: Readonly<Record<string, number | string | boolean>>): Task;
}

/**
 * Mean loss, and fraction correct, of the baseline predictor measured on `n` batches (to compare with the published
 * value: `task.baseline.loss`).
 *
 * @example
 * ```ts
 * import { measureBaseline } from "./task.ts";
 * import { createTask } from "./registry.ts";
 * import { Rng } from "../rng.ts";
 * const m = measureBaseline(createTask("copy", { T: 100 }), new Rng(1), 20, 128);
 * // m.loss ≈ 10 ln 8 / 120 ≈ 0.173
 * ```
 */
export function measureBaseline(task: Task, rng: Rng, batches: number, B: number): { loss: number; accuracy: number } {
  let loss = 0, correct = 0, total = 0;
  for (let i = 0; i < batches; i++) {
    const batch = task.batch(rng, B);
    const y = task.baseline.outputs(batch);
    const R = task.readout === "last" ? batch.B : batch.T * batch.B;
    loss += lossAndGradient(task.loss, R, task.outputSize, y, batch.target, batch.mask ?? null, null);
    const ok = task.correct(y, batch);
    for (let b = 0; b < ok.length; b++) correct += ok[b];
    total += ok.length;
  }
  return { loss: loss / batches, accuracy: correct / total };
}
