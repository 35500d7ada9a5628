/**
 * The regulariser Ω of Pascanu, Mikolov & Bengio (2013), eqs. 9-10, as their code computes it
 * (github.com/pascanur/trainingRNNs, `RNN.py`, commit 3f5df3f): its value and its gradient with respect to W_hh.
 *
 * Ω asks the Jacobian ∂h_k/∂h_{k-1} to preserve the norm of the error along the direction the error actually has.
 * With d_k = dC/dh_k the *total* gradient of the cost with respect to the state h_k (its direct term plus everything
 * flowing back from later steps), for a tanh RNN h_k = tanh(W_hh h_{k-1} + W_ih x_k + b) (PyTorch's layout; their
 * code writes the row-vector form h_{k-1}·W, with their W = our W_hhᵀ):
 *
 *   δ_k   = d_k ⊙ (1 − h_k²)                    (B, H)  the error at the pre-activation (sigmoid: h(1−h); linear: 1)
 *   a_k   = δ_k W_hh                             (B, H)  = d_k ∂h_k/∂h_{k-1}; their code: δ_k·W_theirsᵀ, the same
 *   num_k = ‖a_k‖²,  den_k = ‖d_k‖²              (B)     per batch row (their eq. 10 uses squared norms)
 *   term_k = (num_k / den_k − 1)²,  0 where den_k < bound (1e-20)
 *   Ω = Σ_k mean_b term_k / Σ_k (fraction of rows b with den_k ≥ bound)          k = 1 … T
 *
 * Gradient: the "immediate" derivative. In their code d_k and h_k are free symbols when Ω is differentiated and are
 * substituted only afterwards (`theano.clone`), so the gradient flows through the explicit W_hh alone, with d and h
 * held constant; only W_hh receives α·∂Ω/∂W_hh (added to the cost's gradient before clipping). In our layout
 *
 *   ∂num_{k,b}/∂W_hh[j, i] = 2 δ_{k,b,j} a_{k,b,i}        (∂num/∂W_hh = 2 δᵀ a, an outer product per row)
 *   ∂Ω/∂W_hh = Σ_k Σ_b [den_{k,b} ≥ bound] · 2 (num/den − 1) / den · 2 δ_{k,b}ᵀ a_{k,b} / (B · N),  N = Σ_k count_k / B
 *
 * Their d_k is the gradient of the minibatch-*mean* cost (their `cost` is averaged over the batch): the ratio num/den
 * does not depend on that scale, but the bound does, so pass d_k of the batch-mean loss to count the rows as they did.
 *
 * When no row of any step has den ≥ bound their code divides 0 by 0 (NaN, which its NaN safeguard then turns into a
 * shrink step of W_hh); here Ω = 0 with a zero gradient, and `counted` = 0 says why.
 *
 * What an integration needs (issue 10). The model's backward pass must hand out d_k = dC/dh_k, the total gradient
 * with respect to each hidden state h_k (B, H), for every step k = 1 … T, as the (T, B, H) buffer `dh` below, plus
 * the states h_0 … h_T (T+1, B, H) it already keeps for BPTT. Today's backward only probes the *norms* ‖dC/dh_k‖
 * (the gradient-flow probes), not the vectors. In an llm.c-style BPTT the vector exists at each step just before it
 * is multiplied by tanh′ (the running `dh` = direct term + W_hhᵀ-propagated term), so exposing it is a copy into a
 * (T, B, H) buffer. Then: `pascanuRegularizer(dh, h, W_hh, …)` after the backward pass, `gW_hh += α · grad`, and
 * clipping over all parameters afterwards (their order). Their α: 2.0 in the code, 4 in the text.
 *
 * Reference: R. Pascanu, T. Mikolov, Y. Bengio. On the difficulty of training recurrent neural networks. ICML 2013,
 * §3.3, eqs. 9-10.
 *
 * @module
 */

/** The nonlinearity of the RNN whose Jacobian Ω regularises (their code: `tanh`, `sigmoid` or linear). */
export type PascanuActivation = "tanh" | "sigmoid" | "linear";

/** Value, gradient and bookkeeping of Ω. */
export interface PascanuRegularizer {
  /** Ω */
  value: number;
  /** ∂Ω/∂W_hh, [H, H] in our (PyTorch) layout, with d and h held constant. */
  grad: Float64Array;
  /** Mean over steps of the fraction of batch rows with ‖d_k‖² ≥ bound (their `n_elems.mean()`, "steps in the past"). */
  counted: number;
}

