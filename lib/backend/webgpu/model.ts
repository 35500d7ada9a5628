/**
 * `WebGpuModel`: the `Model` of lib/nn/model.ts on a GPU through WebGPU — same configuration, same parameter layout
 * (PyTorch's: one flat buffer in `parameters` order, gate order i, f, g, o), same initialisation (the weights are
 * initialised on the CPU by `Model` (reference kernels) and uploaded, so a seed gives the same weights on both), same
 * semantics (time-major x (T, B, I); readout at the last step, at every step, or none; full or truncated BPTT;
 * probes), float32 only.
 *
 * Everything stays on the GPU; a call reads back only what it returns. `trainStep` encodes forward, loss, BPTT, the
 * gradient norm, clipping and the optimizer update into one command buffer and reads back the loss and the gradient
 * norm with one `mapAsync` (plus outputs and probes when asked); `submitTrainStep` + `readSteps` batch several steps
 * per readback.
 *
 * Structure of a step (the cuDNN recipe, Appleyard et al. 2016; kernels in ./kernels/):
 *
 *   per layer   gates (T·B, G·H) = b_ih + b_hh + x · W_ihᵀ                  one matmul for all steps
 *               for t: one fused dispatch (recurrent product + cell)        or one persistent dispatch for all t
 *   readout     y = b + h · Wᵀ                                              one matmul
 *   loss        one dispatch (dy and the loss)
 *   backward    readout grads and dh; per layer, t = T-1 .. 0: one fused dispatch (the product carrying dG[t+1]
 *               back to h_t, then the cell backward); dW_hh, dW_ih one matmul each over all T·B rows; biases as
 *               column sums; dx (or the layer below's dhSeq) one matmul
 *   update      gradient norm (2 dispatches), then clip + optimizer (1 dispatch)
 *
 * Buffers are created once per (T, B) shape (a few shapes are cached) and reused; the uniforms of every dispatch are
 * written when a shape is first used, so a step writes only its data (x, targets, mask) and a few per-step scalars.
 *
 * Split by responsibility: this file is the model (creation, validation of inputs, what each call uploads, encodes and
 * reads back); `workspace.ts` holds the buffers of each (T, B) shape; `programs.ts` records the forward, loss and
 * backward programs; `optimizers.ts` the optimizers on the GPU (state buffers read from each optimizer's description,
 * counters, update programs); `readback_log.ts` the log that steps' results are read back from.
 *
 * @module
 */

import type { LossKind } from "../../nn/loss.ts";
import { type BackwardOptions, type ForwardOptions, Model, type ModelConfig, type Parameter } from "../../nn/model.ts";
import type { Optimizer } from "../../optim/optimizer.ts";
import type { Batch } from "../../nn/batch.ts";
import type { TrainStepOptions, TrainStepResult } from "../../nn/trainable.ts";
import { requestWebGpuDevice, type WebGpuContext, type WebGpuDeviceInfo } from "./device.ts";
import { ceilDiv, Gpu, readBuffers, Uniforms } from "./gpu.ts";
import { NORM_MAX_GROUPS, NORM_WG } from "./kernels/reduce.ts";
import { GpuOptimizers, type OptimizerSnapshot } from "./optimizers.ts";
import { Programs } from "./programs.ts";
import { ReadbackLog } from "./readback_log.ts";
import { type LayerBuffers, outputRows, outputWidth, type Workspace, Workspaces } from "./workspace.ts";

export type { TrainStepOptions, TrainStepResult };

/** How the time loops run. */
export type RecurrenceMode = "auto" | "steps" | "persistent";

