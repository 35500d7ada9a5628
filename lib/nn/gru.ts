/**
 * The GRU cell (Cho et al. 2014) in PyTorch's `nn.GRU` form, one time step for a batch, and a reference stack of GRU
 * layers over a sequence with backpropagation through time: forward and backward side by side.
 *
 *   r  = σ(W_ir x + b_ir + W_hr h_prev + b_hr)            reset gate
 *   z  = σ(W_iz x + b_iz + W_hz h_prev + b_hz)            update gate
 *   n  = tanh(W_in x + b_in + r ⊙ (W_hn h_prev + b_hn))   candidate
 *   h  = (1 - z) ⊙ n + z ⊙ h_prev
 *
 * Layout (PyTorch's, the interchange format): per layer k, `weight_ih_l{k}` (3H, I or H), `weight_hh_l{k}` (3H, H),
 * `bias_ih_l{k}` (3H), `bias_hh_l{k}` (3H), the three row blocks in the order [r | z | n].
 *
 * Design note. Two GRU formulations exist: Cho et al. (2014) apply the reset gate before the recurrent product,
 * n = tanh(W_in x + W_hn (r ⊙ h_prev)); cuDNN and PyTorch apply it after, to W_hn h_prev + b_hn, which is what this
 * file implements, because PyTorch's layout is the project's interchange format and the two differ as functions. That
 * is also why the two biases of the n block cannot be merged into one: b_hn sits inside the reset gate's product.
 * Cho et al. write h = z ⊙ h_prev + (1 - z) ⊙ h̃ too, so z is the "keep" gate in both.
 *
 * The pointwise part of a step (`gruCellForward`/`gruCellBackward`) follows the contract of `lstm.ts`: the layer does
 * the matrix products for all rows, the cell reads pre-activations and writes activations in place. A GRU step needs
 * the input part (gx = W_ih x + b_ih) and the hidden part (gh = W_hh h_prev + b_hh) separately, because r multiplies
 * only the hidden part of the n block. The sequence functions (`gruForward`/`gruBackward`) are the float64 reference
 * of a whole stack, with truncated BPTT and the ‖∂L/∂h_t‖ probes, laid out time-major like the rest of the library:
 * inputs (T, B, I), states (L, B, H).
 *
 * Every ∂ follows from the equations by the chain rule (`gruCellBackward` lists them); the BPTT recursion is
 *
 *   ∂L/∂h_{t-1} = ∂L/∂h_t ⊙ z + (∂L/∂gh_t) · W_hh         (plus the loss's direct term at t-1)
 *
 * so the per-step factor is z plus the gates' terms: with z → 1 the GRU carries the error like a forget gate at 1.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { sigmoid, tanh } from "../math.ts";
import { stepViews } from "./step_views.ts";

/**
 * GRU step forward (pointwise part). `gx` (B, 3H): W_ih x + b_ih in, the activations [r | z | n] out. `gh` (B, 3H):
 * W_hh h_prev + b_hh in, left as is (backward needs its n block). Writes h (B, H) from hPrev (B, H).
 *
 * @example
 * ```ts
 * import { gruCellForward } from "./gru.ts";
 * const gx = new Float64Array([0, 0, 0]), gh = new Float64Array([0, 0, 0]); // r = z = 0.5, n = 0
 * const h = new Float64Array(1);
 * gruCellForward(1, 1, gx, gh, new Float64Array([2]), h); // h = 0.5 * 0 + 0.5 * 2 = 1
 * ```
 */
export function gruCellForward(B: number, H: number, gx: Arr, gh: Arr, hPrev: Arr, h: Arr): void {
  const G = 3 * H;
  for (let b = 0; b < B; b++) {
    const row = b * G, s = b * H;
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gx[row + j] + gh[row + j]);
      const z = sigmoid(gx[row + H + j] + gh[row + H + j]);
      const n = tanh(gx[row + 2 * H + j] + r * gh[row + 2 * H + j]);
      gx[row + j] = r;
      gx[row + H + j] = z;
      gx[row + 2 * H + j] = n;
      h[s + j] = (1 - z) * n + z * hPrev[s + j];
    }
  }
}

