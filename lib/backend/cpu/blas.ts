/**
 * The machine's BLAS (`cblas_sgemm` / `cblas_dgemm`), loaded through FFI: `Deno.dlopen` under Deno, `bun:ffi` under
 * Bun. Used by the BLAS kernel set (`blas_kernels.ts`) for its matrix products, on the same memory as the wasm
 * kernels: a float32 operand is passed as its address in the shared WebAssembly memory, so nothing is copied.
 *
 * Where the library is looked for, in order (the first that loads and has `cblas_sgemm` wins):
 * 1. `LSTM_LAB_BLAS=/path/to/libopenblas.so.0` (only that path, when set: a wrong path is an error, not a fallback);
 * 2. OpenBLAS by its usual names: `libopenblas.so.0` (Debian/Ubuntu `libopenblas0-pthread`, Fedora `openblas`),
 *    `libopenblasp.so.0` (Fedora, pthreads build), `libopenblas.so`, then FlexiBLAS (`libflexiblas.so.3`, Fedora's
 *    default), then `libblas.so.3` / `libcblas.so.3` (whatever the distribution's alternative points to);
 * 3. macOS: Accelerate (`/System/Library/Frameworks/Accelerate.framework/Accelerate`), Homebrew's OpenBLAS;
 *    Windows: `libopenblas.dll`.
 *
 * OpenBLAS's own thread pool is set to one thread on load (`openblas_set_num_threads(1)`): kernels ask for more
 * per call (`setThreads`), so that BLAS threads and our worker threads never spin on the same cores.
 *
 * @module
 */

import type { Arr } from "../../nn/kernels.ts";

/** The matrix products of the loaded library, and what it is. */
export interface Blas {
  /** The file name or path that loaded. */
  readonly path: string;
  /** `openblas_get_config()` (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Haswell MAX_THREADS=64"), or the path. */
  readonly version: string;
  /** OpenBLAS's kernel family for this CPU (`openblas_get_corename()`, e.g. "Cooperlake"), or null. */
  readonly core: string | null;
  /**
   * C (M, N) = alpha · op(A) · B + beta · C, row-major, float32; A, B, C are byte addresses (see `address`).
   * op(A) = A (M, K) with row stride lda, or with `transA`, Aᵀ of A (K, M) with row stride lda.
   */
  sgemm(
    transA: boolean,
    M: number,
    N: number,
    K: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
  ): void;
  /** The same in float64, on Float64Array operands (views: their offsets are honoured). */
  dgemm(
    transA: boolean,
    M: number,
    N: number,
    K: number,
    a: Float64Array,
    lda: number,
    b: Float64Array,
    ldb: number,
    beta: number,
    c: Float64Array,
    ldc: number,
  ): void;
  /** Threads OpenBLAS may use from the next call on (a no-op for libraries without `openblas_set_num_threads`). */
  setThreads(n: number): void;
  /** The byte address of a buffer's first element (stable for WebAssembly shared memory, which never moves). */
  address(a: Arr | Uint8Array): number;
}

/** The library names tried after `LSTM_LAB_BLAS`, in order. */
export const BLAS_SEARCH: readonly string[] = [
  "libopenblas.so.0",
  "libopenblasp.so.0",
  "libopenblas.so",
  "libflexiblas.so.3",
  "libblas.so.3",
  "libcblas.so.3",
  "/System/Library/Frameworks/Accelerate.framework/Accelerate",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
  "libopenblas.dll",
];

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

type Loaded = { blas: Blas; reason: string } | { blas: null; reason: string };
let loaded: Loaded | null = null;

// bun:ffi, imported only under Bun (a computed specifier keeps Deno from resolving it).
type BunFfi = {
  dlopen(path: string, symbols: Record<string, { args: string[]; returns: string }>): {
    symbols: Record<string, (...args: unknown[]) => unknown>;
  };
  ptr(a: ArrayBufferView): number;
  CString: new (p: number) => { toString(): string };
};
const isBun = "Bun" in globalThis;
const bunSpecifier = "bun:ffi";
const bunFfi: BunFfi | null = isBun ? await import(bunSpecifier) as BunFfi : null;

const GEMM_ARGS = ["i32", "i32", "i32", "i32", "i32", "i32"];

/**
 * The machine's BLAS, loaded once per thread (later calls return the same result), or null with the reason
 * (every name tried and why it failed). Under Deno it needs `--allow-ffi` (in the tasks' `-A`).
 *
 * @example
 * ```ts
 * import { loadBlas } from "./blas.ts";
 * const { blas, reason } = loadBlas();
 * console.log(blas === null ? `no BLAS: ${reason}` : `BLAS: ${blas.version}`);
 * ```
 */
