/**
 * One recurrent layer (LSTM or vanilla RNN) over a whole sequence: forward pass and backpropagation through time.
 *
 * Structure (Appleyard et al. 2016, the cuDNN LSTM paper):
 *
 * forward
 *   gates (T·B, G·H)  = x (T·B, I) · W_ihᵀ + b_ih + b_hh             one product for all steps
 *   for t = 0 .. T-1:                                                 the time loop: recurrence.ts (a kernel)
 *     gates[t] (B, G·H) += h[t-1] (B, H) · W_hhᵀ                       recurrent product
 *     cell forward (pointwise): gates[t] → h[t] (and c[t])            lstm.ts / rnn.ts
 *
 * backward (gradients accumulate into the caller's buffers)
 *   for t = T-1 .. 0:                                                 the time loop: recurrence.ts (a kernel)
 *     cell backward (pointwise): (dh, dc, gates[t]) → dG[t], written over gates[t]
 *     dh (B, H) = dG[t] (B, G·H) · W_hh                               gradient reaching h[t-1]
 *   dW_hh (G·H, H) += dGᵀ (G·H, T·B) · h[-1 .. T-2] (T·B, H)           one product for all steps
 *   dW_ih (G·H, I) += dGᵀ · x;   db_ih, db_hh += column sums of dG
 *   dx (T·B, I)     = dG · W_ih                                       (for the layer below, or ∂L/∂x)
 *
 * G is the number of gate blocks per unit: 4 for the LSTM ([i | f | g | o], PyTorch's order), 1 for the RNN.
 * The forward pass keeps exactly what BPTT needs: gates (T, B, G·H), h (T+1, B, H) and, for the LSTM,
 * c (T+1, B, H), where slot 0 holds the initial state. The backward pass overwrites gates with their gradients,
 * so a forward pass feeds one backward pass.
 *
 * Truncated BPTT to k steps detaches the state every k steps (chunks [0, k), [k, 2k), ...), as one does in PyTorch
 * with `h.detach()` between chunks: the recurrent gradient is cut where a chunk starts; gradients within a chunk
 * are exact.
 *
 * @module
 */

import type { Arr, CellType, Kernels, LayerExtras } from "./kernels.ts";
import { cellDefinition } from "./cells.ts";

export type { CellType };

/** Gate blocks per hidden unit: the LSTM's i, f, g, o, or the RNN's single pre-activation. */
export function gatesPerUnit(cell: CellType): number {
  return cellDefinition(cell).gates;
}

/** One layer's parameters (or their gradients) in PyTorch's layout, as views into a model's flat buffer. */
export interface LayerWeights {
  /** `weight_ih_l{k}` (G·H, I) */
  wIh: Arr;
  /** `weight_hh_l{k}` (G·H, H) */
  wHh: Arr;
  /** `bias_ih_l{k}` (G·H) */
  bIh: Arr;
  /** `bias_hh_l{k}` (G·H) */
  bHh: Arr;
  /** `peephole_l{k}` (extraPerUnit·H) for cells with extra parameters (see cells.ts), else absent. */
  extra?: Arr;
}

/** Options of `RecurrentLayer.backward`. */
export interface LayerBackwardOptions {
  /** Truncate BPTT to chunks of this many steps (0: full BPTT). */
  truncate?: number;
  /** Record ‖∂L/∂h_t‖₂ (and ‖∂L/∂c_t‖₂) per step and batch row into `dhNorm` / `dcNorm`. */
  probes?: boolean;
}

