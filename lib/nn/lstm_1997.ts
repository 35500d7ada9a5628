/**
 * The LSTM network of Hochreiter & Schmidhuber (1997), with the forget gate of Gers, Schmidhuber & Cummins (2000) and
 * the peepholes of Gers, Schraudolph & Schmidhuber (2002) as options: one hidden layer of memory cell blocks, its
 * output layer, the full BPTT gradient, and the paper's truncated gradient both as a truncated BPTT and forward in
 * time with RTRL-style traces. Reference implementation, float64, flat row-major buffers, batch rows independent.
 *
 * Units. C blocks of S cells; block j has one input gate in_j, one output gate out_j (optional) and, with the forget
 * gate, one forget gate φ_j, shared by its cells v = jS … jS+S-1. The hidden units are laid out, in this order,
 *
 *   [cells (C·S) | input gates (C) | output gates (C, if any) | forget gates (C, if any)]   U units in all
 *
 * and each has a net input net_i(t) = b_i + Σ_m W[i, m] u_m(t) over the sources u(t) = [x(t) (I) | y(t-1)[0:R]]:
 * the current input and the previous activations of the first R hidden units (R = U: every cell and gate, the
 * paper's "F" topology; R = C·S: the cells only; R = 0: no recurrence, the paper's "B" for Exp 2a/2b).
 *
 *   y_in(t)  = σ(net_in(t)  [+ Σ_v p_in,v  s_v(t-1)])                    f = σ, the logistic function (eq. 3)
 *   y_φ(t)   = σ(net_φ(t)   [+ Σ_v p_φ,v   s_v(t-1)])  (1 without the forget gate)
 *   s_v(t)   = y_φ(t) s_v(t-1) + y_in(t) g(net_v(t))                      the CEC; s_v(0) = 0
 *   y_out(t) = σ(net_out(t) [+ Σ_v p_out,v s_v(t)])    (1 without the output gate)
 *   y_v(t)   = y_out(t) h(s_v(t))                                          the cell's output
 *   y_k(t)   = f_k(b_k + Σ_o W_out[k, o] o(t)),  o(t) = y_cells(t) or [x(t) | y_cells(t)]
 *
 * The peephole sums [·] run over the cells of the gate's own block (a (3, C, S) weight array, diagonal per cell).
 *
 * Design notes (what the papers say, and the choices made where they leave room):
 * - Processing order within a step (HS97 §5, "What's common"): hidden units read the current input and the previous
 *   step's hidden activations; outputs read the current step's cell outputs. HS97's appendix writes every source at
 *   t-1; the experiments do not, and neither does this file. Initial activations and states are 0 (HS97 §5.1).
 * - Squashing (HS97 eqs. 3-5): g(x) = 4σ(x) - 2 ∈ [-2, 2] ("sym2"), h(x) = 2σ(x) - 1 ∈ [-1, 1] ("sym1") by default;
 *   Exp 2a/2b use g = σ and h = identity. Table 10's caption swaps the two ranges; the text, eqs. 4-5 and the JKU
 *   reference simulator agree on g ∈ [-2, 2], h ∈ [-1, 1], so that is the default. Output units are logistic (HS97 §5)
 *   or, as an option, linear.
 * - Biases are weights from a constant-1 unit; which unit kinds carry them is per experiment (HS97 Table 10: gates
 *   only, none, all hidden units, all non-input units). An unbiased kind's entries of `b`/`bOut` stay 0, receive no
 *   gradient and are not counted by `lstm1997WeightCount`. The paper's weight counts (HS97 §5, Table 10) follow:
 *   see `LSTM_1997_PAPER_NETS` and its test.
 * - The truncated gradient (HS97 §4, appendix A.1 eqs. 10-28): ∂net_i(t)/∂y_u(t-1) := 0 for every gate and cell net
 *   input i. Error reaching a net input updates that unit's incoming weights and stops; it flows back in time only
 *   along the CEC, s_v(t-1) ← s_v(t) with factor y_φ(t) (1 in 1997), and within a step from the outputs to the
 *   cells and output gates. It is exactly the gradient of the stop-gradient graph: the forward pass in which every
 *   net input reads recorded values of its recurrent (and peephole) sources instead of live ones (`frozen`). Two
 *   implementations, tested equal: `lstm1997Backward(…, "truncated")` (backward in time) and `Lstm1997Rtrl` (forward
 *   in time, HS97 eqs. 25/27 with the y_φ factor of Gers 2000: ∂s_v/∂w(t) = y_φ(t) ∂s_v/∂w(t-1) + new term; O(W)
 *   work per step and memory independent of T). Under this rule the 1997 CEC carries the error with a factor of
   exactly 1 per step: where no output error enters, ∂L/∂s_v(t-1) = ∂L/∂s_v(t), bit for bit (tested).
 * - Peepholes (Gers 2002): input and forget gates see s(t-1), the output gate sees s(t). The original propagates no
 *   error through them into the CEC (`peepholeError: false`, the default); the modern form does (`true`). Under the
 *   truncated rule peephole sources are net-input sources, so no error crosses them either way.
 * - The weights change when the caller applies the accumulated gradient, per step or per sequence: HS97 leaves it
 *   open for Exp 1/2a/2b and the JKU simulator updates per sequence. `Lstm1997Rtrl.step` hands out each step's
 *   contribution (eq. 22-28 summed over steps, A.1), so both schedules are the caller's choice.
 * - Gradients are of a loss L(y_k) given as ∂L/∂y_k per step, not the paper's e_k = f'_k (t_k - y_k): with L = ½ Σ
 *   (t_k - y_k)² the two differ only in sign (HS97 drops the factor 2 of eq. 16 and descends along e).
 * - Not modelled: conventional hidden units (no experiment reproduced here uses them), and HS97's sequential
 *   construction (adding a block when the error plateaus, Exp 2a/2b). The JKU simulator starts activations at 0.5;
   HS97 says zeros, which is what this file does.
 *
 * References: S. Hochreiter, J. Schmidhuber, Long Short-Term Memory, Neural Computation 9(8):1735-1780, 1997 (HS97).
 * F. Gers, J. Schmidhuber, F. Cummins, Learning to Forget: Continual Prediction with LSTM, Neural Computation
 * 12(10):2451-2471, 2000. F. Gers, N. Schraudolph, J. Schmidhuber, Learning Precise Timing with LSTM Recurrent
 * Networks, JMLR 3:115-143, 2002.
 *
 * @module
 */

