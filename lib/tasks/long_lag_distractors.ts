/**
 * The very long time lag problem with distractors of Hochreiter & Schmidhuber 1997 (Experiment 2c).
 *
 * p + 4 one-hot input symbols: the distractors a1 … ap (indices 0 … p-1), then e = p, b = p+1, x = p+2, y = p+3. A
 * sequence is (b, s, q + k distractors, e, s) with s = x or y (probability 1/2 each) and every distractor uniform
 * over the p symbols: length q + k + 4, minimal lag q + 1 (from s to the trigger e). The net has 2 outputs (x, y);
 * the only target is the final symbol, predicted at the step that reads e (softmax cross-entropy over the 2 classes).
 * Criterion "both outputs' error below 0.2" on softmax probabilities: |p - onehot| < 0.2, i.e. p(s) > 0.8.
 *
 * The distribution of k: after the first q distractors, each further symbol is a distractor with probability 10/11
 * and the trigger e with probability 1/11, so P(k) = (1/11)(10/11)^k, k ≥ 0, E[k] = 10: minimal length q + 4, minimal
 * lag q + 1 and mean length q + 14, as the paper states. (Its stated procedure — distractor 9/10, e 1/10 — gives a
 * mean length of q + 13, not the q + 14 it reports; of the two we keep the stated lengths: see `LONG_LAG_DISTRACTORS_CONTINUE`.) k is
 * capped at 250 (an event of probability (10/11)^251 ≈ 4e-11) so that `maxLength` is finite.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { log } from "../math.ts";
import type { Rng } from "../rng.ts";
import { checkOutputs, intParam, oneHotMaxError, type Params, resolveParams, setOneHot } from "./common.ts";
import type { Task, TaskBatch, TaskDefinition } from "./task.ts";

const NAME = "long-lag-distractors";
const DEFAULTS: Params = Object.freeze({ q: 100, p: 100 });
const TOL = 0.2;

/**
 * After the first q distractors, the probability that the next symbol is another distractor (else the trigger e):
 * 10/11, so that the number k of extra distractors has mean 10 and the mean length is q + 14.
 *
 * @example
 * ```ts
 * import { LONG_LAG_DISTRACTORS_CONTINUE } from "./long_lag_distractors.ts";
 * const meanK = LONG_LAG_DISTRACTORS_CONTINUE / (1 - LONG_LAG_DISTRACTORS_CONTINUE); // 10
 * ```
 */
export const LONG_LAG_DISTRACTORS_CONTINUE = 10 / 11;

/**
 * The largest number k of extra distractors drawn (a cap on the geometric distribution, reached with probability
 * about 4e-11): a sequence is at most q + 254 long.
 *
 * @example
 * ```ts
 * import { LONG_LAG_DISTRACTORS_MAX_K } from "./long_lag_distractors.ts";
 * const longest = 100 + LONG_LAG_DISTRACTORS_MAX_K + 4; // q = 100
 * ```
 */
export const LONG_LAG_DISTRACTORS_MAX_K = 250;

/**
 * The 1997 very long time lag problem: remember x or y across q + k random distractors until the trigger e.
 *
 * @example
 * ```ts
 * import { longLagDistractors } from "./long_lag_distractors.ts";
 * import { Rng } from "../rng.ts";
 * const task = longLagDistractors.create({ q: 50, p: 50 });
 * const batch = task.batch(new Rng(0), 4); // x (T, 4, 54), mask at the e step of each sequence
 * task.baseline.loss; // ln 2
 * ```
 */
export const longLagDistractors: TaskDefinition = {
  name: NAME,
  description: "HS97 Exp 2c: after q + k random distractors and a trigger e, output the x/y seen at step 1",
  defaults: DEFAULTS,
  paramDocs: {
    q: "minimal number of distractors between the x/y and the trigger (integer ≥ 0); minimal lag q + 1",
    p: "number of distinct distractor symbols (integer ≥ 1); input size p + 4",
  },
  create(params?: Params): Task {
    const prm = resolveParams(NAME, DEFAULTS, params);
    const q = intParam(NAME, "q", prm.q, 0);
    const p = intParam(NAME, "p", prm.p, 1);
    const I = p + 4, E = p, BEGIN = p + 1, X = p + 2;
    return {
      name: NAME,
      params: { q, p },
      inputSize: I,
      outputSize: 2,
      loss: "cross-entropy",
      readout: "every",
      maxLength: q + LONG_LAG_DISTRACTORS_MAX_K + 4,
      lossSteps: "the step reading the trigger e (second to last) of each sequence (mask; lengths vary)",
      criterion: "both output probabilities within 0.2 of the one-hot target at the trigger step (⇔ p(target) > 0.8)",
      reference: "Hochreiter & Schmidhuber 1997, Long Short-Term Memory, section 5.2 (Experiment 2c)",
      baseline: {
        description: "1/2 x, 1/2 y (logits 0): cross-entropy ln 2; accuracy 0 under the 0.2 criterion (error 0.5); " +
          "argmax chance 50%",
        loss: log(2),
        accuracy: 0,
        outputs: (batch: TaskBatch) => new Float32Array(batch.T * batch.B * 2),
      },
      batch(rng: Rng, B: number): TaskBatch {
        const lengths = new Int32Array(B);
        let Tb = 0;
        for (let b = 0; b < B; b++) {
          let k = 0;
          while (k < LONG_LAG_DISTRACTORS_MAX_K && rng.uniform() < LONG_LAG_DISTRACTORS_CONTINUE) k++;
          lengths[b] = q + k + 4;
          if (lengths[b] > Tb) Tb = lengths[b];
        }
        const x = new Float32Array(Tb * B * I);
        const target = new Int32Array(Tb * B);
        const mask = new Uint8Array(Tb * B);
        for (let b = 0; b < B; b++) {
          const L = lengths[b];
          const s = rng.int(2);
          setOneHot(x, B, 0, b, I, BEGIN);
          setOneHot(x, B, 1, b, I, X + s);
          for (let t = 2; t < L - 2; t++) setOneHot(x, B, t, b, I, rng.int(p));
          setOneHot(x, B, L - 2, b, I, E);
          setOneHot(x, B, L - 1, b, I, X + s);
          target[(L - 2) * B + b] = s;
          mask[(L - 2) * B + b] = 1;
        }
        return { x, T: Tb, B, target, mask, lengths };
      },
      correct(outputs: Arr | Float32Array, batch: TaskBatch): Uint8Array {
        const { T: Tb, B, lengths, target } = batch;
        checkOutputs(NAME, outputs, Tb * B, 2);
        const ok = new Uint8Array(B);
        const work = new Float64Array(2);
        for (let b = 0; b < B; b++) {
          const r = (lengths[b] - 2) * B + b;
          ok[b] = oneHotMaxError(outputs, r * 2, 2, target[r], work) < TOL ? 1 : 0;
        }
        return ok;
      },
    };
  },
};
