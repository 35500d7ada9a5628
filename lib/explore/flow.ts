/**
 * What the gradient-flow explorer computes, as plain library calls that run the same in the browser and in Deno:
 * a model from the explorer's settings, ‖∂L/∂h_t‖ and ‖∂L/∂c_t‖ against the lag k = T − 1 − t over seeds (the loss
 * at the last step, or at every step), Pascanu et al.'s bound for the RNN, the heatmap over (T, t) and the LSTM's
 * gate means per step. The page shows `libraryCall(settings)`, which reproduces its numbers in Deno.
 *
 * Imports only browser-safe modules (lib/mod.ts and the task registry).
 *
 * @module
 */

import {
  type CellType,
  cpuModel,
  type InitConfig,
  lossAndGradient,
  type Model,
  type ModelConfig,
  Rng,
  spectralNorm,
  type WebGpuContext,
  WebGpuModel,
} from "../mod.ts";
import { createTask } from "../tasks/registry.ts";
import { log10 } from "../math.ts";
import { pow10, powPositive } from "../plot/stats.ts";

/** The recurrent-weight schemes the explorer offers ("spectral": W ~ N(0, 1/H) rescaled to spectral radius ρ). */
export const INIT_SCHEMES = ["spectral", "spectral-orthogonal", "uniform", "glorot", "orthogonal", "identity"] as const;
/** An initialisation scheme of W_hh. */
export type InitScheme = (typeof INIT_SCHEMES)[number];
/** The cells the library has. */
export const CELLS: readonly CellType[] = ["rnn", "lstm"];

/** Every setting of the explorer (each one is a URL parameter of the page). */
export interface ExploreSettings {
  cell: CellType;
  hiddenSize: number;
  T: number;
  /** Spectral radius of W_hh (schemes "spectral" and "spectral-orthogonal"). */
  rho: number;
  /** LSTM: effective forget-gate bias. */
  forgetBias: number;
  init: InitScheme;
  /** Loss at the last step only, or at every step. */
  loss: "last" | "every";
  batch: number;
  /** First seed and number of seeds (the band is the quartiles over seeds). */
  seed: number;
  seeds: number;
  /** Where the passes run: the WebAssembly kernels ("cpu") or WebGPU ("webgpu", where the runtime has it). */
  backend: "cpu" | "webgpu";
}

/** The explorer's default settings. */
export const DEFAULT_SETTINGS: Readonly<ExploreSettings> = Object.freeze({
  cell: "rnn",
  hiddenSize: 64,
  T: 200,
  rho: 0.9,
  forgetBias: 1,
  init: "spectral",
  loss: "last",
  batch: 16,
  seed: 0,
  seeds: 5,
  backend: "cpu",
});

/** Allowed ranges of the numeric settings: [min, max, step]. */
export const RANGES: Readonly<Record<string, readonly [number, number, number]>> = Object.freeze({
  hiddenSize: [2, 256, 1],
  T: [2, 2000, 1],
  rho: [0, 3, 0.01],
  forgetBias: [-5, 10, 0.1],
  batch: [1, 128, 1],
  seed: [0, 1_000_000, 1],
  seeds: [1, 20, 1],
});

/**
 * Settings from URL parameters: unknown or invalid values fall back to the defaults (and are reported in `errors`,
 * naming the field, the value and what is allowed).
 *
 * @example
 * ```ts
 * import { settingsFromQuery } from "./flow.ts";
 * settingsFromQuery("cell=lstm&T=500").settings.T; // 500
 * settingsFromQuery("T=0").errors; // ["T: got 0, expected an integer in [2, 2000]"]
 * ```
 */
export function settingsFromQuery(query: string | URLSearchParams): { settings: ExploreSettings; errors: string[] } {
  const q = typeof query === "string" ? new URLSearchParams(query) : query;
  const s: ExploreSettings = { ...DEFAULT_SETTINGS };
  const errors: string[] = [];
  const cell = q.get("cell");
  if (cell !== null) {
    if ((CELLS as readonly string[]).includes(cell)) s.cell = cell as CellType;
    else errors.push(`cell: got ${JSON.stringify(cell)}, expected one of ${CELLS.join(", ")}`);
  }
  const init = q.get("init");
  if (init !== null) {
    if ((INIT_SCHEMES as readonly string[]).includes(init)) s.init = init as InitScheme;
    else errors.push(`init: got ${JSON.stringify(init)}, expected one of ${INIT_SCHEMES.join(", ")}`);
  }
  const backend = q.get("backend");
  if (backend !== null) {
    if (backend === "cpu" || backend === "webgpu") s.backend = backend;
    else errors.push(`backend: got ${JSON.stringify(backend)}, expected cpu or webgpu`);
  }
  const loss = q.get("loss");
  if (loss !== null) {
    if (loss === "last" || loss === "every") s.loss = loss;
    else errors.push(`loss: got ${JSON.stringify(loss)}, expected last or every`);
  }
  for (const [key, [lo, hi, step]] of Object.entries(RANGES)) {
    const raw = q.get(key);
    if (raw === null) continue;
    const v = Number(raw);
    const integer = step === 1;
    if (raw.trim() === "" || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      errors.push(`${key}: got ${raw}, expected ${integer ? "an integer" : "a number"} in [${lo}, ${hi}]`);
      continue;
    }
    (s as unknown as Record<string, number>)[key] = v;
  }
  return { settings: s, errors };
}