export function loadBlas(): Loaded {
  if (loaded !== null) return loaded;
  const env = readEnv("LSTM_LAB_BLAS");
  const names = env !== undefined && env !== "" ? [env] : BLAS_SEARCH;
  const errors: string[] = [];
  for (const name of names) {
    try {
      const blas = isBun ? openBun(name) : openDeno(name);
      blas.setThreads(1);
      loaded = { blas, reason: env ? `LSTM_LAB_BLAS=${env}` : `found ${name}` };
      return loaded;
    } catch (e) {
      errors.push(`${name}: ${firstLine(e)}`);
    }
  }
  loaded = {
    blas: null,
    reason: env
      ? `LSTM_LAB_BLAS=${env} did not load (${errors[0]})`
      : `no BLAS library found (install OpenBLAS, e.g. apt-get install libopenblas0-pthread, or set LSTM_LAB_BLAS); ` +
        `tried ${errors.join("; ")}`,
  };
  return loaded;
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split("\n")[0].slice(0, 200);
}

function readEnv(name: string): string | undefined {
  const g = globalThis as { Deno?: { env: { get(n: string): string | undefined } } };
  try {
    if (g.Deno !== undefined) return g.Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env
  }
  const p = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
  return p?.env[name];
}

function openDeno(name: string): Blas {
  const i = "i32" as const;
  const f32 = [i, i, i, i, i, i, "f32", "usize", i, "usize", i, "f32", "usize", i] as const;
  const f64 = [i, i, i, i, i, i, "f64", "buffer", i, "buffer", i, "f64", "buffer", i] as const;
  const lib = Deno.dlopen(name, {
    cblas_sgemm: { parameters: f32, result: "void" },
    cblas_dgemm: { parameters: f64, result: "void" },
    openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
    openblas_get_config: { parameters: [], result: "pointer", optional: true },
    openblas_get_corename: { parameters: [], result: "pointer", optional: true },
  });
  const s = lib.symbols;
  const str = (p: Deno.PointerValue) => (p === null ? null : new Deno.UnsafePointerView(p).getCString());
  const version = s.openblas_get_config ? str(s.openblas_get_config()) ?? name : name;
  const core = s.openblas_get_corename ? str(s.openblas_get_corename()) : null;
  const setThreads = s.openblas_set_num_threads;
  // Addresses go as plain numbers (Deno's fast path takes them for usize; its types say bigint).
  const sgemm = s.cblas_sgemm as unknown as (...args: number[]) => void, dgemm = s.cblas_dgemm;
  return {
    path: name,
    version,
    core,
    sgemm(tA, M, N, K, a, lda, b, ldb, beta, c, ldc) {
      sgemm(ROW_MAJOR, tA ? TRANS : NO_TRANS, NO_TRANS, M, N, K, 1, a, lda, b, ldb, beta, c, ldc);
    },
    dgemm(tA, M, N, K, a, lda, b, ldb, beta, c, ldc) {
      dgemm(ROW_MAJOR, tA ? TRANS : NO_TRANS, NO_TRANS, M, N, K, 1, a, lda, b, ldb, beta, c, ldc);
    },
    setThreads(n) {
      if (setThreads) setThreads(n);
    },
    address(a) {
      return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(a)));
    },
  };
}

function openBun(name: string): Blas {
  const ffi = bunFfi!;
  const gemm = (t: string) => ({
    args: [...GEMM_ARGS, t, "ptr", "i32", "ptr", "i32", t, "ptr", "i32"],
    returns: "void",
  });
  const lib = ffi.dlopen(name, { cblas_sgemm: gemm("f32"), cblas_dgemm: gemm("f64") });
  // bun:ffi has no optional symbols: OpenBLAS's extras are looked up on their own.
  const extra = (sym: string, args: string[], returns: string) => {
    try {
      return ffi.dlopen(name, { [sym]: { args, returns } }).symbols[sym];
    } catch {
      return null;
    }
  };
  const setThreads = extra("openblas_set_num_threads", ["i32"], "void");
  const getConfig = extra("openblas_get_config", [], "ptr");
  const getCore = extra("openblas_get_corename", [], "ptr");
  const str = (p: unknown) => (p ? new ffi.CString(p as number).toString() : null);
  const sgemm = lib.symbols.cblas_sgemm, dgemm = lib.symbols.cblas_dgemm;
  return {
    path: name,
    version: (getConfig ? str(getConfig()) : null) ?? name,
    core: getCore ? str(getCore()) : null,
    sgemm(tA, M, N, K, a, lda, b, ldb, beta, c, ldc) {
      sgemm(ROW_MAJOR, tA ? TRANS : NO_TRANS, NO_TRANS, M, N, K, 1, a, lda, b, ldb, beta, c, ldc);
    },
    dgemm(tA, M, N, K, a, lda, b, ldb, beta, c, ldc) {
      dgemm(ROW_MAJOR, tA ? TRANS : NO_TRANS, NO_TRANS, M, N, K, 1, a, lda, b, ldb, beta, c, ldc);
    },
    setThreads(n) {
      if (setThreads) setThreads(n);
    },
    address(a) {
      return ffi.ptr(a);
    },
  };
}
