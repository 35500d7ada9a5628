/**
 * PyTorch `state_dict` interchange for `Model`, through safetensors files.
 *
 * A `Model`'s parameters already carry the names and shapes of PyTorch's `Net.state_dict()` for
 *
 *   class Net(nn.Module):
 *     rnn = nn.LSTM(I, H, num_layers=L)   # or nn.RNN(I, H, num_layers=L, nonlinearity="tanh")
 *     readout = nn.Linear(H, O)
 *
 * so a state dict is exchanged in one of two layouts:
 * - "prefixed": `rnn.weight_ih_l0`, …, `readout.weight`, `readout.bias` (the whole `Net`);
 * - "bare": `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, … as `nn.LSTM(...).state_dict()` or
 *   `nn.RNN(...).state_dict()` gives them (the recurrent part alone).
 *
 * `stateDict` exports either layout, `loadStateDict` detects and loads either, and the file helpers read and write them
 * as safetensors files (`safetensors.torch.save_file` / `load_file` on the PyTorch side). Files written by
 * `saveTorchFile` carry `__metadata__` strings (`cell`, `inputSize`, `hiddenSize`, `numLayers`, `outputSize`,
 * `readout`) from which `modelFromTorchFile` rebuilds the model; for a PyTorch file without them the sizes are inferred
 * from the keys and shapes.
 *
 * Sequences: PyTorch modules are usually `batch_first=True`, with sequences (B, T, F), while `Model` is time-major,
 * (T, B, F); `batchFirstToTimeMajor` and `timeMajorToBatchFirst` convert. States h0, c0, h_n, c_n are (L, B, H) in
 * both, whatever `batch_first` says, and need no conversion.
 *
 * @module
 */

import { cpuModel } from "../backend/cpu/model.ts";
import type { CellType } from "../nn/kernels.ts";
import { Model, type ModelConfig, type Parameter, type ReadoutPlacement } from "../nn/model.ts";
import { type NamedTensor, readSafetensorsFile, type SafeDType, writeSafetensorsFile } from "./safetensors.ts";

/** Options of `stateDict`. */
export interface StateDictOptions {
  /** "rnn": the recurrent part only, with bare `nn.LSTM` / `nn.RNN` keys (`weight_ih_l0`, …). Default: everything. */
  only?: "rnn";
  /** Element type of the exported tensors. Default: the model's ("F32" for float32, "F64" for float64). */
  dtype?: SafeDType;
}

/** Options of `loadStateDict` and `loadTorchFile`. */
export interface LoadStateDictOptions {
  /**
   * Default true: every parameter the dict's layout covers must be present, and no other key. With false, missing
   * parameters keep their values and unknown keys are ignored (both are reported). Shapes must match either way.
   */
  strict?: boolean;
}

/**
 * How a state dict names its tensors: "bare" for `nn.LSTM` / `nn.RNN` keys (`weight_ih_l0`, …), "prefixed" for
 * the whole model (`rnn.weight_ih_l0`, …, `readout.weight`, `readout.bias`).
 */
export type StateDictLayout = "bare" | "prefixed";

/** What `loadStateDict` did. Key lists use the dict's own naming (bare keys for a bare dict). */
export interface LoadStateDictResult {
  /** The layout that was detected. */
  layout: StateDictLayout;
  /** Keys whose values were copied into the model. */
  loaded: string[];
  /** Keys the layout covers that the dict lacks (always empty with `strict`, which rejects them). */
  missing: string[];
  /** Keys of the dict that name no parameter of the model (always empty with `strict`). */
  unexpected: string[];
}

/** Options of `saveTorchFile`: those of `stateDict`, plus extra metadata strings. */
export interface SaveTorchFileOptions extends StateDictOptions {
  /** More `__metadata__` entries, written after the model's own (whose keys they may not reuse). */
  metadata?: Record<string, string>;
}

const WHERE_LOAD = "loadStateDict";
const RNN_PREFIX = "rnn.";
const READOUT_PREFIX = "readout.";
/** Every key an nn.LSTM / nn.GRU / nn.RNN state dict can have (with proj_size and bidirectional variants). */
const BARE_KEY = /^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$/;

