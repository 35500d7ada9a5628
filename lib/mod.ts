/**
 * lstm-lab: LSTM and vanilla RNN with exact backpropagation through time, gradient probes and training, on a fast
 * CPU backend (WebAssembly SIMD) or a GPU (WebGPU) — to show, measure and reproduce why LSTM learns long-range
 * dependencies where a vanilla RNN's gradients vanish or explode.
 *
 * This is the surface a user needs: tasks, models on any backend, training, optimizers, losses, the RNG and
 * PyTorch interchange. The internals keep their own entry points (kernels: lib/nn/kernels.ts and lib/backend/;
 * cell equations: lib/nn/lstm.ts, lib/nn/rnn.ts; plots: lib/plot/mod.ts; sweeps: lib/experiment/).
 *
 * @example
 * ```ts
 * import { Adam, createModel, createTask, Rng, train } from "./mod.ts";
 * const task = createTask("adding-1997", { T: 30 });
 * const model = await createModel({
 *   cell: "lstm",
 *   inputSize: task.inputSize,
 *   hiddenSize: 16,
 *   outputSize: task.outputSize,
 *   readout: task.readout,
 *   backend: "auto", // WebGPU where an adapter exists, else the CPU
 * });
 * const data = new Rng(0, 1);
 * const result = await train(model, {
 *   loss: task.loss,
 *   optimizer: new Adam({ lr: 3e-3 }),
 *   batches: () => task.batch(data, 32),
 *   maxSteps: 100,
 * });
 * console.log(result.status, result.history.at(-1));
 * model.dispose();
 * ```
 *
 * @module
 */

export type { Arr, DType } from "./arr.ts";
export { type CellType, CPU_KERNEL_CHOICES, type CpuKernelChoice } from "./nn/kernels.ts";
export { createModel, type CreateModelConfig } from "./backend/model.ts";
export { cpuModel } from "./backend/cpu/model.ts";
export { type Blas, loadBlas } from "./backend/cpu/blas.ts";
export { BACKEND_CHOICES, type BackendChoice, type BackendName, resolveBackend } from "./backend/select.ts";
export type { TrainableModel, TrainStepOptions, TrainStepResult } from "./nn/trainable.ts";
export {
  type BackwardOptions,
  type BackwardResult,
  type ForwardOptions,
  type GateStats,
  Model,
  type ModelConfig,
  type Parameter,
  type ReadoutPlacement,
} from "./nn/model.ts";
export { WebGpuModel, type WebGpuModelOptions } from "./backend/webgpu/model.ts";
export {
  requestWebGpuDevice,
  type WebGpuContext,
  webGpuStatus,
  WebGpuUnavailableError,
} from "./backend/webgpu/device.ts";
export type { InitConfig, RecurrentInit } from "./nn/init.ts";

export { lossAndGradient, type LossKind } from "./nn/loss.ts";
export type { Optimizer } from "./optim/optimizer.ts";
export type { OptimizerSpec } from "./optim/spec.ts";
export { SGD, type SgdOptions } from "./optim/sgd.ts";
export { RMSProp, type RmsPropOptions } from "./optim/rmsprop.ts";
export { Adam, type AdamOptions } from "./optim/adam.ts";
export { clipGradNorm, clipGradValue, gradNorm } from "./optim/clip.ts";

export {
  type Batch,
  evaluate,
  type LogRecord,
  type StepInfo,
  train,
  type TrainOptions,
  type TrainResult,
  type TrainStatus,
} from "./train.ts";

export { createTask } from "./tasks/registry.ts";
export type { Task, TaskBatch } from "./tasks/task.ts";
export { Rng } from "./rng.ts";
export { spectralNorm, spectralRadius } from "./linalg.ts";

export { readSafetensorsFile, writeSafetensorsFile } from "./io/safetensors.ts";
export {
  batchFirstToTimeMajor,
  loadStateDict,
  loadTorchFile,
  modelFromTorchFile,
  saveTorchFile,
  stateDict,
  timeMajorToBatchFirst,
} from "./io/torch.ts";
