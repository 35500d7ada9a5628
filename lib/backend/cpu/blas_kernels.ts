/**
 * The BLAS kernel set: the matrix products of a layer run in the machine's BLAS (`cblas_sgemm` / `cblas_dgemm`
 * through FFI, see `blas.ts`), everything else in the kernels we already have.
 *
 * - float32: the buffers are the wasm kernel set's (views of its WebAssembly memory), and BLAS reads and writes them
 *   in place by address. The input projection of all T·B rows, the per-step recurrent product, ∂L/∂h through W_hh and
 *   each weight gradient are one `sgemm` each; the pointwise cell work of each step (gates, cell and hidden state,
 *   and their backward) is the wasm kernels' `lstmCellForward` / `lstmCellBackward` / `rnnCell*`, the same code the
 *   wasm time loops run.
 * - float64: the reference kernels with their products in `dgemm` (time loops of `nn/recurrence.ts`).
 *
 * Per shape: BLAS pays ~0.2-0.3 µs per call, which is more than a whole small product costs in wasm; products below
 * `BLAS_MIN_MACS` multiply-adds (and whole time loops whose per-step product is below it) stay in the wasm (or
 * reference) kernels. The choice depends only on the shape, so a model gives the same bits on every run.
 *
 * Threads: `threads` is the number of OpenBLAS threads for this kernel set's products (set before each call, since
 * OpenBLAS's setting is per process); the pointwise work runs on the calling thread.
 *
 * Reproducibility: same library, same CPU kernel family (`Blas.core`), same thread count and same shapes give the
 * same bits (tested in `blas_kernels_test.ts`). Unlike the wasm kernels, BLAS sums a product in its own blocked
 * order, with fused multiply-adds where the CPU has them: bits differ from the wasm kernels', and may differ
 * between machines, OpenBLAS versions or `OPENBLAS_CORETYPE` settings.
 *
 * @module
 */

import type { Arr, DType, Kernels } from "../kernels.ts";
import { recurrentBackward, recurrentForward } from "../../nn/recurrence.ts";
import { type Blas, loadBlas } from "./blas.ts";
import { gemmReference } from "./gemm.ts";
import { jsKernels } from "./js_kernels.ts";
import { wasmKernels } from "./wasm_kernels.ts";

/** Products smaller than this (M·N·K multiply-adds) run in the wasm or reference kernels, not in BLAS. */
export const BLAS_MIN_MACS = 1 << 14;

/** A BLAS kernel set, with what it runs on. */
export interface BlasKernels extends Kernels {
  /** The library (path, version, CPU kernel family). */
  readonly blas: Blas;
  /** OpenBLAS threads used for this kernel set's products. */
  readonly threads: number;
  /** Bytes currently allocated (float32: in the WebAssembly memory; float64: 0, the garbage collector owns them). */
  readonly usedBytes: number;
  /** float32: the WebAssembly memory holding every buffer; float64: null. */
  readonly memory: WebAssembly.Memory | null;
}

/** Options of `blasKernels`. */
export interface BlasKernelOptions {
  /** OpenBLAS threads for the products (default 1). */
  threads?: number;
  /** Products below this many multiply-adds stay in the wasm / reference kernels (default `BLAS_MIN_MACS`; tests
   * set 0 to send every product to BLAS). */
  minMacs?: number;
}

/** Thrown by `blasKernels` when no BLAS library loads; the message says what was tried. */
export class BlasUnavailableError extends Error {
  override name = "BlasUnavailableError";
}

let threadsNow = 1; // OpenBLAS's thread setting is per process: set only when it changes

function useThreads(blas: Blas, n: number): void {
  if (threadsNow !== n) {
    blas.setThreads(n);
    threadsNow = n;
  }
}