/**
 * The model's parameters as a PyTorch state dict: copies, with PyTorch's names and shapes, in PyTorch's order
 * (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, then layer 1, …, then `readout.weight`,
 * `readout.bias`). With `only: "rnn"`, the recurrent part alone under the bare keys of `nn.LSTM.state_dict()`.
 *
 * @example
 * ```ts
 * import { cpuModel } from "../backend/cpu/model.ts";
 * import { stateDict } from "./torch.ts";
 * import { encodeSafetensors } from "./safetensors.ts";
 * const model = cpuModel({ cell: "lstm", inputSize: 3, hiddenSize: 5, outputSize: 1 });
 * console.log([...stateDict(model).keys()]); // ["rnn.weight_ih_l0", ..., "readout.weight", "readout.bias"]
 * const lstmOnly = stateDict(model, { only: "rnn", dtype: "F64" });
 * console.log(lstmOnly.get("weight_ih_l0")?.shape); // [20, 3]
 * const bytes = encodeSafetensors(lstmOnly); // what save_file(lstm.state_dict(), path) would write
 * ```
 */
export function stateDict(model: Model, opts: StateDictOptions = {}): Map<string, NamedTensor> {
  const where = "stateDict";
  if (opts.only !== undefined && opts.only !== "rnn") {
    throw new RangeError(`${where}: only = ${JSON.stringify(opts.only)}, expected "rnn" or nothing`);
  }
  const dtype = opts.dtype ?? (model.config.dtype === "float64" ? "F64" : "F32");
  if (dtype !== "F32" && dtype !== "F64") {
    throw new RangeError(`${where}: dtype = ${JSON.stringify(dtype)}, expected "F32" or "F64"`);
  }
  const out = new Map<string, NamedTensor>();
  for (const p of model.parameters) {
    const recurrent = p.name.startsWith(RNN_PREFIX);
    if (opts.only === "rnn" && !recurrent) continue;
    const name = opts.only === "rnn" ? p.name.slice(RNN_PREFIX.length) : p.name;
    const data = dtype === "F32" ? new Float32Array(p.value) : new Float64Array(p.value);
    out.set(name, { dtype, shape: [...p.shape], data });
  }
  return out;
}

/**
 * Loads a PyTorch state dict into the model, in place. Both layouts are accepted and told apart by their keys: bare
 * `nn.LSTM` / `nn.RNN` keys (`weight_ih_l0`, …) load the recurrent part and leave the readout as it is; prefixed keys
 * (`rnn.*`, `readout.*`) load the whole model. F32 and F64 tensors are converted to the model's dtype.
 *
 * Nothing is changed unless everything checks out. Throws an Error that names: the key, the shape found and the
 * shape expected for every mismatch; with `strict` (the default) the missing and the unexpected keys; and, when the
 * dict's recurrent weights have the rows of another cell (an `nn.LSTM`'s 4H rows for an RNN model's H, or the
 * reverse), that the cell types differ.
 *
 * @example
 * ```ts
 * import { cpuModel } from "../backend/cpu/model.ts";
 * import { loadStateDict, stateDict } from "./torch.ts";
 * const a = cpuModel({ cell: "lstm", inputSize: 3, hiddenSize: 5, numLayers: 2, readout: "none", seed: 1 });
 * const b = cpuModel({ cell: "lstm", inputSize: 3, hiddenSize: 5, numLayers: 2, outputSize: 1, seed: 2 });
 * const result = loadStateDict(b, stateDict(a, { only: "rnn" })); // b's LSTM := a's; b's readout unchanged
 * console.log(result.layout, result.loaded.length); // "bare" 8
 * ```
 */
