/**
 * The one interface every backend's model implements, and the training loop, the cell runner and the tests use:
 * build it with `createModel(config)` (lib/backend/model.ts), train it with `train` (lib/train.ts).
 *
 * Its shape is the GPU's: a training step is *submitted* (forward, loss, BPTT, gradient norm, clipping, optimizer
 * update) and its results (loss, gradient norm, outputs, probes) are *read back* later, several steps at a time where
 * readbacks are costly (`readbackGroup`). The CPU model (`Model`, lib/nn/model.ts) runs each step when it is
 * submitted and answers every call synchronously: a value where the GPU returns a promise, so `await` costs it
 * nothing measurable and nothing is copied unless a step's results must outlive the next step.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import type { Batch } from "./batch.ts";
import type { ForwardOptions, ModelConfig } from "./model.ts";
import type { TrainStepOptions, TrainStepResult } from "./train_step.ts";

export type { TrainStepOptions, TrainStepResult };

/** The backends a model can run on. */
export type BackendName = "cpu" | "webgpu";

/**
 * A model on some backend.
 *
 * @example
 * ```ts
 * import type { TrainableModel } from "./trainable.ts";
 * import { Model } from "./model.ts";
 * import { SGD } from "../optim/sgd.ts";
 * const model: TrainableModel = new Model({ cell: "rnn", inputSize: 1, hiddenSize: 4, outputSize: 1, backend: "js" });
 * model.submitTrainStep({ x: [0.1, 0.2], T: 2, B: 1, target: [1] }, { loss: "mse", optimizer: new SGD({ lr: 0.1 }) });
 * const [step] = await model.readSteps(); // { loss, gradNorm, diverged: null, ... }
 * ```
 */
export interface TrainableModel {
  /** Where it runs. */
  readonly backend: BackendName;
  readonly config:
    & Readonly<Required<Omit<ModelConfig, "init" | "variant" | "peepholes">>>
    & Pick<ModelConfig, "variant" | "peepholes">
    & { init: ModelConfig["init"] };
  /** Number of scalar parameters. */
  readonly size: number;
  /** Width of an output row: O, or H with no readout. */
  readonly outputWidth: number;
  /** Rows of the output: B for a readout at the last step, T·B otherwise. */
  outputRows(T: number, B: number): number;
  /**
   * Steps the training loop may submit per readback when nothing needs each step's results at once: 1 where a
   * readback is free (CPU), more where each costs a round trip (GPU).
   */
  readonly readbackGroup: number;
  /** The outputs of the model on x (T, B, I), read back (a view on the CPU: valid until the next call). */
  forward(x: ArrayLike<number>, T: number, B: number, opts?: ForwardOptions): Arr | Promise<Arr>;
  /** Submits one training step; its results come from the next `readSteps`. */
  submitTrainStep(batch: Batch, opts: TrainStepOptions): void;
  /** Steps submitted and not yet read. */
  readonly pendingSteps: number;
  /** The results of every step submitted since the last read, in order. */
  readSteps(): TrainStepResult[] | Promise<TrainStepResult[]>;
  /** A copy of the parameters (`parameters` order). */
  readParams(): Arr | Promise<Arr>;
  /** Replaces the parameters (`parameters` order). */
  writeParams(values: ArrayLike<number>): void;
  /** Releases what the model holds (worker threads, GPU buffers). */
  dispose(): void;
}
