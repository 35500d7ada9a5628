/**
 * The two-channel adding problem of the 2010s (Pascanu et al. 2013; Le et al. 2015; Arjovsky et al. 2016): inputs
 * (value in [0, 1], marker in {0, 1}) with exactly two markers; the output at the end is the sum (Arjovsky) or the mean
 * (Pascanu) of the two marked values.
 *
 * - "arjovsky": length exactly T; one marker uniform in the first half [0, ⌊T/2⌋), the other in the second half
 *   [⌊T/2⌋, T); target x1 + x2; read after the last step.
 * - "pascanu" (the pascanur/trainingRNNs generator): length l = T + U{0, …, ⌊T/10⌋}, drawn per sequence; first marker
 *   in [0, ⌊l/10⌋), second in [⌊l/10⌋, ⌊l/2⌋); target (x1 + x2)/2; read at each sequence's last step (mask).
 *
 * Criterion, both variants: squared error < 0.04 (|error| < 0.2). That is Pascanu's threshold; Arjovsky et al. report
 * only the MSE, so the same absolute threshold is applied to their sum (a scale-matched |error| < 0.4 would pass 64% of
 * the constant predictor's answers).
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import type { Rng } from "../rng.ts";
import { checkOutputs, choiceParam, intParam, lastStepMask, type Params, resolveParams } from "./common.ts";
import type { Task, TaskBatch, TaskDefinition } from "./task.ts";

const NAME = "adding";
const DEFAULTS: Params = Object.freeze({ T: 100, variant: "arjovsky" });
const VARIANTS = ["arjovsky", "pascanu"] as const;
const SQ_TOL = 0.04;

/**
 * The two-channel adding problem (Arjovsky et al. 2016 by default, or Pascanu et al. 2013).
 *
 * @example
 * ```ts
 * import { adding } from "./adding.ts";
 * import { Rng } from "../rng.ts";
 * const task = adding.create({ T: 200, variant: "arjovsky" });
 * const batch = task.batch(new Rng(0), 16); // x (200, 16, 2), target (16) = x1 + x2
 * task.baseline.loss; // 1/6: predict 1 always
 * ```
 */
export const adding: TaskDefinition = {
  name: NAME,
  description: "two-channel adding problem (PMB13 / LJH15 / ASB16): sum or mean of the two values marked 1",
  defaults: DEFAULTS,
  paramDocs: {
    T: 'sequence length: exactly T ("arjovsky", integer ≥ 2) or minimal length ("pascanu", integer ≥ 10)',
    variant: '"arjovsky" (target x1 + x2, one marker per half) or "pascanu" (target (x1 + x2)/2, PMB13 positions)',
  },
  create(params?: Params): Task {
    const p = resolveParams(NAME, DEFAULTS, params);
    const variant = choiceParam(NAME, "variant", p.variant, VARIANTS);
    const pascanu = variant === "pascanu";
    const T = intParam(NAME, "T", p.T, pascanu ? 10 : 2);
    const maxLength = pascanu ? T + Math.floor(T / 10) : T;
    const constant = pascanu ? 0.5 : 1;
    return {
      name: NAME,
      params: { T, variant },
      inputSize: 2,
      outputSize: 1,
      loss: "mse",
      readout: pascanu ? "every" : "last",
      maxLength,
      lossSteps: pascanu ? "the last step of each sequence (mask; lengths vary)" : "the last step (all lengths T)",
      criterion: "squared error < 0.04 (|output - target| < 0.2) at the last step",
      reference: pascanu
        ? "Pascanu, Mikolov & Bengio 2013, On the difficulty of training RNNs, section 5 (code: pascanur/trainingRNNs)"
        : "Arjovsky, Shah & Bengio 2016, Unitary evolution RNNs, section 4.2",
      baseline: pascanu
        ? {
          description: "always 0.5: MSE Var((x1 + x2)/2) = 1/24; correct when |x1 + x2 - 1| < 0.4: 1 - 0.6² = 0.64",
          loss: 1 / 24,
          accuracy: 1 - 0.6 * 0.6,
          outputs: (batch: TaskBatch) => new Float32Array(batch.T * batch.B).fill(constant),
        }
        : {
          description:
            "always 1: MSE Var(x1 + x2) = 1/6 ≈ 0.167 (published 0.167); correct when |x1 + x2 - 1| < 0.2: " +
            "1 - 0.8² = 0.36",
          loss: 1 / 6,
          accuracy: 1 - 0.8 * 0.8,
          outputs: (batch: TaskBatch) => new Float32Array(batch.B).fill(constant),
        },
      batch(rng: Rng, B: number): TaskBatch {
        const lengths = new Int32Array(B);
        let Tb = 0;
        for (let b = 0; b < B; b++) {
          lengths[b] = pascanu ? rng.intIn(T, T + Math.floor(T / 10)) : T;
          if (lengths[b] > Tb) Tb = lengths[b];
        }
        const x = new Float32Array(Tb * B * 2);
        const target = new Float32Array(pascanu ? Tb * B : B);
        for (let b = 0; b < B; b++) {
          const l = lengths[b];
          for (let t = 0; t < l; t++) x[(t * B + b) * 2] = rng.uniform();
          let p0: number, p1: number;
          if (pascanu) {
            p0 = rng.int(Math.floor(l / 10));
            p1 = rng.intIn(Math.floor(l / 10), Math.floor(l / 2) - 1);
          } else {
            const half = Math.floor(l / 2);
            p0 = rng.int(half);
            p1 = half + rng.int(l - half);
          }
          x[(p0 * B + b) * 2 + 1] = 1;
          x[(p1 * B + b) * 2 + 1] = 1;
          const sum = x[(p0 * B + b) * 2] + x[(p1 * B + b) * 2];
          if (pascanu) target[(l - 1) * B + b] = sum / 2;
          else target[b] = sum;
        }
        if (pascanu) return { x, T: Tb, B, target, mask: lastStepMask(lengths, Tb), lengths };
        return { x, T: Tb, B, target, lengths };
      },
      correct(outputs: Arr | Float32Array, batch: TaskBatch): Uint8Array {
        const { T: Tb, B, lengths, target } = batch;
        checkOutputs(NAME, outputs, pascanu ? Tb * B : B, 1);
        const ok = new Uint8Array(B);
        for (let b = 0; b < B; b++) {
          const r = pascanu ? (lengths[b] - 1) * B + b : b;
          const d = outputs[r] - target[r];
          ok[b] = d * d < SQ_TOL ? 1 : 0;
        }
        return ok;
      },
    };
  },
};