/** Options of `WebGpuModel.create`. */
export interface WebGpuModelOptions {
  /**
   * The device to use: a context from `requestWebGpuDevice()` (shared by several models, which then share compiled
   * kernels; `dispose` leaves it alive), or a bare device. Default: a new device of the model's own.
   */
  device?: WebGpuContext | GPUDevice;
  /**
   * "steps": one dispatch per time step (fused product + cell); "persistent": one dispatch per layer and direction,
   * one workgroup looping over t; "auto" (default): persistent when B·H ≤ `persistentMaxUnits`.
   */
  recurrence?: RecurrenceMode;
  /** B·H up to which "auto" runs the persistent kernel (default 2048). */
  persistentMaxUnits?: number;
  /**
   * GPU tuning of the production kernels: `rows`, the batch rows each thread of a per-step kernel serves (at most B;
   * default 4 on a GPU, 8 on a software adapter such as lavapipe, where it measured 1.1-1.6× faster: more rows share
   * each weight read, fewer rows make more workgroups and shorter serial loops — the best value depends on the GPU).
   * The other numbered kernel versions live in the dev harness (dev/kernel_versions.ts, dev/bench_kernels.ts).
   */
  versions?: { rows?: number };
  /** How many (T, B) shapes keep their buffers (default 4; the least recently used is freed). */
  maxShapes?: number;
}

/** A parameter's name, place and shape in the flat buffers (as `Model.parameters`, without CPU views). */
export type WebGpuParameter = Omit<Parameter, "value" | "grad">;

/** Options of `WebGpuModel.backward`: those of `Model.backward`, plus what to read back. */
export interface WebGpuBackwardOptions extends BackwardOptions {
  /** Read back the parameter gradients (the accumulated `grads`, `parameters` order). */
  grads?: boolean;
  /** Read back ∂L/∂h0 (and ∂L/∂c0) per layer. */
  stateGrads?: boolean;
}

/** What `WebGpuModel.backward` read back (null: not asked for). */
export interface WebGpuBackwardResult {
  grads: Float32Array | null;
  /** ∂L/∂x (T, B, I), with `inputGrad`. */
  dx: Float32Array | null;
  /** Per layer (B, H), with `stateGrads`. */
  dh0: Float32Array[] | null;
  /** Per layer (B, H) (LSTM), with `stateGrads`. */
  dc0: Float32Array[] | null;
  /** Per layer (T, B), with `probes`. */
  dhNorm: Float32Array[] | null;
  /** Per layer (T, B) (LSTM), with `probes`. */
  dcNorm: Float32Array[] | null;
}

/** A submitted step whose results are in the readback log. */
interface PendingStep {
  /** Float offset of its stats (4 floats) and the following regions in the log. */
  at: number;
  outputs: number;
  probes: { layers: number; count: number; lstm: boolean } | null;
  /** Optimizer state before the step (restored if the step diverged). */
  optimizer: OptimizerSnapshot;
}

const MAX_ELEMENTS_1D = 65535 * 256;

/**
 * The LSTM / RNN model on WebGPU (see the module doc).
 *
 * @example
 * ```ts
 * import { WebGpuModel } from "./model.ts";
 * import { Adam } from "../../optim/adam.ts";
 * const model = await WebGpuModel.create({ cell: "lstm", inputSize: 2, hiddenSize: 16, outputSize: 1, seed: 0 });
 * const T = 20, B = 8;
 * const x = new Float32Array(T * B * 2).fill(0.5), target = new Float32Array(B).fill(1);
 * const opt = new Adam({ lr: 1e-2 });
 * const { loss, gradNorm } = await model.trainStep({ x, T, B, target }, { loss: "mse", optimizer: opt, clipNorm: 1 });
 * const y = await model.forward(x, T, B); // (B, 1)
 * model.dispose();
 * ```
 */
export class WebGpuModel {
  /** Where it runs (see `TrainableModel`). */
  readonly backend = "webgpu" as const;
  /** Steps `train` submits per readback when nothing needs each step at once (a readback costs ≥ 10 ms in Deno). */
  readonly readbackGroup = 32;
  readonly config: Model["config"];
  readonly parameters: readonly WebGpuParameter[];
  readonly gpu: Gpu;
  /** The adapter the model runs on. */
  readonly info: WebGpuDeviceInfo;
  /** The flat parameters (float32, `parameters` order) and their gradients, on the GPU. */
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;

