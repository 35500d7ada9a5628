/**
 * The CPU kernel set for a dtype: WebAssembly SIMD for float32, the reference TypeScript kernels for float64
 * (float64 serves gradient checks and careful studies, where exactness matters more than speed).
 *
 * @module
 */

import type { DType, Kernels } from "../../nn/kernels.ts";
import { jsKernels } from "../../nn/js_kernels.ts";
import { wasmKernels } from "./wasm_kernels.ts";

/**
 * The fastest CPU kernels for `dtype`.
 *
 * @example
 * ```ts
 * import { cpuKernels } from "./cpu_kernels.ts";
 * cpuKernels("float32").name; // "wasm"
 * cpuKernels("float32", { threads: 2 }).name; // "wasm", splitting calls over 2 threads
 * cpuKernels("float64").name; // "js"
 * ```
 */
export function cpuKernels(dtype: DType, opts: { threads?: number } = {}): Kernels {
  return dtype === "float32" ? wasmKernels(opts) : jsKernels(dtype);
}