export function loadStateDict(
  model: Model,
  tensors: Map<string, NamedTensor>,
  opts: LoadStateDictOptions = {},
): LoadStateDictResult {
  const strict = opts.strict ?? true;
  if (!(tensors instanceof Map)) throw new TypeError(`${WHERE_LOAD}: tensors must be a Map of name to tensor`);
  const keys = [...tensors.keys()];
  const layout = detectLayout(WHERE_LOAD, keys);
  const cfg = model.config, G = gatesOf(cfg.cell), H = cfg.hiddenSize;
  const prefix = layout === "prefixed" ? RNN_PREFIX : "";

  // The parameters this layout covers, under the dict's names.
  const targets = new Map<string, Parameter>();
  for (const p of model.parameters) {
    if (layout === "bare") {
      if (p.name.startsWith(RNN_PREFIX)) targets.set(p.name.slice(RNN_PREFIX.length), p);
    } else {
      targets.set(p.name, p);
    }
  }

  // A different cell makes every recurrent shape wrong; say that once, plainly.
  const whh = findRecurrentWeight(tensors, prefix);
  if (whh !== null) {
    const [rows, cols] = whh.tensor.shape;
    if (cols > 0 && rows % cols === 0 && rows / cols !== G) {
      const gates = rows / cols;
      throw new Error(
        `${WHERE_LOAD}: cell types differ: the state dict holds ${cellDescription(gates)} ("${whh.key}" has shape ` +
          `[${whh.tensor.shape.join(", ")}] = (${gates}·H, H) with H = ${cols}), but the model's cell is ` +
          `"${cfg.cell}" (${cellDescription(G)}: "${whh.key}" would be [${G * H}, ${H}] = (${G}·H, H) with H = ${H})`,
      );
    }
  }

  const problems: string[] = [];
  const loaded: string[] = [], unexpected: string[] = [];
  for (const [key, t] of tensors) {
    const p = targets.get(key);
    if (p === undefined) {
      unexpected.push(key);
      continue;
    }
    const problem = tensorProblem(key, t, p, model);
    if (problem !== null) problems.push(problem);
    else loaded.push(key);
  }
  const missing = [...targets.keys()].filter((k) => !tensors.has(k));
  if (strict) {
    if (missing.length > 0) problems.push(`missing key(s): ${quoteList(missing)}`);
    if (unexpected.length > 0) problems.push(`unexpected key(s): ${quoteList(unexpected)}`);
  }
  if (problems.length > 0) {
    const dictLayers = layerCount(keys, prefix), L = cfg.numLayers;
    const layers = dictLayers > 0 && dictLayers !== L
      ? ` (the state dict has ${dictLayers} layer(s), the model ${L})`
      : "";
    throw new Error(
      `${WHERE_LOAD}: cannot load the state dict (${layoutDescription(layout)}) into the model ` +
        `(${describeConfig(model.config)})${layers}:\n  - ${problems.join("\n  - ")}`,
    );
  }
  for (const key of loaded) targets.get(key)!.value.set(tensors.get(key)!.data); // converts F32 <-> F64
  return { layout, loaded, missing: strict ? [] : missing, unexpected: strict ? [] : unexpected };
}

/**
 * Writes the model's state dict (see `stateDict`) to a safetensors file, with `__metadata__` strings from which
 * `modelFromTorchFile` rebuilds the model: `format` ("pt"), `cell`, `inputSize`, `hiddenSize`, `numLayers`,
 * `outputSize` and `readout` (with `only: "rnn"` the file holds no readout, so `readout` is "none" and `outputSize`
 * "0"). PyTorch reads it with `safetensors.torch.load_file(path)` and `module.load_state_dict(...)`.
 *
 * @example
 * ```ts
 * import { cpuModel } from "../backend/cpu/model.ts";
 * import { saveTorchFile } from "./torch.ts";
 * const model = cpuModel({ cell: "lstm", inputSize: 3, hiddenSize: 5, numLayers: 2, readout: "none" });
 * await saveTorchFile(model, "/tmp/lstm.safetensors", { only: "rnn" });
 * // Python: lstm = nn.LSTM(3, 5, num_layers=2); lstm.load_state_dict(load_file("/tmp/lstm.safetensors"))
 * ```
 */
export async function saveTorchFile(model: Model, path: string | URL, opts: SaveTorchFileOptions = {}): Promise<void> {
  const tensors = stateDict(model, opts);
  const metadata = modelMetadata(model, opts.only === "rnn");
  for (const [k, v] of Object.entries(opts.metadata ?? {})) {
    if (k in metadata) throw new RangeError(`saveTorchFile: metadata "${k}" is written by saveTorchFile itself`);
    metadata[k] = v;
  }
  await writeSafetensorsFile(path, tensors, metadata);
}

/**
 * Reads a safetensors state dict (ours or PyTorch's `save_file(module.state_dict(), path)`) and loads it into the
 * model (see `loadStateDict`; the file's metadata is not consulted).
 *
 * @example
 * ```ts
 * import { cpuModel } from "../backend/cpu/model.ts";
 * import { loadTorchFile } from "./torch.ts";
 * const model = cpuModel({ cell: "lstm", inputSize: 3, hiddenSize: 5, numLayers: 2, readout: "none" });
 * await loadTorchFile(model, "lib/io/testdata/lstm_i3_h5_l2_f32.state_dict.safetensors");
 * ```
 */