/**
 * A kernel set whose matrix products run in the machine's BLAS. Throws a `BlasUnavailableError` (with the libraries
 * tried) when none loads; `cpuKernels(dtype, { kernels: "auto" })` falls back to the wasm kernels instead.
 *
 * @example
 * ```ts
 * import { blasKernels } from "./blas_kernels.ts";
 * import { loadBlas } from "./blas.ts";
 * if (loadBlas().blas !== null) {
 *   const k = blasKernels("float32");
 *   const a = k.alloc(64 * 64).fill(1), b = k.alloc(64 * 64).fill(2), c = k.alloc(64 * 64);
 *   k.gemm(64, 64, 64, a, 64, 1, b, 64, c, 64, false); // every c = 128, by cblas_sgemm
 *   k.dispose();
 * }
 * ```
 */
export function blasKernels(dtype: DType, opts: BlasKernelOptions = {}): BlasKernels {
  const threads = opts.threads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
    throw new RangeError(`blasKernels: threads = ${threads}, expected an integer in [1, 64]`);
  }
  const { blas, reason } = loadBlas();
  if (blas === null) throw new BlasUnavailableError(`blas kernels: ${reason}`);
  const minMacs = opts.minMacs ?? BLAS_MIN_MACS;
  return dtype === "float32" ? blasFloat32(blas, threads, minMacs) : blasFloat64(blas, threads, minMacs);
}

/**
 * How a `Kernels.gemm` operand A maps onto BLAS: not transposed with lda = aRowStride, transposed with
 * lda = aColStride, or null (a stride pattern BLAS cannot express, or leading dimensions it would reject).
 */
function blasLayout(
  M: number,
  N: number,
  K: number,
  ars: number,
  acs: number,
  ldb: number,
  ldc: number,
): { transA: boolean; lda: number } | null {
  if (ldb < Math.max(1, N) || ldc < Math.max(1, N)) return null;
  if (acs === 1 && (ars >= Math.max(1, K) || M === 1)) return { transA: false, lda: Math.max(ars, K, 1) };
  if (ars === 1 && (acs >= Math.max(1, M) || K === 1)) return { transA: true, lda: Math.max(acs, M, 1) };
  return null;
}