/**
 * GRU step backward (pointwise part), the chain rule through the equations above:
 *
 *   dh   += dhIn                                gradient from the readout or the layer above
 *   dn    = dh ⊙ (1 - z)      → dn_pre = dn ⊙ (1 - n²)
 *   dz    = dh ⊙ (h_prev - n) → dz_pre = dz ⊙ z (1 - z)
 *   dr    = dn_pre ⊙ (W_hn h_prev + b_hn) → dr_pre = dr ⊙ r (1 - r)
 *   d(gx) = [dr_pre | dz_pre | dn_pre]          ∂L/∂(W_ih x + b_ih)
 *   d(gh) = [dr_pre | dz_pre | dn_pre ⊙ r]      ∂L/∂(W_hh h_prev + b_hh)
 *   dh_prev = dh ⊙ z                            (the caller adds d(gh) · W_hh)
 *
 * `gx` holds the activations on entry and d(gx) on return; `gh` holds W_hh h_prev + b_hh on entry and d(gh) on
 * return; `dh` (B, H) holds ∂L/∂h_t from the next step on entry and the direct part of ∂L/∂h_{t-1} on return.
 * `dhNorm` (B), if given, receives ‖∂L/∂h_t‖₂ per row.
 *
 * @example
 * ```ts
 * import { gruCellBackward, gruCellForward } from "./gru.ts";
 * const gx = new Float64Array([0.1, 0.2, 0.3]), gh = new Float64Array([0.4, -0.5, 0.6]);
 * const hPrev = new Float64Array([0.7]), h = new Float64Array(1);
 * gruCellForward(1, 1, gx, gh, hPrev, h);
 * const dh = new Float64Array([1]);
 * gruCellBackward(1, 1, gx, gh, hPrev, dh, null, null); // gx, gh now hold ∂h/∂pre; dh = z
 * ```
 */
export function gruCellBackward(
  B: number,
  H: number,
  gx: Arr,
  gh: Arr,
  hPrev: Arr,
  dh: Arr,
  dhIn: Arr | null,
  dhNorm: Arr | null,
): void {
  const G = 3 * H;
  for (let b = 0; b < B; b++) {
    const row = b * G, s = b * H;
    let sq = 0;
    for (let j = 0; j < H; j++) {
      const r = gx[row + j], z = gx[row + H + j], n = gx[row + 2 * H + j];
      const hn = gh[row + 2 * H + j];
      const d = dhIn === null ? dh[s + j] : dh[s + j] + dhIn[s + j];
      const dnPre = d * (1 - z) * (1 - n * n);
      const dzPre = d * (hPrev[s + j] - n) * z * (1 - z);
      const drPre = dnPre * hn * r * (1 - r);
      gx[row + j] = drPre;
      gx[row + H + j] = dzPre;
      gx[row + 2 * H + j] = dnPre;
      gh[row + j] = drPre;
      gh[row + H + j] = dzPre;
      gh[row + 2 * H + j] = dnPre * r;
      dh[s + j] = d * z;
      sq += d * d;
    }
    if (dhNorm !== null) dhNorm[b] = Math.sqrt(sq);
  }
}

/** One GRU layer's parameters in PyTorch's layout (see the module header). */
export interface GruLayer {
  /** `weight_ih_l{k}` (3H, In), In = I for the first layer, H above. */
  weightIh: Float64Array;
  /** `weight_hh_l{k}` (3H, H). */
  weightHh: Float64Array;
  /** `bias_ih_l{k}` (3H). */
  biasIh: Float64Array;
  /** `bias_hh_l{k}` (3H). */
  biasHh: Float64Array;
}

/** A stack of GRU layers: sizes and the parameters of each layer (index 0 reads the input). */
export interface GruNet {
  inputSize: number;
  hiddenSize: number;
  layers: GruLayer[];
}

/**
 * A GRU stack with zero parameters of the right shapes (fill them yourself, or load a PyTorch state dict into them).
 *
 * @example
 * ```ts
 * import { gruNet } from "./gru.ts";
 * const net = gruNet(3, 5, 2);
 * console.log(net.layers[1].weightIh.length); // 3 * 5 * 5 = 75
 * ```
 */
export function gruNet(inputSize: number, hiddenSize: number, numLayers: number): GruNet {
  for (const [name, v] of [["inputSize", inputSize], ["hiddenSize", hiddenSize], ["numLayers", numLayers]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`gruNet: ${name} must be a positive integer, got ${v}`);
  }
  const H = hiddenSize, G = 3 * H;
  return {
    inputSize,
    hiddenSize,
    layers: Array.from({ length: numLayers }, (_, l) => ({
      weightIh: new Float64Array(G * (l === 0 ? inputSize : H)),
      weightHh: new Float64Array(G * H),
      biasIh: new Float64Array(G),
      biasHh: new Float64Array(G),
    })),
  };
}

