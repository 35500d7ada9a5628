/**
 * Gradient clipping, on a model's flat gradient buffer.
 *
 * - By global norm, Pascanu, Mikolov & Bengio 2013, Algorithm 1: if ‖g‖ ≥ threshold then g ← (threshold / ‖g‖)·g.
 *   The direction is kept; only the step length is bounded, which is what rescues training from the "cliffs"
 *   that exploding gradients produce.
 * - By value: each component clamped to [-v, v] (changes the direction).
 *
 * @module
 */

import type { Arr } from "../arr.ts";

/**
 * The Euclidean norm of a flat gradient (accumulated in double precision, in order).
 *
 * @example
 * ```ts
 * import { gradNorm } from "./clip.ts";
 * gradNorm(new Float64Array([3, 4])); // 5
 * ```
 */
export function gradNorm(grads: Arr): number {
  let sum = 0;
  for (let i = 0; i < grads.length; i++) sum += grads[i] * grads[i];
  return Math.sqrt(sum);
}

/**
 * Rescales `grads` in place so that its norm is at most `threshold` (Pascanu et al. 2013, Algorithm 1).
 * Returns the norm before clipping. A non-finite norm leaves `grads` untouched (the caller decides: a training loop
 * records the run as diverged).
 *
 * @example
 * ```ts
 * import { clipGradNorm } from "./clip.ts";
 * const g = new Float64Array([3, 4]);
 * clipGradNorm(g, 1); // returns 5; g = [0.6, 0.8]
 * ```
 */
export function clipGradNorm(grads: Arr, threshold: number): number {
  if (!(threshold > 0)) throw new RangeError(`clipGradNorm: threshold = ${threshold}, expected a number > 0`);
  const norm = gradNorm(grads);
  if (Number.isFinite(norm) && norm >= threshold) {
    const scale = threshold / norm;
    for (let i = 0; i < grads.length; i++) grads[i] *= scale;
  }
  return norm;
}

/**
 * Clamps every gradient component to [-limit, limit] in place; returns how many were clamped.
 *
 * @example
 * ```ts
 * import { clipGradValue } from "./clip.ts";
 * const g = new Float64Array([-3, 0.5, 2]);
 * clipGradValue(g, 1); // returns 2; g = [-1, 0.5, 1]
 * ```
 */
export function clipGradValue(grads: Arr, limit: number): number {
  if (!(limit > 0)) throw new RangeError(`clipGradValue: limit = ${limit}, expected a number > 0`);
  let clamped = 0;
  for (let i = 0; i < grads.length; i++) {
    const g = grads[i];
    if (g > limit) (grads[i] = limit, clamped++);
    else if (g < -limit) (grads[i] = -limit, clamped++);
  }
  return clamped;
}