import { sigmoid, tanh } from "../math.ts";
import type { Rng } from "../rng.ts";
import { stepViews } from "./step_views.ts";

/**
 * A squashing function: "sigmoid" σ ∈ [0, 1]; "sym1" 2σ - 1 ∈ [-1, 1] (HS97's h); "sym2" 4σ - 2 ∈ [-2, 2] (HS97's g);
 * "tanh"; "identity".
 */
export type Squash = "sigmoid" | "sym1" | "sym2" | "tanh" | "identity";

const SQUASHES: readonly Squash[] = ["sigmoid", "sym1", "sym2", "tanh", "identity"];

/** The squashing function `kind` at x. */
function squash(kind: Squash, x: number): number {
  switch (kind) {
    case "sigmoid":
      return sigmoid(x);
    case "sym1":
      return 2 * sigmoid(x) - 1;
    case "sym2":
      return 4 * sigmoid(x) - 2;
    case "tanh":
      return tanh(x);
    case "identity":
      return x;
  }
}

/** The derivative of the squashing function `kind` at x. */
function squashDerivative(kind: Squash, x: number): number {
  switch (kind) {
    case "sigmoid": {
      const s = sigmoid(x);
      return s * (1 - s);
    }
    case "sym1": {
      const s = sigmoid(x);
      return 2 * s * (1 - s);
    }
    case "sym2": {
      const s = sigmoid(x);
      return 4 * s * (1 - s);
    }
    case "tanh": {
      const t = tanh(x);
      return 1 - t * t;
    }
    case "identity":
      return 1;
  }
}

/** Which unit kinds carry a bias (a weight from a constant-1 unit). */
export interface Lstm1997Bias {
  cell: boolean;
  inputGate: boolean;
  outputGate: boolean;
  forgetGate: boolean;
  output: boolean;
}

/**
 * HS97 Table 10's bias codes: "ga" gates only; "none"; "b1" all hidden units, outputs unbiased; "all" every
 * non-input unit.
 *
 * @example
 * ```ts
 * import { lstm1997Bias } from "./lstm_1997.ts";
 * lstm1997Bias("ga"); // { cell: false, inputGate: true, outputGate: true, forgetGate: true, output: false }
 * ```
 */
export function lstm1997Bias(code: "ga" | "none" | "b1" | "all"): Lstm1997Bias {
  const gates = code !== "none", hidden = code === "b1" || code === "all";
  return { cell: hidden, inputGate: gates, outputGate: gates, forgetGate: gates, output: code === "all" };
}

/** The network's structure (see the module header). */
export interface Lstm1997Config {
  /** I, input units. */
  inputSize: number;
  /** C, memory cell blocks. */
  blocks: number;
  /** S, cells per block. */
  cellsPerBlock: number;
  /** K, output units. */
  outputSize: number;
  /** Sources of the hidden net inputs besides the input: "all" hidden units (HS97 "F"), "cells", or "none" ("B"). */
  recurrence: "all" | "cells" | "none";
  /** What the output units read: the cells (HS97 "F") or the inputs and the cells ("B"). */
  outputFrom: "cells" | "inputs+cells";
  /** One output gate per block (HS97); false for Exp 2a/2b. */
  outputGate: boolean;
  /** One forget gate per block (Gers 2000); false in HS97. */
  forgetGate: boolean;
  /** Peephole weights from each cell's state to its block's gates (Gers 2002). */
  peepholes: boolean;
  /** Whether the full gradient sends error through the peepholes into the CEC (modern) or not (Gers 2002). */
  peepholeError: boolean;
  /** Which unit kinds carry biases. */
  bias: Lstm1997Bias;
  /** Cell-input squashing g. */
  g: Squash;
  /** Cell-output squashing h. */
  h: Squash;
  /** Output units' activation f_k. */
  outputActivation: "sigmoid" | "identity";
}

/**
 * HS97's "F" network with the paper's defaults (g = sym2, h = sym1, logistic outputs, gates biased), no forget gate
 * and no peepholes; override any field.
 *
 * @example
 * ```ts
 * import { lstm1997Config } from "./lstm_1997.ts";
 * const cfg = lstm1997Config({ inputSize: 7, blocks: 4, cellsPerBlock: 1, outputSize: 7 }); // Exp 1, 4 blocks × 1
 * ```
 */
export function lstm1997Config(
  sizes: Pick<Lstm1997Config, "inputSize" | "blocks" | "cellsPerBlock" | "outputSize"> & Partial<Lstm1997Config>,
): Lstm1997Config {
  const cfg: Lstm1997Config = {
    recurrence: "all",
    outputFrom: "cells",
    outputGate: true,
    forgetGate: false,
    peepholes: false,
    peepholeError: false,
    bias: lstm1997Bias("ga"),
    g: "sym2",
    h: "sym1",
    outputActivation: "sigmoid",
    ...sizes,
  };
  validate(cfg);
  return cfg;
}

function validate(cfg: Lstm1997Config): void {
  for (const k of ["inputSize", "blocks", "cellsPerBlock", "outputSize"] as const) {
    const v = cfg[k];
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`lstm-1997: ${k} must be a positive integer, got ${v}`);
  }
  const oneOf = (k: keyof Lstm1997Config, allowed: readonly unknown[]) => {
    if (!allowed.includes(cfg[k])) {
      throw new RangeError(`lstm-1997: ${k} must be one of ${allowed.join(", ")}, got ${JSON.stringify(cfg[k])}`);
    }
  };
  oneOf("recurrence", ["all", "cells", "none"]);
  oneOf("outputFrom", ["cells", "inputs+cells"]);
  oneOf("g", SQUASHES);
  oneOf("h", SQUASHES);
  oneOf("outputActivation", ["sigmoid", "identity"]);
  for (const k of ["outputGate", "forgetGate", "peepholes", "peepholeError"] as const) oneOf(k, [true, false]);
  for (const k of ["cell", "inputGate", "outputGate", "forgetGate", "output"] as const) {
    if (typeof cfg.bias?.[k] !== "boolean") {
      throw new RangeError(`lstm-1997: bias.${k} must be true or false, got ${JSON.stringify(cfg.bias?.[k])}`);
    }
  }
}

