/**
 * lstm-lab: LSTM and vanilla RNN with exact backpropagation through time, gradient probes and training, on a fast
 * CPU backend (WebAssembly SIMD) — to show, measure and reproduce why LSTM learns long-range dependencies where a
 * vanilla RNN's gradients vanish or explode.
 *
 * @example
 * ```ts
 * import { Adam, Model, Rng, train } from "./mod.ts";
 * const model = new Model({ cell: "lstm", inputSize: 2, hiddenSize: 16, outputSize: 1, seed: 0 });
 * const rng = new Rng(1);
 * const T = 20, B = 16;
 * const result = train(model, {
 *   loss: "mse",
 *   optimizer: new Adam({ lr: 1e-2 }),
 *   maxSteps: 100,
 *   batches: () => {
 *     const x = rng.fillUniform(new Float32Array(T * B * 2), -1, 1);
 *     return { x, T, B, target: x.filter((_, i) => i < 2 * B && i % 2 === 0) }; // recall x[0] of each sequence
 *   },
 * });
 * console.log(result.status, result.history.at(-1));
 * ```
 *
 * @module
 */

export type { Arr, CellType, DType, Kernels } from "./backend/kernels.ts";
export { CPU_KERNEL_CHOICES, type CpuKernelChoice, cpuKernels } from "./backend/cpu/cpu_kernels.ts";
export {
  BLAS_MIN_MACS,
  type BlasKernelOptions,
  type BlasKernels,
  blasKernels,
  BlasUnavailableError,
} from "./backend/cpu/blas_kernels.ts";
export { type Blas, BLAS_SEARCH, loadBlas } from "./backend/cpu/blas.ts";
export { jsKernels } from "./backend/cpu/js_kernels.ts";
export { type WasmKernelOptions, type WasmKernels, wasmKernels } from "./backend/cpu/wasm_kernels.ts";
export {
  type RecurrenceMode,
  type TrainStepOptions,
  type TrainStepResult,
  type WebGpuBackwardOptions,
  type WebGpuBackwardResult,
  WebGpuModel,
  type WebGpuModelOptions,
  type WebGpuParameter,
} from "./backend/webgpu/model.ts";
export { trainWebGpu, type WebGpuTrainOptions } from "./backend/webgpu/train.ts";
export {
  requestWebGpuDevice,
  type WebGpuContext,
  type WebGpuDeviceInfo,
  type WebGpuDeviceOptions,
  webGpuStatus,
  WebGpuUnavailableError,
} from "./backend/webgpu/device.ts";
export { BACKEND_CHOICES, type BackendChoice, type BackendName, resolveBackend } from "./backend/select.ts";

export {
  type BackwardOptions,
  type BackwardResult,
  type CpuBackendName,
  type ForwardOptions,
  type GateStats,
  Model,
  type ModelConfig,
  type Parameter,
  type ReadoutPlacement,
} from "./nn/model.ts";
export { lstmCellBackward, lstmCellForward } from "./nn/lstm.ts";
export { rnnCellBackward, rnnCellForward } from "./nn/rnn.ts";
export { bceWithLogitsLoss, crossEntropyLoss, lossAndGradient, type LossKind, mseLoss } from "./nn/loss.ts";

export type { Optimizer } from "./optim/optimizer.ts";
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

export { type InitConfig, type RecurrentInit } from "./init.ts";
export { Rng } from "./rng.ts";
export { eigenvalues, orthogonal, spectralNorm, spectralRadius } from "./linalg.ts";
export { decodeSafetensors, encodeSafetensors, readSafetensorsFile, writeSafetensorsFile } from "./io/safetensors.ts";
export type { NamedTensor, SafeDType, SafetensorsContents } from "./io/safetensors.ts";
export {
  batchFirstToTimeMajor,
  configFromStateDict,
  loadStateDict,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  loadTorchFile,
  modelFromTorchFile,
  saveTorchFile,
  type SaveTorchFileOptions,
  stateDict,
  type StateDictLayout,
  type StateDictOptions,
  timeMajorToBatchFirst,
} from "./io/torch.ts";