/**
 * The URL query of settings (only those that differ from the defaults, in a fixed order).
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS, settingsToQuery } from "./flow.ts";
 * settingsToQuery({ ...DEFAULT_SETTINGS, cell: "lstm" }); // "cell=lstm"
 * ```
 */
export function settingsToQuery(s: ExploreSettings): string {
  const q = new URLSearchParams();
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof ExploreSettings)[]) {
    if (s[key] !== DEFAULT_SETTINGS[key]) q.set(key, String(s[key]));
  }
  return q.toString();
}

/** The InitConfig of the settings. */
export function initConfig(s: ExploreSettings): InitConfig {
  const init: InitConfig = {};
  if (s.init === "spectral") init.recurrentWeights = { spectralRadius: s.rho };
  else if (s.init === "spectral-orthogonal") init.recurrentWeights = { spectralRadius: s.rho, base: "orthogonal" };
  else init.recurrentWeights = s.init;
  if (s.cell === "lstm") init.forgetBias = s.forgetBias;
  return init;
}

/**
 * The model of the settings for one seed: inputs and outputs of the two-channel adding problem (Arjovsky et al.),
 * the readout at the last step or at every step.
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS, modelConfig } from "./flow.ts";
 * modelConfig(DEFAULT_SETTINGS, 0).init; // { recurrentWeights: { spectralRadius: 0.9 } }
 * ```
 */
export function modelConfig(s: ExploreSettings, seed: number): ModelConfig {
  return {
    cell: s.cell,
    inputSize: 2,
    hiddenSize: s.hiddenSize,
    outputSize: 1,
    readout: s.loss,
    init: initConfig(s),
    seed,
  };
}

/** One seed's measurement: per-step norms over the batch, from one forward and backward pass. */
export interface SeedFlow {
  seed: number;
  /** Median over the batch of ‖∂L/∂h_t‖ at lag k = T − 1 − t (index k). */
  dh: Float64Array;
  /** The same for ‖∂L/∂c_t‖ (LSTM), else null. */
  dc: Float64Array | null;
  /** λ₁ = ‖W_hh‖₂ (the whole 4H×H matrix for the LSTM). */
  lambda1: number;
  /** LSTM: mean input, forget and output gate per step t (index t). */
  gates: { input: Float64Array; forget: Float64Array; output: Float64Array } | null;
}