export async function loadTorchFile(
  model: Model,
  path: string | URL,
  opts: LoadStateDictOptions = {},
): Promise<LoadStateDictResult> {
  const { tensors } = await readSafetensorsFile(path);
  return loadStateDict(model, tensors, opts);
}

/**
 * The model configuration that a state dict describes. Sizes come from the keys and shapes: the cell from the rows of
 * `weight_hh_l0` (4H: "lstm", 3H: "gru", H: "rnn"), `inputSize` from `weight_ih_l0`, `hiddenSize` from `weight_hh_l0`,
 * `numLayers` from the highest `_l{k}`, `dtype` from the tensors; a prefixed dict's `readout.weight` gives
 * `outputSize` (placement "last", which shapes cannot tell), a bare dict has readout "none". Metadata entries as
 * `saveTorchFile` writes them take precedence over what is inferred.
 *
 * @example
 * ```ts
 * import { configFromStateDict } from "./torch.ts";
 * import { readSafetensorsFile } from "./safetensors.ts";
 * const { tensors, metadata } = await readSafetensorsFile("lib/io/testdata/lstm_i2_h4_l1_f64.state_dict.safetensors");
 * console.log(configFromStateDict(tensors, metadata));
 * // { cell: "lstm", inputSize: 2, hiddenSize: 4, numLayers: 1, outputSize: 0, readout: "none", dtype: "float64" }
 * ```
 */
export function configFromStateDict(
  tensors: Map<string, NamedTensor>,
  metadata: Record<string, string> = {},
): ModelConfig {
  const where = "configFromStateDict";
  const keys = [...tensors.keys()];
  const layout = detectLayout(where, keys);
  const prefix = layout === "prefixed" ? RNN_PREFIX : "";
  for (const k of keys) {
    const m = k.startsWith(prefix) ? BARE_KEY.exec(k.slice(prefix.length)) : null;
    if (m === null) continue;
    if (m[3] !== undefined) throw new RangeError(`${where}: "${k}" is from a bidirectional module, not supported`);
    if (m[1] === "weight_hr") throw new RangeError(`${where}: "${k}" is from an LSTM with proj_size, not supported`);
  }
  const inferred: Partial<ModelConfig> = {};
  const wih = tensors.get(`${prefix}weight_ih_l0`), whh = tensors.get(`${prefix}weight_hh_l0`);
  if (whh !== undefined && whh.shape.length === 2 && whh.shape[1] > 0) {
    const [rows, H] = whh.shape;
    const gates = rows / H;
    if (gates !== 4 && gates !== 3 && gates !== 1) {
      throw new RangeError(
        `${where}: "${prefix}weight_hh_l0" has shape [${whh.shape.join(", ")}]: ${
          Number.isInteger(gates) ? cellDescription(gates) : `${rows} rows for hidden size ${H}`
        }; expected 4H rows (an nn.LSTM), 3H (an nn.GRU) or H rows (an nn.RNN)`,
      );
    }
    inferred.cell = gates === 1 ? "rnn" : gates === 3 ? "gru" : "lstm";
  }
  if (wih !== undefined && wih.shape.length === 2) inferred.inputSize = wih.shape[1];
  if (whh !== undefined && whh.shape.length === 2) inferred.hiddenSize = whh.shape[1];
  const L = layerCount(keys, prefix);
  if (L > 0) inferred.numLayers = L;
  const rw = tensors.get(`${READOUT_PREFIX}weight`);
  const withReadout = layout === "prefixed" && rw !== undefined && rw.shape.length === 2;
  inferred.outputSize = withReadout ? rw.shape[0] : 0;
  inferred.readout = withReadout ? "last" : "none";
  const first = (wih ?? whh ?? tensors.values().next().value)?.dtype;
  if (first !== undefined) inferred.dtype = first === "F64" ? "float64" : "float32";
  // The metadata names what the tensors cannot (the readout's placement); where the tensors tell, they must agree:
  // metadata is a few bytes anyone can write (numLayers: 30000 over one layer's tensors), the tensors are the model.
  const meta = parseModelMetadata(where, metadata);
  const told: (keyof ModelConfig)[] = ["cell", "inputSize", "hiddenSize", "numLayers"];
  if (withReadout) told.push("outputSize");
  for (const k of told) {
    if (meta[k] !== undefined && inferred[k] !== undefined && meta[k] !== inferred[k]) {
      throw new RangeError(
        `${where}: metadata ${k} = ${JSON.stringify(metadata[k])}, but the tensors say ${
          JSON.stringify(inferred[k])
        } (keys ${quoteList(keys)}); the file is inconsistent`,
      );
    }
  }
  if (meta.numLayers !== undefined && L === 0) {
    throw new RangeError(`${where}: metadata numLayers = ${metadata.numLayers}, but the tensors hold no layer`);
  }
  const config: Partial<ModelConfig> = { ...inferred, ...meta };
  for (const field of ["cell", "inputSize", "hiddenSize"] as const) {
    if (config[field] === undefined) {
      throw new RangeError(
        `${where}: cannot tell ${field} from the state dict (keys ${quoteList(keys)}) or its metadata`,
      );
    }
  }
  return config as ModelConfig;
}

