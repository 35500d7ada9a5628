/**
 * The CPU kernel set for a dtype and a choice of kernels:
 * - "wasm" (the default): WebAssembly SIMD for float32, the reference TypeScript kernels for float64 (float64 serves
 *   gradient checks and careful studies, where exactness matters more than speed). Bit-identical on every machine,
 *   in Deno and Bun, for any thread count: every committed result was computed with these.
 * - "blas": the matrix products in the machine's BLAS through FFI (`blas_kernels.ts`); faster for medium and large
 *   layers, bits depend on the library and CPU. Throws when no BLAS library loads.
 * - "auto": "blas" where a BLAS library loads, "wasm" otherwise (saying why, once per process).
 *
 * @module
 */

import { CPU_KERNEL_CHOICES, type CpuKernelChoice, type DType, type Kernels } from "../../nn/kernels.ts";
import { jsKernels } from "../../nn/js_kernels.ts";
import { loadBlas } from "./blas.ts";
import { blasKernels } from "./blas_kernels.ts";
import { wasmKernels } from "./wasm_kernels.ts";

export { CPU_KERNEL_CHOICES, type CpuKernelChoice };

let fallbackSaid = false;

/**
 * The CPU kernels for `dtype`: the wasm kernels by default, or BLAS-backed ones (`kernels: "blas"` or "auto").
 * `threads`: threads the kernels may use (wasm: worker threads; blas: OpenBLAS threads).
 *
 * @example
 * ```ts
 * import { cpuKernels } from "./cpu_kernels.ts";
 * cpuKernels("float32").name; // "wasm"
 * cpuKernels("float32", { threads: 2 }).name; // "wasm", splitting calls over 2 threads
 * cpuKernels("float64").name; // "js"
 * cpuKernels("float32", { kernels: "auto" }).name; // "blas" where a BLAS library loads, else "wasm"
 * ```
 */
export function cpuKernels(dtype: DType, opts: { threads?: number; kernels?: CpuKernelChoice } = {}): Kernels {
  const choice = opts.kernels ?? "wasm";
  if (!(CPU_KERNEL_CHOICES as readonly string[]).includes(choice)) {
    throw new RangeError(`kernels: ${JSON.stringify(choice)}, expected one of ${CPU_KERNEL_CHOICES.join(", ")}`);
  }
  if (choice === "blas") return blasKernels(dtype, { threads: opts.threads });
  if (choice === "auto") {
    const { blas, reason } = loadBlas();
    if (blas !== null) return blasKernels(dtype, { threads: opts.threads });
    if (!fallbackSaid) {
      console.warn(`kernels "auto": running the wasm kernels: ${reason}`);
      fallbackSaid = true;
    }
  }
  return dtype === "float32" ? wasmKernels({ threads: opts.threads }) : jsKernels(dtype);
}