/**
 * A recurrent layer bound to its parameter and gradient views and to a kernel set; owns its activation workspace.
 *
 * @example
 * ```ts
 * import { jsKernels } from "./js_kernels.ts";
 * import { RecurrentLayer } from "./layer.ts";
 * const k = jsKernels("float64");
 * const I = 2, H = 3, G = 4;
 * const w = { wIh: k.alloc(G * H * I), wHh: k.alloc(G * H * H), bIh: k.alloc(G * H), bHh: k.alloc(G * H) };
 * const g = { wIh: k.alloc(G * H * I), wHh: k.alloc(G * H * H), bIh: k.alloc(G * H), bHh: k.alloc(G * H) };
 * const layer = new RecurrentLayer(k, "lstm", I, H, w, g);
 * const T = 5, B = 1, x = k.alloc(T * B * I);
 * layer.forward(x, T, B, null, null);
 * const top = layer.outputs(); // h_0 .. h_{T-1}, (T, B, H)
 * const dhFinal = k.alloc(B * H).fill(1); // L = Σ h_{T-1}
 * layer.backward(x, false, dhFinal, null, null, { probes: true }); // g.* now hold ∂L/∂W
 * ```
 */
export class RecurrentLayer {
  readonly G: number;
  /** Length of the current sequence and batch. */
  T = 0;
  B = 0;
  /** (T, B, G·H): activations after forward, their gradients after backward. */
  gates: Arr;
  /** (T+1, B, H): h[-1] (initial state) in slot 0, h_t in slot t+1. */
  h: Arr;
  /** (T+1, B, H), LSTM only: c[-1] in slot 0, c_t in slot t+1. */
  c: Arr | null;
  /** (T, B, G·H), GRU-like cells (`splitHidden`) only: W_hh h_{t-1} + b_hh per step, its gradient after backward. */
  hidden: Arr | null;
  /** (T, B, H): gradient arriving on each h_t from above (readout or next layer), written by the caller. */
  dhSeq: Arr;
  /** (B, H): after backward, ∂L/∂h_{-1} (the initial hidden state's gradient). */
  dh: Arr;
  /** (B, H): after backward, ∂L/∂c_{-1} (LSTM). */
  dc: Arr;
  /** (T, B): ‖∂L/∂h_t‖₂ per step and batch row, filled by a backward pass with probes. */
  dhNorm: Arr;
  /** (T, B): ‖∂L/∂c_t‖₂ (LSTM), filled by a backward pass with probes. */
  dcNorm: Arr;

  readonly #k: Kernels;
  readonly #cell: CellType;
  readonly #I: number;
  readonly #H: number;
  readonly #w: LayerWeights;
  readonly #grad: LayerWeights;
  readonly #wIhT: Arr; // (I, G·H) transposed copy of W_ih, for contiguous rows in the forward product
  readonly #wHhT: Arr; // (H, G·H) transposed copy of W_hh
  readonly #split: boolean;

  constructor(k: Kernels, cell: CellType, inputSize: number, hiddenSize: number, w: LayerWeights, grad: LayerWeights) {
    this.#k = k;
    this.#cell = cell;
    this.#I = inputSize;
    this.#H = hiddenSize;
    this.G = gatesPerUnit(cell);
    const def = cellDefinition(cell), extraSize = (def.extraPerUnit ?? 0) * hiddenSize;
    if ((w.extra?.length ?? 0) !== extraSize || (grad.extra?.length ?? 0) !== extraSize) {
      throw new RangeError(
        `RecurrentLayer: cell "${cell}" has ${extraSize} extra parameters per layer, got weights ` +
          `${w.extra?.length ?? 0} and gradients ${grad.extra?.length ?? 0}`,
      );
    }
    this.#split = def.splitHidden ?? false;
    this.#w = w;
    this.#grad = grad;
    const GH = this.G * hiddenSize;
    this.#wIhT = k.alloc(inputSize * GH);
    this.#wHhT = k.alloc(hiddenSize * GH);
    this.gates =
      this.h =
      this.dhSeq =
      this.dh =
      this.dc =
      this.dhNorm =
      this.dcNorm =
        k.alloc(0);
    this.c = null;
    this.hidden = null;
  }

