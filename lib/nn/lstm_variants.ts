/**
 * The modern LSTM cell with the variants of Greff et al. (2017), one time step for a batch (forward and backward side
 * by side), and a single-layer sequence reference with BPTT to check them.
 *
 *   i  = σ(a_i),  a_i = W_i x + R_i h_prev + b_i [+ p_i ⊙ c_prev] [+ G_i a_prev]     input gate   (NIG: i ≡ 1)
 *   f  = σ(a_f),  a_f = W_f x + R_f h_prev + b_f [+ p_f ⊙ c_prev] [+ G_f a_prev]     forget gate  (NFG: f ≡ 1)
 *   g  = tanh(W_g x + R_g h_prev + b_g)                                  cell input   (NIAF: no tanh)
 *   c  = f ⊙ c_prev + i ⊙ g                                              (CIFG: i = 1 - f)
 *   o  = σ(a_o),  a_o = W_o x + R_o h_prev + b_o [+ p_o ⊙ c] [+ G_o a_prev]          output gate  (NOG: o ≡ 1)
 *   h  = o ⊙ tanh(c)                                                     (NOAF: h = o ⊙ c)
 *
 * [p ⊙ c]: peepholes, diagonal (Gers et al. 2002); the input and forget gates see c_prev, the output gate the new c.
 * [G a_prev]: full gate recurrence (FGR): every gate also reads the previous step's activations a_prev = [i | f | o] of
 * all gates through 9 extra H × H matrices, laid out as one (3H, 3H) matrix G, rows [i | f | o] by columns [i | f | o].
 *
 * Pre-activations (everything but the peephole terms, which need the state) come in `gates` (B, 4H) in PyTorch's
 * order [i | f | g | o]; activations go out in the same place, as `lstm.ts` does. The default options
 * (`LSTM_VARIANTS.NP`) are exactly `lstm.ts`'s cell, bit for bit, forward and backward (tested).
 *
 * Design note. Greff et al. define eight variants, each a single change to their "vanilla" cell, which HAS peepholes;
 * their NP (no peepholes) is therefore the cell of `lstm.ts` (and of PyTorch), and it is the default here. The other
 * variants are given as Greff's, i.e. vanilla with peepholes plus the one change, and `peepholes` is a separate switch
 * for anyone who wants them without. The error flows through the peepholes into the state (the modern form; Gers
 * 2002's original cut is an option of `lstm_1997.ts`). CIFG needs the forget gate (i = 1 - f) and so is refused with
 * NFG. In FGR the previous activations of a gate the variant removes (NIG, NFG, NOG: ≡ 1) are still fed, as the
 * constant 1 they are; the initial activations a_0 are 0. Greff et al. treat one layer; the sequence reference here
 * does too (the stacking is the layer's business).
 *
 * References: K. Greff, R. K. Srivastava, J. Koutník, B. R. Steunebrink, J. Schmidhuber, LSTM: A Search Space Odyssey,
 * IEEE TNNLS 28(10):2222-2232, 2017. F. Gers, N. Schraudolph, J. Schmidhuber, Learning Precise Timing with LSTM
 * Recurrent Networks, JMLR 3:115-143, 2002.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { sigmoid, tanh } from "../math.ts";
import { stepViews } from "./step_views.ts";

/** Which parts of the cell are present (see the module header). */
export interface LstmVariant {
  inputGate: boolean;
  forgetGate: boolean;
  outputGate: boolean;
  /** tanh on the cell input g (false: NIAF). */
  inputActivation: boolean;
  /** tanh on the cell output (false: NOAF). */
  outputActivation: boolean;
  peepholes: boolean;
  /** CIFG: i = 1 - f. */
  coupled: boolean;
  /** FGR: the gates read the previous gate activations. */
  fullGateRecurrence: boolean;
}

/** The names of Greff et al.'s variants, and "vanilla" (their reference cell, with peepholes). */
export type LstmVariantName = "vanilla" | "NIG" | "NFG" | "NOG" | "NIAF" | "NOAF" | "NP" | "CIFG" | "FGR";

