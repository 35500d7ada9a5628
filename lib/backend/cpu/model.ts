/**
 * The CPU model: `Model` of lib/nn/model.ts on the fastest CPU kernels for its dtype (WebAssembly SIMD for float32,
 * the reference kernels for float64), or on the reference kernels when `backend` is "js".
 *
 * @module
 */

import { cellNames, resolveCell } from "../../nn/cells.ts";
import { Model, type ModelConfig } from "../../nn/model.ts";
import { cpuKernels } from "./cpu_kernels.ts";
import { WASM_CELLS } from "./wasm_kernels.ts";
import { jsKernels } from "../../nn/js_kernels.ts";

/**
 * Which CPU kernels a config runs on when it asks for the fastest ("cpu"): "cpu" where the WebAssembly kernels
 * implement its cell (or it is float64), else "js" (the reference kernels, which run every registered cell), with the
 * reason as a note to show the user. The experiment runner uses this for the cells without a wasm kernel yet.
 *
 * @example
 * ```ts
 * import { cpuBackendFor } from "./model.ts";
 * cpuBackendFor({ cell: "lstm", variant: "CIFG", inputSize: 1, hiddenSize: 4, outputSize: 1 }).backend; // "js"
 * ```
 */
export function cpuBackendFor(config: ModelConfig): { backend: "cpu" | "js"; note: string | null } {
  if ((config.dtype ?? "float32") !== "float32" || !cellNames().includes(config.cell)) {
    return { backend: "cpu", note: null };
  }
  const cell = resolveCell(config.cell, config);
  if (WASM_CELLS.includes(cell)) return { backend: "cpu", note: null };
  return {
    backend: "js",
    note: `cell "${cell}" has no WebAssembly kernel (they implement ${WASM_CELLS.join(", ")}): its float32 runs ` +
      `use the reference (js) kernels: the same equations, slower`,
  };
}

/**
 * A `Model` on the CPU kernels its config asks for (`threads` splits the wasm kernels' batch rows over threads).
 *
 * @example
 * ```ts
 * import { cpuModel } from "./model.ts";
 * const model = cpuModel({ cell: "lstm", inputSize: 2, hiddenSize: 8, outputSize: 1, seed: 1 });
 * model.kernels.name; // "wasm"
 * model.dispose();
 * ```
 */
export function cpuModel(config: ModelConfig): Model {
  const dtype = config.dtype ?? "float32";
  if (config.backend === "js") return new Model(config, jsKernels(dtype));
  // Validate before creating kernels (threads is checked by Model, but the wasm kernels would start workers first).
  const threads = config.threads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
    throw new RangeError(`Model: threads = ${threads}, expected an integer in [1, 64]`);
  }
  if (dtype !== "float32" && dtype !== "float64") {
    throw new RangeError(`Model: dtype = ${JSON.stringify(dtype)}, expected "float32" or "float64"`);
  }
  const named = cellNames().includes(config.cell);
  const cell = named ? resolveCell(config.cell, config) : config.cell;
  if (dtype === "float32" && named && !WASM_CELLS.includes(cell)) {
    throw new RangeError(
      `cpuModel: cell "${cell}" has no WebAssembly kernel (float32 runs ${WASM_CELLS.join(", ")}); ` +
        `use backend "js" (the reference kernels run every registered cell, float32 or float64) or dtype "float64"`,
    );
  }
  const kernels = cpuKernels(dtype, { threads, kernels: config.kernels });
  try {
    return new Model(config, kernels);
  } catch (e) {
    kernels.dispose();
    throw e;
  }
}