function medianOf(v: Float64Array | number[]): number {
  const s = Float64Array.from(v).sort();
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * One seed: builds the model, draws a batch of the adding problem (data seed = model seed, stream 1), puts an MSE
 * loss at the last step (or at every step), runs BPTT with probes and takes the batch median per step.
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS, measureSeed } from "./flow.ts";
 * const f = measureSeed({ ...DEFAULT_SETTINGS, T: 50 }, 0);
 * f.dh[0] > f.dh[49]; // true: ρ = 0.9 vanishes
 * ```
 */
export function measureSeed(s: ExploreSettings, seed: number, T: number = s.T): SeedFlow {
  const model = cpuModel(modelConfig(s, seed));
  try {
    const batch = createTask("adding", { T, variant: "arjovsky" }).batch(new Rng(seed, 1), s.batch);
    return { seed, ...measureModel(model, batch, s.loss) };
  } finally {
    model.dispose();
  }
}

/**
 * One forward and backward pass of a model on a batch with probes: an MSE loss on the readout at the last step
 * (`loss: "last"`; for a model whose readout is at every step, a mask keeps the last step only) or at every step
 * (the batch's target, repeated), and the batch median per step of ‖∂L/∂h_t‖ and ‖∂L/∂c_t‖ of the top layer.
 *
 * @example
 * ```ts
 * import { measureModel } from "./flow.ts";
 * import { cpuModel, Rng } from "../mod.ts";
 * import { createTask } from "../tasks/registry.ts";
 * const model = cpuModel({ cell: "lstm", inputSize: 2, hiddenSize: 8, outputSize: 1, seed: 0 });
 * const batch = createTask("adding", { T: 20, variant: "arjovsky" }).batch(new Rng(0, 1), 4);
 * measureModel(model, batch, "last").dh.length; // 20
 * ```
 */
export function measureModel(
  model: Model,
  batch: { x: ArrayLike<number>; T: number; B: number; target: ArrayLike<number> },
  loss: "last" | "every",
): Omit<SeedFlow, "seed"> {
  const B = batch.B, Tb = batch.T, O = model.outputWidth;
  const y = model.forward(batch.x, Tb, B);
  const R = model.outputRows(Tb, B);
  const every = model.config.readout === "every";
  // targets: the batch's own when they fit the readout, else its last-step target at every step
  let target: ArrayLike<number> = batch.target;
  let mask: Uint8Array | null = null;
  if (batch.target.length !== R * O) {
    const t = new Float32Array(R * O);
    for (let i = 0; i < R * O; i++) t[i] = batch.target[i % batch.target.length];
    target = t;
  }
  if (every && loss === "last") {
    mask = new Uint8Array(R);
    for (let b = 0; b < B; b++) mask[(Tb - 1) * B + b] = 1;
  }
  let gates: SeedFlow["gates"] = null;
  if (model.config.cell === "lstm") {
    const g = model.gateStats(); // needs the forward activations: before backward
    gates = {
      input: Float64Array.from(g.input),
      forget: Float64Array.from(g.forget),
      output: Float64Array.from(g.output),
    };
  }
  const dy = model.outputGrad();
  lossAndGradient("mse", R, O, y, target, mask, dy);
  model.zeroGrad();
  const res = model.backward(dy, { probes: true });
  model.zeroGrad();
  const L = model.config.numLayers;
  const med = (norms: ArrayLike<number>) => {
    const out = new Float64Array(Tb), row = new Float64Array(B);
    for (let k = 0; k < Tb; k++) {
      const t = Tb - 1 - k;
      for (let b = 0; b < B; b++) row[b] = norms[t * B + b];
      out[k] = medianOf(row);
    }
    return out;
  };
  const H = model.config.hiddenSize, whh = model.parameter(`rnn.weight_hh_l${L - 1}`), G = whh.shape[0] / H;
  const w = whh.value;
  return {
    dh: med(res.dhNorm![L - 1]),
    dc: res.dcNorm === null ? null : med(res.dcNorm[L - 1]),
    lambda1: spectralNorm(w, G * H, H),
    gates,
  };
}

/** The explorer's main view: the profile over seeds, the bound and the gates. */
export interface FlowProfile {
  settings: ExploreSettings;
  T: number;
  /** Per lag k (index): median over seeds of each seed's batch median, and the quartiles over seeds. */
  dh: { median: number[]; q25: number[]; q75: number[] };
  dc: { median: number[]; q25: number[]; q75: number[] } | null;
  /** Pascanu et al.'s bound ‖∂L/∂h_{T−1}‖·(λ₁γ)^k (γ = 1 for tanh), RNN only; λ₁ the median over seeds. */
  bound: number[] | null;
  lambda1: number;
  /** Fitted factor per step of ‖∂L/∂h_t‖ (median over seeds of the batch median; lags ≥ 1 with normal values). */
  factor: number;
  /** The first seed's gate means per step t (LSTM). */
  gates: SeedFlow["gates"];
  seeds: SeedFlow[];
}

function quartiles(cols: Float64Array[], n: number) {
  const median: number[] = [], q25: number[] = [], q75: number[] = [];
  const v = new Float64Array(cols.length);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < cols.length; i++) v[i] = cols[i][k];
    const s = Float64Array.from(v).sort();
    const q = (p: number) => {
      const x = p * (s.length - 1), i = Math.floor(x), f = x - i;
      return i + 1 < s.length ? s[i] + f * (s[i + 1] - s[i]) : s[i];
    };
    median.push(q(0.5));
    q25.push(q(0.25));
    q75.push(q(0.75));
  }
  return { median, q25, q75 };
}

/** Least-squares slope of log10(v[k]) against k over k ≥ 1 where v is a normal float32, as a factor 10^slope. */
export function fittedFactor(v: ArrayLike<number>): number {
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let k = 1; k < v.length; k++) {
    const x = v[k];
    if (!(x >= 1.1754943508222875e-38 && x <= 3.4028234663852886e38)) continue;
    const y = log10(x);
    n++, sx += k, sy += y, sxx += k * k, sxy += k * y;
  }
  if (n < 2) return NaN;
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return pow10(slope);
}

/**
 * The profile of the settings: `seeds` seeds from `seed` on, each one forward and backward pass.
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS, gradientFlowProfile } from "./flow.ts";
 * const p = gradientFlowProfile({ ...DEFAULT_SETTINGS, T: 100, seeds: 3 });
 * p.factor < 1; // true: ρ = 0.9, the gradient vanishes
 * ```
 */