  /** Sizes the workspace for T steps of B rows; reuses its memory when it is large enough. */
  reshape(T: number, B: number): void {
    if (T === this.T && B === this.B) return;
    const k = this.#k, H = this.#H, GH = this.G * H, BH = B * H;
    const grow = (a: Arr, n: number): Arr => {
      if (n <= a.length) return a;
      k.free(a);
      return k.alloc(n);
    };
    this.gates = grow(this.gates, T * B * GH);
    this.h = grow(this.h, (T + 1) * BH);
    if (cellDefinition(this.#cell).cellState) this.c = grow(this.c ?? k.alloc(0), (T + 1) * BH);
    if (this.#split) this.hidden = grow(this.hidden ?? k.alloc(0), T * B * GH);
    this.dhNorm = grow(this.dhNorm, T * B);
    this.dcNorm = grow(this.dcNorm, T * B);
    if (this.dh.length !== BH) {
      k.free(this.dh);
      k.free(this.dc);
      this.dh = k.alloc(BH);
      this.dc = k.alloc(BH);
    }
    if (this.dhSeq.length > 0) this.dhSeq = grow(this.dhSeq, T * BH);
    this.T = T;
    this.B = B;
  }

  /** Makes the (T, B, H) buffer for gradients from above available (the readout or next layer writes into it). */
  useDhSeq(): Arr {
    const n = this.T * this.B * this.#H;
    if (this.dhSeq.length < n) {
      this.#k.free(this.dhSeq);
      this.dhSeq = this.#k.alloc(n);
    }
    return this.dhSeq.subarray(0, n);
  }

  /** Returns the workspace to the backend (the layer can be reshaped and used again). */
  dispose(): void {
    const k = this.#k;
    for (const a of [this.gates, this.h, this.dhSeq, this.dh, this.dc, this.dhNorm, this.dcNorm]) k.free(a);
    if (this.c !== null) k.free(this.c);
    if (this.hidden !== null) k.free(this.hidden);
    this.hidden = null;
    this.gates =
      this.h =
      this.dhSeq =
      this.dh =
      this.dc =
      this.dhNorm =
      this.dcNorm =
        k.alloc(0);
    this.c = null;
    this.T = this.B = 0;
  }

  /** The hidden states h_0 .. h_{T-1} as one (T, B, H) view (the layer's output sequence). */
  outputs(): Arr {
    const BH = this.B * this.#H;
    return this.h.subarray(BH, (this.T + 1) * BH);
  }

  /** The final hidden state h_{T-1} (B, H). */
  finalH(): Arr {
    const BH = this.B * this.#H;
    return this.h.subarray(this.T * BH, (this.T + 1) * BH);
  }

  /** The final cell state c_{T-1} (B, H), LSTM only. */
  finalC(): Arr | null {
    const BH = this.B * this.#H;
    return this.c === null ? null : this.c.subarray(this.T * BH, (this.T + 1) * BH);
  }

  /** The activated gates of step t (B, G·H), valid between a forward and the next backward. */
  gatesAt(t: number): Arr {
    const n = this.B * this.G * this.#H;
    return this.gates.subarray(t * n, (t + 1) * n);
  }

  /** Forward pass over x (T, B, I). `h0`, `c0` (B, H) are the initial states (zeros when null). */
  forward(x: Arr, T: number, B: number, h0: Arr | null, c0: Arr | null): void {
    const k = this.#k, I = this.#I, H = this.#H, GH = this.G * H, BH = B * H, w = this.#w;
    this.reshape(T, B);
    k.transpose(GH, I, w.wIh, this.#wIhT);
    k.transpose(GH, H, w.wHh, this.#wHhT);
    if (h0 === null) this.h.fill(0, 0, BH);
    else this.h.set(h0);
    if (this.c !== null) {
      if (c0 === null) this.c.fill(0, 0, BH);
      else this.c.set(c0);
    }
    // gates (T·B, G·H) = b_ih + b_hh + x (T·B, I) · W_ihᵀ (I, G·H): all input projections in one product
    // (split cells: b_hh goes to the hidden parts, which the recurrence completes with h[t-1] · W_hhᵀ)
    k.fillRows(T * B, GH, this.gates, w.bIh, this.#split ? null : w.bHh);
    if (this.#split) k.fillRows(T * B, GH, this.hidden!, w.bHh, null);
    k.gemm(T * B, GH, I, x, I, 1, this.#wIhT, GH, this.gates, GH, true);
    // for t: gates[t] += h[t-1] · W_hhᵀ; cell → h_t, c_t
    k.recurrentForward(this.#cell, T, B, H, this.gates, this.h, this.c, this.#wHhT, this.#extras());
  }

  // What cells beyond the LSTM and RNN need (null for those, so their kernels see exactly what they always did).
  #extras(): LayerExtras | null {
    if (!this.#split && this.#w.extra === undefined) return null;
    return { hidden: this.hidden, extra: this.#w.extra ?? null, dExtra: this.#grad.extra ?? null };
  }

  /**
   * Backward pass through the sequence of the last forward call; accumulates into the gradient views.
   * - x (T, B, I): the input of that forward call.
   * - useDhSeq: whether `dhSeq` (T, B, H) holds gradients on each h_t from above (see `useDhSeq()`).
   * - dhFinal, dcFinal (B, H) or null: gradients on the final states h_{T-1}, c_{T-1} (a readout at the last step,
   *   or a loss on h_n / c_n).
   * - dx (T, B, I) or null: receives ∂L/∂x (overwritten).
   * Afterwards `dh` and `dc` hold the gradients on the initial states; with `probes`, `dhNorm` and `dcNorm` hold
   * the per-step gradient norms.
   */
  backward(
    x: Arr,
    useDhSeq: boolean,
    dhFinal: Arr | null,
    dcFinal: Arr | null,
    dx: Arr | null,
    opts: LayerBackwardOptions = {},
  ): void {
    const k = this.#k, I = this.#I, H = this.#H, GH = this.G * H, T = this.T, B = this.B, rows = T * B;
    const w = this.#w, grad = this.#grad, probes = opts.probes ?? false;
    if (dhFinal === null) this.dh.fill(0);
    else this.dh.set(dhFinal);
    if (dcFinal === null) this.dc.fill(0);
    else this.dc.set(dcFinal);
    if (useDhSeq && this.dhSeq.length < rows * H) throw new Error("RecurrentLayer.backward: call useDhSeq() first");
    // for t = T-1 .. 0: cell backward (gates[t] ← dG[t]); dh = dG[t] · W_hh
    k.recurrentBackward(
      this.#cell,
      T,
      B,
      H,
      this.gates,
      this.h,
      this.c,
      w.wHh,
      useDhSeq ? this.dhSeq : null,
      this.dh,
      this.dc,
      opts.truncate ?? 0,
      probes ? this.dhNorm : null,
      probes && this.c !== null ? this.dcNorm : null,
      this.#extras(),
    );
    // dW_hh (G·H, H) += dGᵀ (G·H, T·B) · h[-1 .. T-2] (T·B, H); dW_ih (G·H, I) += dGᵀ · x (T·B, I)
    // (split cells: W_hh and b_hh get the hidden parts' gradients)
    const dHidden = this.#split ? this.hidden! : this.gates;
    k.gemm(GH, H, rows, dHidden, 1, GH, this.h, H, grad.wHh, H, true);
    k.gemm(GH, I, rows, this.gates, 1, GH, x, I, grad.wIh, I, true);
    k.addColumnSums(rows, GH, this.gates, GH, grad.bIh);
    k.addColumnSums(rows, GH, dHidden, GH, grad.bHh);
    // dx (T·B, I) = dG (T·B, G·H) · W_ih (G·H, I)
    if (dx !== null) k.gemm(rows, I, GH, this.gates, GH, 1, w.wIh, I, dx, I, false);
  }
}
