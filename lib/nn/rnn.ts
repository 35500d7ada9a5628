/**
 * The vanilla tanh RNN cell, one time step for a batch: forward and backward side by side.
 *
 *   h = tanh(W_ih x + b_ih + W_hh h_prev + b_hh)
 *
 * The products are done by the layer (`layer.ts`) for all rows at once; these are the pointwise parts.
 * This is the reference implementation (any float type); the WebAssembly kernels are tested against it.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { tanh } from "../math.ts";

/**
 * RNN step forward (pointwise part): h (B, H) = tanh(pre (B, H)).
 *
 * @example
 * ```ts
 * import { rnnCellForward } from "./rnn.ts";
 * const h = new Float64Array(2);
 * rnnCellForward(1, 2, new Float64Array([0, 1]), h); // h = [0, tanh(1)]
 * ```
 */
export function rnnCellForward(B: number, H: number, pre: Arr, h: Arr): void {
  for (let k = 0, n = B * H; k < n; k++) h[k] = tanh(pre[k]);
}

/**
 * RNN step backward (pointwise part): dh += dhIn; pre ← dpre = dh ⊙ (1 - h²).
 * `dhNorm` (B), if given, receives ‖∂L/∂h_t‖₂ per batch row.
 *
 * @example
 * ```ts
 * import { rnnCellBackward } from "./rnn.ts";
 * const pre = new Float64Array(1), h = new Float64Array([0.5]), dh = new Float64Array([2]);
 * rnnCellBackward(1, 1, pre, h, dh, null, null); // pre = 2 * (1 - 0.25) = 1.5
 * ```
 */
export function rnnCellBackward(
  B: number,
  H: number,
  pre: Arr,
  h: Arr,
  dh: Arr,
  dhIn: Arr | null,
  dhNorm: Arr | null,
): void {
  for (let b = 0; b < B; b++) {
    let sq = 0;
    for (let j = b * H, end = j + H; j < end; j++) {
      const d = dhIn === null ? dh[j] : dh[j] + dhIn[j];
      dh[j] = d;
      pre[j] = d * (1 - h[j] * h[j]);
      sq += d * d;
    }
    if (dhNorm !== null) dhNorm[b] = Math.sqrt(sq);
  }
}
