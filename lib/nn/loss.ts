/**
 * Losses over R rows of O outputs, each returning the loss and writing its gradient ∂L/∂y beside it.
 *
 * Rows are time steps × batch rows (t·B + b) of a readout at every step, or the B rows of a readout at the last
 * step. A row mask (R, 1 = scored) selects the steps that carry loss (the copy task scores only its last 10 steps);
 * null scores every row. Reductions follow PyTorch's `reduction="mean"` over the scored rows:
 * - MSE: Σ (y - target)² / (N·O)                                   (`nn.MSELoss`)
 * - softmax cross-entropy: Σ (logsumexp(y) - y[class]) / N          (`nn.CrossEntropyLoss`)
 * - sigmoid binary cross-entropy: Σ (softplus(y) - target·y) / (N·O) (`nn.BCEWithLogitsLoss`)
 * where N is the number of scored rows. With N = 0 the loss is 0 and so is its gradient.
 *
 * Sums are accumulated in double precision in row order, so results are the same in every runtime.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { exp, log, sigmoid, softplus } from "../math.ts";

/** The losses a model can be trained with. */
export type LossKind = "mse" | "cross-entropy" | "bce";

/** Row targets: values (R, O) for MSE and BCE, class indices (R) for cross-entropy. */
export type Targets = ArrayLike<number>;

function scoredRows(R: number, mask: ArrayLike<number> | null): number {
  if (mask === null) return R;
  if (mask.length < R) throw new RangeError(`loss: mask has ${mask.length} entries, expected ${R} (one per row)`);
  let n = 0;
  for (let r = 0; r < R; r++) if (mask[r] !== 0) n++;
  return n;
}

/**
 * Mean squared error and its gradient (written into `dy` when given; unscored rows get 0).
 *
 * @example
 * ```ts
 * import { mseLoss } from "./loss.ts";
 * const dy = new Float64Array(2);
 * const L = mseLoss(2, 1, new Float64Array([1, 3]), [0, 3], null, dy); // L = 0.5, dy = [1, 0]
 * ```
 */
export function mseLoss(
  R: number,
  O: number,
  y: Arr,
  target: Targets,
  mask: ArrayLike<number> | null,
  dy: Arr | null,
): number {
  checkLength("mse", "target", target.length, R * O);
  const N = scoredRows(R, mask);
  if (dy !== null) dy.fill(0, 0, R * O);
  if (N === 0) return 0;
  const scale = 1 / (N * O);
  let sum = 0;
  for (let r = 0; r < R; r++) {
    if (mask !== null && mask[r] === 0) continue;
    for (let o = r * O, end = o + O; o < end; o++) {
      const d = y[o] - target[o];
      sum += d * d;
      if (dy !== null) dy[o] = 2 * d * scale;
    }
  }
  return sum * scale;
}

/**
 * Softmax cross-entropy against class indices (R), and its gradient (softmax - one-hot) / N.
 *
 * @example
 * ```ts
 * import { crossEntropyLoss } from "./loss.ts";
 * const L = crossEntropyLoss(1, 2, new Float64Array([0, 0]), [1], null, null); // L = ln 2
 * ```
 */
export function crossEntropyLoss(
  R: number,
  O: number,
  y: Arr,
  classes: Targets,
  mask: ArrayLike<number> | null,
  dy: Arr | null,
): number {
  checkLength("cross-entropy", "classes", classes.length, R);
  const N = scoredRows(R, mask);
  if (dy !== null) dy.fill(0, 0, R * O);
  if (N === 0) return 0;
  let sum = 0;
  for (let r = 0; r < R; r++) {
    if (mask !== null && mask[r] === 0) continue;
    const cls = classes[r], base = r * O;
    if (!(Number.isInteger(cls) && cls >= 0 && cls < O)) {
      throw new RangeError(`cross-entropy: classes[${r}] = ${cls}, expected an integer in [0, ${O - 1}]`);
    }
    let max = -Infinity;
    for (let o = 0; o < O; o++) if (y[base + o] > max) max = y[base + o];
    let z = 0;
    for (let o = 0; o < O; o++) z += exp(y[base + o] - max);
    const logZ = max + log(z);
    sum += logZ - y[base + cls];
    if (dy !== null) {
      for (let o = 0; o < O; o++) dy[base + o] = exp(y[base + o] - logZ) / N;
      dy[base + cls] -= 1 / N;
    }
  }
  return sum / N;
}

/**
 * Sigmoid binary cross-entropy on logits y against targets in [0, 1], and its gradient (σ(y) - target) / (N·O).
 *
 * @example
 * ```ts
 * import { bceWithLogitsLoss } from "./loss.ts";
 * const L = bceWithLogitsLoss(1, 1, new Float64Array([0]), [1], null, null); // L = ln 2
 * ```
 */
export function bceWithLogitsLoss(
  R: number,
  O: number,
  y: Arr,
  target: Targets,
  mask: ArrayLike<number> | null,
  dy: Arr | null,
): number {
  checkLength("bce", "target", target.length, R * O);
  const N = scoredRows(R, mask);
  if (dy !== null) dy.fill(0, 0, R * O);
  if (N === 0) return 0;
  const scale = 1 / (N * O);
  let sum = 0;
  for (let r = 0; r < R; r++) {
    if (mask !== null && mask[r] === 0) continue;
    for (let o = r * O, end = o + O; o < end; o++) {
      sum += softplus(y[o]) - target[o] * y[o];
      if (dy !== null) dy[o] = (sigmoid(y[o]) - target[o]) * scale;
    }
  }
  return sum * scale;
}

/**
 * Dispatches to the loss of the given kind.
 *
 * @example
 * ```ts
 * import { lossAndGradient } from "./loss.ts";
 * const dy = new Float64Array(1);
 * const L = lossAndGradient("mse", 1, 1, new Float64Array([2]), [0], null, dy); // L = 4, dy = [4]
 * ```
 */
export function lossAndGradient(
  kind: LossKind,
  R: number,
  O: number,
  y: Arr,
  target: Targets,
  mask: ArrayLike<number> | null,
  dy: Arr | null,
): number {
  switch (kind) {
    case "mse":
      return mseLoss(R, O, y, target, mask, dy);
    case "cross-entropy":
      return crossEntropyLoss(R, O, y, target, mask, dy);
    case "bce":
      return bceWithLogitsLoss(R, O, y, target, mask, dy);
    default:
      throw new RangeError(`loss: kind = ${JSON.stringify(kind)}, expected "mse", "cross-entropy" or "bce"`);
  }
}

function checkLength(loss: string, field: string, got: number, want: number): void {
  if (got < want) throw new RangeError(`${loss}: ${field} has ${got} entries, expected ${want}`);
}
