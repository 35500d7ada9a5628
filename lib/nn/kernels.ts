/**
 * The few kernels a recurrent layer needs, and nothing else.
 *
 * Following the cuDNN recipe (Appleyard et al. 2016), a layer over a whole sequence is built from:
 * - one matrix product for the input projections of all T·B rows, before the recurrence;
 * - the time loops (`recurrentForward` / `recurrentBackward`): per step the recurrent product and one fused
 *   pointwise cell update (gates, cell state, hidden state), forward and in reverse;
 * - after the backward recurrence: the weight gradients as one product each over all T·B rows.
 * The time loops are kernels, not layer code, so that a backend can run a whole loop natively (and split the batch
 * rows across threads) instead of being called once per step.
 *
 * A backend implements this interface. The reference implementation (`js_kernels.ts` with `recurrence.ts`, both here,
 * plain TypeScript, float32 or float64) is the readable specification; faster ones (WebAssembly SIMD) are validated
 * against it.
 *
 * Conventions: arrays are flat and row-major. A kernel receives arrays that start where the operand starts, plus
 * strides and sizes; it allocates nothing per time step.
 *
 * @module
 */

import type { Arr, DType } from "../arr.ts";

export type { Arr, DType };

/**
 * Which recurrent cell a layer uses: the LSTM of the seed document, the vanilla tanh RNN, or another cell registered in
 * `cells.ts` (a kernel set implements the cells it names and throws for the others).
 */
export type CellType = "lstm" | "rnn" | (string & Record<never, never>);

/**
 * Which CPU kernels run a model (backend "cpu"): "wasm" (WebAssembly SIMD; bit-identical everywhere), "blas" (matrix
 * products in the machine's BLAS through FFI, pointwise work in wasm), or "auto" (BLAS where it loads, else wasm).
 * Implemented in `backend/cpu/cpu_kernels.ts`.
 */
export type CpuKernelChoice = "wasm" | "blas" | "auto";

/** The choices of `CpuKernelChoice`. */
export const CPU_KERNEL_CHOICES: readonly CpuKernelChoice[] = ["wasm", "blas", "auto"];

/**
 * What some cells need beyond gates and states (see `CellDefinition` in cells.ts); null or absent for the LSTM and RNN.
 */
export interface LayerExtras {
  /**
   * Cells with `splitHidden` (GRU): (T, B, G·H) hidden parts, each step's filled with b_hh by the caller; the forward
   * loop adds h[t] · W_hhᵀ here instead of into gates, backward leaves their gradients (dW_hh, db_hh and the carry
   * to h[t-1] come from them).
   */
  hidden: Arr | null;
  /** The layer's extra parameters (peepholes, 3H), or null. */
  extra: Arr | null;
  /** Their gradient, accumulated by backward, or null. */
  dExtra: Arr | null;
}

/**
 * The kernel set of one backend. Every method works on arrays from this backend's `alloc`.
 *
 * @example
 * ```ts
 * import { jsKernels } from "./js_kernels.ts";
 * const k = jsKernels("float64");
 * const a = k.alloc(2 * 3), b = k.alloc(3 * 2), c = k.alloc(2 * 2);
 * a.set([1, 2, 3, 4, 5, 6]);
 * b.set([1, 0, 0, 1, 1, 1]);
 * k.gemm(2, 2, 3, a, 3, 1, b, 2, c, 2, false); // c = a · b = [[4, 5], [10, 11]]
 * ```
 */
export interface Kernels {
  /** Short name, for reports: "js", "wasm". */
  readonly name: string;
  readonly dtype: DType;

  /** A zero-filled buffer of `n` elements that this backend's kernels can use. */
  alloc(n: number): Arr;

  /** Returns a buffer from `alloc` to the backend (a no-op where the garbage collector owns memory). */
  free(a: Arr): void;

  /**
   * General matrix product: C (M, N) = [C +] op(A) (M, K) · B (K, N).
   * A's element (m, k) is `a[m * aRowStride + k * aColStride]`, so A may be read transposed (aRowStride = 1);
   * B's element (k, n) is `b[k * ldb + n]`; C's element (m, n) is `c[m * ldc + n]`.
   * With `accumulate` false, C is overwritten; with true, the product is added to it.
   * Each C element sums its K products in order k = 0, 1, ..., K - 1 (so results do not depend on tiling).
   */
  gemm(
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
  ): void;

  /** out (N) += column sums of A (M, N) with row stride lda: the bias gradient of a layer applied to M rows. */
  addColumnSums(M: number, N: number, a: Arr, lda: number, out: Arr): void;

  /** Every row of C (M, N) (row stride N) set to bias1 [+ bias2] (each (N)): the bias part of a projection. */
  fillRows(M: number, N: number, c: Arr, bias1: Arr, bias2: Arr | null): void;

  /** out (cols, rows) = Aᵀ for A (rows, cols): keeps a transposed copy of a weight for contiguous access. */
  transpose(rows: number, cols: number, a: Arr, out: Arr): void;

  /**
   * The forward recurrence of a layer over T steps (the input projections and biases are already in `gates`):
   *
   *   for t = 0 .. T-1:
   *     gates[t] (B, G·H) += h[t] (B, H) · W_hhᵀ (H, G·H)        recurrent product
   *     cell forward (pointwise): gates[t] → activations, h[t+1] (and c[t+1])
   *
   * gates (T, B, G·H), h and c (T+1, B, H) with the initial state in slot 0; `wHhT` (H, G·H) is W_hh transposed.
   * G = 4 (LSTM, c given) or 1 (RNN, c null). The cells are `lstmCellForward` / `rnnCellForward` of nn/lstm.ts and
   * nn/rnn.ts. Every step works row by row, so backends may split the batch rows across threads.
   */
  recurrentForward(
    cell: CellType,
    T: number,
    B: number,
    H: number,
    gates: Arr,
    h: Arr,
    c: Arr | null,
    wHhT: Arr,
    extras?: LayerExtras | null,
  ): void;

  /**
   * The backward recurrence (BPTT through the steps of the last forward pass):
   *
   *   for t = T-1 .. 0:
   *     cell backward (pointwise): gates[t] ← dG[t]; dh ← ∂L/∂h_t (adding dhSeq[t]); dc ← ∂L/∂c_{t-1}
   *     dh (B, H) = dG[t] (B, G·H) · W_hh (G·H, H)                 the gradient reaching h[t-1]
   *     (with truncation k: at t = k, 2k, ... dh and dc are set to 0 instead: the state is detached there)
   *
   * On entry dh, dc (B, H) hold the gradients on the final states; on return, those on the initial states.
   * `dhSeq` (T, B, H) or null: gradients arriving at each h_t from above. `dhNorm`, `dcNorm` (T, B) or null:
   * receive ‖∂L/∂h_t‖₂ and ‖∂L/∂c_t‖₂ per step and row (the cells' probes). `extras`: see `LayerExtras` (cells other
   * than the LSTM and RNN).
   */
  recurrentBackward(
    cell: CellType,
    T: number,
    B: number,
    H: number,
    gates: Arr,
    h: Arr,
    c: Arr | null,
    wHh: Arr,
    dhSeq: Arr | null,
    dh: Arr,
    dc: Arr,
    truncate: number,
    dhNorm: Arr | null,
    dcNorm: Arr | null,
    extras?: LayerExtras | null,
  ): void;

  /** Releases what the kernel set holds (worker threads); its buffers must not be used afterwards. */
  dispose(): void;
}