function blasFloat32(blas: Blas, threads: number, minMacs: number): BlasKernels {
  const w = wasmKernels({ threads: 1 });
  const x = w.exports;
  // Shared WebAssembly memory never moves (it is reserved at its maximum size), so one base address serves every
  // buffer: the address of a view is base + byteOffset, with no allocation per call or per step.
  const base = blas.address(new Uint8Array(w.memory.buffer, 0, 1));
  const at = (a: Arr) => base + a.byteOffset;
  const opt = (a: Arr | null) => (a === null ? 0 : a.byteOffset);

  const kernels: BlasKernels = {
    name: "blas",
    dtype: "float32",
    blas,
    threads,
    memory: w.memory,
    get usedBytes() {
      return w.usedBytes;
    },
    alloc: (n) => w.alloc(n),
    free: (a) => w.free(a),
    addColumnSums: (M, N, a, lda, out) => w.addColumnSums(M, N, a, lda, out),
    fillRows(M, N, c, bias1, bias2) {
      // Row 0 by the wasm kernel, then doubling copies (memmove): the same values, without a scalar pass per row.
      if (M === 0) return;
      w.fillRows(1, N, c, bias1, bias2);
      for (let done = 1; done < M; done *= 2) c.copyWithin(done * N, 0, Math.min(done, M - done) * N);
    },
    transpose: (rows, cols, a, out) => w.transpose(rows, cols, a, out),
    gemm(M, N, K, a, ars, acs, b, ldb, c, ldc, accumulate) {
      const layout = M * N * K >= minMacs ? blasLayout(M, N, K, ars, acs, ldb, ldc) : null;
      if (layout === null) return w.gemm(M, N, K, a, ars, acs, b, ldb, c, ldc, accumulate);
      useThreads(blas, threads);
      blas.sgemm(layout.transA, M, N, K, at(a), layout.lda, at(b), ldb, accumulate ? 1 : 0, at(c), ldc);
    },
    recurrentForward(cell, T, B, H, gates, h, c, wHhT) {
      const GH = cell === "lstm" ? 4 * H : H;
      if (B * GH * H < minMacs) return w.recurrentForward(cell, T, B, H, gates, h, c, wHhT);
      useThreads(blas, threads);
      const stepG = B * GH * 4, stepH = B * H * 4;
      const g0 = gates.byteOffset, h0 = h.byteOffset, c0 = opt(c), wT = at(wHhT);
      for (let t = 0; t < T; t++) {
        const g = g0 + t * stepG, hp = h0 + t * stepH;
        blas.sgemm(false, B, GH, H, base + hp, H, wT, GH, 1, base + g, GH); // gates[t] += h[t] · W_hhᵀ
        if (cell === "lstm") x.lstmCellForward(0, B, H, g, c0 + t * stepH, c0 + (t + 1) * stepH, hp + stepH);
        else x.rnnCellForward(0, B, H, g, hp + stepH);
      }
    },
    recurrentBackward(cell, T, B, H, gates, h, c, wHh, dhSeq, dh, dc, truncate, dhNorm, dcNorm) {
      const GH = cell === "lstm" ? 4 * H : H;
      if (B * GH * H < minMacs) {
        return w.recurrentBackward(cell, T, B, H, gates, h, c, wHh, dhSeq, dh, dc, truncate, dhNorm, dcNorm);
      }
      useThreads(blas, threads);
      const stepG = B * GH * 4, stepH = B * H * 4, stepN = B * 4, BH = B * H;
      const g0 = gates.byteOffset, h0 = h.byteOffset, c0 = opt(c), wA = at(wHh);
      const dhIn0 = opt(dhSeq), nh0 = opt(dhNorm), nc0 = opt(dcNorm), pdh = dh.byteOffset, pdc = dc.byteOffset;
      for (let t = T - 1; t >= 0; t--) {
        const g = g0 + t * stepG;
        const dhIn = dhSeq === null ? 0 : dhIn0 + t * stepH, nh = dhNorm === null ? 0 : nh0 + t * stepN;
        if (cell === "lstm") {
          const nc = dcNorm === null ? 0 : nc0 + t * stepN;
          x.lstmCellBackward(0, B, H, g, c0 + t * stepH, c0 + (t + 1) * stepH, pdh, dhIn, pdc, nh, nc);
        } else {
          x.rnnCellBackward(0, B, H, g, h0 + (t + 1) * stepH, pdh, dhIn, nh);
        }
        if (truncate > 0 && t > 0 && t % truncate === 0) {
          dh.fill(0, 0, BH); // the state entering this chunk is detached
          dc.fill(0, 0, BH);
        } else {
          blas.sgemm(false, B, H, GH, base + g, GH, wA, H, 0, base + pdh, H); // dh = dG[t] · W_hh
        }
      }
    },
    dispose: () => w.dispose(),
  };
  return kernels;
}

function blasFloat64(blas: Blas, threads: number, minMacs: number): BlasKernels {
  const ref = jsKernels("float64");
  const gemm: Kernels["gemm"] = (M, N, K, a, ars, acs, b, ldb, c, ldc, accumulate) => {
    const layout = M * N * K >= minMacs ? blasLayout(M, N, K, ars, acs, ldb, ldc) : null;
    if (layout === null) return gemmReference(M, N, K, a, ars, acs, b, ldb, c, ldc, accumulate);
    useThreads(blas, threads);
    blas.dgemm(
      layout.transA,
      M,
      N,
      K,
      a as Float64Array,
      layout.lda,
      b as Float64Array,
      ldb,
      accumulate ? 1 : 0,
      c as Float64Array,
      ldc,
    );
  };
  return {
    ...ref,
    name: "blas",
    blas,
    threads,
    memory: null,
    usedBytes: 0,
    gemm,
    recurrentForward: (cell, T, B, H, gates, h, c, wHhT) => recurrentForward(cell, T, B, H, gates, h, c, wHhT, gemm),
    recurrentBackward: (cell, T, B, H, gates, h, c, wHh, dhSeq, dh, dc, truncate, dhNorm, dcNorm) =>
      recurrentBackward(cell, T, B, H, gates, h, c, wHh, dhSeq, dh, dc, truncate, dhNorm, dcNorm, gemm),
  };
}
