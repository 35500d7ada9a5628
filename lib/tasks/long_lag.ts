/**
 * The noise-free long time lag problem of Hochreiter & Schmidhuber 1997 (Experiment 2a and 2b).
 *
 * p + 1 one-hot symbols a1 … a_{p-1}, x, y (indices 0 … p-2, then x = p-1, y = p). Two sequences of length p + 1, each
 * with probability 1/2: (y, a1, …, a_{p-1}, y) and (x, a1, …, a_{p-1}, x). The net predicts the next symbol at every
 * step (softmax cross-entropy over the p + 1 symbols at steps 0 … p-1; the last step has no successor and no loss).
 * Only the last prediction needs the first symbol, p - 1 steps back.
 *
 * 2b: the middle symbols are drawn independently and uniformly from {a1, …, a_{p-1}} for every sequence (no local
 * regularity). Their predictions are then irreducibly uncertain (best: uniform over the p - 1 middle symbols), so the
 * 2b criterion judges only the last prediction; 2a judges every scored step.
 *
 * Criterion ("maximum absolute output error below 0.25", on softmax probabilities): max over the symbols of
 * |p - onehot(next)| < 0.25 — at every scored step (2a) or at the last prediction (2b).
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { log } from "../math.ts";
import type { Rng } from "../rng.ts";
import {
  checkOutputs,
  choiceParam,
  intParam,
  LOGIT_OFF,
  oneHotMaxError,
  type Params,
  resolveParams,
  setOneHot,
} from "./common.ts";
import type { Task, TaskBatch, TaskDefinition } from "./task.ts";

const NAME = "long-lag";
const DEFAULTS: Params = Object.freeze({ p: 100, variant: "2a" });
const VARIANTS = ["2a", "2b"] as const;
const TOL = 0.25;

/**
 * The 1997 noise-free long time lag problem: remember the first of p + 1 symbols to predict the last.
 *
 * @example
 * ```ts
 * import { longLag } from "./long_lag.ts";
 * import { Rng } from "../rng.ts";
 * const task = longLag.create({ p: 100 });
 * const batch = task.batch(new Rng(0), 4); // x (101, 4, 101), next-symbol classes (101·4), last step masked
 * task.baseline.loss; // ln 2 / 100
 * ```
 */
export const longLag: TaskDefinition = {
  name: NAME,
  description: "HS97 Exp 2a/2b: predict the next symbol; the last equals the first, p steps earlier",
  defaults: DEFAULTS,
  paramDocs: {
    p: "number of symbols minus 1 = sequence length minus 1 (integer ≥ 2); the lag is p - 1 steps",
    variant: '"2a" (fixed middle a1 … a_{p-1}) or "2b" (random middle symbols)',
  },
  create(params?: Params): Task {
    const prm = resolveParams(NAME, DEFAULTS, params);
    const variant = choiceParam(NAME, "variant", prm.variant, VARIANTS);
    const p = intParam(NAME, "p", prm.p, 2);
    const random = variant === "2b";
    const O = p + 1, L = p + 1;
    const X = p - 1;
    const loss = random ? ((p - 1) * log(p - 1) + log(2)) / p : log(2) / p;
    return {
      name: NAME,
      params: { p, variant },
      inputSize: O,
      outputSize: O,
      loss: "cross-entropy",
      readout: "every",
      maxLength: L,
      lossSteps: "every step but the last (next-symbol prediction; mask)",
      criterion: random
        ? "the last prediction (of x or y): every symbol probability within 0.25 of the one-hot target"
        : "at every scored step, every symbol probability within 0.25 of the one-hot next symbol",
      reference: `Hochreiter & Schmidhuber 1997, Long Short-Term Memory, section 5.2 (Experiment ${variant})`,
      baseline: {
        description: random
          ? "knows everything but the first symbol: uniform over the p - 1 middle symbols at the middle steps, " +
            "1/2 x, 1/2 y for the last: cross-entropy ((p - 1) ln(p - 1) + ln 2) / p (the best possible loss is " +
            "(p - 1) ln(p - 1) / p); accuracy 0"
          : "knows everything but the first symbol: every middle symbol with certainty, 1/2 x, 1/2 y for the last: " +
            "cross-entropy ln 2 / p; accuracy 0 (error 0.5 on the last step)",
        loss,
        accuracy: 0,
        outputs(batch: TaskBatch): Float32Array {
          const { B } = batch;
          const y = new Float32Array(batch.T * B * O).fill(LOGIT_OFF);
          for (let t = 0; t < L - 1; t++) {
            for (let b = 0; b < B; b++) {
              const base = (t * B + b) * O;
              if (t === L - 2) { // the last prediction: x or y
                y[base + X] = 0;
                y[base + X + 1] = 0;
              } else if (random) {
                y.fill(0, base, base + p - 1);
              } else {
                y[base + batch.target[t * B + b]] = 0;
              }
            }
          }
          return y;
        },
      },
      batch(rng: Rng, B: number): TaskBatch {
        const x = new Float32Array(L * B * O);
        const target = new Int32Array(L * B);
        const mask = new Uint8Array(L * B).fill(1, 0, (L - 1) * B);
        const lengths = new Int32Array(B).fill(L);
        const seq = new Int32Array(L);
        for (let b = 0; b < B; b++) {
          seq[0] = X + rng.int(2);
          for (let t = 1; t < L - 1; t++) seq[t] = random ? rng.int(p - 1) : t - 1;
          seq[L - 1] = seq[0];
          for (let t = 0; t < L; t++) {
            setOneHot(x, B, t, b, O, seq[t]);
            if (t < L - 1) target[t * B + b] = seq[t + 1];
          }
        }
        return { x, T: L, B, target, mask, lengths };
      },
      correct(outputs: Arr | Float32Array, batch: TaskBatch): Uint8Array {
        const { B, target } = batch;
        checkOutputs(NAME, outputs, L * B, O);
        const ok = new Uint8Array(B);
        const work = new Float64Array(O);
        for (let b = 0; b < B; b++) {
          let good = true;
          for (let t = random ? L - 2 : 0; t < L - 1 && good; t++) {
            const r = t * B + b;
            good = oneHotMaxError(outputs, r * O, O, target[r], work) < TOL;
          }
          ok[b] = good ? 1 : 0;
        }
        return ok;
      },
    };
  },
};