const NP: LstmVariant = {
  inputGate: true,
  forgetGate: true,
  outputGate: true,
  inputActivation: true,
  outputActivation: true,
  peepholes: false,
  coupled: false,
  fullGateRecurrence: false,
};
const VANILLA: LstmVariant = { ...NP, peepholes: true };

/**
 * Greff et al.'s variants as options. "NP" is the default cell (`lstm.ts`, PyTorch); the others are Greff's vanilla
 * (with peepholes) with one change.
 *
 * @example
 * ```ts
 * import { LSTM_VARIANTS } from "./lstm_variants.ts";
 * const cifgWithoutPeepholes = { ...LSTM_VARIANTS.CIFG, peepholes: false };
 * ```
 */
export const LSTM_VARIANTS: Readonly<Record<LstmVariantName, Readonly<LstmVariant>>> = {
  vanilla: VANILLA,
  NIG: { ...VANILLA, inputGate: false },
  NFG: { ...VANILLA, forgetGate: false },
  NOG: { ...VANILLA, outputGate: false },
  NIAF: { ...VANILLA, inputActivation: false },
  NOAF: { ...VANILLA, outputActivation: false },
  NP,
  CIFG: { ...VANILLA, coupled: true },
  FGR: { ...VANILLA, fullGateRecurrence: true },
};

/**
 * Checks a variant: every field a boolean, and no contradiction (CIFG needs the forget gate and replaces the input
 * gate). Throws a RangeError naming the field.
 *
 * @example
 * ```ts
 * import { LSTM_VARIANTS, validateLstmVariant } from "./lstm_variants.ts";
 * validateLstmVariant(LSTM_VARIANTS.CIFG); // fine
 * ```
 */
export function validateLstmVariant(v: LstmVariant): void {
  for (const k of Object.keys(NP) as (keyof LstmVariant)[]) {
    if (typeof v[k] !== "boolean") throw new RangeError(`lstm variant: ${k} must be true or false, got ${v[k]}`);
  }
  if (v.coupled && !v.forgetGate) {
    throw new RangeError("lstm variant: coupled (CIFG, i = 1 - f) needs forgetGate: true, got forgetGate: false");
  }
  if (v.coupled && !v.inputGate) {
    throw new RangeError("lstm variant: coupled (CIFG) derives the input gate from f; inputGate: false contradicts it");
  }
}

/**
 * Variant LSTM step forward (pointwise part). `gates` (B, 4H): pre-activations [i | f | g | o] in (without the
 * peephole terms), activations out. `peep` (3H): peephole weights [p_i | p_f | p_o], or null without peepholes.
 * Writes c (B, H) and h (B, H) from cPrev (B, H).
 *
 * @example
 * ```ts
 * import { LSTM_VARIANTS, lstmVariantCellForward } from "./lstm_variants.ts";
 * const gates = new Float64Array([0, 0, 0, 0]), c = new Float64Array(1), h = new Float64Array(1);
 * lstmVariantCellForward(LSTM_VARIANTS.NP, 1, 1, gates, new Float64Array([2]), c, h, null); // c = 1, h = tanh(1) / 2
 * ```
 */
export function lstmVariantCellForward(
  v: LstmVariant,
  B: number,
  H: number,
  gates: Arr,
  cPrev: Arr,
  c: Arr,
  h: Arr,
  peep: Arr | null,
): void {
  const G = 4 * H, pp = v.peepholes ? peep : null;
  if (v.peepholes && (peep === null || peep.length !== 3 * H)) {
    throw new RangeError(`lstm variant: peepholes need peep of 3H = ${3 * H} weights, got ${peep?.length ?? null}`);
  }
  for (let b = 0; b < B; b++) {
    const row = b * G, s = b * H;
    for (let j = 0; j < H; j++) {
      const cp = cPrev[s + j];
      const f = v.forgetGate ? sigmoid(pp === null ? gates[row + H + j] : gates[row + H + j] + pp[H + j] * cp) : 1;
      const i = v.coupled
        ? 1 - f
        : v.inputGate
        ? sigmoid(pp === null ? gates[row + j] : gates[row + j] + pp[j] * cp)
        : 1;
      const g = v.inputActivation ? tanh(gates[row + 2 * H + j]) : gates[row + 2 * H + j];
      const ct = f * cp + i * g;
      const o = v.outputGate
        ? sigmoid(pp === null ? gates[row + 3 * H + j] : gates[row + 3 * H + j] + pp[2 * H + j] * ct)
        : 1;
      gates[row + j] = i;
      gates[row + H + j] = f;
      gates[row + 2 * H + j] = g;
      gates[row + 3 * H + j] = o;
      c[s + j] = ct;
      h[s + j] = o * (v.outputActivation ? tanh(ct) : ct);
    }
  }
}