/** Sizes and offsets derived from a config. */
interface Layout {
  I: number;
  C: number;
  S: number;
  K: number;
  /** Cells, C·S. */
  CS: number;
  /** Hidden units. */
  U: number;
  /** Recurrent sources (the first R hidden units). */
  R: number;
  /** Sources per hidden net input, I + R (the row length of W). */
  N: number;
  /** Output units' sources. */
  O: number;
  offIn: number;
  /** -1 without output gates. */
  offOut: number;
  /** -1 without forget gates. */
  offPhi: number;
  /** Per hidden unit: 1 if it carries a bias. */
  biased: Uint8Array;
}

function layout(cfg: Lstm1997Config): Layout {
  const I = cfg.inputSize, C = cfg.blocks, S = cfg.cellsPerBlock, K = cfg.outputSize, CS = C * S;
  const offIn = CS, offOut = cfg.outputGate ? CS + C : -1;
  const offPhi = cfg.forgetGate ? CS + C * (cfg.outputGate ? 2 : 1) : -1;
  const U = CS + C * (1 + (cfg.outputGate ? 1 : 0) + (cfg.forgetGate ? 1 : 0));
  const R = cfg.recurrence === "all" ? U : cfg.recurrence === "cells" ? CS : 0;
  const biased = new Uint8Array(U);
  biased.fill(cfg.bias.cell ? 1 : 0, 0, CS);
  biased.fill(cfg.bias.inputGate ? 1 : 0, offIn, offIn + C);
  if (offOut >= 0) biased.fill(cfg.bias.outputGate ? 1 : 0, offOut, offOut + C);
  if (offPhi >= 0) biased.fill(cfg.bias.forgetGate ? 1 : 0, offPhi, offPhi + C);
  const O = cfg.outputFrom === "cells" ? CS : I + CS;
  return { I, C, S, K, CS, U, R, N: I + R, O, offIn, offOut, offPhi, biased };
}

/**
 * The parameters (or their gradients), flat and row-major:
 * `w` (U, I + R) hidden net-input weights, `b` (U) hidden biases, `peep` (3, C, S) peephole weights
 * [input | forget | output gates], `wOut` (K, O) output weights, `bOut` (K) output biases.
 */
export interface Lstm1997Params {
  w: Float64Array;
  b: Float64Array;
  peep: Float64Array;
  wOut: Float64Array;
  bOut: Float64Array;
}

/**
 * Zero parameters of the right shapes for `cfg`.
 *
 * @example
 * ```ts
 * import { lstm1997Config, lstm1997Params } from "./lstm_1997.ts";
 * const p = lstm1997Params(lstm1997Config({ inputSize: 2, blocks: 2, cellsPerBlock: 2, outputSize: 1 }));
 * console.log(p.w.length); // U (I + R) = 8 · 10 = 80
 * ```
 */
export function lstm1997Params(cfg: Lstm1997Config): Lstm1997Params {
  const l = layout(cfg);
  return {
    w: new Float64Array(l.U * l.N),
    b: new Float64Array(l.U),
    peep: new Float64Array(3 * l.CS),
    wOut: new Float64Array(l.K * l.O),
    bOut: new Float64Array(l.K),
  };
}

/**
 * The number of trainable weights, counted as HS97 does (biases of biased unit kinds included, peepholes of existing
 * gates included).
 *
 * @example
 * ```ts
 * import { lstm1997Config, lstm1997WeightCount } from "./lstm_1997.ts";
 * lstm1997WeightCount(lstm1997Config({ inputSize: 7, blocks: 4, cellsPerBlock: 1, outputSize: 7 })); // 264
 * ```
 */
export function lstm1997WeightCount(cfg: Lstm1997Config): number {
  const l = layout(cfg);
  const gates = 1 + (cfg.outputGate ? 1 : 0) + (cfg.forgetGate ? 1 : 0);
  const biases = l.biased.reduce((a, v) => a + v, 0);
  return l.U * l.N + biases + (cfg.peepholes ? gates * l.CS : 0) + l.K * l.O + (cfg.bias.output ? l.K : 0);
}

/** Initialisation: every weight U[-range, range], then per-block gate-bias overrides (HS97 §4, §5, Table 10). */
export interface Lstm1997Init {
  range: number;
  /** One bias per block for the input gates, e.g. [-1, -3, -5] (HS97 Exp 3); omitted: random like the rest. */
  inputGateBias?: number[];
  outputGateBias?: number[];
  forgetGateBias?: number[];
}

/**
 * Initialises `p` in place: every trainable weight U[-range, range] (unbiased kinds' biases and unused peepholes
 * stay 0), then the per-block gate biases given.
 *
 * @example
 * ```ts
 * import { lstm1997Config, lstm1997Init, lstm1997Params } from "./lstm_1997.ts";
 * import { Rng } from "../rng.ts";
 * const cfg = lstm1997Config({ inputSize: 7, blocks: 3, cellsPerBlock: 2, outputSize: 7 }); // Exp 1, 3 × 2
 * const p = lstm1997Params(cfg);
 * lstm1997Init(cfg, p, new Rng(0), { range: 0.2, outputGateBias: [-1, -2, -3] });
 * ```
 */