/**
 * Builds a `Model` from a safetensors state dict file and loads its parameters (strictly). The configuration comes
 * from the file (see `configFromStateDict`: the metadata `saveTorchFile` writes, or else the keys and shapes of a
 * PyTorch `nn.LSTM` / `nn.RNN` state dict, with readout "none"); `overrides` replace any field of it, e.g. `backend`,
 * `threads` or `dtype` (the tensors are converted).
 *
 * @example
 * ```ts
 * import { modelFromTorchFile } from "./torch.ts";
 * const model = await modelFromTorchFile("lib/io/testdata/lstm_i3_h5_l2_f64.state_dict.safetensors", { backend: "js" });
 * console.log(model.config.cell, model.config.numLayers, model.config.dtype); // "lstm" 2 "float64"
 * ```
 */
export async function modelFromTorchFile(path: string | URL, overrides: Partial<ModelConfig> = {}): Promise<Model> {
  const { tensors, metadata } = await readSafetensorsFile(path);
  const model = cpuModel({ ...configFromStateDict(tensors, metadata), ...overrides });
  try {
    loadStateDict(model, tensors, { strict: true });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * Reorders a batch-first sequence (B, T, F), as PyTorch's `batch_first=True` modules take and give them, into the
 * time-major layout (T, B, F) of `Model.forward`. Returns a new array of the same element type (Float64Array for a
 * plain array).
 *
 * @example
 * ```ts
 * import { batchFirstToTimeMajor } from "./torch.ts";
 * // B = 2 sequences of T = 3 steps, F = 1 feature: [[1, 2, 3], [4, 5, 6]]
 * console.log(batchFirstToTimeMajor(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3, 1)); // Float32Array [1, 4, 2, 5, 3, 6]
 * ```
 */
export function batchFirstToTimeMajor(x: Float32Array, B: number, T: number, F: number): Float32Array;
export function batchFirstToTimeMajor(x: ArrayLike<number>, B: number, T: number, F: number): Float64Array;
export function batchFirstToTimeMajor(
  x: ArrayLike<number>,
  B: number,
  T: number,
  F: number,
): Float32Array | Float64Array {
  const out = sameKind("batchFirstToTimeMajor", x, B, T, F, "B·T·F");
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const src = (b * T + t) * F, dst = (t * B + b) * F;
      for (let f = 0; f < F; f++) out[dst + f] = x[src + f];
    }
  }
  return out;
}

/**
 * Reorders a time-major sequence (T, B, F), as `Model.forward` takes and gives them, into the batch-first layout
 * (B, T, F) of PyTorch's `batch_first=True` modules. Returns a new array of the same element type (Float64Array for a
 * plain array).
 *
 * @example
 * ```ts
 * import { timeMajorToBatchFirst } from "./torch.ts";
 * // T = 3 steps of B = 2 sequences, F = 1 feature
 * console.log(timeMajorToBatchFirst(Float64Array.of(1, 4, 2, 5, 3, 6), 3, 2, 1)); // Float64Array [1, 2, 3, 4, 5, 6]
 * ```
 */
