/**
 * Pascanu, Mikolov & Bengio (2013)'s "smart tanh" initialisation of a tanh RNN, as their code draws it
 * (github.com/pascanur/trainingRNNs, `RNN.py`, commit 3f5df3f, `state['init'] == 'smart_tanh'`):
 *
 *   W_in  ~ N(0, 0.01²)     (their `W_uh`, std 0.01: numpy's `scale` is the standard deviation)
 *   W_out ~ N(0, 0.01²)     (their `W_hy`)
 *   W_rec ~ N(0, 0.01²), then for each unit all but 15 randomly chosen weights are set to 0, then
 *   W_rec ← 0.95 · W_rec / ρ(W_rec)   (ρ: spectral radius, max |eigenvalue|)
 *   biases = 0
 *
 * Which side the 15 non-zeros are on. Their code computes h_t = tanh(h_{t-1}·W_hh + u_t·W_uh + b) with row vectors,
 * so their W_hh[i, j] is the weight from unit i to unit j, and it sparsifies each *row* `W_hh[dx]`: every unit keeps
 * 15 *outgoing* weights (its fan-in is whatever the draw gives). The paper's text says 15 *incoming* connections per
 * unit. This project stores W_hh in PyTorch's layout (h_t = tanh(W_ih x_t + W_hh h_{t-1} + b), `weight_hh_l0[j, i]`
 * from unit i to unit j: the transpose of theirs), so the code's rule is 15 non-zeros per *column* of our W_hh:
 * `sparsity: "outgoing"`, the default, because the code produced the published results. `"incoming"` (15 per row of
 * ours) follows the text. The spectral radius is the same either way (a matrix and its transpose share eigenvalues).
 * With H ≤ 15 nothing is zeroed (as in the code, `spng[15:]` is empty).
 *
 * The draws come from the project's `Rng` (weights: W_in, then W_rec, then the kept positions unit by unit, then
 * W_out), not numpy's, so the values differ from theirs but the distribution is the same. float64; a float32 model
 * rounds them when loading (their code casts to float32 after scaling).
 *
 * Integration (issue 10): `lib/init.ts`'s `RecurrentInit` would gain `{ pascanu: "smart_tanh" }` calling this for
 * `weight_hh` (and N(0, 0.01²) for `weight_ih` and the readout, zero biases); until then this module stands alone.
 *
 * Reference: R. Pascanu, T. Mikolov, Y. Bengio. On the difficulty of training recurrent neural networks. ICML 2013,
 * §4.1.1 ("smart tanh").
 *
 * @module
 */

import { scaleToSpectralRadius } from "../linalg.ts";
import { Rng } from "../rng.ts";

/** Options of `smartTanhInit`. */
export interface SmartTanhOptions {
  /** Non-zero recurrent weights kept per unit (default 15). */
  nonZero?: number;
  /** Spectral radius of W_hh after scaling (default 0.95). */
  spectralRadius?: number;
  /** Standard deviation of every Gaussian draw (default 0.01). */
  std?: number;
  /** Which weights of a unit are kept: its outgoing ones (their code, default) or its incoming ones (their text). */
  sparsity?: "outgoing" | "incoming";
}

/** A tanh RNN's parameters in PyTorch's layout (nn.RNN + nn.Linear readout), float64. */
export interface RnnParams {
  /** [H, I] `weight_ih_l0` */
  weightIh: Float64Array;
  /** [H, H] `weight_hh_l0`: h_t = tanh(W_ih x_t + W_hh h_{t-1} + b) */
  weightHh: Float64Array;
  /** [H] `bias_ih_l0` + `bias_hh_l0` (their single b_hh): zeros */
  bias: Float64Array;
  /** [O, H] readout `weight` */
  weightOut: Float64Array;
  /** [O] readout `bias`: zeros */
  biasOut: Float64Array;
}

function checkSize(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${fn}: ${name} must be an integer >= 1, got ${v}`);
}

/**
 * Pascanu et al.'s "smart tanh" parameters for a tanh RNN with `inputSize` inputs, `hiddenSize` units and `outputSize`
 * outputs, in PyTorch's layout, drawn from `new Rng(seed)`.
 *
 * @example
 * ```ts
 * import { smartTanhInit } from "./init_pascanu.ts";
 * import { spectralRadius } from "../linalg.ts";
 * const p = smartTanhInit(6, 50, 4, 52); // temporal order: 6 symbols, 50 units, 4 classes, their default seed
 * spectralRadius(p.weightHh, 50); // 0.95 (to rounding)
 * ```
 */
export function smartTanhInit(
  inputSize: number,
  hiddenSize: number,
  outputSize: number,
  seed: number,
  opts: SmartTanhOptions = {},
): RnnParams {
  const fn = "smartTanhInit";
  checkSize(fn, "inputSize", inputSize);
  checkSize(fn, "hiddenSize", hiddenSize);
  checkSize(fn, "outputSize", outputSize);
  const nonZero = opts.nonZero ?? 15, rho = opts.spectralRadius ?? 0.95, std = opts.std ?? 0.01;
  const sparsity = opts.sparsity ?? "outgoing";
  checkSize(fn, "opts.nonZero", nonZero);
  if (!(rho > 0) || !Number.isFinite(rho)) throw new RangeError(`${fn}: opts.spectralRadius must be > 0, got ${rho}`);
  if (!(std > 0) || !Number.isFinite(std)) throw new RangeError(`${fn}: opts.std must be > 0, got ${std}`);
  if (sparsity !== "outgoing" && sparsity !== "incoming") {
    throw new RangeError(`${fn}: opts.sparsity must be "outgoing" or "incoming", got ${JSON.stringify(sparsity)}`);
  }
  const H = hiddenSize, rng = new Rng(seed);
  const weightIh = rng.fillNormal(new Float64Array(H * inputSize), 0, std);
  const w = rng.fillNormal(new Float64Array(H * H), 0, std);
  if (nonZero < H) {
    const order = Array.from({ length: H }, (_, i) => i);
    for (let u = 0; u < H; u++) {
      rng.shuffle(order); // a random permutation; positions order[nonZero..] are zeroed, as `spng[15:]`
      for (let r = nonZero; r < H; r++) {
        const other = order[r];
        // ours: w[j * H + i] is the weight from unit i to unit j. Outgoing weights of unit u: column u.
        if (sparsity === "outgoing") w[other * H + u] = 0;
        else w[u * H + other] = 0;
      }
    }
  }
  const weightHh = scaleToSpectralRadius(w, H, rho);
  const weightOut = rng.fillNormal(new Float64Array(outputSize * H), 0, std);
  return { weightIh, weightHh, bias: new Float64Array(H), weightOut, biasOut: new Float64Array(outputSize) };
}
