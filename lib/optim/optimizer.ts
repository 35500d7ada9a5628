/**
 * The optimizer interface: one update of a flat parameter buffer from a flat gradient buffer of the same layout
 * (`Model.params`, `Model.grads`). Every optimizer follows PyTorch's update rule to the letter, so a learning rate
 * moves between the two unchanged.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import type { OptimizerSpec } from "./spec.ts";

/**
 * A gradient-descent optimizer over flat buffers.
 *
 * @example
 * ```ts
 * import { Adam } from "./adam.ts";
 * import type { Optimizer } from "./optimizer.ts";
 * const params = new Float64Array([1, 2]), grads = new Float64Array([0.1, -0.1]);
 * const opt: Optimizer = new Adam({ lr: 1e-3 });
 * opt.step(params, grads);
 * ```
 */
export interface Optimizer {
  /** Name for reports: "sgd", "rmsprop", "adam", "adamw". */
  readonly name: string;
  /** Learning rate; may be changed between steps (schedules). */
  lr: number;
  /** Applies one update to `params` from `grads` (same length every call). */
  step(params: Arr, grads: Arr): void;
  /** Number of steps taken. */
  readonly steps: number;
  /** Its kind and current hyper-parameters (what another backend needs to apply the same rule). */
  readonly spec: OptimizerSpec;
}

/** Throws a RangeError naming the optimizer option unless `ok`. */
export function checkOption(optimizer: string, field: string, value: unknown, ok: boolean, allowed: string): void {
  if (!ok) throw new RangeError(`${optimizer}: ${field} = ${JSON.stringify(value)}, expected ${allowed}`);
}

/** A state buffer like `params` (same element type), created on the first step and checked on later ones. */
export function stateLike(optimizer: string, state: Arr | null, params: Arr): Arr {
  if (state === null) {
    return params instanceof Float64Array ? new Float64Array(params.length) : new Float32Array(params.length);
  }
  if (state.length !== params.length) {
    throw new RangeError(`${optimizer}: params has ${params.length} values, but earlier steps had ${state.length}`);
  }
  return state;
}