export function lstm1997Init(cfg: Lstm1997Config, p: Lstm1997Params, rng: Rng, init: Lstm1997Init): void {
  const l = layout(cfg);
  if (!(init.range >= 0) || !Number.isFinite(init.range)) {
    throw new RangeError(`lstm-1997 init: range must be a finite number ≥ 0, got ${init.range}`);
  }
  const u = () => rng.uniformIn(-init.range, init.range);
  for (let i = 0; i < p.w.length; i++) p.w[i] = u();
  for (let i = 0; i < l.U; i++) p.b[i] = l.biased[i] ? u() : 0;
  p.peep.fill(0);
  if (cfg.peepholes) {
    const kinds = [true, cfg.forgetGate, cfg.outputGate];
    for (let q = 0; q < 3; q++) if (kinds[q]) { for (let i = 0; i < l.CS; i++) p.peep[q * l.CS + i] = u(); }
  }
  for (let i = 0; i < p.wOut.length; i++) p.wOut[i] = u();
  for (let k = 0; k < l.K; k++) p.bOut[k] = cfg.bias.output ? u() : 0;
  const lists = [
    ["inputGateBias", l.offIn, cfg.bias.inputGate],
    ["outputGateBias", l.offOut, cfg.bias.outputGate],
    ["forgetGateBias", l.offPhi, cfg.bias.forgetGate],
  ] as const;
  for (const [name, off, on] of lists) {
    const list = init[name];
    if (list === undefined) continue;
    if (off < 0 || !on) {
      throw new RangeError(
        `lstm-1997 init: ${name} given, but the network has no ${off < 0 ? "such gates" : "bias there"}`,
      );
    }
    if (list.length !== l.C || !list.every(Number.isFinite)) {
      throw new RangeError(`lstm-1997 init: ${name} must list ${l.C} finite numbers (one per block), got [${list}]`);
    }
    for (let j = 0; j < l.C; j++) p.b[off + j] = list[j];
  }
}

/** What the forward pass records, per step (time-major). */
export interface Lstm1997Tape {
  T: number;
  B: number;
  /** Inputs (T, B, I). */
  x: Float64Array;
  /** Hidden net inputs, peephole terms included (T, B, U). */
  net: Float64Array;
  /** Hidden activations y(0) … y(T) (T + 1, B, U); y(0) = 0. */
  y: Float64Array;
  /** Cell states s(0) … s(T) (T + 1, B, C·S); s(0) = 0. */
  s: Float64Array;
  /** Output net inputs (T, B, K). */
  netK: Float64Array;
  /** Outputs y_k (T, B, K). */
  yK: Float64Array;
}

/**
 * One step for B rows (the equations of the module header). Net inputs read their recurrent sources from `srcY`
 * (B, U) and their input/forget peephole sources from `srcS` (B, C·S), the output gate's peephole from `srcSNew`
 * (null: this step's own new state); the CEC itself reads `sPrev`.
 */
function stepForward(
  cfg: Lstm1997Config,
  l: Layout,
  p: Lstm1997Params,
  B: number,
  x: Float64Array,
  sPrev: Float64Array,
  srcY: Float64Array,
  srcS: Float64Array,
  srcSNew: Float64Array | null,
  net: Float64Array,
  y: Float64Array,
  s: Float64Array,
  netK: Float64Array,
  yK: Float64Array,
): void {
  const { I, C, S, K, CS, U, R, N, O, offIn, offOut, offPhi, biased } = l;
  for (let b = 0; b < B; b++) {
    const x0 = b * I, y0 = b * U, s0 = b * CS;
    for (let i = 0; i < U; i++) {
      let acc = biased[i] ? p.b[i] : 0;
      const row = i * N;
      for (let m = 0; m < I; m++) acc += p.w[row + m] * x[x0 + m];
      for (let m = 0; m < R; m++) acc += p.w[row + I + m] * srcY[y0 + m];
      net[y0 + i] = acc;
    }
    const sNew = srcSNew ?? s;
    for (let j = 0; j < C; j++) {
      const c0 = j * S;
      let nIn = net[y0 + offIn + j], nPhi = offPhi < 0 ? 0 : net[y0 + offPhi + j];
      if (cfg.peepholes) {
        for (let v = 0; v < S; v++) {
          nIn += p.peep[c0 + v] * srcS[s0 + c0 + v];
          if (offPhi >= 0) nPhi += p.peep[CS + c0 + v] * srcS[s0 + c0 + v];
        }
      }
      const yin = sigmoid(nIn);
      net[y0 + offIn + j] = nIn;
      y[y0 + offIn + j] = yin;
      let phi = 1;
      if (offPhi >= 0) {
        phi = sigmoid(nPhi);
        net[y0 + offPhi + j] = nPhi;
        y[y0 + offPhi + j] = phi;
      }
      for (let v = 0; v < S; v++) {
        const c = s0 + c0 + v;
        s[c] = phi * sPrev[c] + yin * squash(cfg.g, net[y0 + c0 + v]);
      }
      let yout = 1;
      if (offOut >= 0) {
        let nOut = net[y0 + offOut + j];
        if (cfg.peepholes) { for (let v = 0; v < S; v++) nOut += p.peep[2 * CS + c0 + v] * sNew[s0 + c0 + v]; }
        net[y0 + offOut + j] = nOut;
        yout = sigmoid(nOut);
        y[y0 + offOut + j] = yout;
      }
      for (let v = 0; v < S; v++) y[y0 + c0 + v] = yout * squash(cfg.h, s[s0 + c0 + v]);
    }
    const k0 = b * K;
    for (let k = 0; k < K; k++) {
      let acc = cfg.bias.output ? p.bOut[k] : 0;
      const row = k * O;
      if (O === CS) {
        for (let o = 0; o < CS; o++) acc += p.wOut[row + o] * y[y0 + o];
      } else {
        for (let o = 0; o < I; o++) acc += p.wOut[row + o] * x[x0 + o];
        for (let o = 0; o < CS; o++) acc += p.wOut[row + I + o] * y[y0 + o];
      }
      netK[k0 + k] = acc;
      yK[k0 + k] = cfg.outputActivation === "sigmoid" ? sigmoid(acc) : acc;
    }
  }
}

/**
 * Which sources a forward pass reads from a recorded tape instead of its own values: "all" net-input sources (the
 * stop-gradient graph of the truncated rule), or only the "peepholes" (the graph of the full gradient without
 * peephole error). Used to check the gradients by finite differences.
 */
export interface Lstm1997Frozen {
  tape: Lstm1997Tape;
  what: "all" | "peepholes";
}

/**
 * Forward pass over a sequence: `x` (T, B, I), states and activations starting at 0. Returns the tape; the outputs
 * are `tape.yK` (T, B, K).
 *
 * @example
 * ```ts
 * import { lstm1997Config, lstm1997Forward, lstm1997Params } from "./lstm_1997.ts";
 * const cfg = lstm1997Config({ inputSize: 1, blocks: 1, cellsPerBlock: 1, outputSize: 1 });
 * const tape = lstm1997Forward(cfg, lstm1997Params(cfg), 2, 1, new Float64Array([1, -1]));
 * console.log(tape.yK); // [0.5, 0.5]: zero weights, logistic outputs
 * ```
 */
