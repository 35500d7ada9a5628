/**
 * The fast CPU kernels: WebAssembly SIMD (128-bit), float32, built from `wasm/assembly/kernels.ts` (AssemblyScript)
 * by `deno task build:wasm`. They implement the same `Kernels` contract as the reference kernels and are tested
 * against them (`wasm_kernels_test.ts`).
 *
 * Memory: each kernel set owns one shared WebAssembly memory; `alloc` hands out Float32Array views into it
 * (64-byte aligned, first fit, freed blocks coalesce). Shared memory keeps every view valid when the memory grows,
 * and lets worker threads run the same kernels on the same buffers.
 *
 * Threads (`threads > 1`): every kernel takes a range of rows first, and rows are independent, so a call is split
 * into row ranges: this thread runs the first, each worker (`wasm_worker.ts`) another, and the call returns when all
 * are done. The time loops split the batch rows, so a whole forward or backward recurrence needs no synchronisation
 * between steps. Results are bit-identical for any number of threads (every element is computed by the same
 * operations in the same order; only who computes it changes).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { Arr, Kernels } from "../../nn/kernels.ts";

/** The exports of kernels.wasm: byte addresses into the memory; every kernel's row range comes first. */
export interface WasmExports {
  gemm(...args: number[]): void;
  addColumnSums(...args: number[]): void;
  fillRows(...args: number[]): void;
  transpose(rows: number, cols: number, a: number, out: number): void;
  elementwise(op: number, x: number, out: number, n: number): void;
  lstmCellForward(...args: number[]): void;
  lstmCellBackward(...args: number[]): void;
  rnnCellForward(...args: number[]): void;
  rnnCellBackward(...args: number[]): void;
  recurrentForward(...args: number[]): void;
  recurrentBackward(...args: number[]): void;
  gruCellForward(...args: number[]): void;
  gruCellBackward(...args: number[]): void;
  gruRecurrentForward(...args: number[]): void;
  gruRecurrentBackward(...args: number[]): void;
}

/** The kernels a worker can run, by number (the command's function id). */
export const SPLITTABLE = [
  "gemm",
  "addColumnSums",
  "fillRows",
  "recurrentForward",
  "recurrentBackward",
  "gruRecurrentForward",
  "gruRecurrentBackward",
] as const;

// A worker's control block: 32 int32 words in the shared memory.
export const CTL = { SEQ: 0, DONE: 1, READY: 2, FN: 3, ERROR: 4, ARGS: 8, WORDS: 32 } as const;
/** Function id that tells a worker to exit. */
export const STOP = -1;

const PAGE = 65536;
const ALIGN = 64; // cache line: SIMD loads never straddle lines at the start of a buffer
const MAX_PAGES = 65536; // 4 GiB, the wasm32 limit

let compiled: WebAssembly.Module | null = null;

/** The compiled module (compiled once per thread, instantiated once per kernel set). */
export function wasmModule(): WebAssembly.Module {
  if (compiled === null) {
    compiled = new WebAssembly.Module(readFileSync(new URL("./wasm/kernels.wasm", import.meta.url)));
  }
  return compiled;
}

/** Instantiates the kernels on a memory (used by this thread and by every worker). */
export function instantiate(memory: WebAssembly.Memory): WasmExports {
  const abort = () => {
    throw new Error("wasm kernels: abort");
  };
  return new WebAssembly.Instance(wasmModule(), { env: { memory, abort } }).exports as unknown as WasmExports;
}

/**
 * A first-fit allocator of 64-byte-aligned blocks in a growable shared memory. Address 0 is never handed out, so
 * 0 can mean "no buffer" in kernel calls.
 */
class Heap {
  readonly memory: WebAssembly.Memory;
  #free: { start: number; size: number }[] = []; // sorted by start, coalesced
  #used = new Map<number, number>(); // start → size
  #top = ALIGN; // first byte never allocated

