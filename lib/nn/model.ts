/**
 * A recurrent model: a stack of LSTM or tanh-RNN layers and a linear readout, with parameters named and laid out as
 * PyTorch's `state_dict` of
 *
 *   class Net(nn.Module):
 *     rnn = nn.LSTM(I, H, num_layers=L, batch_first=True)   # or nn.RNN(..., nonlinearity="tanh")
 *     readout = nn.Linear(H, O)
 *
 * i.e. `rnn.weight_ih_l{k}` (G·H, I_k), `rnn.weight_hh_l{k}` (G·H, H), `rnn.bias_ih_l{k}`, `rnn.bias_hh_l{k}` (G·H),
 * gate order i, f, g, o, then `readout.weight` (O, H), `readout.bias` (O). All parameters live in one flat buffer
 * (`params`) in that order, and their gradients in another of the same layout (`grads`), so optimizers and gradient
 * clipping are single loops.
 *
 * Sequences are time-major: x is (T, B, I), row t·B + b. Outputs are (B, O) for a readout at the last step,
 * (T, B, O) for a readout at every step, or the top layer's hidden states (T, B, H) with no readout.
 *
 * @module
 */

import { type Arr, CPU_KERNEL_CHOICES, type CpuKernelChoice, type DType, type Kernels } from "./kernels.ts";
import { jsKernels } from "./js_kernels.ts";
import { checkInitConfig, type InitConfig, initParameter, type ParamRole } from "./init.ts";
import { Rng } from "../rng.ts";
import { type CellType, gatesPerUnit, type LayerWeights, RecurrentLayer } from "./layer.ts";
import { Linear, type LinearWeights } from "./linear.ts";
import type { Batch } from "./batch.ts";
import { lossAndGradient } from "./loss.ts";
import { cellDefinition, cellNames, type CellOptions, checkCellOptions, resolveCell } from "./cells.ts";
import type { TrainStepOptions, TrainStepResult } from "./train_step.ts";
import { clipGradNorm, clipGradValue, gradNorm } from "../optim/clip.ts";

/** Where the readout reads the hidden state: at the last step only, at every step, or nowhere. */
export type ReadoutPlacement = "last" | "every" | "none";

/**
 * Which CPU kernels run the model: "cpu" the fastest for the dtype (WebAssembly SIMD for float32, the reference
 * kernels for float64; chosen by `cpuModel` / `createModel` in the backend layer); "js" the plain TypeScript
 * reference kernels of this folder.
 */
export type CpuBackendName = "cpu" | "js";

/** What a model is. */
export interface ModelConfig extends CellOptions {
  /** "lstm" (the seed's cell; `variant`, `peepholes` select Greff et al.'s variants), "rnn", "gru", ... */
  cell: CellType;
  inputSize: number;
  hiddenSize: number;
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Readout outputs; required unless `readout` is "none". */
  outputSize?: number;
  /** Default "last". */
  readout?: ReadoutPlacement;
  /** Default "float32". */
  dtype?: DType;
  /** Default: PyTorch's initialisation. */
  init?: InitConfig;
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
  /** Default "cpu". */
  backend?: CpuBackendName;
  /**
   * Threads the CPU kernels may use, this one included (default 1). Results are identical for any number.
   * Sweeps run one model per core and keep 1; a single large model trains faster with the machine's cores.
   */
  threads?: number;
  /**
   * Which CPU kernels (backend "cpu"): "wasm" (default; bit-identical everywhere, what every committed result ran
   * on), "blas" (matrix products in the machine's BLAS through FFI), or "auto" (BLAS where it loads). See
   * `backend/cpu/cpu_kernels.ts` (`cpuModel` passes it on).
   */
  kernels?: CpuKernelChoice;
}

/** One named parameter: its place in the flat buffers and views of its value and gradient. */
export interface Parameter {
  /** PyTorch state_dict name, e.g. `rnn.weight_hh_l0`. */
  name: string;
  role: ParamRole;
  /** Layer index for recurrent parameters, -1 for the readout. */
  layer: number;
  shape: number[];
  /** Offset into `Model.params` / `Model.grads`. */
  offset: number;
  size: number;
  value: Arr;
  grad: Arr;
}

