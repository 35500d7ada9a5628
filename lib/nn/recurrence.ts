/**
 * The time loops of a recurrent layer, reference implementation: the forward recurrence and backpropagation through
 * time, step by step, for every cell registered in `cells.ts` (the LSTM, the tanh RNN, ...). `layer.ts` surrounds them with the products over all steps
 * (input projections before, weight gradients after); the WebAssembly kernels implement the same loops natively
 * (and split the batch rows across threads, which is possible because every step works row by row).
 *
 * @module
 */

import type { Arr, CellType, LayerExtras } from "./kernels.ts";
import { gemmReference } from "./gemm.ts";
import { cellDefinition, type CellStepExtras } from "./cells.ts";
import { stepViews } from "./step_views.ts";

/** A matrix product with the signature of `Kernels.gemm` (the loops below use it for their per-step products). */
export type Gemm = typeof gemmReference;

/** The per-step extras of a call: the hidden-part views (split cells) and the layer's extra parameters. */
function stepExtras(ex: LayerExtras | null | undefined, split: boolean, cell: CellType, T: number, stride: number) {
  if (split && (ex?.hidden ?? null) === null) {
    throw new RangeError(`recurrence: cell "${cell}" keeps its hidden part apart and needs extras.hidden (T, B, G·H)`);
  }
  const step: CellStepExtras = { hidden: null, extra: ex?.extra ?? null, dExtra: ex?.dExtra ?? null };
  const hiddenAt = split ? stepViews(ex!.hidden!, T, stride) : null;
  return { step, hiddenAt };
}

/**
 * Forward recurrence: for t = 0..T-1, gates[t] += h[t] · W_hhᵀ, then the cell (see `Kernels.recurrentForward`).
 *
 * @example
 * ```ts
 * import { recurrentForward } from "./recurrence.ts";
 * const T = 2, B = 1, H = 1;
 * const gates = new Float64Array(T * B * H).fill(0.5), h = new Float64Array((T + 1) * B * H);
 * recurrentForward("rnn", T, B, H, gates, h, null, new Float64Array([1])); // h = [0, tanh(0.5), tanh(0.5 + h1)]
 * ```
 */
export function recurrentForward(
  cell: CellType,
  T: number,
  B: number,
  H: number,
  gates: Arr,
  h: Arr,
  c: Arr | null,
  wHhT: Arr,
  extras?: LayerExtras | null,
  gemm: Gemm = gemmReference,
): void {
  const def = cellDefinition(cell), GH = def.gates * H;
  const gatesAt = stepViews(gates, T, B * GH), hAt = stepViews(h, T + 1, B * H);
  const cAt = c === null ? null : stepViews(c, T + 1, B * H);
  const { step, hiddenAt } = stepExtras(extras, def.splitHidden ?? false, cell, T, B * GH);
  for (let t = 0; t < T; t++) {
    if (hiddenAt !== null) step.hidden = hiddenAt[t];
    // gates[t] (or, split cells, hidden[t]) += h[t] · W_hhᵀ
    gemm(B, GH, H, hAt[t], H, 1, wHhT, GH, hiddenAt === null ? gatesAt[t] : hiddenAt[t], GH, true);
    const cPrev = cAt === null ? null : cAt[t], cNext = cAt === null ? null : cAt[t + 1];
    def.forward(B, H, gatesAt[t], hAt[t], cPrev, hAt[t + 1], cNext, step);
  }
}

/**
 * Backward recurrence (BPTT) with optional truncation and probes (see `Kernels.recurrentBackward`).
 *
 * @example
 * ```ts
 * import { recurrentBackward, recurrentForward } from "./recurrence.ts";
 * const T = 2, B = 1, H = 1, w = new Float64Array([1]);
 * const gates = new Float64Array(T).fill(0.5), h = new Float64Array(T + 1);
 * recurrentForward("rnn", T, B, H, gates, h, null, w);
 * const dh = new Float64Array([1]), dc = new Float64Array(1), dhNorm = new Float64Array(T);
 * recurrentBackward("rnn", T, B, H, gates, h, null, w, null, dh, dc, 0, dhNorm, null);
 * // dhNorm = [|∂h_2/∂h_1|, 1]; dh = ∂h_2/∂h_0
 * ```
 */
export function recurrentBackward(
  cell: CellType,
  T: number,
  B: number,
  H: number,
  gates: Arr,
  h: Arr,
  c: Arr | null,
  wHh: Arr,
  dhSeq: Arr | null,
  dh: Arr,
  dc: Arr,
  truncate: number,
  dhNorm: Arr | null,
  dcNorm: Arr | null,
  extras?: LayerExtras | null,
  gemm: Gemm = gemmReference,
): void {
  const def = cellDefinition(cell), GH = def.gates * H, BH = B * H;
  const { step, hiddenAt } = stepExtras(extras, def.splitHidden ?? false, cell, T, B * GH);
  const gatesAt = stepViews(gates, T, B * GH), hAt = stepViews(h, T + 1, BH);
  const cAt = c === null ? null : stepViews(c, T + 1, BH);
  const dhSeqAt = dhSeq === null ? null : stepViews(dhSeq, T, BH);
  const dhNormAt = dhNorm === null ? null : stepViews(dhNorm, T, B);
  const dcNormAt = dcNorm === null ? null : stepViews(dcNorm, T, B);
  for (let t = T - 1; t >= 0; t--) {
    const dhIn = dhSeqAt === null ? null : dhSeqAt[t];
    const nh = dhNormAt === null ? null : dhNormAt[t];
    const cPrev = cAt === null ? null : cAt[t], cNext = cAt === null ? null : cAt[t + 1];
    const nc = dcNormAt === null ? null : dcNormAt[t];
    if (hiddenAt !== null) step.hidden = hiddenAt[t];
    def.backward(B, H, gatesAt[t], hAt[t], cPrev, hAt[t + 1], cNext, dh, dhIn, dc, nh, nc, step);
    if (truncate > 0 && t > 0 && t % truncate === 0) {
      dh.fill(0, 0, BH); // the state entering this chunk is detached
      dc.fill(0, 0, BH);
    } else if (hiddenAt === null) {
      gemm(B, H, GH, gatesAt[t], GH, 1, wHh, H, dh, H, false); // dh = dG[t] · W_hh: reaches h[t-1]
    } else {
      gemm(B, H, GH, hiddenAt[t], GH, 1, wHh, H, dh, H, true); // dh (direct part) += d(hidden)[t] · W_hh
    }
  }
}