export function gradientFlowProfile(s: ExploreSettings): FlowProfile {
  const seeds: SeedFlow[] = [];
  for (let i = 0; i < s.seeds; i++) seeds.push(measureSeed(s, s.seed + i));
  return profileOf(s, seeds);
}

function profileOf(s: ExploreSettings, seeds: SeedFlow[]): FlowProfile {
  const T = seeds[0].dh.length;
  const dh = quartiles(seeds.map((f) => f.dh), T);
  const dc = s.cell === "lstm" ? quartiles(seeds.map((f) => f.dc!), T) : null;
  const lambda1 = medianOf(seeds.map((f) => f.lambda1));
  const bound = s.cell === "rnn" ? dh.median.map((_, k) => dh.median[0] * powPositive(lambda1, k)) : null;
  return {
    settings: s,
    T,
    dh,
    dc,
    bound,
    lambda1,
    factor: fittedFactor(dh.median),
    gates: seeds[0].gates,
    seeds,
  };
}

/**
 * `measureSeed` on WebGPU: the same model (the same initial weights: `WebGpuModel.create` initialises as `Model`),
 * batch and loss, BPTT with probes on the GPU. Gate means are not read back (null).
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS, measureSeedWebGpu } from "./flow.ts";
 * import { requestWebGpuDevice } from "../mod.ts";
 * // const f = await measureSeedWebGpu({ ...DEFAULT_SETTINGS, T: 50 }, 0, await requestWebGpuDevice());
 * ```
 */
export async function measureSeedWebGpu(
  s: ExploreSettings,
  seed: number,
  device: WebGpuContext,
  T: number = s.T,
): Promise<SeedFlow> {
  const config = modelConfig(s, seed);
  const model = await WebGpuModel.create(config, { device });
  try {
    const batch = createTask("adding", { T, variant: "arjovsky" }).batch(new Rng(seed, 1), s.batch);
    const B = batch.B, Tb = batch.T, O = model.outputWidth;
    const y = await model.forward(batch.x, Tb, B);
    const R = y.length / O;
    const target = new Float32Array(R * O);
    for (let i = 0; i < R * O; i++) target[i] = (batch.target as ArrayLike<number>)[i % batch.target.length];
    const dy = new Float32Array(R * O);
    lossAndGradient("mse", R, O, y, target, null, dy);
    model.zeroGrad();
    const res = await model.backward(dy, { probes: true });
    const L = config.numLayers ?? 1, H = s.hiddenSize, G = s.cell === "lstm" ? 4 : 1;
    const cpu = cpuModel({ ...config, backend: "js" }); // the same initial weights, for λ₁
    const lambda1 = spectralNorm(cpu.parameter(`rnn.weight_hh_l${L - 1}`).value, G * H, H);
    cpu.dispose();
    const med = (norms: ArrayLike<number>) => {
      const out = new Float64Array(Tb), row = new Float64Array(B);
      for (let k = 0; k < Tb; k++) {
        for (let b = 0; b < B; b++) row[b] = norms[(Tb - 1 - k) * B + b];
        out[k] = medianOf(row);
      }
      return out;
    };
    return {
      seed,
      dh: med(res.dhNorm![L - 1]),
      dc: res.dcNorm === null ? null : med(res.dcNorm[L - 1]),
      lambda1,
      gates: null,
    };
  } finally {
    model.dispose();
  }
}

/**
 * `gradientFlowProfile` with every pass on WebGPU (no gate means).
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS, gradientFlowProfileWebGpu } from "./flow.ts";
 * import { requestWebGpuDevice } from "../mod.ts";
 * // const p = await gradientFlowProfileWebGpu({ ...DEFAULT_SETTINGS, backend: "webgpu" }, await requestWebGpuDevice());
 * ```
 */