export function timeMajorToBatchFirst(y: Float32Array, T: number, B: number, F: number): Float32Array;
export function timeMajorToBatchFirst(y: ArrayLike<number>, T: number, B: number, F: number): Float64Array;
export function timeMajorToBatchFirst(
  y: ArrayLike<number>,
  T: number,
  B: number,
  F: number,
): Float32Array | Float64Array {
  const out = sameKind("timeMajorToBatchFirst", y, T, B, F, "T·B·F");
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      const src = (t * B + b) * F, dst = (b * T + t) * F;
      for (let f = 0; f < F; f++) out[dst + f] = y[src + f];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------

function gatesOf(cell: CellType): number {
  return cell === "lstm" ? 4 : cell === "gru" ? 3 : 1;
}

function cellDescription(gates: number): string {
  if (gates === 4) return "an LSTM (nn.LSTM: 4 gates, 4H rows)";
  if (gates === 3) return "a GRU (nn.GRU: 3 gates, 3H rows)";
  if (gates === 1) return "a vanilla RNN (nn.RNN: H rows)";
  return `a module with ${gates}·H rows (neither nn.LSTM's 4H, nn.GRU's 3H nor nn.RNN's H)`;
}

function layoutDescription(layout: StateDictLayout): string {
  return layout === "bare" ? "bare nn.LSTM/nn.RNN keys: the recurrent part" : "prefixed keys rnn.*, readout.*";
}

function describeConfig(c: Model["config"]): string {
  const readout = c.readout === "none" ? "no readout" : `readout "${c.readout}" with outputSize ${c.outputSize}`;
  return `cell "${c.cell}", inputSize ${c.inputSize}, hiddenSize ${c.hiddenSize}, numLayers ${c.numLayers}, ${readout}`;
}

function quoteList(keys: readonly string[]): string {
  return keys.map((k) => JSON.stringify(k)).join(", ");
}

/** "bare" or "prefixed", from the keys; throws when neither fits or both do. */
function detectLayout(where: string, keys: readonly string[]): StateDictLayout {
  const prefixed = keys.filter((k) => k.startsWith(RNN_PREFIX) || k.startsWith(READOUT_PREFIX));
  const bare = keys.filter((k) => BARE_KEY.test(k));
  if (prefixed.length > 0 && bare.length > 0) {
    throw new Error(
      `${where}: the state dict mixes bare nn.LSTM/nn.RNN keys (${quoteList(bare)}) and prefixed keys ` +
        `(${quoteList(prefixed)}); use one layout`,
    );
  }
  if (prefixed.length > 0) return "prefixed";
  if (bare.length > 0) return "bare";
  throw new Error(
    `${where}: no key looks like an nn.LSTM/nn.RNN state dict's ("weight_ih_l0", …) or a model's ("rnn.weight_ih_l0", ` +
      `…, "readout.weight"); got ${keys.length === 0 ? "an empty state dict" : quoteList(keys)}`,
  );
}

/** 1 + the highest layer index among the recurrent keys (0 when there are none). */
function layerCount(keys: readonly string[], prefix: string): number {
  let L = 0;
  for (const k of keys) {
    if (!k.startsWith(prefix)) continue;
    const m = BARE_KEY.exec(k.slice(prefix.length));
    if (m !== null) L = Math.max(L, Number(m[2]) + 1);
  }
  return L;
}

/** The first two-dimensional `weight_hh_l{k}` of the dict, for telling the cell type. */
function findRecurrentWeight(
  tensors: Map<string, NamedTensor>,
  prefix: string,
): { key: string; tensor: NamedTensor } | null {
  for (const [key, tensor] of tensors) {
    if (!key.startsWith(prefix)) continue;
    const m = BARE_KEY.exec(key.slice(prefix.length));
    if (m !== null && m[1] === "weight_hh" && m[3] === undefined && Array.isArray(tensor?.shape)) {
      if (tensor.shape.length === 2) return { key, tensor };
    }
  }
  return null;
}

/** Why tensor `t` cannot be loaded into parameter `p` (null when it can). */
function tensorProblem(key: string, t: NamedTensor, p: Parameter, model: Model): string | null {
  if (t === null || typeof t !== "object") return `"${key}" is ${t}, not a tensor`;
  if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) {
    return `"${key}" has data of type ${(t.data as unknown as object)?.constructor?.name ?? typeof t.data}; ` +
      `expected a Float32Array or Float64Array`;
  }
  const shape = Array.isArray(t.shape) ? t.shape : [];
  const same = shape.length === p.shape.length && shape.every((d, i) => d === p.shape[i]);
  if (!same) {
    return `"${key}" has shape [${shape.join(", ")}], expected [${p.shape.join(", ")}] = ${shapeFormula(p, model)}`;
  }
  if (t.data.length !== p.size) {
    return `"${key}" has shape [${shape.join(", ")}] (${p.size} values) but ${t.data.length} data values`;
  }
  return null;
}