  constructor(initialPages = 16) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
  }

  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    for (let i = 0; i < this.#free.length; i++) {
      const block = this.#free[i];
      if (block.size >= size) {
        const start = block.start;
        if (block.size === size) this.#free.splice(i, 1);
        else (block.start += size, block.size -= size);
        this.#used.set(start, size);
        return start;
      }
    }
    const start = this.#top, end = start + size, have = this.memory.buffer.byteLength;
    if (end > have) {
      const current = have / PAGE, need = Math.ceil((end - have) / PAGE);
      if (current + need > MAX_PAGES) {
        throw new RangeError(`wasm kernels: out of memory (need ${end} bytes; WebAssembly memory is limited to 4 GiB)`);
      }
      this.memory.grow(Math.min(Math.max(need, Math.ceil(current / 2)), MAX_PAGES - current)); // amortised growth
    }
    this.#top = end;
    this.#used.set(start, size);
    return start;
  }

  free(start: number): void {
    const size = this.#used.get(start);
    if (size === undefined) return; // a view into a block, or already freed
    this.#used.delete(start);
    const free = this.#free;
    let i = 0;
    while (i < free.length && free[i].start < start) i++;
    free.splice(i, 0, { start, size });
    if (i + 1 < free.length && free[i].start + free[i].size === free[i + 1].start) {
      free[i].size += free[i + 1].size;
      free.splice(i + 1, 1);
    }
    if (i > 0 && free[i - 1].start + free[i - 1].size === free[i].start) {
      free[i - 1].size += free[i].size;
      free.splice(i, 1);
    }
    const last = free[free.length - 1];
    if (last !== undefined && last.start + last.size === this.#top) {
      this.#top = last.start; // give the topmost free block back to the bump pointer
      free.pop();
    }
  }

  get usedBytes(): number {
    let n = 0;
    for (const s of this.#used.values()) n += s;
    return n;
  }
}

/**
 * Worker threads sharing the kernel set's memory. A call is split into row ranges; range 0 runs here.
 * Until a worker reports ready, calls simply run here (so creating a pool never blocks).
 */
class Pool {
  readonly #workers: Worker[] = [];
  readonly #ctl: Int32Array[] = [];
  #seq = 0;

  constructor(memory: WebAssembly.Memory, heap: Heap, workers: number) {
    for (let i = 0; i < workers; i++) {
      const at = heap.alloc(CTL.WORDS * 4);
      const worker = new Worker(new URL("./wasm_worker.ts", import.meta.url), { workerData: { memory, control: at } });
      worker.unref(); // an idle pool never keeps the process alive
      this.#workers.push(worker);
      this.#ctl.push(new Int32Array(memory.buffer, at, CTL.WORDS));
    }
  }

