/**
 * The multiplication problem of Hochreiter & Schmidhuber 1997 (Experiment 5): as the 1997 adding problem (same
 * lengths and marker placement, see `adding_1997.ts`), with values in [0, 1] and target X1·X2. A mark on the first
 * pair (which keeps its marker -1) counts as 1.0, the paper's "X1 = 1 if the first pair is marked", applied to X2 too.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { log } from "../math.ts";
import type { Rng } from "../rng.ts";
import { hs97Batch, hs97FirstPairMarkedProbability, lastStepWithin } from "./adding_1997.ts";
import { intParam, type Params, resolveParams } from "./common.ts";
import type { Task, TaskBatch, TaskDefinition } from "./task.ts";

const NAME = "multiplication";
const DEFAULTS: Params = Object.freeze({ T: 100 });
const TOL = 0.04;

/** CDF of the product of two independent U[0, 1]: z - z ln z on (0, 1]. */
function productCdf(z: number): number {
  if (z <= 0) return 0;
  if (z >= 1) return 1;
  return z - z * log(z);
}

/**
 * Moments and accuracy of the constant predictor "mean of the target" for the multiplication problem of minimal length
 * T: with p0 the probability that a mark lands on the first pair (the target is then one U[0,1] value, else a
 * product of two), mean = (1 - p0)/4 + p0/2, MSE = variance = (1 - p0)/9 + p0/3 - mean², accuracy =
 * (1 - p0)·P(|Z - mean| < 0.04) + p0·0.08, where Z = X1·X2 has CDF z - z ln z.
 *
 * @example
 * ```ts
 * import { multiplicationBaseline } from "./multiplication.ts";
 * multiplicationBaseline(100); // { mean: 0.2796875, mse: 0.05927…, accuracy: 0.0996… }
 * ```
 */
export function multiplicationBaseline(T: number): { mean: number; mse: number; accuracy: number } {
  const p0 = hs97FirstPairMarkedProbability(T);
  const mean = (1 - p0) / 4 + p0 / 2;
  const mse = (1 - p0) / 9 + p0 / 3 - mean * mean;
  const accuracy = (1 - p0) * (productCdf(mean + TOL) - productCdf(mean - TOL)) + p0 * 2 * TOL;
  return { mean, mse, accuracy };
}

/**
 * The 1997 multiplication problem: multiply two marked values of a long sequence, read at its end.
 *
 * @example
 * ```ts
 * import { multiplication } from "./multiplication.ts";
 * import { Rng } from "../rng.ts";
 * const task = multiplication.create({ T: 100 });
 * const batch = task.batch(new Rng(0), 8);
 * task.baseline.loss; // 0.0593 (predict the target's mean, 0.2797)
 * ```
 */
export const multiplication: TaskDefinition = {
  name: NAME,
  description:
    "HS97 Exp 5: output X1·X2 at the end, X1 and X2 the two values (in [0, 1]) marked 1 among (value, marker)",
  defaults: DEFAULTS,
  paramDocs: {
    T: "minimal sequence length (integer ≥ 11); lengths are uniform in [T, T + ⌊T/10⌋], X2 among the first ⌊T/2⌋ - 1",
  },
  create(params?: Params): Task {
    const p = resolveParams(NAME, DEFAULTS, params);
    const T = intParam(NAME, "T", p.T, 11);
    const maxLength = T + Math.floor(T / 10);
    const base = multiplicationBaseline(T);
    const mean = base.mean;
    return {
      name: NAME,
      params: { T },
      inputSize: 2,
      outputSize: 1,
      loss: "mse",
      readout: "every",
      maxLength,
      lossSteps: "the last step of each sequence (mask; lengths vary)",
      criterion: "|output - target| < 0.04 at the sequence's last step",
      reference: "Hochreiter & Schmidhuber 1997, Long Short-Term Memory, section 5.5 (Experiment 5)",
      baseline: {
        description: `always the target's mean ${mean.toFixed(6)}; its MSE is the target variance. Published: ` +
          "7/144 ≈ 0.0486 (the variance of X1·X2 alone); exact here, counting the first-pair case where the " +
          "target is a single value: (1 - p0)/9 + p0/3 - mean², mean = (1 - p0)/4 + p0/2",
        loss: base.mse,
        accuracy: base.accuracy,
        outputs(batch: TaskBatch): Float32Array {
          return new Float32Array(batch.T * batch.B).fill(mean);
        },
      },
      batch(rng: Rng, B: number): TaskBatch {
        return hs97Batch(rng, B, T, (r) => r.uniform(), 1, (x1, x2) => x1 * x2);
      },
      correct(outputs: Arr | Float32Array, batch: TaskBatch): Uint8Array {
        return lastStepWithin(NAME, outputs, batch, TOL);
      },
    };
  },
};