/** What `gruForward` records for the backward pass, per layer. */
export interface GruTape {
  T: number;
  B: number;
  /** The input sequence (T, B, I), as given. */
  x: Float64Array;
  /** Per layer: activations [r | z | n] (T, B, 3H). */
  gx: Float64Array[];
  /** Per layer: W_hh h_{t-1} + b_hh (T, B, 3H). */
  gh: Float64Array[];
  /** Per layer: states h_0 … h_T (T + 1, B, H); the last layer's h_1 … h_T is the output. */
  h: Float64Array[];
}

/** y[r, o] (+)= Σ_i w[o, i] · x[r, i] (+ b[o]): rows × (O, In) products, the reference way. */
function linearRows(rows: number, O: number, In: number, x: Arr, w: Arr, b: Arr | null, y: Arr, add: boolean): void {
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < O; o++) {
      let acc = b === null ? 0 : b[o];
      for (let i = 0; i < In; i++) acc += w[o * In + i] * x[r * In + i];
      y[r * O + o] = add ? y[r * O + o] + acc : acc;
    }
  }
}

/**
 * Forward pass of a GRU stack over a sequence. `x` (T, B, I), `h0` (L, B, H) or null for zeros.
 * Returns the tape; the output sequence is `tape.h[L - 1].subarray(B * H)` and the final states are each layer's h_T.
 *
 * @example
 * ```ts
 * import { gruForward, gruNet } from "./gru.ts";
 * const net = gruNet(1, 2, 1);
 * const tape = gruForward(net, 3, 1, new Float64Array([1, 0, -1]), null);
 * console.log(tape.h[0].length); // (T + 1) * B * H = 8
 * ```
 */
export function gruForward(net: GruNet, T: number, B: number, x: Float64Array, h0: Float64Array | null): GruTape {
  const L = net.layers.length, H = net.hiddenSize, G = 3 * H, I = net.inputSize;
  if (x.length !== T * B * I) {
    throw new RangeError(`gruForward: x must have T·B·I = ${T * B * I} values, got ${x.length}`);
  }
  if (h0 !== null && h0.length !== L * B * H) {
    throw new RangeError(`gruForward: h0 must have L·B·H = ${L * B * H} values, got ${h0.length}`);
  }
  const tape: GruTape = { T, B, x, gx: [], gh: [], h: [] };
  let input: Float64Array = x, In = I;
  for (let l = 0; l < L; l++) {
    const p = net.layers[l];
    const gx = new Float64Array(T * B * G), gh = new Float64Array(T * B * G), h = new Float64Array((T + 1) * B * H);
    if (h0 !== null) h.set(h0.subarray(l * B * H, (l + 1) * B * H));
    linearRows(T * B, G, In, input, p.weightIh, p.biasIh, gx, false); // all steps' input parts at once
    const gxAt = stepViews(gx, T, B * G), ghAt = stepViews(gh, T, B * G), hAt = stepViews(h, T + 1, B * H);
    for (let t = 0; t < T; t++) {
      linearRows(B, G, H, hAt[t], p.weightHh, p.biasHh, ghAt[t], false);
      gruCellForward(B, H, gxAt[t], ghAt[t], hAt[t], hAt[t + 1]);
    }
    tape.gx.push(gx);
    tape.gh.push(gh);
    tape.h.push(h);
    input = h.subarray(B * H);
    In = H;
  }
  return tape;
}

/** Gradients of a GRU stack: one `GruLayer` of gradients per layer, and those of the input and initial states. */
export interface GruGrads {
  layers: GruLayer[];
  /** ∂L/∂x (T, B, I). */
  dx: Float64Array;
  /** ∂L/∂h0 (L, B, H) (under truncation, the first chunk's share). */
  dh0: Float64Array;
}

/** Options of `gruBackward`. */
export interface GruBackwardOptions {
  /** Truncated BPTT: the state entering each chunk of this many steps is detached (0: full BPTT). */
  truncate?: number;
  /** Probe output (L, T, B): ‖∂L/∂h_t‖₂ per layer, step and row (the total: later steps plus the loss at t). */
  dhNorm?: Float64Array;
}

/**
 * Backward pass (BPTT) of `gruForward`. `dy` (T, B, H): ∂L/∂ output sequence, or null; `dhN` (L, B, H): ∂L/∂ final
 * states, or null. Uses (and overwrites) the tape's gx and gh. With `truncate` = k > 0, the gradient does not cross
 * the chunk boundaries t = k, 2k, … (as `recurrence.ts` does): it equals the gradient of the loss computed chunk by
 * chunk from detached boundary states.
 *
 * @example
 * ```ts
 * import { gruBackward, gruForward, gruNet } from "./gru.ts";
 * const net = gruNet(1, 2, 1);
 * net.layers[0].weightHh.fill(0.3);
 * const tape = gruForward(net, 3, 1, new Float64Array([1, 0, -1]), null);
 * const dhNorm = new Float64Array(3);
 * const g = gruBackward(net, tape, null, new Float64Array([1, 1]), { dhNorm }); // L = Σ h_T
 * console.log(dhNorm[2]); // √2
 * ```
 */