  /** Workers ready to take work now. */
  ready(): number {
    let n = 0;
    while (n < this.#ctl.length && Atomics.load(this.#ctl[n], CTL.READY) === 1) n++;
    return n;
  }

  /** Runs exports[fn](r0, r1, ...args) over [0, rows) split in `parts` ranges (multiples of `align` rows). */
  run(exports: WasmExports, fn: number, rows: number, align: number, parts: number, args: number[]): void {
    const chunk = Math.ceil(rows / parts / align) * align;
    const seq = ++this.#seq;
    let posted = 0;
    for (let p = 1; p < parts && p * chunk < rows; p++) {
      const ctl = this.#ctl[p - 1];
      ctl[CTL.FN] = fn;
      ctl[CTL.ARGS] = p * chunk;
      ctl[CTL.ARGS + 1] = Math.min(rows, (p + 1) * chunk);
      for (let i = 0; i < args.length; i++) ctl[CTL.ARGS + 2 + i] = args[i];
      Atomics.store(ctl, CTL.SEQ, seq);
      Atomics.notify(ctl, CTL.SEQ);
      posted++;
    }
    (exports[SPLITTABLE[fn]] as (...a: number[]) => void)(0, Math.min(rows, chunk), ...args);
    for (let p = 0; p < posted; p++) {
      const ctl = this.#ctl[p];
      let spins = 0;
      while (Atomics.load(ctl, CTL.DONE) !== seq) {
        if (++spins > 1 << 20) Atomics.wait(ctl, CTL.DONE, Atomics.load(ctl, CTL.DONE), 50);
      }
      if (ctl[CTL.ERROR] !== 0) throw new Error(`wasm kernels: worker ${p + 1} failed in ${SPLITTABLE[fn]}`);
    }
  }

  dispose(): void {
    for (const ctl of this.#ctl) {
      ctl[CTL.FN] = STOP;
      Atomics.store(ctl, CTL.SEQ, ++this.#seq);
      Atomics.notify(ctl, CTL.SEQ);
    }
    for (const w of this.#workers) w.terminate();
  }
}

const pools = new FinalizationRegistry<Pool>((pool) => pool.dispose());

/** A wasm kernel set, with access to its memory accounting and raw exports. */
export interface WasmKernels extends Kernels {
  /** Bytes currently allocated in this kernel set's memory. */
  readonly usedBytes: number;
  /** The raw exports (for tests of individual cells and of the elementary-function approximations). */
  readonly exports: WasmExports;
  /** The shared memory backing every buffer of this kernel set. */
  readonly memory: WebAssembly.Memory;
  /** Threads that run kernels (this one included). */
  readonly threads: number;
}

/** Options of `wasmKernels`. */
export interface WasmKernelOptions {
  /** Threads to run kernels on, this one included (default 1: no workers). */
  threads?: number;
}

/** The cells the WebAssembly kernels implement (other registered cells run on the reference kernels). */
export const WASM_CELLS: readonly string[] = ["lstm", "rnn", "gru"];

function cellCode(cell: string, what: string): number {
  if (cell === "lstm") return 1;
  if (cell === "rnn") return 0;
  if (cell === "gru") return 2; // its own time loops (gruRecurrentForward/Backward): the hidden part is kept apart
  throw new RangeError(
    `wasm kernels: ${what}: cell "${cell}" has no WebAssembly kernel (they implement ${WASM_CELLS.join(", ")}); ` +
      `run it on the reference kernels (backend "js")`,
  );
}

// Below these sizes a call runs on one thread: splitting costs about a microsecond.
const MIN_GEMM_MACS = 1 << 17;
const MIN_ROWS_PER_THREAD = 4;

/**
 * A float32 kernel set running WebAssembly SIMD kernels, with its own memory, on one or more threads.
 *
 * @example
 * ```ts
 * import { wasmKernels } from "./wasm_kernels.ts";
 * const k = wasmKernels();
 * const a = k.alloc(4).fill(1), b = k.alloc(4).fill(2), c = k.alloc(4);
 * k.gemm(2, 2, 2, a, 2, 1, b, 2, c, 2, false); // c = [[4, 4], [4, 4]]
 * k.dispose();
 * ```
 */
export function wasmKernels(opts: WasmKernelOptions = {}): WasmKernels {
  const threads = opts.threads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
    throw new RangeError(`wasmKernels: threads = ${threads}, expected an integer in [1, 64]`);
  }
  const heap = new Heap();
  const w = instantiate(heap.memory);
  const pool = threads > 1 ? new Pool(heap.memory, heap, threads - 1) : null;
  // Every buffer handed to a kernel must be a Float32Array in this set's memory: the kernels take byte addresses, so
  // any other array would be read and written at its byteOffset in this memory (a plain array: near address 0, where
  // the worker control blocks live). The memory's buffer objects (one per size it has had) are remembered.
  const mine = new WeakSet<ArrayBufferLike>();
  const ptr = (a: Arr, what: string) => {
    if (!(a instanceof Float32Array) || (!mine.has(a.buffer) && a.buffer !== heap.memory.buffer)) {
      throw new TypeError(
        `wasm kernels: ${what} is a ${a?.constructor?.name ?? typeof a} of ${a?.length} values that is not in this ` +
          `kernel set's memory; pass float32 buffers from its alloc() (or views of them)`,
      );
    }
    mine.add(a.buffer);
    return a.byteOffset;
  };
  const opt = (a: Arr | null, what: string) => (a === null ? 0 : ptr(a, what));
  /** Runs kernel `fn` on rows [0, rows): split across threads when there is enough work. */
  const split = (fn: number, rows: number, align: number, big: boolean, args: number[]) => {
    const parts = pool === null || !big ? 1 : Math.min(1 + pool.ready(), Math.floor(rows / MIN_ROWS_PER_THREAD));
    if (parts <= 1) (w[SPLITTABLE[fn]] as (...a: number[]) => void)(0, rows, ...args);
    else pool!.run(w, fn, rows, align, parts, args);
  };
  const kernels: WasmKernels = {
    name: "wasm",
    dtype: "float32",
    threads,
    memory: heap.memory,
    exports: w,
    get usedBytes() {
      return heap.usedBytes;
    },
    alloc(n) {
      const buffer = heap.memory.buffer;
      mine.add(buffer);
      if (n === 0) return new Float32Array(buffer, 0, 0); // address 0: owns nothing, freeing it is a no-op
      const start = heap.alloc(n * 4);
      // After a grow only the current buffer object spans the new bytes; older views keep working.
      const current = heap.memory.buffer;
      mine.add(current);
      return new Float32Array(current, start, n).fill(0);
    },
    free(a) {
      heap.free(a.byteOffset);
    },
    gemm(M, N, K, a, ars, acs, b, ldb, c, ldc, accumulate) {
      const args = [
        N,
        K,
        ptr(a, "gemm: a"),
        ars,
        acs,
        ptr(b, "gemm: b"),
        ldb,
        ptr(c, "gemm: c"),
        ldc,
        accumulate ? 1 : 0,
      ];
      split(0, M, 4, M * N * K >= MIN_GEMM_MACS, args);
    },
    addColumnSums(M, N, a, lda, out) {
      split(1, N, 4, M * N >= MIN_GEMM_MACS, [M, ptr(a, "addColumnSums: a"), lda, ptr(out, "addColumnSums: out")]);
    },
    fillRows(M, N, c, bias1, bias2) {
      const args = [N, ptr(c, "fillRows: c"), ptr(bias1, "fillRows: bias1"), opt(bias2, "fillRows: bias2")];
      split(2, M, 1, M * N >= MIN_GEMM_MACS, args);
    },
    transpose(rows, cols, a, out) {
      w.transpose(rows, cols, ptr(a, "transpose: a"), ptr(out, "transpose: out"));
    },
    recurrentForward(cell, T, B, H, gates, h, c, wHhT, extras) {
      const f = "recurrentForward: ";
      if (cellCode(cell, "recurrentForward") === 2) {
        const hidden = extras?.hidden ?? null;
        if (hidden === null) throw new RangeError(`wasm kernels: ${f}cell "gru" needs extras.hidden (T, B, 3H)`);
        const args = [T, B, H, ptr(gates, f + "gates"), ptr(hidden, f + "hidden"), ptr(h, f + "h")];
        args.push(ptr(wHhT, f + "wHhT"));
        split(5, B, 4, T * B * H * H >= MIN_GEMM_MACS, args);
        return;
      }
      const args = [
        cellCode(cell, "recurrentForward"),
        T,
        B,
        H,
        ptr(gates, f + "gates"),
        ptr(h, f + "h"),
        opt(c, f + "c"),
      ];
      args.push(ptr(wHhT, f + "wHhT"));
      split(3, B, 4, T * B * H * H >= MIN_GEMM_MACS, args);
    },
    recurrentBackward(cell, T, B, H, gates, h, c, wHh, dhSeq, dh, dc, truncate, dhNorm, dcNorm, extras) {
      const f = "recurrentBackward: ";
      if (cellCode(cell, "recurrentBackward") === 2) {
        const hidden = extras?.hidden ?? null;
        if (hidden === null) throw new RangeError(`wasm kernels: ${f}cell "gru" needs extras.hidden (T, B, 3H)`);
        const args = [
          T,
          B,
          H,
          ptr(gates, f + "gates"),
          ptr(hidden, f + "hidden"),
          ptr(h, f + "h"),
          ptr(wHh, f + "wHh"),
          opt(dhSeq, f + "dhSeq"),
          ptr(dh, f + "dh"),
          truncate,
          opt(dhNorm, f + "dhNorm"),
        ];
        split(6, B, 4, T * B * H * H >= MIN_GEMM_MACS, args);
        return;
      }
      const args = [
        cellCode(cell, "recurrentBackward"),
        T,
        B,
        H,
        ptr(gates, f + "gates"),
        ptr(h, f + "h"),
        opt(c, f + "c"),
        ptr(wHh, f + "wHh"),
        opt(dhSeq, f + "dhSeq"),
        ptr(dh, f + "dh"),
        ptr(dc, f + "dc"),
        truncate,
        opt(dhNorm, f + "dhNorm"),
        opt(dcNorm, f + "dcNorm"),
      ];
      split(4, B, 4, T * B * H * H >= MIN_GEMM_MACS, args);
    },
    dispose() {
      if (pool !== null) {
        pools.unregister(kernels);
        pool.dispose();
      }
    },
  };
  if (pool !== null) pools.register(kernels, pool, kernels);
  return kernels;
}