  readonly #ownsDevice: boolean;
  readonly #mode: RecurrenceMode;
  readonly #persistentMaxUnits: number;
  readonly #stats: GPUBuffer; // loss, norm, clip factor, divergence flag
  readonly #normPartial: GPUBuffer;
  readonly #lossU: GPUBuffer;
  readonly #normU: GPUBuffer;
  readonly #workspaces: Workspaces;
  readonly #programs: Programs;
  readonly #optimizers: GpuOptimizers;
  #forwarded: Workspace | null = null;
  #disposed = false;
  // Readback log of submitted training steps.
  readonly #log: ReadbackLog<PendingStep>;

  private constructor(cpu: Model, gpu: Gpu, info: WebGpuDeviceInfo, ownsDevice: boolean, opts: WebGpuModelOptions) {
    this.config = cpu.config;
    this.parameters = cpu.parameters.map(({ value: _v, grad: _g, ...p }) => p);
    this.gpu = gpu;
    this.info = info;
    this.#ownsDevice = ownsDevice;
    this.#mode = opts.recurrence ?? "auto";
    if (!["auto", "steps", "persistent"].includes(this.#mode)) {
      throw new RangeError(
        `WebGpuModel: recurrence = ${JSON.stringify(this.#mode)}, expected auto, steps or persistent`,
      );
    }
    this.#persistentMaxUnits = opts.persistentMaxUnits ?? 2048;
    for (const key of Object.keys(opts.versions ?? {})) {
      if (key !== "rows") {
        throw new RangeError(
          `WebGpuModel: versions.${key} is not an option; the model runs the winning kernels, the numbered versions ` +
            `are timed by the dev harness (lib/backend/webgpu/dev/bench_kernels.ts); versions takes only rows`,
        );
      }
    }
    const maxRows = opts.versions?.rows ?? (info.isFallbackAdapter ? 8 : 4);
    if (!(Number.isInteger(maxRows) && maxRows >= 1 && maxRows <= 16)) {
      throw new RangeError(`WebGpuModel: versions.rows = ${maxRows}, expected an integer in [1, 16]`);
    }
    const P = cpu.params.length;
    if (P > MAX_ELEMENTS_1D) throw new RangeError(`WebGpuModel: ${P} parameters, at most ${MAX_ELEMENTS_1D} supported`);
    this.params = gpu.buffer(P, "params");
    this.grads = gpu.buffer(P, "grads");
    gpu.device.queue.writeBuffer(this.params, 0, Float32Array.from(cpu.params));
    this.#stats = gpu.buffer(4, "stats");
    this.#normPartial = gpu.buffer(3 * NORM_MAX_GROUPS, "norm partials");
    this.#lossU = gpu.uniformBuffer(32, "loss uniforms");
    this.#normU = gpu.uniformBuffer(16, "norm uniforms");
    this.#optimizers = new GpuOptimizers(gpu, P, {
      params: this.params,
      grads: this.grads,
      stats: this.#stats,
      normPartial: this.#normPartial,
      normUniforms: this.#normU,
    });
    this.#workspaces = new Workspaces(gpu, this.config, opts.maxShapes ?? 4, (B) => this.usesPersistent(B), (ws) => {
      if (this.#forwarded === ws) this.#forwarded = null;
    });
    const lim = gpu.device.limits;
    this.#programs = new Programs(
      gpu,
      this.config,
      new Map(this.parameters.map((p) => [p.name, p.offset])),
      this.#workspaces,
      { params: this.params, grads: this.grads, stats: this.#stats, lossUniforms: this.#lossU },
      { maxRows, persistentWg: Math.min(1024, lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX) },
    );
    this.#log = new ReadbackLog<PendingStep>(gpu);
  }

  /**
   * Creates a model on the GPU: validates `config` and initialises the weights exactly as the CPU model (`cpuModel(config)`)
   * (float32), then uploads them. Throws a `WebGpuUnavailableError` (with what to do) when there is no WebGPU.
   *
   * @example
   * ```ts
   * import { WebGpuModel } from "./model.ts";
   * const m = await WebGpuModel.create({ cell: "rnn", inputSize: 1, hiddenSize: 4, outputSize: 1 });
   * console.log(m.info.description, m.size);
   * m.dispose();
   * ```
   */
  static async create(config: ModelConfig, opts: WebGpuModelOptions = {}): Promise<WebGpuModel> {
    if (config.dtype !== undefined && config.dtype !== "float32") {
      throw new RangeError(`WebGpuModel: dtype = ${JSON.stringify(config.dtype)}; the GPU backend is float32 only`);
    }
    if (config.cell !== "lstm" && config.cell !== "rnn") {
      throw new RangeError(
        `WebGpuModel: cell = ${JSON.stringify(config.cell)} is not on WebGPU: its WGSL kernels are not written (the ` +
          `GPU kernels implement "lstm" and "rnn"); run it with backend "cpu" or "js" (the reference kernels run ` +
          `every registered cell)`,
      );
    }
    if (config.variant !== undefined || config.peepholes !== undefined) {
      const what = config.variant !== undefined
        ? `variant = ${JSON.stringify(config.variant)}`
        : `peepholes = ${config.peepholes}`;
      throw new RangeError(
        `WebGpuModel: ${what} is not on WebGPU: the GPU kernels implement the seed's LSTM cell only (no Greff ` +
          `variants, no peepholes); run it with backend "cpu" or "js"`,
      );
    }
    const cpu = new Model({ ...config, dtype: "float32", backend: "js", threads: 1 });
    const given = opts.device;
    let device: GPUDevice, info: WebGpuDeviceInfo, owns = false;
    if (given === undefined) {
      ({ device, info } = await requestWebGpuDevice());
      owns = true;
    } else if ("device" in given && "info" in given) {
      ({ device, info } = given);
    } else {
      device = given as GPUDevice;
      info = { description: "caller's device", vendor: "", architecture: "", isFallbackAdapter: false };
    }
    return new WebGpuModel(cpu, Gpu.of(device), info, owns, opts);
  }

  /** Number of scalar parameters. */
  get size(): number {
    return this.parameters.reduce((n, p) => n + p.size, 0);
  }

  /** Rows of the output: B for a readout at the last step, T·B otherwise. */
  outputRows(T: number, B: number): number {
    return outputRows(this.config, T, B);
  }

  /** Width of an output row: O, or H with no readout. */
  get outputWidth(): number {
    return outputWidth(this.config);
  }

  /** The parameter with this state_dict name. */
  parameter(name: string): WebGpuParameter {
    const p = this.parameters.find((q) => q.name === name);
    if (p === undefined) {
      throw new RangeError(`parameter: no parameter "${name}"; have ${this.parameters.map((q) => q.name).join(", ")}`);
    }
    return p;
  }

  /** Whether the time loops of a (T, B) batch run as one persistent dispatch. */
  usesPersistent(B: number): boolean {
    return this.#mode === "persistent" ||
      (this.#mode === "auto" && B * this.config.hiddenSize <= this.#persistentMaxUnits);
  }

  // ------------------------------------------------------------------------------------------------ inputs

  #checkShape(what: string, x: ArrayLike<number>, T: number, B: number): void {
    for (const [name, v] of [["T", T], ["B", B]] as const) {
      if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`${what}: ${name} = ${v}, expected a positive integer`);
    }
    const I = this.config.inputSize;
    if (x.length !== T * B * I) {
      throw new RangeError(`${what}: x has ${x.length} values, expected T·B·I = ${T}·${B}·${I} = ${T * B * I}`);
    }
  }

  #write(buffer: GPUBuffer, data: ArrayLike<number>, offsetFloats = 0): void {
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    if (f.length > 0) this.gpu.device.queue.writeBuffer(buffer, offsetFloats * 4, f as Float32Array<ArrayBuffer>);
  }

  /** Writes layer slices of an (L, B, H) state into a per-layer buffer at a float offset. */
  #writeState(
    name: string,
    s: ArrayLike<number>,
    ws: Workspace,
    pick: (lb: LayerBuffers) => GPUBuffer,
    what: string,
  ): void {
    const L = this.config.numLayers, BH = ws.B * this.config.hiddenSize;
    if (s.length !== L * BH) {
      throw new RangeError(`${what}: ${name} has ${s.length} values, expected L·B·H = ${L * BH}`);
    }
    const f = s instanceof Float32Array ? s : Float32Array.from(s);
    ws.layers.forEach((lb, l) => this.#write(pick(lb), f.subarray(l * BH, (l + 1) * BH)));
  }

  /** Uploads a batch's targets and mask and writes the loss uniforms (N counted here, as lib/nn/loss.ts does). */
  #writeTargets(ws: Workspace, kind: LossKind, target: ArrayLike<number>, mask: ArrayLike<number> | null): boolean {
    const R = ws.R, O = this.outputWidth;
    const want = kind === "cross-entropy" ? R : R * O;
    if (target.length < want) {
      const field = kind === "cross-entropy" ? "classes" : "target";
      throw new RangeError(`${kind}: ${field} has ${target.length} entries, expected ${want}`);
    }
    if (kind === "cross-entropy") {
      for (let r = 0; r < R; r++) {
        if (mask !== null && mask[r] === 0) continue;
        const cls = target[r];
        if (!(Number.isInteger(cls) && cls >= 0 && cls < O)) {
          throw new RangeError(`cross-entropy: classes[${r}] = ${cls}, expected an integer in [0, ${O - 1}]`);
        }
      }
    }
    let N = R;
    if (mask !== null) {
      if (mask.length < R) throw new RangeError(`loss: mask has ${mask.length} entries, expected ${R} (one per row)`);
      N = 0;
      const m = new Float32Array(R);
      for (let r = 0; r < R; r++) if (mask[r] !== 0) (m[r] = 1, N++);
      this.#write(ws.mask, m);
    }
    const t = target.length === want ? target : Array.prototype.slice.call(target, 0, want) as number[];
    this.#write(ws.target, t);
    const scale = N === 0 ? 0 : kind === "cross-entropy" ? 1 / N : 1 / (N * O);
    const yOff = this.config.readout === "none" ? ws.B * this.config.hiddenSize : 0;
    this.#writeUniform(this.#lossU, new Uniforms().u(R, O, mask === null ? 0 : 1, N).f(scale).u(yOff, 0, 0));
    return true;
  }

  #writeUniform(buffer: GPUBuffer, u: Uniforms): void {
    this.gpu.device.queue.writeBuffer(buffer, 0, u.bytes());
  }

  #live(): void {
    if (this.#disposed) throw new Error("WebGpuModel: used after dispose()");
  }

  // ------------------------------------------------------------------------------------------------ public API

  /**
   * Runs the model on x (T, B, I) and reads back the outputs: (B, O) with the readout at the last step, (T, B, O) at
   * every step, (T, B, H) with no readout. The activations stay on the GPU for one `backward`.
   */
  async forward(x: ArrayLike<number>, T: number, B: number, opts: ForwardOptions = {}): Promise<Float32Array> {
    this.#live();
    const ws = this.#submitForward(x, T, B, opts, "forward");
    const [out] = await readBuffers(this.gpu, [this.#outputRegion(ws)]);
    return out;
  }

  #submitForward(x: ArrayLike<number>, T: number, B: number, opts: ForwardOptions, what: string): Workspace {
    this.#checkShape(what, x, T, B);
    if (opts.c0 !== undefined && this.config.cell !== "lstm") {
      throw new RangeError(`${what}: c0 is given but cell is "rnn"`);
    }
    const ws = this.#workspaces.get(T, B);
    this.#write(ws.x, x);
    if (opts.h0 !== undefined) this.#writeState("h0", opts.h0, ws, (lb) => lb.h, what);
    if (opts.c0 !== undefined) this.#writeState("c0", opts.c0, ws, (lb) => lb.c, what);
    const enc = this.gpu.device.createCommandEncoder();
    this.#programs.forward(ws, opts.h0 !== undefined, opts.c0 !== undefined).encode(enc);
    this.gpu.device.queue.submit([enc.finish()]);
    this.#forwarded = ws;
    return ws;
  }

  #outputRegion(ws: Workspace): { buffer: GPUBuffer; offset: number; count: number } {
    const H = this.config.hiddenSize;
    if (this.config.readout === "none") {
      return { buffer: ws.layers[this.config.numLayers - 1].h, offset: ws.B * H, count: ws.T * ws.B * H };
    }
    return { buffer: ws.y, offset: 0, count: ws.R * this.outputWidth };
  }

  /**
   * Backpropagation through time from ∂L/∂outputs (shaped like the outputs; null when the loss is only on final
   * states) through the sequence of the last `forward`. Accumulates into the GPU gradients (`zeroGrad()` first for a
   * fresh gradient, as with `Model`), and reads back only what the options ask for.
   */
  async backward(dOutput: ArrayLike<number> | null, opts: WebGpuBackwardOptions = {}): Promise<WebGpuBackwardResult> {
    this.#live();
    const ws = this.#forwarded;
    if (ws === null) throw new Error("backward: call forward first (each forward feeds one backward)");
    const cfg = this.config, truncate = opts.truncate ?? 0, lstm = cfg.cell === "lstm";
    if (!(Number.isInteger(truncate) && truncate >= 0)) {
      throw new RangeError(`backward: truncate = ${truncate}, expected an integer ≥ 0 (0 = full BPTT)`);
    }
    if (opts.dcN !== undefined && !lstm) throw new RangeError(`backward: dcN is given but cell is "rnn"`);
    if (dOutput !== null) {
      const n = ws.R * this.outputWidth;
      if (dOutput.length !== n) {
        throw new RangeError(`backward: dOutput has ${dOutput.length} values, expected ${n} (like the outputs)`);
      }
      this.#write(ws.dy, dOutput);
    }
    if (opts.dhN !== undefined) this.#writeState("dhN", opts.dhN, ws, (lb) => lb.dhInit, "backward");
    if (opts.dcN !== undefined) this.#writeState("dcN", opts.dcN, ws, (lb) => lb.dc, "backward");
    const probes = opts.probes ?? false, inputGrad = opts.inputGrad ?? false;
    const enc = this.gpu.device.createCommandEncoder();
    this.#programs.backward(ws, {
      fromOutputs: dOutput !== null,
      truncate,
      probes,
      inputGrad,
      accumulate: true,
      dhN: opts.dhN !== undefined,
      dcN: opts.dcN !== undefined,
    }).encode(enc);
    this.#forwarded = null;
    const regions: { buffer: GPUBuffer; offset: number; count: number }[] = [];
    const TB = ws.T * ws.B, BH = ws.B * cfg.hiddenSize, L = cfg.numLayers;
    const want = (on: boolean, list: () => GPUBuffer[], count: number) => {
      if (!on) return -1;
      const at = regions.length;
      for (const buffer of list()) regions.push({ buffer, offset: 0, count });
      return at;
    };
    const gAt = want(opts.grads ?? false, () => [this.grads], this.size);
    const dxAt = want(inputGrad, () => [ws.dx], TB * cfg.inputSize);
    const dhAt = want(opts.stateGrads ?? false, () => ws.layers.map((lb) => lb.dh0), BH);
    const dcAt = want((opts.stateGrads ?? false) && lstm, () => ws.layers.map((lb) => lb.dc), BH);
    const nhAt = want(probes, () => ws.layers.map((lb) => lb.dhNorm!), TB);
    const ncAt = want(probes && lstm, () => ws.layers.map((lb) => lb.dcNorm!), TB);
    if (regions.length === 0) {
      this.gpu.device.queue.submit([enc.finish()]);
      return { grads: null, dx: null, dh0: null, dc0: null, dhNorm: null, dcNorm: null };
    }
    const got = await readBuffers(this.gpu, regions, enc);
    const pick = (at: number, n: number) => (at < 0 ? null : got.slice(at, at + n));
    return {
      grads: gAt < 0 ? null : got[gAt],
      dx: dxAt < 0 ? null : got[dxAt],
      dh0: pick(dhAt, L),
      dc0: pick(dcAt, L),
      dhNorm: pick(nhAt, L),
      dcNorm: pick(ncAt, L),
    };
  }

  /** Sets every gradient to zero (backward accumulates). */
  zeroGrad(): void {
    this.#live();
    const enc = this.gpu.device.createCommandEncoder();
    enc.clearBuffer(this.grads);
    this.gpu.device.queue.submit([enc.finish()]);
  }

  /** Reads the parameters back (float32, `parameters` order). */
  async readParams(): Promise<Float32Array> {
    this.#live();
    return (await readBuffers(this.gpu, [{ buffer: this.params, offset: 0, count: this.size }]))[0];
  }

  /** Reads the gradients back. */
  async readGrads(): Promise<Float32Array> {
    this.#live();
    return (await readBuffers(this.gpu, [{ buffer: this.grads, offset: 0, count: this.size }]))[0];
  }

  /** Replaces the parameters (`parameters` order, e.g. `Model.params` or a state dict flattened). */
  writeParams(values: ArrayLike<number>): void {
    this.#live();
    if (values.length !== this.size) {
      throw new RangeError(`writeParams: ${values.length} values, expected ${this.size} (the model's parameters)`);
    }
    this.#write(this.params, values);
  }

  // ------------------------------------------------------------------------------------------------ training

  /**
   * Submits one training step (forward, loss, BPTT, gradient norm, clipping, optimizer update) as one command buffer,
   * without waiting; its loss and gradient norm (and outputs / probes when asked) go to a readback log that
   * `readSteps()` reads with one `mapAsync` for all steps submitted since the last read. Within such a group, a
   * divergence (non-finite loss or gradient) stops every later update on the GPU.
   */
  submitTrainStep(batch: Batch, opts: TrainStepOptions): void {
    this.#live();
    const cfg = this.config, { T, B } = batch;
    this.#checkShape("trainStep", batch.x, T, B);
    const truncate = opts.truncate ?? 0;
    if (!(Number.isInteger(truncate) && truncate >= 0)) {
      throw new RangeError(`trainStep: truncate = ${truncate}, expected an integer ≥ 0 (0 = full BPTT)`);
    }
    for (const [name, v] of [["clipNorm", opts.clipNorm], ["clipValue", opts.clipValue]] as const) {
      if (v !== undefined && !(v > 0)) throw new RangeError(`trainStep: ${name} = ${v}, expected a number > 0`);
    }
    const state = this.#optimizers.state(opts.optimizer);
    const ws = this.#workspaces.get(T, B);
    this.#write(ws.x, batch.x);
    this.#writeTargets(ws, opts.loss, batch.target, batch.mask ?? null);
    this.#writeUniform(
      this.#normU,
      new Uniforms().u(Math.min(NORM_MAX_GROUPS, ceilDiv(this.size, NORM_WG))).f(opts.clipNorm ?? 0).u(0, 0),
    );
    const before = this.#optimizers.snapshot(state);
    this.#optimizers.writeStep(opts.optimizer, state, opts.clipValue ?? 0);

    const enc = this.gpu.device.createCommandEncoder();
    if (this.#log.pending === 0) enc.clearBuffer(this.#stats);
    this.#programs.forward(ws, false, false).encode(enc);
    this.#programs.loss(ws, opts.loss).encode(enc);
    const probes = opts.probes ?? false;
    this.#programs.backward(ws, {
      fromOutputs: true,
      truncate,
      probes,
      inputGrad: false,
      accumulate: false,
      dhN: false,
      dcN: false,
    }).encode(enc);
    this.#optimizers.program(state).encode(enc);
    this.#forwarded = null;
    // What to read back: stats (4), outputs, probes.
    const out = opts.readOutputs ? this.#outputRegion(ws) : null;
    const TB = T * B, L = cfg.numLayers, lstm = cfg.cell === "lstm";
    const nProbe = probes ? TB * L * (lstm ? 2 : 1) : 0;
    const need = 4 + (out?.count ?? 0) + nProbe;
    const at = this.#log.reserve(enc, need), log = this.#log.buffer;
    enc.copyBufferToBuffer(this.#stats, 0, log, at * 4, 16);
    let next = at + 4;
    if (out !== null) {
      enc.copyBufferToBuffer(out.buffer, out.offset * 4, log, next * 4, out.count * 4);
      next += out.count;
    }
    if (probes) {
      for (const lb of ws.layers) {
        enc.copyBufferToBuffer(lb.dhNorm!, 0, log, next * 4, TB * 4);
        next += TB;
      }
      if (lstm) {
        for (const lb of ws.layers) {
          enc.copyBufferToBuffer(lb.dcNorm!, 0, log, next * 4, TB * 4);
          next += TB;
        }
      }
    }
    this.gpu.device.queue.submit([enc.finish()]);
    this.#log.push({
      at,
      outputs: out?.count ?? 0,
      probes: probes ? { layers: L, count: TB, lstm } : null,
      optimizer: before,
    });
  }

  /** Number of submitted steps not yet read back. */
  get pendingSteps(): number {
    return this.#log.pending;
  }

  /**
   * Reads back every step submitted since the last read (one `mapAsync`), in order. Steps after a diverged one in the
   * same group applied no update; the optimizer's GPU-side counters are set back to before the diverged step.
   */
  async readSteps(): Promise<TrainStepResult[]> {
    this.#live();
    if (this.#log.pending === 0) return [];
    const { values: all, entries: pending } = await this.#log.read();
    const results: TrainStepResult[] = [];
    let rolledBack = false;
    for (const p of pending) {
      let at = p.at;
      const flag = all[at + 3];
      const r: TrainStepResult = {
        loss: all[at],
        gradNorm: all[at + 1],
        diverged: flag === 1 ? "loss" : flag === 2 ? "gradient" : null,
        outputs: null,
        dhNorm: null,
        dcNorm: null,
      };
      at += 4;
      if (p.outputs > 0) {
        r.outputs = all.slice(at, at + p.outputs);
        at += p.outputs;
      }
      if (p.probes !== null) {
        const { layers, count, lstm } = p.probes;
        r.dhNorm = Array.from({ length: layers }, (_, l) => all.slice(at + l * count, at + (l + 1) * count));
        at += layers * count;
        if (lstm) r.dcNorm = Array.from({ length: layers }, (_, l) => all.slice(at + l * count, at + (l + 1) * count));
      }
      if (r.diverged !== null && !rolledBack) {
        this.#optimizers.restore(p.optimizer);
        rolledBack = true;
      }
      results.push(r);
    }
    return results;
  }

  /**
   * One training step, read back at once: `submitTrainStep` then `readSteps` (one `mapAsync`). Returns the step's
   * loss and gradient norm (and outputs / probes when asked); a diverged step applied no update.
   */
  async trainStep(batch: Batch, opts: TrainStepOptions): Promise<TrainStepResult> {
    if (this.#log.pending > 0) {
      throw new Error("trainStep: steps submitted with submitTrainStep are still unread; call readSteps() first");
    }
    this.submitTrainStep(batch, opts);
    return (await this.readSteps())[0];
  }

  /** Optimizer steps this model applied with `opt` on the GPU (the CPU optimizer's own counter is not used). */
  optimizerSteps(opt: Optimizer): number {
    return this.#optimizers.steps(opt);
  }

  /** Frees every GPU buffer (and the device, when the model created it). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#workspaces.dispose();
    this.#programs.dispose();
    this.#optimizers.dispose();
    for (const b of [this.params, this.grads, this.#stats, this.#normPartial, this.#lossU, this.#normU]) {
      b.destroy();
    }
    this.#log.dispose();
    if (this.#ownsDevice) this.gpu.device.destroy();
  }
}