/** Options of `Model.forward`. */
export interface ForwardOptions {
  /** Initial hidden states (L, B, H); zeros when absent. */
  h0?: ArrayLike<number>;
  /** Initial cell states (L, B, H), LSTM; zeros when absent. */
  c0?: ArrayLike<number>;
}

/** Options of `Model.backward`. */
export interface BackwardOptions {
  /** Gradient on the final hidden states h_n (L, B, H), e.g. from a loss on them. */
  dhN?: ArrayLike<number>;
  /** Gradient on the final cell states c_n (L, B, H), LSTM. */
  dcN?: ArrayLike<number>;
  /** Truncated BPTT: detach the state every k steps (0 or absent: full BPTT). */
  truncate?: number;
  /** Record ‖∂L/∂h_t‖₂ and (LSTM) ‖∂L/∂c_t‖₂ per step and batch row, for every layer. */
  probes?: boolean;
  /** Compute ∂L/∂x (T, B, I). */
  inputGrad?: boolean;
}

/** What `Model.backward` returns; arrays are views valid until the next forward or backward call. */
export interface BackwardResult {
  /** ∂L/∂x (T, B, I) when `inputGrad` was set. */
  dx: Arr | null;
  /** ∂L/∂h0 per layer, each (B, H). */
  dh0: Arr[];
  /** ∂L/∂c0 per layer, each (B, H) (LSTM). */
  dc0: Arr[] | null;
  /** Per layer, ‖∂L/∂h_t‖₂ as (T, B), when `probes` was set. */
  dhNorm: Arr[] | null;
  /** Per layer, ‖∂L/∂c_t‖₂ as (T, B) (LSTM), when `probes` was set. */
  dcNorm: Arr[] | null;
}

/** Mean activation of the LSTM's input, forget and output gates at each step (over batch rows and units). */
export interface GateStats {
  input: Float64Array;
  forget: Float64Array;
  output: Float64Array;
}

/**
 * A stacked LSTM or tanh RNN with a linear readout.
 *
 * @example
 * ```ts
 * import { Model } from "./model.ts";
 * import { mseLoss } from "./loss.ts";
 * const model = new Model({ cell: "lstm", inputSize: 2, hiddenSize: 8, outputSize: 1, seed: 1, backend: "js" });
 * const T = 10, B = 4;
 * const x = new Float32Array(T * B * 2).fill(0.5);
 * const y = model.forward(x, T, B); // (B, 1)
 * const dy = model.outputGrad();
 * const loss = mseLoss(B, 1, y, [1, 1, 1, 1], null, dy);
 * model.zeroGrad();
 * model.backward(dy);
 * // model.grads now holds ∂loss/∂params, in model.parameters order
 * ```
 */
export class Model {
  readonly config:
    & Readonly<Required<Omit<ModelConfig, "init" | "variant" | "peepholes">>>
    & Readonly<CellOptions>
    & { init: InitConfig };
  /** The registered cell the kernels run: `config.cell` with its options (see `resolveCell` in cells.ts). */
  readonly cellName: string;
  readonly kernels: Kernels;
  /** All parameters, flat, in `parameters` order. */
  readonly params: Arr;
  /** Gradients, same layout as `params`; `backward` accumulates into them. */
  readonly grads: Arr;
  readonly parameters: readonly Parameter[];
  readonly layers: readonly RecurrentLayer[];
  readonly readout: Linear | null;

  /** Where it runs (see `TrainableModel`). */
  readonly backend = "cpu" as const;
  /** Readbacks are free here: the training loop reads every step (see `TrainableModel`). */
  readonly readbackGroup = 1;

  #T = 0;
  #B = 0;
  #forwarded = false;
  #submitted: TrainStepResult[] = [];
  #disposed = false;
  #scratch = new Map<string, Arr>(); // named buffers in backend memory, grown on demand, reused across calls