/** How a parameter's expected shape follows from the model's sizes, for error messages. */
function shapeFormula(p: Parameter, model: Model): string {
  const c = model.config, G = gatesOf(c.cell), gh = G === 1 ? "hiddenSize" : `${G}·hiddenSize`;
  const inSize = p.layer === 0 ? "inputSize" : "hiddenSize";
  switch (p.role) {
    case "weight_ih":
      return `(${gh}, ${inSize}) for the model's cell "${c.cell}", ${inSize} ${p.shape[1]}, hiddenSize ${c.hiddenSize}`;
    case "weight_hh":
      return `(${gh}, hiddenSize) for the model's cell "${c.cell}", hiddenSize ${c.hiddenSize}`;
    case "bias_ih":
    case "bias_hh":
      return `(${gh}) for the model's cell "${c.cell}", hiddenSize ${c.hiddenSize}`;
    case "peephole":
      return `(3·hiddenSize) for the model's LSTM peepholes, hiddenSize ${c.hiddenSize}`;
    case "readout.weight":
      return `(outputSize, hiddenSize) for the model's outputSize ${c.outputSize}, hiddenSize ${c.hiddenSize}`;
    case "readout.bias":
      return `(outputSize) for the model's outputSize ${c.outputSize}`;
  }
}

/** The `__metadata__` that `saveTorchFile` writes. */
function modelMetadata(model: Model, rnnOnly: boolean): Record<string, string> {
  const c = model.config;
  return {
    format: "pt",
    cell: c.cell,
    inputSize: String(c.inputSize),
    hiddenSize: String(c.hiddenSize),
    numLayers: String(c.numLayers),
    outputSize: String(rnnOnly ? 0 : c.outputSize),
    readout: rnnOnly ? "none" : c.readout,
  };
}

/** The model fields among the metadata strings, validated. */
function parseModelMetadata(where: string, metadata: Record<string, string>): Partial<ModelConfig> {
  const out: Partial<ModelConfig> = {};
  const bad = (k: string, want: string) =>
    new RangeError(`${where}: metadata ${k} = ${JSON.stringify(metadata[k])}, expected ${want}`);
  if ("cell" in metadata) {
    if (metadata.cell !== "lstm" && metadata.cell !== "rnn" && metadata.cell !== "gru") {
      throw bad("cell", `"lstm", "rnn" or "gru"`);
    }
    out.cell = metadata.cell;
  }
  for (const k of ["inputSize", "hiddenSize", "numLayers", "outputSize"] as const) {
    if (!(k in metadata)) continue;
    if (!/^\d+$/.test(metadata[k]) || !Number.isSafeInteger(Number(metadata[k]))) {
      throw bad(k, "a non-negative integer");
    }
    out[k] = Number(metadata[k]);
  }
  if ("readout" in metadata) {
    const r = metadata.readout;
    if (r !== "last" && r !== "every" && r !== "none") throw bad("readout", `"last", "every" or "none"`);
    out.readout = r as ReadoutPlacement;
  }
  return out;
}

/** A fresh array of n = d0·d1·d2 elements, Float32Array for a Float32Array input and Float64Array otherwise. */
function sameKind(
  where: string,
  x: ArrayLike<number>,
  d0: number,
  d1: number,
  d2: number,
  dims: string,
): Float32Array | Float64Array {
  for (const [name, v] of [[dims[0], d0], [dims[2], d1], [dims[4], d2]] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`${where}: ${name} = ${v}, expected an integer ≥ 0`);
  }
  const n = d0 * d1 * d2;
  if (x.length !== n) {
    throw new RangeError(`${where}: the array has ${x.length} values, expected ${dims} = ${d0}·${d1}·${d2} = ${n}`);
  }
  return x instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
}