/**
 * Ω of Pascanu et al. (2013) and its immediate gradient w.r.t. W_hh (see the module doc for the formulas).
 *
 * - `dh`: (T, B, H), `dh[k-1]` = dC/dh_k, the total gradient with respect to the state h_k, k = 1 … T.
 * - `h`: (T+1, B, H), `h[k]` = h_k, h_0 included (it is not used: Ω's k runs over 1 … T).
 * - `wHh`: (H, H), our layout: h_k = act(W_hh h_{k-1} + …), `wHh[j * H + i]` from unit i to unit j.
 *
 * @example
 * ```ts
 * import { pascanuRegularizer } from "./pascanu_regularizer.ts";
 * // T = 1, B = 1, H = 1: d = 1, h_1 = 0, W_hh = 2: the Jacobian doubles the error, (4/1 − 1)² = 9
 * pascanuRegularizer(new Float64Array([1]), new Float64Array([0, 0]), new Float64Array([2]), 1, 1, 1).value; // 9
 * ```
 */
export function pascanuRegularizer(
  dh: ArrayLike<number>,
  h: ArrayLike<number>,
  wHh: ArrayLike<number>,
  T: number,
  B: number,
  H: number,
  activation: PascanuActivation = "tanh",
  bound = 1e-20,
): PascanuRegularizer {
  const fn = "pascanuRegularizer";
  for (const [name, v] of [["T", T], ["B", B], ["H", H]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${fn}: ${name} must be an integer >= 1, got ${v}`);
  }
  if (dh.length !== T * B * H) {
    throw new RangeError(`${fn}: dh must have T·B·H = ${T * B * H} entries, got ${dh.length}`);
  }
  if (h.length !== (T + 1) * B * H) {
    throw new RangeError(`${fn}: h must have (T+1)·B·H = ${(T + 1) * B * H} entries (h_0 … h_T), got ${h.length}`);
  }
  if (wHh.length !== H * H) throw new RangeError(`${fn}: wHh must have H·H = ${H * H} entries, got ${wHh.length}`);
  if (activation !== "tanh" && activation !== "sigmoid" && activation !== "linear") {
    throw new RangeError(`${fn}: activation must be "tanh", "sigmoid" or "linear", got ${JSON.stringify(activation)}`);
  }
  if (!(bound >= 0)) throw new RangeError(`${fn}: bound must be a number >= 0, got ${bound}`);

  const delta = new Float64Array(H), a = new Float64Array(H);
  // coef[k, b] = ∂Ω/∂num_{k,b} up to the global 1/(B·N), and the δ, a vectors, are needed for the gradient: two
  // passes (value and N first, then the gradient) keep memory at O(H²) without storing (T, B, H) copies.
  let sumTerms = 0, counted = 0;
  const forEachRow = (visit: (k: number, b: number, num: number, den: number) => void) => {
    for (let k = 1; k <= T; k++) {
      for (let b = 0; b < B; b++) {
        const dOff = ((k - 1) * B + b) * H, hOff = (k * B + b) * H;
        let den = 0;
        for (let j = 0; j < H; j++) {
          const d = dh[dOff + j], y = h[hOff + j];
          den += d * d;
          delta[j] = activation === "tanh" ? d * (1 - y * y) : activation === "sigmoid" ? d * y * (1 - y) : d;
        }
        // a_i = Σ_j δ_j W_hh[j, i]
        a.fill(0);
        for (let j = 0; j < H; j++) {
          const dj = delta[j], row = j * H;
          if (dj === 0) continue;
          for (let i = 0; i < H; i++) a[i] += dj * wHh[row + i];
        }
        let num = 0;
        for (let i = 0; i < H; i++) num += a[i] * a[i];
        visit(k, b, num, den);
      }
    }
  };
  forEachRow((_k, _b, num, den) => {
    if (den >= bound) {
      const r = num / den - 1;
      sumTerms += r * r;
      counted++;
    }
  });
  const grad = new Float64Array(H * H);
  // Ω = (Σ_k Σ_b term / B) / (Σ_k count_k / B) = Σ term / count
  if (counted === 0) return { value: 0, grad, counted: 0 };
  const value = sumTerms / counted;
  forEachRow((_k, _b, num, den) => {
    if (den < bound) return;
    const c = (2 * (num / den - 1) / den) * 2 / counted; // ∂Ω/∂num · 2 (from ∂num/∂W = 2 δᵀ a)
    for (let j = 0; j < H; j++) {
      const cj = c * delta[j], row = j * H;
      if (cj === 0) continue;
      for (let i = 0; i < H; i++) grad[row + i] += cj * a[i];
    }
  });
  return { value, grad, counted: counted / (T * B) };
}
