/**
 * The two-sequence / latch problem of Bengio, Simard & Frasconi 1994 as run by Hochreiter & Schmidhuber 1997
 * (Experiment 3a): one input line; the first N values are all +1 (class 1) or all -1 (class 0), probability 1/2 each;
 * the rest is Gaussian noise with mean 0 and variance 0.2. Length uniform in [T, T + ⌊T/10⌋]. The target at the last
 * step is 1 (class 1) or 0 (class 0); the model emits one logit, trained with sigmoid binary cross-entropy; correct if
 * |σ(output) - target| < 0.2.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { log, sigmoid } from "../math.ts";
import type { Rng } from "../rng.ts";
import { checkOutputs, intParam, lastStepMask, type Params, resolveParams } from "./common.ts";
import type { Task, TaskBatch, TaskDefinition } from "./task.ts";

const NAME = "latch";
const DEFAULTS: Params = Object.freeze({ T: 100, N: 3 });
const TOL = 0.2;
const NOISE_STD = Math.sqrt(0.2);

/**
 * The latch problem: classify a sequence by the sign of its first N values, read after at least T steps of noise.
 *
 * @example
 * ```ts
 * import { latch } from "./latch.ts";
 * import { Rng } from "../rng.ts";
 * const task = latch.create({ T: 1000, N: 3 });
 * const batch = task.batch(new Rng(0), 8); // x (≤ 1100, 8, 1), target 1 or 0 at each sequence's last step
 * task.baseline.loss; // ln 2
 * ```
 */
export const latch: TaskDefinition = {
  name: NAME,
  description: "BSF94 / HS97 Exp 3a: the sign of the first N inputs (±1), read after T steps of Gaussian noise",
  defaults: DEFAULTS,
  paramDocs: {
    T: "minimal sequence length (integer ≥ 1); lengths are uniform in [T, T + ⌊T/10⌋]",
    N: "number of informative ±1 values at the start (integer in [1, T])",
  },
  create(params?: Params): Task {
    const p = resolveParams(NAME, DEFAULTS, params);
    const T = intParam(NAME, "T", p.T, 1);
    const N = intParam(NAME, "N", p.N, 1, T);
    return {
      name: NAME,
      params: { T, N },
      inputSize: 1,
      outputSize: 1,
      loss: "bce",
      readout: "every",
      maxLength: T + Math.floor(T / 10),
      lossSteps: "the last step of each sequence (mask; lengths vary)",
      criterion: "|σ(output) - target| < 0.2 at the last step",
      reference: "Bengio, Simard & Frasconi 1994; Hochreiter & Schmidhuber 1997, section 5.3 (Experiment 3a)",
      baseline: {
        description: "logit 0 (σ = 0.5, the class prior): binary cross-entropy ln 2; accuracy 0 (error 0.5)",
        loss: log(2),
        accuracy: 0,
        outputs: (batch: TaskBatch) => new Float32Array(batch.T * batch.B),
      },
      batch(rng: Rng, B: number): TaskBatch {
        const lengths = new Int32Array(B);
        let Tb = 0;
        for (let b = 0; b < B; b++) {
          lengths[b] = rng.intIn(T, T + Math.floor(T / 10));
          if (lengths[b] > Tb) Tb = lengths[b];
        }
        const x = new Float32Array(Tb * B);
        const target = new Float32Array(Tb * B);
        for (let b = 0; b < B; b++) {
          const L = lengths[b];
          const cls = rng.int(2);
          for (let t = 0; t < N; t++) x[t * B + b] = cls === 1 ? 1 : -1;
          for (let t = N; t < L; t++) x[t * B + b] = NOISE_STD * rng.normal();
          target[(L - 1) * B + b] = cls;
        }
        return { x, T: Tb, B, target, mask: lastStepMask(lengths, Tb), lengths };
      },
      correct(outputs: Arr | Float32Array, batch: TaskBatch): Uint8Array {
        const { T: Tb, B, lengths, target } = batch;
        checkOutputs(NAME, outputs, Tb * B, 1);
        const ok = new Uint8Array(B);
        for (let b = 0; b < B; b++) {
          const r = (lengths[b] - 1) * B + b;
          ok[b] = Math.abs(sigmoid(outputs[r]) - target[r]) < TOL ? 1 : 0;
        }
        return ok;
      },
    };
  },
};