export function gruBackward(
  net: GruNet,
  tape: GruTape,
  dy: Float64Array | null,
  dhN: Float64Array | null,
  opts: GruBackwardOptions = {},
): GruGrads {
  const { T, B } = tape, L = net.layers.length, H = net.hiddenSize, G = 3 * H, I = net.inputSize, BH = B * H;
  const truncate = opts.truncate ?? 0;
  if (!Number.isInteger(truncate) || truncate < 0) {
    throw new RangeError(`gruBackward: truncate must be a non-negative integer (0 = full BPTT), got ${truncate}`);
  }
  if (opts.dhNorm !== undefined && opts.dhNorm.length !== L * T * B) {
    throw new RangeError(`gruBackward: dhNorm must have L·T·B = ${L * T * B} values, got ${opts.dhNorm.length}`);
  }
  const grads: GruGrads = {
    layers: net.layers.map((p) => ({
      weightIh: new Float64Array(p.weightIh.length),
      weightHh: new Float64Array(p.weightHh.length),
      biasIh: new Float64Array(G),
      biasHh: new Float64Array(G),
    })),
    dx: new Float64Array(T * B * I),
    dh0: new Float64Array(L * BH),
  };
  let dOut: Float64Array | null = dy; // ∂L/∂ this layer's output sequence (T, B, H)
  const dh = new Float64Array(BH);
  for (let l = L - 1; l >= 0; l--) {
    const p = net.layers[l], g = grads.layers[l], gx = tape.gx[l], gh = tape.gh[l], h = tape.h[l];
    const In = l === 0 ? I : H;
    const input = l === 0 ? tape.x : tape.h[l - 1].subarray(BH);
    if (dhN === null) dh.fill(0);
    else dh.set(dhN.subarray(l * BH, (l + 1) * BH));
    const gxAt = stepViews(gx, T, B * G), ghAt = stepViews(gh, T, B * G), hAt = stepViews(h, T, BH);
    const dOutAt = dOut === null ? null : stepViews(dOut, T, BH);
    const nrmAt = opts.dhNorm === undefined ? null : stepViews(opts.dhNorm.subarray(l * T * B, (l + 1) * T * B), T, B);
    for (let t = T - 1; t >= 0; t--) {
      const ght = ghAt[t], hPrev = hAt[t];
      gruCellBackward(
        B,
        H,
        gxAt[t],
        ght,
        hPrev,
        dh,
        dOutAt === null ? null : dOutAt[t],
        nrmAt === null ? null : nrmAt[t],
      );
      // Weight gradients of this step: dW_hh += d(gh)ᵀ h_prev, db_hh += d(gh).
      for (let b = 0; b < B; b++) {
        for (let o = 0; o < G; o++) {
          const d = ght[b * G + o];
          g.biasHh[o] += d;
          for (let k = 0; k < H; k++) g.weightHh[o * H + k] += d * hPrev[b * H + k];
        }
      }
      if (truncate > 0 && t > 0 && t % truncate === 0) {
        dh.fill(0); // the state entering this chunk is detached
      } else {
        for (let b = 0; b < B; b++) { // dh_prev += d(gh) · W_hh
          for (let k = 0; k < H; k++) {
            let acc = 0;
            for (let o = 0; o < G; o++) acc += ght[b * G + o] * p.weightHh[o * H + k];
            dh[b * H + k] += acc;
          }
        }
      }
    }
    grads.dh0.set(dh, l * BH);
    // Input-side gradients for all steps at once: dW_ih += d(gx)ᵀ input, db_ih += Σ d(gx), d input = d(gx) · W_ih.
    const dInput = new Float64Array(T * B * In);
    for (let r = 0; r < T * B; r++) {
      for (let o = 0; o < G; o++) {
        const d = gx[r * G + o];
        g.biasIh[o] += d;
        for (let k = 0; k < In; k++) {
          g.weightIh[o * In + k] += d * input[r * In + k];
          dInput[r * In + k] += d * p.weightIh[o * In + k];
        }
      }
    }
    if (l === 0) grads.dx.set(dInput);
    dOut = dInput;
  }
  return grads;
}