export async function gradientFlowProfileWebGpu(s: ExploreSettings, device: WebGpuContext): Promise<FlowProfile> {
  const seeds: SeedFlow[] = [];
  for (let i = 0; i < s.seeds; i++) seeds.push(await measureSeedWebGpu(s, s.seed + i, device));
  return profileOf(s, seeds);
}

/** The sequence lengths of the heatmap: eight from T/8 to T. */
export function heatmapLengths(T: number): number[] {
  const out = new Set<number>();
  for (let i = 1; i <= 8; i++) out.add(Math.max(2, Math.round((T * i) / 8)));
  return [...out];
}

/** One cell of the heatmap: log10 of the first seed's batch-median norm at step t of a sequence of length T. */
export interface HeatCell {
  T: number;
  /** The bin's time steps [t, t1). */
  t: number;
  t1: number;
  log10norm: number;
}

/**
 * The heatmap over (T, t): for each length of `heatmapLengths`, the first seed's batch-median ‖∂L/∂h_t‖ (or, for
 * the LSTM, ‖∂L/∂c_t‖) per step, averaged in log10 over bins of one width counted back from the loss step (at most
 * `bins` in the longest row).
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS, flowHeatmap } from "./flow.ts";
 * flowHeatmap({ ...DEFAULT_SETTINGS, T: 40 }).length > 0; // true
 * ```
 */
export function flowHeatmap(s: ExploreSettings, bins = 40): HeatCell[] {
  const width = Math.max(1, Math.ceil(s.T / bins));
  const out: HeatCell[] = [];
  for (const T of heatmapLengths(s.T)) {
    const f = measureSeed(s, s.seed, T);
    const v = f.dc ?? f.dh;
    // bins of lags from the loss step back (the last bin of every row holds lags 0 .. width − 1)
    for (let k0 = 0; k0 < T; k0 += width) {
      let sum = 0, n = 0;
      for (let k = k0; k < Math.min(T, k0 + width); k++) {
        const x = v[k];
        sum += x > 0 ? Math.max(-45, log10(x)) : -45;
        n++;
      }
      out.push({ T, t: Math.max(0, T - k0 - width), t1: T - k0, log10norm: Math.round((sum / n) * 1000) / 1000 });
    }
  }
  return out;
}

/**
 * The TypeScript that reproduces the explorer's numbers in Deno (run from the repository root).
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS, libraryCall } from "./flow.ts";
 * libraryCall(DEFAULT_SETTINGS).includes("gradientFlowProfile"); // true
 * ```
 */
export function libraryCall(s: ExploreSettings): string {
  const js = (v: unknown) =>
    JSON.stringify(v).replace(/"(\w+)":/g, "$1: ").replace(/,/g, ", ").replace(/\{/g, "{ ").replace(/\}/g, " }");
  const settings = js(s), cfg = js(modelConfig(s, s.seed));
  const gpu = s.backend === "webgpu";
  const target = s.loss === "every"
    ? "Array.from({ length: model.outputRows() }, (_, r) => batch.target[r % batch.B]) /* at every step */"
    : "batch.target";
  return [
    `// deno run -A flow.ts   (from the repository root)`,
    gpu
      ? `import { gradientFlowProfileWebGpu } from "./lib/explore/flow.ts";\n` +
        `import { requestWebGpuDevice } from "./lib/mod.ts";\n` +
        `const p = await gradientFlowProfileWebGpu(${settings}, await requestWebGpuDevice());`
      : `import { gradientFlowProfile } from "./lib/explore/flow.ts";\nconst p = gradientFlowProfile(${settings});`,
    `console.log(p.dh.median.slice(0, 5), p.factor); // ‖∂L/∂h_t‖ at lags 0..4, factor per step`,
    ``,
    `// which is, per seed (seed ${s.seed} shown), with lib/mod.ts${gpu ? " (on the CPU; WebGpuModel alike)" : ""}:`,
    `import { cpuModel, lossAndGradient, Rng } from "./lib/mod.ts";`,
    `import { createTask } from "./lib/tasks/registry.ts";`,
    `const model = cpuModel(${cfg});`,
    `const batch = createTask("adding", { T: ${s.T}, variant: "arjovsky" }).batch(new Rng(${s.seed}, 1), ${s.batch});`,
    `const y = model.forward(batch.x, batch.T, batch.B), dy = model.outputGrad();`,
    `lossAndGradient("mse", model.outputRows(), 1, y, ${target}, null, dy);`,
    `const { dhNorm, dcNorm } = model.backward(dy, { probes: true }); // (T, B) per layer: take the median over B`,
  ].join("\n");
}