/**
 * Variant LSTM step backward (pointwise part), the chain rule through the equations above:
 *
 *   dh   += dhIn
 *   do    = dh ⊙ tanh(c) (+ dAct_o)                 → da_o = do ⊙ o (1 - o)       (0 with NOG)
 *   dc   += dh ⊙ o ⊙ (1 - tanh²(c)) [+ da_o ⊙ p_o]   total ∂L/∂c_t                (NOAF: dh ⊙ o)
 *   di    = dc ⊙ g (+ dAct_i),  df = dc ⊙ c_prev (+ dAct_f)
 *   da_i  = di ⊙ i (1 - i),     da_f = df ⊙ f (1 - f)  (CIFG: da_i = 0, da_f = (df - di) ⊙ f (1 - f))
 *   da_g  = dc ⊙ i ⊙ (1 - g²)                                                   (NIAF: dc ⊙ i)
 *   dc_prev = dc ⊙ f [+ da_i ⊙ p_i + da_f ⊙ p_f]
 *
 * `gates` (B, 4H) holds the activations on entry and ∂L/∂(pre-activations) on return; `dc` (B, H) holds ∂L/∂c_t from
 * the next step on entry and ∂L/∂c_{t-1} on return. `dAct` (B, 3H), for FGR: ∂L/∂[i | f | o] of this step from the
 * next step's gate recurrence, or null. `dPeep` (3H) accumulates the peephole gradients. `dhNorm`, `dcNorm` (B), if
 * given, receive ‖∂L/∂h_t‖₂ and ‖∂L/∂c_t‖₂. With the default options the arithmetic is `lstm.ts`'s, operation for
 * operation.
 *
 * @example
 * ```ts
 * import { LSTM_VARIANTS, lstmVariantCellBackward, lstmVariantCellForward } from "./lstm_variants.ts";
 * const v = LSTM_VARIANTS.NP, gates = new Float64Array([0.1, 0.2, 0.3, 0.4]), cPrev = new Float64Array([0.5]);
 * const c = new Float64Array(1), h = new Float64Array(1);
 * lstmVariantCellForward(v, 1, 1, gates, cPrev, c, h, null);
 * const dh = new Float64Array([1]), dc = new Float64Array(1);
 * lstmVariantCellBackward(v, 1, 1, gates, cPrev, c, dh, null, dc, null, null, null, null, null);
 * ```
 */
