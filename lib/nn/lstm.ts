/**
 * The LSTM cell of the seed document, one time step for a batch: forward and backward side by side.
 *
 *   i  = σ(W_xi x + W_hi h_prev + b_i)          input gate
 *   f  = σ(W_xf x + W_hf h_prev + b_f)          forget gate
 *   g  = tanh(W_xc x + W_hc h_prev + b_c)       candidate cell input (the seed's c~)
 *   o  = σ(W_xo x + W_ho h_prev + b_o)          output gate
 *   c  = f ⊙ c_prev + i ⊙ g
 *   h  = o ⊙ tanh(c)
 *
 * The matrix products are done for all rows at once by the layer (`layer.ts`); these functions are the pointwise
 * part that follows them, reading the four pre-activations of a row from `gates` laid out as PyTorch orders them:
 * [i | f | g | o], each H wide, so a row of `gates` is 4H long.
 *
 * This is the reference implementation (any float type, computed in double precision); the WebAssembly kernels
 * implement the same contract and are tested against it.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { sigmoid, tanh } from "../math.ts";

/**
 * LSTM step forward (pointwise part). `gates` (B, 4H): pre-activations in, activations out.
 * Writes c (B, H) and h (B, H) from cPrev (B, H).
 *
 * @example
 * ```ts
 * import { lstmCellForward } from "./lstm.ts";
 * const B = 1, H = 1;
 * const gates = new Float64Array([0, 0, 0, 0]); // i = f = o = 0.5, g = 0
 * const c = new Float64Array(1), h = new Float64Array(1);
 * lstmCellForward(B, H, gates, new Float64Array([2]), c, h); // c = 0.5 * 2 = 1, h = 0.5 * tanh(1)
 * ```
 */
export function lstmCellForward(B: number, H: number, gates: Arr, cPrev: Arr, c: Arr, h: Arr): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    const row = b * G, s = b * H;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(gates[row + j]);
      const f = sigmoid(gates[row + H + j]);
      const g = tanh(gates[row + 2 * H + j]);
      const o = sigmoid(gates[row + 3 * H + j]);
      gates[row + j] = i;
      gates[row + H + j] = f;
      gates[row + 2 * H + j] = g;
      gates[row + 3 * H + j] = o;
      const ct = f * cPrev[s + j] + i * g;
      c[s + j] = ct;
      h[s + j] = o * tanh(ct);
    }
  }
}

/**
 * LSTM step backward (pointwise part), the chain rule through the equations above:
 *
 *   dh   += dhIn                                  gradient from the readout or the layer above
 *   dc   += dh ⊙ o ⊙ (1 - tanh²(c))               total ∂L/∂c_t
 *   do    = dh ⊙ tanh(c)         → ∂/∂pre: do ⊙ o (1 - o)
 *   di    = dc ⊙ g               → di ⊙ i (1 - i)
 *   dg    = dc ⊙ i               → dg ⊙ (1 - g²)
 *   df    = dc ⊙ c_prev          → df ⊙ f (1 - f)
 *   dc_prev = dc ⊙ f
 *
 * `gates` (B, 4H) holds the activations on entry and the pre-activation gradients on return; `dc` (B, H) holds
 * ∂L/∂c_t from the next step on entry and ∂L/∂c_{t-1} on return. tanh(c) is recomputed rather than stored, which
 * keeps the activations BPTT stores at 6H per row (gates, c, h).
 *
 * @example
 * ```ts
 * import { lstmCellBackward, lstmCellForward } from "./lstm.ts";
 * const gates = new Float64Array([0.1, 0.2, 0.3, 0.4]), cPrev = new Float64Array([0.5]);
 * const c = new Float64Array(1), h = new Float64Array(1);
 * lstmCellForward(1, 1, gates, cPrev, c, h);
 * const dh = new Float64Array([1]), dc = new Float64Array(1);
 * lstmCellBackward(1, 1, gates, cPrev, c, dh, null, dc, null, null); // gates now holds ∂h/∂pre
 * ```
 */
export function lstmCellBackward(
  B: number,
  H: number,
  gates: Arr,
  cPrev: Arr,
  c: Arr,
  dh: Arr,
  dhIn: Arr | null,
  dc: Arr,
  dhNorm: Arr | null,
  dcNorm: Arr | null,
): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    const row = b * G, s = b * H;
    let dhSq = 0, dcSq = 0;
    for (let j = 0; j < H; j++) {
      const i = gates[row + j], f = gates[row + H + j], g = gates[row + 2 * H + j], o = gates[row + 3 * H + j];
      const dht = dhIn === null ? dh[s + j] : dh[s + j] + dhIn[s + j];
      const tc = tanh(c[s + j]);
      const dct = dc[s + j] + dht * o * (1 - tc * tc);
      gates[row + j] = dct * g * i * (1 - i);
      gates[row + H + j] = dct * cPrev[s + j] * f * (1 - f);
      gates[row + 2 * H + j] = dct * i * (1 - g * g);
      gates[row + 3 * H + j] = dht * tc * o * (1 - o);
      dh[s + j] = dht;
      dc[s + j] = dct * f;
      dhSq += dht * dht;
      dcSq += dct * dct;
    }
    if (dhNorm !== null) dhNorm[b] = Math.sqrt(dhSq);
    if (dcNorm !== null) dcNorm[b] = Math.sqrt(dcSq);
  }
}
