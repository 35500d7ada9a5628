/**
 * The adding problem of Hochreiter & Schmidhuber 1997 (Experiment 4), with the marker scheme of the paper, and the
 * marker placement it shares with the multiplication problem (Experiment 5).
 *
 * Each step is a pair (value, marker). Length L is uniform in [T, T + ⌊T/10⌋]. X1 is one of the first 10 pairs, X2 one
 * of the first ⌊T/2⌋ - 1 pairs not yet marked; both get marker 1. The first and the last pair carry marker -1, all
 * others 0. The paper: "in the rare case where the first pair gets marked, X1 is taken as 0". Here the first pair
 * always keeps its marker -1 (so a mark landing on it is invisible) and its value counts as 0 — whichever of X1 and
 * X2 landed there (X2 can too, when X1 did not) — so the target is always 0.5 + (sum of the values marked 1) / 4.
 * T must be at least 11, so that the first 10 pairs never include the last one (marker -1).
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import type { Rng } from "../rng.ts";
import type { Task, TaskBatch, TaskDefinition } from "./task.ts";
import { checkOutputs, intParam, lastStepMask, type Params, resolveParams } from "./common.ts";

/**
 * Marker positions of one HS97 adding/multiplication sequence.
 *
 * @example
 * ```ts
 * import type { Hs97Marks } from "./adding_1997.ts";
 * const marks: Hs97Marks = { length: 104, i1: 3, i2: 27 }; // X1 at step 3, X2 at step 27
 * ```
 */
export interface Hs97Marks {
  /** Sequence length, uniform in [T, T + ⌊T/10⌋]. */
  length: number;
  /** Position of X1, uniform among the first 10 pairs. */
  i1: number;
  /** Position of X2, uniform among the first ⌊T/2⌋ - 1 pairs other than i1. */
  i2: number;
}

/**
 * Draws the length and the two marked positions of an HS97 adding or multiplication sequence (T ≥ 11).
 *
 * @example
 * ```ts
 * import { drawHs97Marks } from "./adding_1997.ts";
 * import { Rng } from "../rng.ts";
 * const { length, i1, i2 } = drawHs97Marks(new Rng(0), 100); // 100 ≤ length ≤ 110, i1 < 10, i2 < 49, i1 ≠ i2
 * ```
 */
export function drawHs97Marks(rng: Rng, T: number): Hs97Marks {
  const length = rng.intIn(T, T + Math.floor(T / 10));
  const i1 = rng.int(10);
  const M = Math.floor(T / 2) - 1; // X2 among pairs 0 .. M-1, except i1
  const j = rng.int(i1 < M ? M - 1 : M);
  const i2 = i1 < M && j >= i1 ? j + 1 : j;
  return { length, i1, i2 };
}

/**
 * The probability that one of the two marks of an HS97 sequence lands on the first pair (whose value then counts as
 * the neutral element: 0 for the sum, 1 for the product): 1/10 for X1, plus (for i1 ≠ 0) 1 / (number of X2 candidates).
 * For T ≥ 22 it is 0.1 + 0.9 / (⌊T/2⌋ - 2); 0.11875 for T = 100.
 *
 * @example
 * ```ts
 * import { hs97FirstPairMarkedProbability } from "./adding_1997.ts";
 * hs97FirstPairMarkedProbability(100); // 0.11875
 * ```
 */
export function hs97FirstPairMarkedProbability(T: number): number {
  const M = Math.floor(T / 2) - 1;
  let p = 0.1;
  for (let i1 = 1; i1 < 10; i1++) p += 0.1 / (i1 < M ? M - 1 : M);
  return p;
}

/**
 * Fills the (value, marker) inputs of sequence b of an HS97 batch (values already drawn into `values`, one per step)
 * and returns the values at the two marks, with a mark on the first pair replaced by `neutral`.
 *
 * @example
 * ```ts
 * import { writeHs97Sequence } from "./adding_1997.ts";
 * const x = new Float32Array(12 * 1 * 2); // T = 12, B = 1, (value, marker)
 * const values = new Float32Array(12).fill(0.25);
 * writeHs97Sequence(x, 1, 0, { length: 12, i1: 0, i2: 3 }, values, 0); // [0, 0.25]: the first pair counts 0
 * ```
 */
export function writeHs97Sequence(
  x: Float32Array,
  B: number,
  b: number,
  marks: Hs97Marks,
  values: Float32Array,
  neutral: number,
): [number, number] {
  const { length, i1, i2 } = marks;
  for (let t = 0; t < length; t++) x[(t * B + b) * 2] = values[t];
  x[b * 2 + 1] = -1;
  x[((length - 1) * B + b) * 2 + 1] = -1;
  if (i1 !== 0) x[(i1 * B + b) * 2 + 1] = 1;
  if (i2 !== 0) x[(i2 * B + b) * 2 + 1] = 1;
  return [i1 === 0 ? neutral : values[i1], i2 === 0 ? neutral : values[i2]];
}

/**
 * A batch of HS97 adding/multiplication sequences: B sequences of length in [T, T + ⌊T/10⌋] (right-padded to the
 * longest), values drawn by `value` at every step, the target `combine(X1, X2)` at each sequence's last step (a mark
 * on the first pair counts as `neutral`), and the mask selecting those steps.
 *
 * @example
 * ```ts
 * import { hs97Batch } from "./adding_1997.ts";
 * import { Rng } from "../rng.ts";
 * const batch = hs97Batch(new Rng(0), 4, 20, (r) => r.uniform(), 1, (a, b) => a * b); // the multiplication problem
 * ```
 */