export function lstmVariantCellBackward(
  v: LstmVariant,
  B: number,
  H: number,
  gates: Arr,
  cPrev: Arr,
  c: Arr,
  dh: Arr,
  dhIn: Arr | null,
  dc: Arr,
  dAct: Arr | null,
  peep: Arr | null,
  dPeep: Arr | null,
  dhNorm: Arr | null,
  dcNorm: Arr | null,
): void {
  const G = 4 * H, pp = v.peepholes ? peep : null;
  if (v.peepholes && (peep === null || dPeep === null)) {
    throw new RangeError("lstm variant backward: peepholes need peep and dPeep");
  }
  for (let b = 0; b < B; b++) {
    const row = b * G, s = b * H, a = b * 3 * H;
    let dhSq = 0, dcSq = 0;
    for (let j = 0; j < H; j++) {
      const i = gates[row + j], f = gates[row + H + j], g = gates[row + 2 * H + j], o = gates[row + 3 * H + j];
      const cp = cPrev[s + j], ct = c[s + j];
      const dht = dhIn === null ? dh[s + j] : dh[s + j] + dhIn[s + j];
      const tc = v.outputActivation ? tanh(ct) : ct;
      let dao = 0;
      if (v.outputGate) {
        dao = dAct === null ? dht * tc * o * (1 - o) : (dht * tc + dAct[a + 2 * H + j]) * o * (1 - o);
      }
      let dct = dc[s + j] + (v.outputActivation ? dht * o * (1 - tc * tc) : dht * o);
      if (pp !== null && v.outputGate) {
        dct += dao * pp[2 * H + j];
        dPeep![2 * H + j] += dao * ct;
      }
      let dai = 0, daf = 0;
      if (v.coupled) {
        const di = dAct === null ? dct * g : dct * g + dAct[a + j];
        const df = dAct === null ? dct * cp : dct * cp + dAct[a + H + j];
        daf = (df - di) * f * (1 - f);
      } else {
        if (v.inputGate) dai = dAct === null ? dct * g * i * (1 - i) : (dct * g + dAct[a + j]) * i * (1 - i);
        if (v.forgetGate) daf = dAct === null ? dct * cp * f * (1 - f) : (dct * cp + dAct[a + H + j]) * f * (1 - f);
      }
      gates[row + j] = dai;
      gates[row + H + j] = daf;
      gates[row + 2 * H + j] = v.inputActivation ? dct * i * (1 - g * g) : dct * i;
      gates[row + 3 * H + j] = dao;
      let dcp = dct * f;
      if (pp !== null) {
        dcp += dai * pp[j] + daf * pp[H + j];
        dPeep![j] += dai * cp;
        dPeep![H + j] += daf * cp;
      }
      dh[s + j] = dht;
      dc[s + j] = dcp;
      dhSq += dht * dht;
      dcSq += dct * dct;
    }
    if (dhNorm !== null) dhNorm[b] = Math.sqrt(dhSq);
    if (dcNorm !== null) dcNorm[b] = Math.sqrt(dcSq);
  }
}

/** A single-layer variant LSTM's parameters (flat, row-major; gate blocks [i | f | g | o] as in PyTorch). */
export interface LstmVariantNet {
  inputSize: number;
  hiddenSize: number;
  /** (4H, I). */
  weightIh: Float64Array;
  /** (4H, H). */
  weightHh: Float64Array;
  /** (4H). */
  bias: Float64Array;
  /** (3H) [p_i | p_f | p_o]; used with peepholes. */
  peep: Float64Array;
  /** (3H, 3H) gate-to-gate weights, rows [i | f | o] by columns [i | f | o]; used with FGR. */
  weightGg: Float64Array;
}

/**
 * Zero parameters for a single-layer variant LSTM.
 *
 * @example
 * ```ts
 * import { lstmVariantNet } from "./lstm_variants.ts";
 * const net = lstmVariantNet(3, 5);
 * console.log(net.weightGg.length); // 9 · 25 = 225
 * ```
 */
export function lstmVariantNet(inputSize: number, hiddenSize: number): LstmVariantNet {
  const H = hiddenSize;
  return {
    inputSize,
    hiddenSize,
    weightIh: new Float64Array(4 * H * inputSize),
    weightHh: new Float64Array(4 * H * H),
    bias: new Float64Array(4 * H),
    peep: new Float64Array(3 * H),
    weightGg: new Float64Array(9 * H * H),
  };
}

/** What `lstmVariantForward` records. */
export interface LstmVariantTape {
  T: number;
  B: number;
  x: Float64Array;
  /** Activations [i | f | g | o] (T, B, 4H). */
  gates: Float64Array;
  /** h_0 … h_T and c_0 … c_T (T + 1, B, H). */
  h: Float64Array;
  c: Float64Array;
}

