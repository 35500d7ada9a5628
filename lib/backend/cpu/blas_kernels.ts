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
 * Threads (`threads: 2`): by default ("workers") a worker thread (`blas_worker.ts`) runs half the batch rows of each
 * large time loop and half the rows of each large product, each of the two threads with one OpenBLAS thread, so the
 * pointwise cell work is split too and OpenBLAS never starts a pool of its own; with `threading: "openblas"` this
 * thread runs everything and OpenBLAS splits each product. OpenBLAS's setting is per process: it is set before
 * every call.
 *
 * Reproducibility: same library, same CPU kernel family (`Blas.core`), same thread count and same shapes give the
 * same bits (tested in `blas_kernels_test.ts`). Unlike the wasm kernels, BLAS sums a product in its own blocked
 * order, with fused multiply-adds where the CPU has them: bits differ from the wasm kernels', and may differ
 * between machines, OpenBLAS versions or `OPENBLAS_CORETYPE` settings.
 *
 * @module
 */

import type { Arr, DType, Kernels } from "../../nn/kernels.ts";
import { recurrentBackward, recurrentForward } from "../../nn/recurrence.ts";
import { type Blas, loadBlas } from "./blas.ts";
import { gemmReference } from "../../nn/gemm.ts";
import { jsKernels } from "../../nn/js_kernels.ts";
import { Worker } from "node:worker_threads";
import { type WasmExports, wasmKernels } from "./wasm_kernels.ts";

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
  /**
   * Whether the worker thread (threading "workers", 2 threads) has started: until then every call runs on this
   * thread. With OpenBLAS's own kernel choice the bits are the same either way; with `OPENBLAS_CORETYPE=Haswell`
   * a product split in halves rounds differently, so code that needs the same bits on every run waits for this
   * (`await` a timer until it is true) before its first call. Always true without a worker.
   */
  readonly workerReady: boolean;
}

/** Options of `blasKernels`. */
export interface BlasKernelOptions {
  /** Threads (default 1). */
  threads?: number;
  /**
   * How 2 threads are used (float32): "workers" (default): a worker thread runs half the batch rows of each time
   * loop and half the rows of each large product, each thread with one OpenBLAS thread; "openblas": this thread
   * runs everything and OpenBLAS splits each product over `threads` threads. float64: always "openblas".
   */
  threading?: BlasThreading;
  /** Products below this many multiply-adds stay in the wasm / reference kernels (default `BLAS_MIN_MACS`; tests
   * set 0 to send every product to BLAS). */
  minMacs?: number;
  /** With threading "workers": calls whose (per-step) product has fewer multiply-adds run on one thread (default
   * 2^20; tests set 0 to split every call). */
  splitMacs?: number;
}

/** How a BLAS kernel set uses more than one thread: see `BlasKernelOptions.threading`. */
export type BlasThreading = "workers" | "openblas";

/** Thrown by `blasKernels` when no BLAS library loads; the message says what was tried. */
export class BlasUnavailableError extends Error {
  override name = "BlasUnavailableError";
}

/**
 * OpenBLAS's thread setting is per process, and other kernel sets (or their workers) may have changed it: set before
 * every call (~0.1 µs; once per kernel call, not per step).
 */
