/**
 * The reference matrix product, in plain TypeScript (float32 or float64 buffers).
 *
 * @module
 */

import type { Arr } from "../arr.ts";

/**
 * C (M, N) = [C +] op(A) (M, K) · B (K, N); see `Kernels.gemm` for the layout.
 *
 * @example
 * ```ts
 * import { gemmReference } from "./gemm.ts";
 * const c = new Float64Array(1);
 * gemmReference(1, 1, 2, new Float64Array([1, 2]), 2, 1, new Float64Array([3, 4]), 1, c, 1, false); // c = [11]
 * ```
 */
export function gemmReference(
  M: number,
  N: number,
  K: number,
  a: Arr,
  aRowStride: number,
  aColStride: number,
  b: Arr,
  ldb: number,
  c: Arr,
  ldc: number,
  accumulate: boolean,
): void {
  for (let m = 0; m < M; m++) {
    const cRow = m * ldc;
    if (!accumulate) c.fill(0, cRow, cRow + N);
    for (let k = 0; k < K; k++) {
      const av = a[m * aRowStride + k * aColStride];
      const bRow = k * ldb;
      for (let n = 0; n < N; n++) c[cRow + n] += av * b[bRow + n];
    }
  }
}