export function lstm1997Forward(
  cfg: Lstm1997Config,
  p: Lstm1997Params,
  T: number,
  B: number,
  x: Float64Array,
  frozen: Lstm1997Frozen | null = null,
): Lstm1997Tape {
  const l = layout(cfg);
  if (x.length !== T * B * l.I) {
    throw new RangeError(`lstm-1997 forward: x must have T·B·I = ${T * B * l.I} values, got ${x.length}`);
  }
  if (frozen !== null && (frozen.tape.T !== T || frozen.tape.B !== B)) {
    throw new RangeError(`lstm-1997 forward: the frozen tape is (T, B) = (${frozen.tape.T}, ${frozen.tape.B})`);
  }
  const { U, CS, K } = l, BU = B * U, BS = B * CS, BK = B * K;
  const tape: Lstm1997Tape = {
    T,
    B,
    x,
    net: new Float64Array(T * BU),
    y: new Float64Array((T + 1) * BU),
    s: new Float64Array((T + 1) * BS),
    netK: new Float64Array(T * BK),
    yK: new Float64Array(T * BK),
  };
  const fy = frozen !== null && frozen.what === "all" ? frozen.tape.y : tape.y;
  const fs = frozen === null ? tape.s : frozen.tape.s;
  const xAt = stepViews(x, T, B * l.I), netAt = stepViews(tape.net, T, BU), netKAt = stepViews(tape.netK, T, BK);
  const yAt = stepViews(tape.y, T + 1, BU), sAt = stepViews(tape.s, T + 1, BS), yKAt = stepViews(tape.yK, T, BK);
  const fyAt = stepViews(fy, T + 1, BU), fsAt = stepViews(fs, T + 1, BS);
  for (let t = 0; t < T; t++) {
    const sNew = frozen === null ? null : fsAt[t + 1];
    stepForward(
      cfg,
      l,
      p,
      B,
      xAt[t],
      sAt[t],
      fyAt[t],
      fsAt[t],
      sNew,
      netAt[t],
      yAt[t + 1],
      sAt[t + 1],
      netKAt[t],
      yKAt[t],
    );
  }
  return tape;
}

/** Options of `lstm1997Backward`: probe outputs, each (T, B). */
export interface Lstm1997BackwardOptions {
  /** ‖∂L/∂y_cells(t)‖₂: the error on the cells' outputs (for "truncated", only what the outputs put there). */
  dhNorm?: Float64Array;
  /** ‖∂L/∂s(t)‖₂: the error on the cell states, as the gradient carries it back (for "truncated", along the CEC). */
  dsNorm?: Float64Array;
}

/** The gradients: parameter-shaped, plus ∂L/∂x (T, B, I) for the full gradient (null for the truncated rule). */
export interface Lstm1997Grads extends Lstm1997Params {
  dx: Float64Array | null;
}

function checkProbe(name: string, a: Float64Array | undefined, n: number): void {
  if (a !== undefined && a.length !== n) {
    throw new RangeError(`lstm-1997 backward: ${name} must have T·B = ${n} values`);
  }
}

/**
 * Backward in time. `dyK` (T, B, K): ∂L/∂y_k at every step (zeros where there is no target). `gradient`:
 * "full" (BPTT through every connection; through the peepholes only with `peepholeError`) or "truncated" (HS97's rule:
 * no error crosses a net input, so it flows back only along the CEC).
 *
 * @example
 * ```ts
 * import { lstm1997Backward, lstm1997Config, lstm1997Forward, lstm1997Params } from "./lstm_1997.ts";
 * const cfg = lstm1997Config({ inputSize: 1, blocks: 1, cellsPerBlock: 1, outputSize: 1 });
 * const p = lstm1997Params(cfg);
 * const tape = lstm1997Forward(cfg, p, 2, 1, new Float64Array([1, -1]));
 * const g = lstm1997Backward(cfg, p, tape, new Float64Array([0, 1]), "truncated"); // L = y_k(2)
 * ```
 */