  /**
   * A model on `kernels`. Without them, only `backend: "js"` (the reference kernels) can be built here: the fast CPU
   * kernels live in the backend layer (`cpuModel(config)` of lib/backend/cpu/model.ts, or `createModel(config)`).
   */
  constructor(config: ModelConfig, kernels?: Kernels) {
    const cfg = validateConfig(config);
    this.config = cfg;
    if (kernels === undefined && cfg.backend !== "js") {
      throw new Error(
        `Model: backend = "${cfg.backend}" needs its kernels; build the model with cpuModel(config) ` +
          `(lib/backend/cpu/model.ts) or createModel(config) (lib/backend/model.ts), or pass kernels`,
      );
    }
    this.kernels = kernels ?? jsKernels(cfg.dtype);
    if (this.kernels.dtype !== cfg.dtype) {
      throw new RangeError(`Model: kernels are ${this.kernels.dtype} but config.dtype is ${cfg.dtype}`);
    }
    this.cellName = resolveCell(cfg.cell, cfg);
    const k = this.kernels, G = gatesPerUnit(this.cellName), H = cfg.hiddenSize, L = cfg.numLayers;
    const extraPerUnit = cellDefinition(this.cellName).extraPerUnit ?? 0;
    const shapes: { name: string; role: ParamRole; layer: number; shape: number[] }[] = [];
    for (let l = 0; l < L; l++) {
      const inSize = l === 0 ? cfg.inputSize : H;
      shapes.push({ name: `rnn.weight_ih_l${l}`, role: "weight_ih", layer: l, shape: [G * H, inSize] });
      shapes.push({ name: `rnn.weight_hh_l${l}`, role: "weight_hh", layer: l, shape: [G * H, H] });
      shapes.push({ name: `rnn.bias_ih_l${l}`, role: "bias_ih", layer: l, shape: [G * H] });
      shapes.push({ name: `rnn.bias_hh_l${l}`, role: "bias_hh", layer: l, shape: [G * H] });
      // Peepholes [p_i | p_f | p_o] (not in PyTorch's nn.LSTM; after the layer's four, so they never shift them)
      if (extraPerUnit > 0) {
        shapes.push({ name: `rnn.peephole_l${l}`, role: "peephole", layer: l, shape: [extraPerUnit * H] });
      }
    }
    if (cfg.readout !== "none") {
      shapes.push({ name: "readout.weight", role: "readout.weight", layer: -1, shape: [cfg.outputSize, H] });
      shapes.push({ name: "readout.bias", role: "readout.bias", layer: -1, shape: [cfg.outputSize] });
    }
    const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const total = shapes.reduce((n, s) => n + sizeOf(s.shape), 0);
    this.params = k.alloc(total);
    this.grads = k.alloc(total);
    let offset = 0;
    this.parameters = shapes.map((s) => {
      const size = sizeOf(s.shape);
      const value = this.params.subarray(offset, offset + size), grad = this.grads.subarray(offset, offset + size);
      const p: Parameter = { ...s, offset, size, value, grad };
      offset += size;
      return p;
    });
    const view = (name: string, of: "value" | "grad") => this.parameter(name)[of];
    const weights = (l: number, of: "value" | "grad"): LayerWeights => ({
      wIh: view(`rnn.weight_ih_l${l}`, of),
      wHh: view(`rnn.weight_hh_l${l}`, of),
      bIh: view(`rnn.bias_ih_l${l}`, of),
      bHh: view(`rnn.bias_hh_l${l}`, of),
      ...(extraPerUnit > 0 ? { extra: view(`rnn.peephole_l${l}`, of) } : {}),
    });
    this.layers = Array.from(
      { length: L },
      (_, l) =>
        new RecurrentLayer(k, this.cellName, l === 0 ? cfg.inputSize : H, H, weights(l, "value"), weights(l, "grad")),
    );
    const linear = (of: "value" | "grad"): LinearWeights => ({
      weight: view("readout.weight", of),
      bias: view("readout.bias", of),
    });
    this.readout = cfg.readout === "none" ? null : new Linear(k, H, cfg.outputSize, linear("value"), linear("grad"));
    this.reset(cfg.seed);
  }

  /** Re-initialises every parameter from `seed` with the config's scheme (and zeroes the gradients). */
  reset(seed: number = this.config.seed): void {
    this.#live("reset");
    const rng = new Rng(seed);
    const G = gatesPerUnit(this.cellName);
    for (const p of this.parameters) initParameter(p, G, this.config.hiddenSize, this.config.init, rng);
    this.grads.fill(0);
  }