function useThreads(blas: Blas, n: number): void {
  blas.setThreads(n);
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
  const threading = opts.threading ?? "workers";
  if (threading !== "workers" && threading !== "openblas") {
    throw new RangeError(`blasKernels: threading = ${JSON.stringify(threading)}, expected "workers" or "openblas"`);
  }
  const splitMacs = opts.splitMacs ?? SPLIT_MACS;
  return dtype === "float32"
    ? blasFloat32(blas, threads, minMacs, threading, splitMacs)
    : blasFloat64(blas, threads, minMacs);
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

/**
 * The float32 work of the BLAS kernels on a range of rows, given the wasm exports and the memory's base address: what
 * this thread and each worker (`blas_worker.ts`) run. Buffers are byte offsets into the memory (0: absent).
 */
export const blasRows = {
  /** Rows [m0, m1) of C (M, N) = [C +] op(A) · B: A's rows (transA: its columns) and C's rows from m0. */
  gemm(
    blas: Blas,
    base: number,
    m0: number,
    m1: number,
    transA: boolean,
    N: number,
    K: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
  ): void {
    if (m1 <= m0) return;
    const aAt = base + a + (transA ? m0 * 4 : m0 * lda * 4);
    blas.sgemm(transA, m1 - m0, N, K, aAt, lda, base + b, ldb, beta, base + c + m0 * ldc * 4, ldc);
  },

  /** The forward time loop on batch rows [b0, b1) (see `Kernels.recurrentForward`); wT: W_hhᵀ (H, G·H). */
  forward(
    blas: Blas,
    x: WasmExports,
    base: number,
    b0: number,
    b1: number,
    lstm: boolean,
    T: number,
    B: number,
    H: number,
    gates: number,
    h: number,
    c: number,
    wT: number,
  ): void {
    if (b1 <= b0) return;
    const GH = lstm ? 4 * H : H, stepG = B * GH * 4, stepH = B * H * 4, rows = b1 - b0;
    for (let t = 0; t < T; t++) {
      const g = gates + t * stepG, hp = h + t * stepH;
      // gates[t] += h[t] · W_hhᵀ, rows b0 .. b1
      blas.sgemm(false, rows, GH, H, base + hp + b0 * H * 4, H, base + wT, GH, 1, base + g + b0 * GH * 4, GH);
      if (lstm) x.lstmCellForward(b0, b1, H, g, c + t * stepH, c + (t + 1) * stepH, hp + stepH);
      else x.rnnCellForward(b0, b1, H, g, hp + stepH);
    }
  },

  /** The backward time loop on batch rows [b0, b1) (see `Kernels.recurrentBackward`); w: W_hh (G·H, H). */
  backward(
    blas: Blas,
    x: WasmExports,
    memory: WebAssembly.Memory,
    base: number,
    b0: number,
    b1: number,
    lstm: boolean,
    T: number,
    B: number,
    H: number,
    gates: number,
    h: number,
    c: number,
    w: number,
    dhSeq: number,
    dh: number,
    dc: number,
    truncate: number,
    dhNorm: number,
    dcNorm: number,
  ): void {
    if (b1 <= b0) return;
    const GH = lstm ? 4 * H : H, stepG = B * GH * 4, stepH = B * H * 4, stepN = B * 4, rows = b1 - b0;
    const mem = new Uint8Array(memory.buffer); // one view per call, not per step
    for (let t = T - 1; t >= 0; t--) {
      const g = gates + t * stepG;
      const dhIn = dhSeq === 0 ? 0 : dhSeq + t * stepH, nh = dhNorm === 0 ? 0 : dhNorm + t * stepN;
      if (lstm) {
        const nc = dcNorm === 0 ? 0 : dcNorm + t * stepN;
        x.lstmCellBackward(b0, b1, H, g, c + t * stepH, c + (t + 1) * stepH, dh, dhIn, dc, nh, nc);
      } else {
        x.rnnCellBackward(b0, b1, H, g, h + (t + 1) * stepH, dh, dhIn, nh);
      }
      if (truncate > 0 && t > 0 && t % truncate === 0) {
        mem.fill(0, dh + b0 * H * 4, dh + b1 * H * 4); // the state entering this chunk is detached
        if (lstm) mem.fill(0, dc + b0 * H * 4, dc + b1 * H * 4);
      } else {
        // dh = dG[t] · W_hh, rows b0 .. b1
        blas.sgemm(false, rows, H, GH, base + g + b0 * GH * 4, GH, base + w, H, 0, base + dh + b0 * H * 4, H);
      }
    }
  },
};

/** Worker commands (`blas_worker.ts`): function ids, and the control block's layout (int32 words). */
export const BLAS_CMD = { GEMM: 0, FORWARD: 1, BACKWARD: 2, STOP: -1 } as const;
export const BLAS_CTL = { SEQ: 0, DONE: 1, READY: 2, FN: 3, ERROR: 4, ARGS: 8, WORDS: 32 } as const;

/**
 * One worker thread running `blasRows` on its share of the rows, with its own single OpenBLAS thread. It sleeps in
 * `Atomics.wait` between commands (a command is a whole time loop or a whole product, so waking costs nothing that
 * matters), so it never spins beside OpenBLAS or the caller.
 */
class BlasWorker {
  readonly #worker: Worker;
  readonly #ctl: Int32Array;
  #seq = 0;

  constructor(memory: WebAssembly.Memory, control: Int32Array) {
    this.#ctl = control;
    this.#worker = new Worker(new URL("./blas_worker.ts", import.meta.url), {
      workerData: { memory, control: control.byteOffset },
    });
    this.#worker.unref();
  }

  get ready(): boolean {
    return Atomics.load(this.#ctl, BLAS_CTL.READY) === 1;
  }

  /** Starts fn(args) on the worker; `wait` returns when it is done. */
  post(fn: number, args: number[]): void {
    const ctl = this.#ctl;
    ctl[BLAS_CTL.FN] = fn;
    for (let i = 0; i < args.length; i++) ctl[BLAS_CTL.ARGS + i] = args[i];
    Atomics.store(ctl, BLAS_CTL.SEQ, ++this.#seq);
    Atomics.notify(ctl, BLAS_CTL.SEQ);
  }

  wait(): void {
    const ctl = this.#ctl, seq = this.#seq;
    let spins = 0;
    while (Atomics.load(ctl, BLAS_CTL.DONE) !== seq) {
      if (++spins > 1 << 12) Atomics.wait(ctl, BLAS_CTL.DONE, Atomics.load(ctl, BLAS_CTL.DONE), 20);
    }
    if (ctl[BLAS_CTL.ERROR] !== 0) throw new Error("blas kernels: the worker thread failed");
  }

  dispose(): void {
    this.post(BLAS_CMD.STOP, []);
    this.#worker.terminate();
  }
}

const workers = new FinalizationRegistry<BlasWorker>((w) => w.dispose());

/** Rows per share are rounded to this, so that each thread's products keep whole register tiles. */
const ROW_ALIGN = 8;
/**
 * With threading "workers", a time loop is split over the two threads when its per-step product has at least this
 * many multiply-adds, and a single product when it has at least as many (measured on 2 cores: the medium
 * LSTM's 2M-MAC steps gain 1.3×, the medium RNN's 0.5M and the small LSTM's 65K lose to the halves' fixed costs).
 */
const SPLIT_MACS = 1 << 20;

function blasFloat32(
  blas: Blas,
  threads: number,
  minMacs: number,
  threading: BlasThreading,
  splitMacs: number,
): BlasKernels {
  const w = wasmKernels({ threads: 1 });
  const x = w.exports;
  // Shared WebAssembly memory never moves (it is reserved at its maximum size), so one base address serves every
  // buffer: the address of a view is base + byteOffset, with no allocation per call or per step.
  const base = blas.address(new Uint8Array(w.memory.buffer, 0, 1));
  const opt = (a: Arr | null) => (a === null ? 0 : a.byteOffset);
  // threading "workers": our second thread runs half the rows of every large call with its own OpenBLAS thread;
  // "openblas": one thread here, OpenBLAS splits each product over `threads` threads.
  const blasThreads = threading === "openblas" ? threads : 1;
  let worker: BlasWorker | null = null;
  if (threading === "workers" && threads > 1) {
    // One worker for now (this project's machines have 2 cores): threads > 2 use 2.
    const control = w.alloc(BLAS_CTL.WORDS).byteOffset;
    worker = new BlasWorker(w.memory, new Int32Array(w.memory.buffer, control, BLAS_CTL.WORDS));
  }
  /** Runs rows [0, n) as [0, split) here and [split, n) on the worker when it is up and there is enough work. */
  const split = (n: number, big: boolean, fn: number, args: number[], here: (r0: number, r1: number) => void) => {
    if (worker === null || !big || n < 2 || !worker.ready) return here(0, n);
    const mid = n >= 2 * ROW_ALIGN ? Math.ceil(n / 2 / ROW_ALIGN) * ROW_ALIGN : Math.ceil(n / 2);
    worker.post(fn, [mid, n, ...args]);
    try {
      here(0, mid);
    } finally {
      worker.wait();
    }
  };

  const kernels: BlasKernels = {
    name: "blas",
    dtype: "float32",
    blas,
    threads,
    memory: w.memory,
    get usedBytes() {
      return w.usedBytes;
    },
    get workerReady() {
      return worker === null || worker.ready;
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
      useThreads(blas, blasThreads);
      const { transA, lda } = layout, beta = accumulate ? 1 : 0;
      const args = [transA ? 1 : 0, N, K, a.byteOffset, lda, b.byteOffset, ldb, beta, c.byteOffset, ldc];
      split(M, M * N * K >= splitMacs, BLAS_CMD.GEMM, args, (m0, m1) => {
        blasRows.gemm(blas, base, m0, m1, transA, N, K, a.byteOffset, lda, b.byteOffset, ldb, beta, c.byteOffset, ldc);
      });
    },
    recurrentForward(cell, T, B, H, gates, h, c, wHhT, extras) {
      // BLAS time loops for the LSTM and the RNN; other cells run the wasm kernels' loops (which refuse what they lack)
      if (cell !== "lstm" && cell !== "rnn") return w.recurrentForward(cell, T, B, H, gates, h, c, wHhT, extras);
      const GH = cell === "lstm" ? 4 * H : H;
      if (B * GH * H < minMacs) return w.recurrentForward(cell, T, B, H, gates, h, c, wHhT);
      useThreads(blas, blasThreads);
      const lstm = cell === "lstm", args = [lstm ? 1 : 0, T, B, H, gates.byteOffset, h.byteOffset, opt(c), opt(wHhT)];
      split(B, B * GH * H >= splitMacs, BLAS_CMD.FORWARD, args, (b0, b1) => {
        blasRows.forward(blas, x, base, b0, b1, lstm, T, B, H, gates.byteOffset, h.byteOffset, opt(c), opt(wHhT));
      });
    },
    recurrentBackward(cell, T, B, H, gates, h, c, wHh, dhSeq, dh, dc, truncate, dhNorm, dcNorm, extras) {
      if (cell !== "lstm" && cell !== "rnn") {
        return w.recurrentBackward(cell, T, B, H, gates, h, c, wHh, dhSeq, dh, dc, truncate, dhNorm, dcNorm, extras);
      }
      const GH = cell === "lstm" ? 4 * H : H;
      if (B * GH * H < minMacs) {
        return w.recurrentBackward(cell, T, B, H, gates, h, c, wHh, dhSeq, dh, dc, truncate, dhNorm, dcNorm);
      }
      useThreads(blas, blasThreads);
      const lstm = cell === "lstm";
      const a = [gates, h, c, wHh, dhSeq, dh, dc].map(opt);
      const args = [lstm ? 1 : 0, T, B, H, ...a, truncate, opt(dhNorm), opt(dcNorm)];
      split(B, B * GH * H >= splitMacs, BLAS_CMD.BACKWARD, args, (b0, b1) => {
        blasRows.backward(
          blas,
          x,
          w.memory,
          base,
          b0,
          b1,
          lstm,
          T,
          B,
          H,
          a[0],
          a[1],
          a[2],
          a[3],
          a[4],
          a[5],
          a[6],
          truncate,
          opt(dhNorm),
          opt(dcNorm),
        );
      });
    },
    dispose() {
      if (worker !== null) {
        workers.unregister(kernels);
        worker.dispose();
      }
      w.dispose();
    },
  };
  if (worker !== null) workers.register(kernels, worker, kernels);
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
    workerReady: true,
    gemm,
    recurrentForward: (cell, T, B, H, gates, h, c, wHhT, extras) =>
      recurrentForward(cell, T, B, H, gates, h, c, wHhT, extras, gemm),
    recurrentBackward: (cell, T, B, H, gates, h, c, wHh, dhSeq, dh, dc, truncate, dhNorm, dcNorm, extras) =>
      recurrentBackward(cell, T, B, H, gates, h, c, wHh, dhSeq, dh, dc, truncate, dhNorm, dcNorm, extras, gemm),
  };
}
