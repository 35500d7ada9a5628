/**
 * One way to build a model on any backend: `createModel(config)` with `backend` "cpu" (WebAssembly SIMD kernels for
 * float32, the reference kernels for float64), "js" (the reference kernels), "webgpu", or "auto" (WebGPU where an
 * adapter exists, the CPU otherwise). Every backend's model implements `TrainableModel` (lib/nn/trainable.ts), so
 * `train` and the cell runner work on each the same way; a seed gives the same weights on every backend.
 *
 * @module
 */

import type { ModelConfig } from "../nn/model.ts";
import type { TrainableModel } from "../nn/trainable.ts";
import { cpuModel } from "./cpu/model.ts";
import { type BackendChoice, resolveBackend } from "./select.ts";
import { WebGpuModel, type WebGpuModelOptions } from "./webgpu/model.ts";

/** A model's configuration with the backend to run it on. */
export interface CreateModelConfig extends Omit<ModelConfig, "backend"> {
  /** Default "cpu". */
  backend?: BackendChoice | "js";
}

/**
 * A model on the backend `config.backend` names (`opts`: the WebGPU device and kernel options).
 *
 * @example
 * ```ts
 * import { createModel } from "./model.ts";
 * const model = await createModel({ cell: "lstm", inputSize: 2, hiddenSize: 8, outputSize: 1, backend: "auto" });
 * console.log(model.backend); // "webgpu" where an adapter exists, else "cpu"
 * model.dispose();
 * ```
 */
export async function createModel(config: CreateModelConfig, opts: WebGpuModelOptions = {}): Promise<TrainableModel> {
  const choice = config.backend ?? "cpu";
  if (choice === "cpu" || choice === "js") return cpuModel({ ...config, backend: choice });
  const { backend } = await resolveBackend(choice);
  if (backend === "cpu") return cpuModel({ ...config, backend: "cpu" });
  return await WebGpuModel.create({ ...config, backend: undefined }, opts);
}