  /**
   * Releases the kernels' resources (worker threads, backend memory). Afterwards every method that computes throws
   * (rather than reading released memory); a second `dispose()` does nothing.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.kernels.dispose();
  }

  /** Whether `dispose()` was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  #live(method: string): void {
    if (this.#disposed) throw new Error(`Model.${method}: the model was disposed; build a new one`);
  }

  /** Number of scalar parameters. */
  get size(): number {
    return this.params.length;
  }

  /** Sets every gradient to zero (backward accumulates). */
  zeroGrad(): void {
    this.#live("zeroGrad");
    this.grads.fill(0);
  }

  /** Rows of the output: B for a readout at the last step, T·B otherwise. */
  outputRows(T: number = this.#T, B: number = this.#B): number {
    return this.config.readout === "last" ? B : T * B;
  }

  /** Width of an output row: O, or H with no readout. */
  get outputWidth(): number {
    return this.config.readout === "none" ? this.config.hiddenSize : this.config.outputSize;
  }

  /** A named scratch buffer of n elements in backend memory (x, outputs, their gradients, state slices). */
  #buf(name: string, n: number): Arr {
    let a = this.#scratch.get(name);
    if (a === undefined || a.length < n) {
      if (a !== undefined) this.kernels.free(a);
      a = this.kernels.alloc(n);
      this.#scratch.set(name, a);
    }
    return a.subarray(0, n);
  }

  // Layer l's (B, H) slice of an (L, B, H) state, copied into backend memory.
  #slice(name: string, s: ArrayLike<number>, l: number, BH: number): Arr {
    const dst = this.#buf(name, BH);
    for (let i = 0; i < BH; i++) dst[i] = s[l * BH + i];
    return dst;
  }

  /**
   * Runs the model on x (T, B, I) and returns the outputs (a view, valid until the next forward call):
   * (B, O) with the readout at the last step, (T, B, O) at every step, (T, B, H) with no readout.
   */
  forward(x: ArrayLike<number>, T: number, B: number, opts: ForwardOptions = {}): Arr {
    this.#live("forward");
    checkArray("forward: x", x, "T·B·I numbers, time-major (T, B, I)");
    opts ??= {};
    checkPositiveInt("forward: T", T);
    checkPositiveInt("forward: B", B);
    const cfg = this.config, I = cfg.inputSize, H = cfg.hiddenSize, L = cfg.numLayers, BH = B * H;
    if (x.length !== T * B * I) {
      throw new RangeError(`forward: x has ${x.length} values, expected T·B·I = ${T}·${B}·${I} = ${T * B * I}`);
    }
    for (const [name, s] of [["h0", opts.h0], ["c0", opts.c0]] as const) {
      if (s !== undefined) checkArray(`forward: ${name}`, s, "L·B·H numbers");
      if (s !== undefined && s.length !== L * BH) {
        throw new RangeError(`forward: ${name} has ${s.length} values, expected L·B·H = ${L * BH}`);
      }
    }
    if (opts.c0 !== undefined && !cellDefinition(cfg.cell).cellState) {
      throw new RangeError(`forward: c0 is given but cell is "${cfg.cell}" (no cell state)`);
    }
    this.#T = T;
    this.#B = B;
    const xs = this.#buf("x", T * B * I);
    xs.set(x);
    for (let l = 0; l < L; l++) {
      const input = l === 0 ? xs : this.layers[l - 1].outputs();
      const h0 = opts.h0 === undefined ? null : this.#slice("h0", opts.h0, l, BH);
      const c0 = opts.c0 === undefined ? null : this.#slice("c0", opts.c0, l, BH);
      this.layers[l].forward(input, T, B, h0, c0);
    }
    this.#forwarded = true;
    const top = this.layers[L - 1];
    if (this.readout === null) return top.outputs();
    const R = this.outputRows(T, B), y = this.#buf("y", R * cfg.outputSize);
    this.readout.forward(R, cfg.readout === "last" ? top.finalH() : top.outputs(), y);
    return y;
  }

  /** A buffer shaped like the last outputs, in backend memory: losses write ∂L/∂y here for `backward`. */
  outputGrad(): Arr {
    this.#live("outputGrad");
    return this.#buf("dy", this.outputRows() * this.outputWidth);
  }

  /**
   * Backpropagation through time from ∂L/∂outputs (`dOutput`, shaped like the outputs; null when the loss is only on
   * final states). Accumulates parameter gradients into `grads`; call `zeroGrad()` first for a fresh gradient.
   */
  backward(dOutput: ArrayLike<number> | null, opts: BackwardOptions = {}): BackwardResult {
    this.#live("backward");
    if (dOutput !== null) checkArray("backward: dOutput", dOutput, "numbers shaped like the outputs, or null");
    opts ??= {};
    if (!this.#forwarded) throw new Error("backward: call forward first (each forward feeds one backward)");
    const cfg = this.config, T = this.#T, B = this.#B, H = cfg.hiddenSize, L = cfg.numLayers, I = cfg.inputSize;
    const BH = B * H, truncate = opts.truncate ?? 0;
    if (!(Number.isInteger(truncate) && truncate >= 0)) {
      throw new RangeError(`backward: truncate = ${truncate}, expected an integer ≥ 0 (0 = full BPTT)`);
    }
    for (const [name, s] of [["dhN", opts.dhN], ["dcN", opts.dcN]] as const) {
      if (s !== undefined && s.length !== L * BH) {
        throw new RangeError(`backward: ${name} has ${s.length} values, expected L·B·H = ${L * BH}`);
      }
    }
    if (opts.dcN !== undefined && !cellDefinition(cfg.cell).cellState) {
      throw new RangeError(`backward: dcN is given but cell is "${cfg.cell}" (no cell state)`);
    }
    const R = this.outputRows(), O = this.outputWidth, top = this.layers[L - 1];
    // The gradient reaching the top layer: through the readout, or directly on its outputs.
    let topDhSeq = false, topDhFinal: Arr | null = null;
    if (dOutput !== null) {
      if (dOutput.length !== R * O) {
        throw new RangeError(`backward: dOutput has ${dOutput.length} values, expected ${R * O} (like the outputs)`);
      }
      const dy = this.#buf("dy", R * O);
      if (dOutput !== dy) dy.set(dOutput);
      if (this.readout === null) {
        top.useDhSeq().set(dy);
        topDhSeq = true;
      } else if (cfg.readout === "last") {
        topDhFinal = this.#buf("dhTop", BH);
        this.readout.backward(R, top.finalH(), dy, topDhFinal);
      } else {
        this.readout.backward(R, top.outputs(), dy, top.useDhSeq());
        topDhSeq = true;
      }
    }
    this.#forwarded = false;
    for (let l = L - 1; l >= 0; l--) {
      const below = l > 0 ? this.layers[l - 1] : null;
      const input = below === null ? this.#buf("x", T * B * I) : below.outputs();
      const dx = below !== null ? below.useDhSeq() : opts.inputGrad ? this.#buf("dx", T * B * I) : null;
      let dhFinal = l === L - 1 ? topDhFinal : null;
      if (opts.dhN !== undefined) {
        const d = this.#slice("dhN", opts.dhN, l, BH);
        if (dhFinal !== null) { for (let i = 0; i < BH; i++) d[i] += dhFinal[i]; }
        dhFinal = d;
      }
      const dcFinal = opts.dcN === undefined ? null : this.#slice("dcN", opts.dcN, l, BH);
      this.layers[l].backward(input, l === L - 1 ? topDhSeq : true, dhFinal, dcFinal, dx, {
        truncate,
        probes: opts.probes,
      });
    }
    const lstm = cellDefinition(cfg.cell).cellState;
    return {
      dx: opts.inputGrad ? this.#buf("dx", T * B * I) : null,
      dh0: this.layers.map((layer) => layer.dh),
      dc0: lstm ? this.layers.map((layer) => layer.dc) : null,
      dhNorm: opts.probes ? this.layers.map((layer) => layer.dhNorm.subarray(0, T * B)) : null,
      dcNorm: opts.probes && lstm ? this.layers.map((layer) => layer.dcNorm.subarray(0, T * B)) : null,
    };
  }

  /**
   * Mean input, forget and output gate activation at each step of the last forward pass, for layer `l` (LSTM only).
   * Call between forward and backward (backward overwrites the activations with their gradients).
   */
  gateStats(l = this.config.numLayers - 1): GateStats {
    this.#live("gateStats");
    if (this.config.cell !== "lstm") throw new RangeError(`gateStats: cell is "${this.config.cell}", not "lstm"`);
    // (an LSTM variant without a gate reports its constant: NIG's input gate 1, CIFG's 1 - f, ...)
    if (!this.#forwarded) throw new Error("gateStats: needs the activations of a forward pass not yet backpropagated");
    const layer = this.layers[l], T = this.#T, B = this.#B, H = this.config.hiddenSize;
    const stats = { input: new Float64Array(T), forget: new Float64Array(T), output: new Float64Array(T) };
    const n = B * H;
    for (let t = 0; t < T; t++) {
      const g = layer.gatesAt(t);
      let si = 0, sf = 0, so = 0;
      for (let b = 0; b < B; b++) {
        const row = b * 4 * H;
        for (let j = 0; j < H; j++) {
          si += g[row + j];
          sf += g[row + H + j];
          so += g[row + 3 * H + j];
        }
      }
      stats.input[t] = si / n;
      stats.forget[t] = sf / n;
      stats.output[t] = so / n;
    }
    return stats;
  }

  /**
   * One training step, run now (the `TrainableModel` step): forward, loss, BPTT, the global gradient norm, clipping
   * (by norm, then by value) and `optimizer.step`. A non-finite loss or gradient applies no update, and no later step
   * runs until `readSteps` has returned it. The results wait for `readSteps`; the outputs are a view of this model's
   * buffer until another step is submitted (then copied).
   */
  submitTrainStep(batch: Batch, opts: TrainStepOptions): void {
    const pending = this.#submitted, last = pending.at(-1);
    if (last?.diverged) {
      pending.push({ ...last, outputs: null, dhNorm: null, dcNorm: null });
      return;
    }
    if (last?.outputs) last.outputs = last.outputs.slice(); // the next forward overwrites the view
    const y = this.forward(batch.x, batch.T, batch.B);
    const dy = this.outputGrad();
    const loss = lossAndGradient(
      opts.loss,
      this.outputRows(),
      this.outputWidth,
      y,
      batch.target,
      batch.mask ?? null,
      dy,
    );
    const r: TrainStepResult = {
      loss,
      gradNorm: NaN,
      diverged: null,
      outputs: opts.readOutputs ? y : null,
      dhNorm: null,
      dcNorm: null,
    };
    pending.push(r);
    if (!Number.isFinite(loss)) {
      r.diverged = "loss";
      return;
    }
    this.zeroGrad();
    const res = this.backward(dy, { truncate: opts.truncate, probes: opts.probes });
    const norm = opts.clipNorm !== undefined ? clipGradNorm(this.grads, opts.clipNorm) : gradNorm(this.grads);
    r.gradNorm = norm;
    if (!Number.isFinite(norm)) {
      r.diverged = "gradient";
      return;
    }
    if (opts.clipValue !== undefined) clipGradValue(this.grads, opts.clipValue);
    opts.optimizer.step(this.params, this.grads);
    if (opts.probes) {
      r.dhNorm = res.dhNorm!.map((a) => a.slice());
      r.dcNorm = res.dcNorm?.map((a) => a.slice()) ?? null;
    }
  }

  /** Steps submitted and not yet read. */
  get pendingSteps(): number {
    return this.#submitted.length;
  }

  /** The results of the steps submitted since the last read, in order. */
  readSteps(): TrainStepResult[] {
    const r = this.#submitted;
    this.#submitted = [];
    return r;
  }

  /** A copy of the parameters. */
  readParams(): Arr {
    return this.params.slice();
  }

  /** Replaces the parameters (`parameters` order). */
  writeParams(values: ArrayLike<number>): void {
    if (values.length !== this.size) {
      throw new RangeError(`writeParams: ${values.length} values, expected ${this.size} (the model's parameters)`);
    }
    this.params.set(values);
  }

  /** Final hidden states h_n (L, B, H) of the last forward pass, copied. */
  finalHidden(): Float64Array {
    this.#live("finalHidden");
    const BH = this.#B * this.config.hiddenSize, out = new Float64Array(this.config.numLayers * BH);
    this.layers.forEach((layer, l) => out.set(layer.finalH(), l * BH));
    return out;
  }

  /** Final cell states c_n (L, B, H) of the last forward pass, copied (LSTM). */
  finalCell(): Float64Array {
    this.#live("finalCell");
    const BH = this.#B * this.config.hiddenSize, out = new Float64Array(this.config.numLayers * BH);
    this.layers.forEach((layer, l) => out.set(layer.finalC() ?? [], l * BH));
    return out;
  }

  /** The parameter with this state_dict name (throws, listing the names, when there is none). */
  parameter(name: string): Parameter {
    const p = this.parameters.find((q) => q.name === name);
    if (p === undefined) {
      throw new RangeError(`parameter: no parameter "${name}"; have ${this.parameters.map((q) => q.name).join(", ")}`);
    }
    return p;
  }
}

function checkArray(field: string, x: unknown, what: string): void {
  if (x === null || typeof x !== "object" || typeof (x as { length?: unknown }).length !== "number") {
    const got = x === null ? "null" : Array.isArray(x) ? "an array" : typeof x;
    throw new TypeError(`${field} is ${got}, expected ${what} (a Float32Array, Float64Array or number[])`);
  }
}

function checkPositiveInt(field: string, v: number): void {
  if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`${field} = ${v}, expected a positive integer`);
}

