/**
 * The copy memory problem of Arjovsky, Shah & Bengio 2016.
 *
 * Ten categories a0 … a9 (one-hot inputs, 10 output classes): tokens a0 … a7, blank a8, delimiter a9. Length T + 20:
 * 10 tokens drawn uniformly from a0 … a7, T - 1 blanks, the delimiter, 10 blanks. Target: T + 10 blanks, then the 10
 * tokens. Softmax cross-entropy at every step, all steps scored (mean over T + 20 steps). Criterion: all 10 recalled
 * tokens right (argmax at each of the last 10 steps).
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { log } from "../math.ts";
import type { Rng } from "../rng.ts";
import { argmaxRow, checkOutputs, intParam, LOGIT_OFF, type Params, resolveParams, setOneHot } from "./common.ts";
import type { Task, TaskBatch, TaskDefinition } from "./task.ts";

const NAME = "copy";
const DEFAULTS: Params = Object.freeze({ T: 100 });
const TOKENS = 8, BLANK = 8, DELIMITER = 9, O = 10, S = 10;

/**
 * The copy memory problem: recall 10 tokens after T steps of blanks.
 *
 * @example
 * ```ts
 * import { copy } from "./copy.ts";
 * import { Rng } from "../rng.ts";
 * const task = copy.create({ T: 100 });
 * const batch = task.batch(new Rng(0), 8); // x (120, 8, 10), target classes (120·8), every row scored
 * task.baseline.loss; // 10 ln 8 / 120 ≈ 0.173
 * ```
 */
export const copy: TaskDefinition = {
  name: NAME,
  description: "ASB16 copy memory: reproduce 10 tokens from {a0..a7} after T blanks and a delimiter",
  defaults: DEFAULTS,
  paramDocs: { T: "delay: T - 1 blanks between the tokens and the delimiter (integer ≥ 1); length T + 20" },
  create(params?: Params): Task {
    const p = resolveParams(NAME, DEFAULTS, params);
    const T = intParam(NAME, "T", p.T, 1);
    const L = T + 2 * S;
    const recall = T + S; // first step of the recall
    let chance = 1;
    for (let i = 0; i < S; i++) chance /= TOKENS;
    return {
      name: NAME,
      params: { T },
      inputSize: O,
      outputSize: O,
      loss: "cross-entropy",
      readout: "every",
      maxLength: L,
      lossSteps: "every step (T + 20 rows per sequence, no mask)",
      criterion: "argmax right at each of the last 10 steps (all 10 tokens recalled)",
      reference: "Arjovsky, Shah & Bengio 2016, Unitary evolution RNNs, section 4.1 (code: amarshah/complex_RNN)",
      baseline: {
        description:
          "memoryless: blank with certainty for the first T + 10 steps, uniform over a0..a7 for the last 10: " +
          "cross-entropy 10 ln 8 / (T + 20) (published); argmax (ties to a0) recalls all 10 with probability 8^-10",
        loss: S * log(TOKENS) / L,
        accuracy: chance,
        outputs(batch: TaskBatch): Float32Array {
          const { B } = batch;
          const y = new Float32Array(batch.T * B * O).fill(LOGIT_OFF);
          for (let t = 0; t < L; t++) {
            for (let b = 0; b < B; b++) {
              const base = (t * B + b) * O;
              if (t < recall) y[base + BLANK] = 0;
              else y.fill(0, base, base + TOKENS);
            }
          }
          return y;
        },
      },
      batch(rng: Rng, B: number): TaskBatch {
        const x = new Float32Array(L * B * O);
        const target = new Int32Array(L * B).fill(BLANK);
        const lengths = new Int32Array(B).fill(L);
        for (let b = 0; b < B; b++) {
          for (let i = 0; i < S; i++) {
            const token = rng.int(TOKENS);
            setOneHot(x, B, i, b, O, token);
            target[(recall + i) * B + b] = token;
          }
          for (let t = S; t < L; t++) setOneHot(x, B, t, b, O, t === recall - 1 ? DELIMITER : BLANK);
        }
        return { x, T: L, B, target, lengths };
      },
      correct(outputs: Arr | Float32Array, batch: TaskBatch): Uint8Array {
        const { B, target } = batch;
        checkOutputs(NAME, outputs, L * B, O);
        const ok = new Uint8Array(B);
        for (let b = 0; b < B; b++) {
          let good = 1;
          for (let t = recall; t < L && good; t++) {
            const r = t * B + b;
            if (argmaxRow(outputs, r * O, O) !== target[r]) good = 0;
          }
          ok[b] = good;
        }
        return ok;
      },
    };
  },
};