/** The gate-activation sources of FGR at step t: [i | f | o] of step t-1 (zeros at t = 0), into act (B, 3H). */
function previousGateActivations(tape: LstmVariantTape, H: number, t: number, act: Float64Array): void {
  act.fill(0);
  if (t === 0) return;
  const B = tape.B, G = 4 * H;
  for (let b = 0; b < B; b++) {
    const row = ((t - 1) * B + b) * G;
    for (let j = 0; j < H; j++) {
      act[b * 3 * H + j] = tape.gates[row + j];
      act[b * 3 * H + H + j] = tape.gates[row + H + j];
      act[b * 3 * H + 2 * H + j] = tape.gates[row + 3 * H + j];
    }
  }
}

/** Row q of [i | f | o] → row of [i | f | g | o]. */
const gateRow = (q: number, H: number) => (q < 2 * H ? q : q + H);

/**
 * Forward pass of a single-layer variant LSTM: `x` (T, B, I), `h0`, `c0` (B, H).
 *
 * @example
 * ```ts
 * import { LSTM_VARIANTS, lstmVariantForward, lstmVariantNet } from "./lstm_variants.ts";
 * const net = lstmVariantNet(1, 2);
 * const tape = lstmVariantForward(LSTM_VARIANTS.CIFG, net, 3, 1, new Float64Array([1, 0, -1]), null, null);
 * ```
 */
export function lstmVariantForward(
  v: LstmVariant,
  net: LstmVariantNet,
  T: number,
  B: number,
  x: Float64Array,
  h0: Float64Array | null,
  c0: Float64Array | null,
): LstmVariantTape {
  validateLstmVariant(v);
  const I = net.inputSize, H = net.hiddenSize, G = 4 * H, BH = B * H;
  if (x.length !== T * B * I) throw new RangeError(`lstm variant forward: x must have T·B·I = ${T * B * I} values`);
  const tape: LstmVariantTape = {
    T,
    B,
    x,
    gates: new Float64Array(T * B * G),
    h: new Float64Array((T + 1) * BH),
    c: new Float64Array((T + 1) * BH),
  };
  if (h0 !== null) tape.h.set(h0);
  if (c0 !== null) tape.c.set(c0);
  const act = new Float64Array(B * 3 * H);
  const gAt = stepViews(tape.gates, T, B * G), cAt = stepViews(tape.c, T + 1, BH), hAt = stepViews(tape.h, T + 1, BH);
  for (let t = 0; t < T; t++) {
    if (v.fullGateRecurrence) previousGateActivations(tape, H, t, act);
    for (let b = 0; b < B; b++) {
      const row = (t * B + b) * G, x0 = (t * B + b) * I, h0r = (t * B + b) * H;
      for (let o = 0; o < G; o++) {
        let acc = net.bias[o];
        for (let k = 0; k < I; k++) acc += net.weightIh[o * I + k] * x[x0 + k];
        for (let k = 0; k < H; k++) acc += net.weightHh[o * H + k] * tape.h[h0r + k];
        tape.gates[row + o] = acc;
      }
      if (v.fullGateRecurrence) {
        for (let q = 0; q < 3 * H; q++) {
          let acc = 0;
          for (let k = 0; k < 3 * H; k++) acc += net.weightGg[q * 3 * H + k] * act[b * 3 * H + k];
          tape.gates[row + gateRow(q, H)] += acc;
        }
      }
    }
    lstmVariantCellForward(v, B, H, gAt[t], cAt[t], cAt[t + 1], hAt[t + 1], net.peep);
  }
  return tape;
}

/** Gradients of a single-layer variant LSTM, and of its input and initial states. */
export interface LstmVariantGrads extends LstmVariantNet {
  dx: Float64Array;
  dh0: Float64Array;
  dc0: Float64Array;
}

