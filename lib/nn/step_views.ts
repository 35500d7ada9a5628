/**
 * Views of consecutive time steps of a (steps, rows, width) buffer, made once per call so that the time loops of the
 * reference implementations allocate nothing per step.
 *
 * @module
 */

import type { Arr } from "../arr.ts";

/**
 * `steps` views of `stride` elements each: view t is `a[t·stride, (t+1)·stride)`.
 *
 * @example
 * ```ts
 * import { stepViews } from "./step_views.ts";
 * const [a, b] = stepViews(new Float64Array([1, 2, 3, 4]), 2, 2); // a = [1, 2], b = [3, 4]
 * ```
 */
export function stepViews<A extends Arr>(a: A, steps: number, stride: number): A[] {
  return Array.from({ length: steps }, (_, t) => a.subarray(t * stride, (t + 1) * stride) as A);
}