export function hs97Batch(
  rng: Rng,
  B: number,
  T: number,
  value: (rng: Rng) => number,
  neutral: number,
  combine: (x1: number, x2: number) => number,
): TaskBatch {
  const marks: Hs97Marks[] = [];
  let Tb = 0;
  for (let b = 0; b < B; b++) {
    const m = drawHs97Marks(rng, T);
    marks.push(m);
    if (m.length > Tb) Tb = m.length;
  }
  const x = new Float32Array(Tb * B * 2);
  const target = new Float32Array(Tb * B);
  const lengths = new Int32Array(B);
  const values = new Float32Array(Tb);
  for (let b = 0; b < B; b++) {
    const m = marks[b];
    lengths[b] = m.length;
    for (let t = 0; t < m.length; t++) values[t] = value(rng);
    const [x1, x2] = writeHs97Sequence(x, B, b, m, values, neutral);
    target[(m.length - 1) * B + b] = combine(x1, x2);
  }
  return { x, T: Tb, B, target, mask: lastStepMask(lengths, Tb), lengths };
}

const NAME = "adding-1997";
const DEFAULTS: Params = Object.freeze({ T: 100 });
const TOL = 0.04;
const TRIANGLE_MASS = TOL * 4 - (TOL * 4) * (TOL * 4) / 4; // P(|X1 + X2| < 0.16) for X1, X2 ~ U[-1, 1]

/**
 * The 1997 adding problem: sum two marked values of a long sequence, read at its end.
 *
 * @example
 * ```ts
 * import { adding1997 } from "./adding_1997.ts";
 * import { Rng } from "../rng.ts";
 * const task = adding1997.create({ T: 100 });
 * const batch = task.batch(new Rng(0), 8); // x (T, 8, 2) with T ≤ 110; mask at each sequence's last step
 * task.baseline.loss; // 0.03919… (predict 0.5 always)
 * ```
 */
export const adding1997: TaskDefinition = {
  name: NAME,
  description:
    "HS97 Exp 4: output 0.5 + (X1 + X2)/4 at the end, X1 and X2 the two values marked 1 among (value, marker)",
  defaults: DEFAULTS,
  paramDocs: {
    T: "minimal sequence length (integer ≥ 11); lengths are uniform in [T, T + ⌊T/10⌋], X2 among the first ⌊T/2⌋ - 1",
  },
  create(params?: Params): Task {
    const p = resolveParams(NAME, DEFAULTS, params);
    const T = intParam(NAME, "T", p.T, 11);
    const maxLength = T + Math.floor(T / 10);
    const p0 = hs97FirstPairMarkedProbability(T);
    const task: Task = {
      name: NAME,
      params: { T },
      inputSize: 2,
      outputSize: 1,
      loss: "mse",
      readout: "every",
      maxLength,
      lossSteps: "the last step of each sequence (mask; lengths vary)",
      criterion: "|output - target| < 0.04 at the sequence's last step",
      reference: "Hochreiter & Schmidhuber 1997, Long Short-Term Memory, section 5.4 (Experiment 4)",
      baseline: {
        description: "always 0.5 (the target's mean). Published: MSE 1/24 ≈ 0.0417, ≈15% correct. Exact for this " +
          "generator, with p0 = P(a mark lands on the first pair and counts 0): MSE (2 - p0)/48, " +
          "accuracy (1 - p0)(0.16 - 0.16²/4) + 0.16 p0",
        loss: (2 - p0) / 48,
        accuracy: (1 - p0) * TRIANGLE_MASS + p0 * (TOL * 4),
        outputs(batch: TaskBatch): Float32Array {
          return new Float32Array(batch.T * batch.B).fill(0.5);
        },
      },
      batch(rng: Rng, B: number): TaskBatch {
        return hs97Batch(rng, B, T, (r) => r.uniformIn(-1, 1), 0, (x1, x2) => 0.5 + (x1 + x2) / 4);
      },
      correct(outputs: Arr | Float32Array, batch: TaskBatch): Uint8Array {
        return lastStepWithin(NAME, outputs, batch, TOL);
      },
    };
    return task;
  },
};

/**
 * Per sequence, 1 if the single output at its last step (row (length - 1)·B + b of a readout at every step) is within
 * `tol` of the target (strictly), else 0.
 *
 * @example
 * ```ts
 * import { lastStepWithin } from "./adding_1997.ts";
 * const batch = { x: [], T: 2, B: 1, target: [0, 0.5], lengths: new Int32Array([2]) };
 * lastStepWithin("demo", new Float32Array([9, 0.52]), batch, 0.04); // [1]
 * ```
 */
export function lastStepWithin(
  task: string,
  outputs: ArrayLike<number>,
  batch: TaskBatch,
  tol: number,
): Uint8Array {
  const { T, B, lengths, target } = batch;
  checkOutputs(task, outputs, T * B, 1);
  const ok = new Uint8Array(B);
  for (let b = 0; b < B; b++) {
    const r = (lengths[b] - 1) * B + b;
    ok[b] = Math.abs(outputs[r] - target[r]) < tol ? 1 : 0;
  }
  return ok;
}