function validateConfig(c: ModelConfig): Model["config"] {
  if (!cellNames().includes(c.cell)) {
    const names = cellNames().map((n) => JSON.stringify(n)).join(" or ");
    throw new RangeError(`Model: cell = ${JSON.stringify(c.cell)}, expected ${names}`);
  }
  checkPositiveInt("Model: inputSize", c.inputSize);
  checkPositiveInt("Model: hiddenSize", c.hiddenSize);
  const numLayers = c.numLayers ?? 1;
  checkPositiveInt("Model: numLayers", numLayers);
  const readout = c.readout ?? "last";
  if (!["last", "every", "none"].includes(readout)) {
    throw new RangeError(`Model: readout = ${JSON.stringify(readout)}, expected "last", "every" or "none"`);
  }
  const outputSize = c.outputSize ?? 0;
  if (readout !== "none") checkPositiveInt("Model: outputSize", outputSize);
  const dtype = c.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "float64") {
    throw new RangeError(`Model: dtype = ${JSON.stringify(dtype)}, expected "float32" or "float64"`);
  }
  const backend = c.backend ?? "cpu";
  if (backend !== "cpu" && backend !== "js") {
    throw new RangeError(`Model: backend = ${JSON.stringify(backend)}, expected "cpu" or "js"`);
  }
  const threads = c.threads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64)) {
    throw new RangeError(`Model: threads = ${threads}, expected an integer in [1, 64]`);
  }
  if (c.init !== undefined) checkInitConfig(c.init);
  const kernels = c.kernels ?? "wasm";
  if (!(CPU_KERNEL_CHOICES as readonly string[]).includes(kernels)) {
    throw new RangeError(
      `Model: kernels = ${JSON.stringify(kernels)}, expected one of ${CPU_KERNEL_CHOICES.join(", ")}`,
    );
  }
  checkCellOptions(c.cell, c, "Model");
  const seed = c.seed ?? 0;
  if (!(Number.isSafeInteger(seed) && seed >= 0)) {
    throw new RangeError(`Model: seed = ${seed}, expected a non-negative integer`);
  }
  return {
    cell: c.cell,
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    numLayers,
    outputSize,
    readout,
    dtype,
    init: c.init ?? {},
    seed,
    backend,
    threads,
    kernels,
    ...(c.variant !== undefined ? { variant: c.variant } : {}),
    ...(c.peepholes !== undefined ? { peepholes: c.peepholes } : {}),
  };
}