export function lstm1997Backward(
  cfg: Lstm1997Config,
  p: Lstm1997Params,
  tape: Lstm1997Tape,
  dyK: Float64Array,
  gradient: "full" | "truncated",
  opts: Lstm1997BackwardOptions = {},
): Lstm1997Grads {
  const l = layout(cfg), { I, C, S, K, CS, U, R, N, O, offIn, offOut, offPhi, biased } = l;
  const { T, B } = tape, full = gradient === "full";
  if (gradient !== "full" && gradient !== "truncated") {
    throw new RangeError(`lstm-1997 backward: gradient must be "full" or "truncated", got ${JSON.stringify(gradient)}`);
  }
  if (dyK.length !== T * B * K) throw new RangeError(`lstm-1997 backward: dyK must have T·B·K = ${T * B * K} values`);
  checkProbe("dhNorm", opts.dhNorm, T * B);
  checkProbe("dsNorm", opts.dsNorm, T * B);
  const peepErr = full && cfg.peepholes && cfg.peepholeError;
  const g: Lstm1997Grads = { ...lstm1997Params(cfg), dx: full ? new Float64Array(T * B * I) : null };
  const dyRec = new Float64Array(B * U); // ∂L/∂y(t) through the recurrent weights of step t+1
  const dsNext = new Float64Array(B * CS); // ∂L/∂s(t) carried from step t+1
  const dy = new Float64Array(U), dnet = new Float64Array(U), ds = new Float64Array(CS);
  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const r = t * B + b, x0 = r * I, k0 = r * K, n0 = r * U, yPrev0 = r * U, y0 = (r + B) * U;
      const sPrev0 = r * CS, s0 = (r + B) * CS;
      for (let i = 0; i < U; i++) dy[i] = dyRec[b * U + i];
      // Output units.
      for (let k = 0; k < K; k++) {
        const yk = tape.yK[k0 + k];
        const d = dyK[k0 + k] * (cfg.outputActivation === "sigmoid" ? yk * (1 - yk) : 1);
        if (d === 0) continue;
        if (cfg.bias.output) g.bOut[k] += d;
        const row = k * O, oc = O === CS ? 0 : I;
        if (oc > 0) {
          for (let o = 0; o < I; o++) {
            g.wOut[row + o] += d * tape.x[x0 + o];
            if (full) g.dx![x0 + o] += d * p.wOut[row + o];
          }
        }
        for (let o = 0; o < CS; o++) {
          g.wOut[row + oc + o] += d * tape.y[y0 + o];
          dy[o] += d * p.wOut[row + oc + o];
        }
      }
      if (opts.dhNorm !== undefined) {
        let sq = 0;
        for (let o = 0; o < CS; o++) sq += dy[o] * dy[o];
        opts.dhNorm[r] = Math.sqrt(sq);
      }
      // Blocks.
      let dsSq = 0;
      for (let j = 0; j < C; j++) {
        const c0 = j * S;
        const yout = offOut < 0 ? 1 : tape.y[y0 + offOut + j];
        let dyout = offOut < 0 ? 0 : dy[offOut + j];
        for (let v = 0; v < S; v++) {
          const c = c0 + v, sv = tape.s[s0 + c];
          ds[c] = dsNext[b * CS + c] + dy[c] * yout * squashDerivative(cfg.h, sv);
          dyout += dy[c] * squash(cfg.h, sv);
        }
        if (offOut >= 0) {
          const dn = dyout * yout * (1 - yout);
          dnet[offOut + j] = dn;
          if (cfg.peepholes) {
            for (let v = 0; v < S; v++) {
              g.peep[2 * CS + c0 + v] += dn * tape.s[s0 + c0 + v];
              if (peepErr) ds[c0 + v] += dn * p.peep[2 * CS + c0 + v];
            }
          }
        }
        const yin = tape.y[y0 + offIn + j], phi = offPhi < 0 ? 1 : tape.y[y0 + offPhi + j];
        let dyin = dy[offIn + j], dyphi = offPhi < 0 ? 0 : dy[offPhi + j];
        for (let v = 0; v < S; v++) {
          const c = c0 + v, netc = tape.net[n0 + c];
          dsSq += ds[c] * ds[c];
          dyin += ds[c] * squash(cfg.g, netc);
          dyphi += ds[c] * tape.s[sPrev0 + c];
          dnet[c] = ds[c] * yin * squashDerivative(cfg.g, netc);
        }
        const dnin = dyin * yin * (1 - yin), dnphi = dyphi * phi * (1 - phi);
        dnet[offIn + j] = dnin;
        if (offPhi >= 0) dnet[offPhi + j] = dnphi;
        for (let v = 0; v < S; v++) {
          const c = c0 + v;
          let dPrev = ds[c] * phi;
          if (cfg.peepholes) {
            const sp = tape.s[sPrev0 + c];
            g.peep[c] += dnin * sp;
            if (offPhi >= 0) g.peep[CS + c] += dnphi * sp;
            if (peepErr) dPrev += dnin * p.peep[c] + (offPhi >= 0 ? dnphi * p.peep[CS + c] : 0);
          }
          dsNext[b * CS + c] = dPrev;
        }
      }
      if (opts.dsNorm !== undefined) opts.dsNorm[r] = Math.sqrt(dsSq);
      // Hidden weights: dW += dnet ⊗ u(t); the error crosses the net inputs only for the full gradient.
      for (let i = 0; i < U; i++) {
        const d = dnet[i];
        if (biased[i]) g.b[i] += d;
        const row = i * N;
        for (let m = 0; m < I; m++) g.w[row + m] += d * tape.x[x0 + m];
        for (let m = 0; m < R; m++) g.w[row + I + m] += d * tape.y[yPrev0 + m];
      }
      if (full) {
        for (let m = 0; m < I; m++) {
          let acc = 0;
          for (let i = 0; i < U; i++) acc += dnet[i] * p.w[i * N + m];
          g.dx![x0 + m] += acc;
        }
        for (let m = 0; m < U; m++) {
          let acc = 0;
          if (m < R) { for (let i = 0; i < U; i++) acc += dnet[i] * p.w[i * N + I + m]; }
          dyRec[b * U + m] = acc;
        }
      }
    }
  }
  return g;
}

/**
 * HS97's truncated gradient computed forward in time (appendix A.1): per cell v and per source m of the net inputs
 * that feed it, a trace ∂s_v/∂w (eqs. 25, 27; with the forget gate's factor of Gers 2000), updated every step as
 *
 *   ∂s_v/∂w_in,m(t)  = y_φ(t) ∂s_v/∂w_in,m(t-1)  + g(net_v(t)) σ'(net_in(t)) u_m(t)
 *   ∂s_v/∂w_φ,m(t)   = y_φ(t) ∂s_v/∂w_φ,m(t-1)   + s_v(t-1) σ'(net_φ(t)) u_m(t)
 *   ∂s_v/∂w_v,m(t)   = y_φ(t) ∂s_v/∂w_v,m(t-1)   + g'(net_v(t)) y_in(t) u_m(t)
 *
 * over u(t) = [x(t) | y(t-1)[0:R] | 1 | the block's s(t-1) (peepholes)]; then each step adds e_s,v(t) · trace to the
 * gradient of the input-gate, forget-gate and cell weights (eqs. 26, 28), where e_s,v(t) = ∂L(t)/∂y_v(t) y_out h'(s_v)
 * is the error the step's outputs put on the state (eq. 23), and the immediate gradients of the output gates and
 * output units (eqs. 21-22). Work O(W) per step; memory (B · C·S · sources) whatever T.
 *
 * @example
 * ```ts
 * import { Lstm1997Rtrl, lstm1997Config, lstm1997Params } from "./lstm_1997.ts";
 * const cfg = lstm1997Config({ inputSize: 1, blocks: 1, cellsPerBlock: 1, outputSize: 1 });
 * const p = lstm1997Params(cfg), grads = lstm1997Params(cfg);
 * const net = new Lstm1997Rtrl(cfg, p, 1);
 * net.step(new Float64Array([1]), null, grads); // no target at this step
 * net.step(new Float64Array([-1]), (y, dy) => (dy[0] = y[0] - 0.8), grads); // L = ½ (y - 0.8)²
 * ```
 */