/**
 * BPTT of `lstmVariantForward`. `dy` (T, B, H): ∂L/∂h_t per step, or null; `dhN`, `dcN` (B, H): ∂L/∂ final states, or
 * null. Overwrites the tape's gates. `dhNorm`, `dcNorm` (T, B), if given, receive the probes ‖∂L/∂h_t‖, ‖∂L/∂c_t‖.
 *
 * @example
 * ```ts
 * import { LSTM_VARIANTS, lstmVariantBackward, lstmVariantForward, lstmVariantNet } from "./lstm_variants.ts";
 * const v = LSTM_VARIANTS.NP, net = lstmVariantNet(1, 2);
 * const tape = lstmVariantForward(v, net, 3, 1, new Float64Array([1, 0, -1]), null, null);
 * const g = lstmVariantBackward(v, net, tape, null, new Float64Array([1, 1]), null);
 * ```
 */
export function lstmVariantBackward(
  v: LstmVariant,
  net: LstmVariantNet,
  tape: LstmVariantTape,
  dy: Float64Array | null,
  dhN: Float64Array | null,
  dcN: Float64Array | null,
  dhNorm: Float64Array | null = null,
  dcNorm: Float64Array | null = null,
): LstmVariantGrads {
  const { T, B } = tape, I = net.inputSize, H = net.hiddenSize, G = 4 * H, BH = B * H;
  const g: LstmVariantGrads = {
    ...lstmVariantNet(I, H),
    dx: new Float64Array(T * B * I),
    dh0: new Float64Array(BH),
    dc0: new Float64Array(BH),
  };
  const dh = new Float64Array(BH), dc = new Float64Array(BH);
  if (dhN !== null) dh.set(dhN);
  if (dcN !== null) dc.set(dcN);
  const dAct = new Float64Array(B * 3 * H), dActPrev = new Float64Array(B * 3 * H), act = new Float64Array(B * 3 * H);
  const gAt = stepViews(tape.gates, T, B * G), cAt = stepViews(tape.c, T + 1, BH);
  const dyAt = dy === null ? null : stepViews(dy, T, BH);
  const nhAt = dhNorm === null ? null : stepViews(dhNorm, T, B),
    ncAt = dcNorm === null ? null : stepViews(dcNorm, T, B);
  for (let t = T - 1; t >= 0; t--) {
    const gt = gAt[t];
    const dhIn = dyAt === null ? null : dyAt[t],
      nh = nhAt === null ? null : nhAt[t],
      nc = ncAt === null ? null : ncAt[t];
    const dActIn = v.fullGateRecurrence ? dAct : null;
    lstmVariantCellBackward(v, B, H, gt, cAt[t], cAt[t + 1], dh, dhIn, dc, dActIn, net.peep, g.peep, nh, nc);
    if (v.fullGateRecurrence) previousGateActivations(tape, H, t, act);
    dActPrev.fill(0);
    for (let b = 0; b < B; b++) {
      const x0 = (t * B + b) * I, h0r = (t * B + b) * H;
      for (let o = 0; o < G; o++) {
        const d = gt[b * G + o];
        g.bias[o] += d;
        for (let k = 0; k < I; k++) {
          g.weightIh[o * I + k] += d * tape.x[x0 + k];
          g.dx[x0 + k] += d * net.weightIh[o * I + k];
        }
        for (let k = 0; k < H; k++) g.weightHh[o * H + k] += d * tape.h[h0r + k];
      }
      for (let k = 0; k < H; k++) { // dh_prev += dpre · W_hh (dh holds dh_t, which the cell no longer needs)
        let acc = 0;
        for (let o = 0; o < G; o++) acc += gt[b * G + o] * net.weightHh[o * H + k];
        dh[b * H + k] = acc;
      }
      if (v.fullGateRecurrence) {
        for (let q = 0; q < 3 * H; q++) {
          const d = gt[b * G + gateRow(q, H)];
          for (let k = 0; k < 3 * H; k++) {
            g.weightGg[q * 3 * H + k] += d * act[b * 3 * H + k];
            dActPrev[b * 3 * H + k] += d * net.weightGg[q * 3 * H + k];
          }
        }
      }
    }
    dAct.set(dActPrev);
  }
  g.dh0.set(dh);
  g.dc0.set(dc);
  return g;
}
