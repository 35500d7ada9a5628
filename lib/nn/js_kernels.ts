/**
 * Reference kernels in plain TypeScript, for float32 or float64 buffers.
 *
 * These are the specification the fast kernels are tested against, and the float64 path used by gradient checks.
 * They are written for clarity first; loops are ordered for contiguous access (the inner loop runs along rows of B
 * and C), which is as much speed as plain JavaScript gives (about 1 GFLOP/s here).
 *
 * @module
 */

import type { DType, Kernels } from "./kernels.ts";
import { recurrentBackward, recurrentForward } from "./recurrence.ts";
import { gemmReference } from "./gemm.ts";

/**
 * The reference kernel set for one element type.
 *
 * @example
 * ```ts
 * import { jsKernels } from "./js_kernels.ts";
 * const k = jsKernels("float64");
 * const w = k.alloc(6); // zero-filled Float64Array
 * ```
 */
export function jsKernels(dtype: DType): Kernels {
  const Ctor = dtype === "float64" ? Float64Array : Float32Array;
  return {
    name: "js",
    dtype,
    alloc: (n) => new Ctor(n),
    free: () => {},
    gemm: gemmReference,
    addColumnSums(M, N, a, lda, out) {
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) out[n] += a[m * lda + n];
      }
    },
    fillRows(M, N, c, bias1, bias2) {
      for (let n = 0; n < N; n++) c[n] = bias2 === null ? bias1[n] : bias1[n] + bias2[n];
      for (let m = 1; m < M; m++) c.copyWithin(m * N, 0, N);
    },
    transpose(rows, cols, a, out) {
      for (let r = 0; r < rows; r++) {
        for (let q = 0; q < cols; q++) out[q * rows + r] = a[r * cols + q];
      }
    },
    recurrentForward,
    recurrentBackward,
    dispose: () => {},
  };
}