export class Lstm1997Rtrl {
  readonly cfg: Lstm1997Config;
  readonly params: Lstm1997Params;
  readonly B: number;
  #l: Layout;
  #yPrev: Float64Array;
  #y: Float64Array;
  #sPrev: Float64Array;
  #s: Float64Array;
  #net: Float64Array;
  #netK: Float64Array;
  #yK: Float64Array;
  #dyK: Float64Array;
  #dy: Float64Array;
  /** Traces for the input-gate, forget-gate (B, C·S, MG) and cell (B, C·S, MC) weights. */
  #trIn: Float64Array;
  #trPhi: Float64Array;
  #trC: Float64Array;
  #MG: number;
  #MC: number;

  constructor(cfg: Lstm1997Config, params: Lstm1997Params, B: number) {
    validate(cfg);
    this.cfg = cfg;
    this.params = params;
    this.B = B;
    const l = this.#l = layout(cfg);
    this.#yPrev = new Float64Array(B * l.U);
    this.#y = new Float64Array(B * l.U);
    this.#sPrev = new Float64Array(B * l.CS);
    this.#s = new Float64Array(B * l.CS);
    this.#net = new Float64Array(B * l.U);
    this.#netK = new Float64Array(B * l.K);
    this.#yK = new Float64Array(B * l.K);
    this.#dyK = new Float64Array(B * l.K);
    this.#dy = new Float64Array(l.CS);
    this.#MC = l.N + 1;
    this.#MG = l.N + 1 + (cfg.peepholes ? l.S : 0);
    this.#trIn = new Float64Array(B * l.CS * this.#MG);
    this.#trPhi = new Float64Array(cfg.forgetGate ? B * l.CS * this.#MG : 0);
    this.#trC = new Float64Array(B * l.CS * this.#MC);
  }

  /** The number of trace values kept (independent of the sequence length). */
  get traceSize(): number {
    return this.#trIn.length + this.#trPhi.length + this.#trC.length;
  }

