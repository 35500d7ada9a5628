/**
 * What a training step is told and what it reports back, on every backend (see `TrainableModel` in trainable.ts).
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import type { Optimizer } from "../optim/optimizer.ts";
import type { LossKind } from "./loss.ts";

/** Options of a training step. */
export interface TrainStepOptions {
  loss: LossKind;
  /** The update rule; a backend reads `optimizer.spec` (the GPU keeps the state of each optimizer object). */
  optimizer: Optimizer;
  /** Clip the global gradient norm to this threshold (Pascanu et al. 2013). */
  clipNorm?: number;
  /** Clip each gradient component to ± this value (after clipping by norm). */
  clipValue?: number;
  /** Truncated BPTT: detach the state every k steps. */
  truncate?: number;
  /** Also read back the probes ‖∂L/∂h_t‖, ‖∂L/∂c_t‖ (T, B) per layer. */
  probes?: boolean;
  /** Also read back the outputs of the step's forward pass. */
  readOutputs?: boolean;
}

/** What a training step read back. */
export interface TrainStepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Set when the loss or the gradient was not finite: no update was applied (nor by later steps of its group). */
  diverged: "loss" | "gradient" | null;
  /** The outputs (like `forward`'s), with `readOutputs`. */
  outputs: Arr | null;
  /** Per layer (T, B), with `probes`. */
  dhNorm: Arr[] | null;
  /** Per layer (T, B) (LSTM), with `probes`. */
  dcNorm: Arr[] | null;
}