  /** Sequence start: activations, states and traces to 0 (HS97 §5). */
  reset(): void {
    for (const a of [this.#yPrev, this.#sPrev, this.#trIn, this.#trPhi, this.#trC]) a.fill(0);
  }

  /** The outputs y_k (B, K) of the last step. */
  get outputs(): Float64Array {
    return this.#yK;
  }

  /**
   * One step: forward with input `x` (B, I), then, if `loss` is given, `loss(y_k, dy_k)` writes ∂L/∂y_k (B, K) and
   * this step's contribution to the truncated gradient is added to `grads`. The traces are updated either way.
   */
  step(
    x: Float64Array,
    loss: ((yK: Float64Array, dyK: Float64Array) => void) | null,
    grads: Lstm1997Params,
  ): void {
    const cfg = this.cfg, p = this.params, l = this.#l, B = this.B;
    const { I, C, S, K, CS, U, N, O, offIn, offOut, offPhi, biased } = l;
    if (x.length !== B * I) throw new RangeError(`lstm-1997 rtrl step: x must have B·I = ${B * I} values`);
    const yPrev = this.#yPrev, sPrev = this.#sPrev, y = this.#y, s = this.#s, net = this.#net;
    stepForward(cfg, l, p, B, x, sPrev, yPrev, sPrev, null, net, y, s, this.#netK, this.#yK);
    const MG = this.#MG, MC = this.#MC, trIn = this.#trIn, trPhi = this.#trPhi, trC = this.#trC;
    const dyK = this.#dyK, dy = this.#dy;
    if (loss !== null) {
      dyK.fill(0);
      loss(this.#yK, dyK);
    }
    for (let b = 0; b < B; b++) {
      const x0 = b * I, y0 = b * U, s0 = b * CS;
      // Trace updates (eqs. 25, 27, with y_φ).
      for (let j = 0; j < C; j++) {
        const c0 = j * S, yin = y[y0 + offIn + j], din = yin * (1 - yin);
        const phi = offPhi < 0 ? 1 : y[y0 + offPhi + j], dphi = phi * (1 - phi);
        for (let v = 0; v < S; v++) {
          const c = c0 + v, netc = net[y0 + c];
          const aIn = squash(cfg.g, netc) * din, aC = squashDerivative(cfg.g, netc) * yin;
          const aPhi = sPrev[s0 + c] * dphi;
          const tg = (b * CS + c) * MG, tc = (b * CS + c) * MC;
          for (let m = 0; m < N; m++) {
            const u = m < I ? x[x0 + m] : yPrev[y0 + m - I]; // u_m(t): the input, then the recurrent sources
            trIn[tg + m] = phi * trIn[tg + m] + aIn * u;
            trC[tc + m] = phi * trC[tc + m] + aC * u;
            if (offPhi >= 0) trPhi[tg + m] = phi * trPhi[tg + m] + aPhi * u;
          }
          trIn[tg + N] = phi * trIn[tg + N] + aIn;
          trC[tc + N] = phi * trC[tc + N] + aC;
          if (offPhi >= 0) trPhi[tg + N] = phi * trPhi[tg + N] + aPhi;
          if (cfg.peepholes) {
            for (let w = 0; w < S; w++) {
              const u = sPrev[s0 + c0 + w];
              trIn[tg + N + 1 + w] = phi * trIn[tg + N + 1 + w] + aIn * u;
              if (offPhi >= 0) trPhi[tg + N + 1 + w] = phi * trPhi[tg + N + 1 + w] + aPhi * u;
            }
          }
        }
      }
      if (loss === null) continue;
      // Output units (eq. 22) and the error they put on the cells' outputs.
      dy.fill(0);
      for (let k = 0; k < K; k++) {
        const yk = this.#yK[b * K + k];
        const d = dyK[b * K + k] * (cfg.outputActivation === "sigmoid" ? yk * (1 - yk) : 1);
        if (d === 0) continue;
        if (cfg.bias.output) grads.bOut[k] += d;
        const row = k * O, oc = O === CS ? 0 : I;
        for (let o = 0; o < oc; o++) grads.wOut[row + o] += d * x[x0 + o];
        for (let o = 0; o < CS; o++) {
          grads.wOut[row + oc + o] += d * y[y0 + o];
          dy[o] += d * p.wOut[row + oc + o];
        }
      }
      for (let j = 0; j < C; j++) {
        const c0 = j * S, yout = offOut < 0 ? 1 : y[y0 + offOut + j];
        // Output gate (eq. 21), immediate.
        if (offOut >= 0) {
          let dyout = 0;
          for (let v = 0; v < S; v++) dyout += dy[c0 + v] * squash(cfg.h, s[s0 + c0 + v]);
          const dn = dyout * yout * (1 - yout), row = (offOut + j) * N;
          if (biased[offOut + j]) grads.b[offOut + j] += dn;
          for (let m = 0; m < I; m++) grads.w[row + m] += dn * x[x0 + m];
          for (let m = I; m < N; m++) grads.w[row + m] += dn * yPrev[y0 + m - I];
          if (cfg.peepholes) { for (let v = 0; v < S; v++) grads.peep[2 * CS + c0 + v] += dn * s[s0 + c0 + v]; }
        }
        // Input gate, forget gate and cells through the traces (eqs. 23, 26, 28).
        for (let v = 0; v < S; v++) {
          const c = c0 + v, es = dy[c] * yout * squashDerivative(cfg.h, s[s0 + c]);
          if (es === 0) continue;
          const tg = (b * CS + c) * MG, tc = (b * CS + c) * MC;
          const rowIn = (offIn + j) * N, rowC = c * N, rowPhi = (offPhi + j) * N;
          for (let m = 0; m < N; m++) {
            grads.w[rowIn + m] += es * trIn[tg + m];
            grads.w[rowC + m] += es * trC[tc + m];
            if (offPhi >= 0) grads.w[rowPhi + m] += es * trPhi[tg + m];
          }
          if (biased[offIn + j]) grads.b[offIn + j] += es * trIn[tg + N];
          if (biased[c]) grads.b[c] += es * trC[tc + N];
          if (offPhi >= 0 && biased[offPhi + j]) grads.b[offPhi + j] += es * trPhi[tg + N];
          if (cfg.peepholes) {
            for (let w = 0; w < S; w++) {
              grads.peep[c0 + w] += es * trIn[tg + N + 1 + w];
              if (offPhi >= 0) grads.peep[CS + c0 + w] += es * trPhi[tg + N + 1 + w];
            }
          }
        }
      }
    }
    this.#yPrev = y;
    this.#y = yPrev;
    this.#sPrev = s;
    this.#s = sPrev;
  }
}

/** A network of one of HS97's experiments: its structure, initialisation, and the weight count the paper states. */
export interface Lstm1997PaperNet {
  config: Lstm1997Config;
  init: Lstm1997Init;
  /** HS97's "w" column of Table 10 (Exp 2c: for its p). */
  paperWeights: number;
}

/** HS97 Exp 2c's net for distractor count p (I = p + 4 inputs, 2 blocks × 1, 2 outputs, no biases). */
function exp2c(p: number): Lstm1997PaperNet {
  return {
    config: lstm1997Config({
      inputSize: p + 4,
      blocks: 2,
      cellsPerBlock: 1,
      outputSize: 2,
      bias: lstm1997Bias("none"),
    }),
    init: { range: 0.2 },
    paperWeights: 6 * p + 64,
  };
}

/**
 * HS97's networks, per experiment (Table 10: blocks, block size, inputs, outputs, topology, biases, gate-bias
 * initialisation, squashing; Table 11: the initial weight range). "r" gate biases are random like the other weights.
 *
 * @example
 * ```ts
 * import { LSTM_1997_PAPER_NETS, lstm1997WeightCount } from "./lstm_1997.ts";
 * const net = LSTM_1997_PAPER_NETS["exp4"];
 * console.log(lstm1997WeightCount(net.config), net.paperWeights); // 93 93
 * ```
 */
export const LSTM_1997_PAPER_NETS: Record<string, Lstm1997PaperNet> = {
  "exp1-4x1": {
    config: lstm1997Config({ inputSize: 7, blocks: 4, cellsPerBlock: 1, outputSize: 7 }),
    init: { range: 0.2, outputGateBias: [-1, -2, -3, -4] },
    paperWeights: 264,
  },
  "exp1-3x2": {
    config: lstm1997Config({ inputSize: 7, blocks: 3, cellsPerBlock: 2, outputSize: 7 }),
    init: { range: 0.2, outputGateBias: [-1, -2, -3] },
    paperWeights: 276,
  },
  "exp2a": { // also 2b: p = 100; one cell with an input gate only, B topology, g = σ, h = identity, no biases
    config: lstm1997Config({
      inputSize: 101,
      blocks: 1,
      cellsPerBlock: 1,
      outputSize: 101,
      recurrence: "none",
      outputFrom: "inputs+cells",
      outputGate: false,
      bias: lstm1997Bias("none"),
      g: "sigmoid",
      h: "identity",
    }),
    init: { range: 0.2 },
    paperWeights: 10504,
  },
  "exp2c-50": exp2c(50),
  "exp2c-100": exp2c(100),
  "exp2c-200": exp2c(200),
  "exp2c-500": exp2c(500),
  "exp2c-1000": exp2c(1000),
  "exp3": {
    config: lstm1997Config({ inputSize: 1, blocks: 3, cellsPerBlock: 1, outputSize: 1, bias: lstm1997Bias("b1") }),
    init: { range: 0.1, inputGateBias: [-1, -3, -5], outputGateBias: [-2, -4, -6] },
    paperWeights: 102,
  },
  "exp4": {
    config: lstm1997Config({ inputSize: 2, blocks: 2, cellsPerBlock: 2, outputSize: 1, bias: lstm1997Bias("all") }),
    init: { range: 0.1, inputGateBias: [-3, -6] },
    paperWeights: 93,
  },
  "exp5": {
    config: lstm1997Config({ inputSize: 2, blocks: 2, cellsPerBlock: 2, outputSize: 1, bias: lstm1997Bias("all") }),
    init: { range: 0.1 },
    paperWeights: 93,
  },
  "exp6a": {
    config: lstm1997Config({ inputSize: 8, blocks: 2, cellsPerBlock: 2, outputSize: 4, bias: lstm1997Bias("all") }),
    init: { range: 0.1, inputGateBias: [-2, -4] },
    paperWeights: 156,
  },
  "exp6b": {
    config: lstm1997Config({ inputSize: 8, blocks: 3, cellsPerBlock: 2, outputSize: 8, bias: lstm1997Bias("all") }),
    init: { range: 0.1, inputGateBias: [-2, -4, -6] },
    paperWeights: 308,
  },
};
