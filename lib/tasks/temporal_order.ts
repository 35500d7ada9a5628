/**
 * The temporal order problem of Hochreiter & Schmidhuber 1997 (Experiment 6a and 6b).
 *
 * Eight one-hot input symbols, in this order: E, B, X, Y, a, b, c, d. A sequence starts with E, ends with B (the
 * trigger) and has length uniform in [100, 110]; every other step is a filler from {a, b, c, d}, except two (6a) or
 * three (6b) steps, each X or Y with probability 1/2: at t1 ∈ [10, 20] and t2 ∈ [50, 60] (6a), or t1 ∈ [10, 20],
 * t2 ∈ [33, 43], t3 ∈ [66, 76] (6b) — 0-based step indices, E at step 0. The class of the X/Y order is read at the
 * last step: 6a XX = 0, XY = 1, YX = 2, YY = 3; 6b in the same binary order (X = 0, Y = 1, first symbol most
 * significant), 8 classes.
 *
 * Loss: softmax cross-entropy over the classes (1997 used sigmoid output units and squared error). The criterion
 * "every output error < 0.3" is applied to the softmax probabilities: max over classes of |p - onehot| < 0.3, which for
 * a softmax is the same as p(true class) > 0.7.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { log } from "../math.ts";
import type { Rng } from "../rng.ts";
import {
  checkOutputs,
  choiceParam,
  lastStepMask,
  oneHotMaxError,
  type Params,
  resolveParams,
  setOneHot,
} from "./common.ts";
import type { Task, TaskBatch, TaskDefinition } from "./task.ts";

const NAME = "temporal-order";
const DEFAULTS: Params = Object.freeze({ variant: "6a" });
const VARIANTS = ["6a", "6b"] as const;
const TOL = 0.3;

/**
 * Input symbol indices of the 1997 temporal order problem.
 *
 * @example
 * ```ts
 * import { TEMPORAL_ORDER_SYMBOLS } from "./temporal_order.ts";
 * TEMPORAL_ORDER_SYMBOLS.X; // 2: x[(t·B + b)·8 + 2] = 1 where step t of sequence b is X
 * ```
 */
export const TEMPORAL_ORDER_SYMBOLS = Object.freeze({ E: 0, B: 1, X: 2, Y: 3, a: 4, b: 5, c: 6, d: 7 });

/**
 * The [first, last] step ranges (0-based, both included) of the X/Y positions of each variant.
 *
 * @example
 * ```ts
 * import { TEMPORAL_ORDER_POSITIONS } from "./temporal_order.ts";
 * TEMPORAL_ORDER_POSITIONS["6b"].length; // 3 symbols, 8 classes
 * ```
 */
export const TEMPORAL_ORDER_POSITIONS: Readonly<Record<"6a" | "6b", readonly (readonly [number, number])[]>> = Object
  .freeze({
    "6a": [[10, 20], [50, 60]],
    "6b": [[10, 20], [33, 43], [66, 76]],
  });

/**
 * The 1997 temporal order problem: classify the order of two (6a) or three (6b) X/Y symbols hidden among fillers.
 *
 * @example
 * ```ts
 * import { temporalOrder } from "./temporal_order.ts";
 * import { Rng } from "../rng.ts";
 * const task = temporalOrder.create({ variant: "6b" }); // 8 classes
 * const batch = task.batch(new Rng(0), 4); // x (≤ 110, 4, 8); class at each sequence's last step
 * task.baseline.loss; // ln 8
 * ```
 */
export const temporalOrder: TaskDefinition = {
  name: NAME,
  description: "HS97 Exp 6: classify the temporal order of 2 (6a) or 3 (6b) widely separated X/Y symbols",
  defaults: DEFAULTS,
  paramDocs: { variant: '"6a" (two X/Y, 4 classes) or "6b" (three X/Y, 8 classes)' },
  create(params?: Params): Task {
    const p = resolveParams(NAME, DEFAULTS, params);
    const variant = choiceParam(NAME, "variant", p.variant, VARIANTS);
    const positions = TEMPORAL_ORDER_POSITIONS[variant];
    const K = positions.length;
    const O = 1 << K;
    const { E, B: TRIGGER, X } = TEMPORAL_ORDER_SYMBOLS;
    return {
      name: NAME,
      params: { variant },
      inputSize: 8,
      outputSize: O,
      loss: "cross-entropy",
      readout: "every",
      maxLength: 110,
      lossSteps: "the last step (the trigger B) of each sequence (mask; lengths 100-110)",
      criterion: "every class probability within 0.3 of the one-hot target at the last step (⇔ p(true class) > 0.7)",
      reference: `Hochreiter & Schmidhuber 1997, Long Short-Term Memory, section 5.6 (Experiment ${variant})`,
      baseline: {
        description:
          `uniform probabilities (all logits 0): cross-entropy ln ${O}; accuracy 0 under the 0.3 criterion ` +
          `(p = 1/${O}); argmax chance, which the paper quotes, is ${100 / O}%`,
        loss: log(O),
        accuracy: 0,
        outputs: (batch: TaskBatch) => new Float32Array(batch.T * batch.B * O),
      },
      batch(rng: Rng, B: number): TaskBatch {
        const lengths = new Int32Array(B);
        let Tb = 0;
        for (let b = 0; b < B; b++) {
          lengths[b] = rng.intIn(100, 110);
          if (lengths[b] > Tb) Tb = lengths[b];
        }
        const x = new Float32Array(Tb * B * 8);
        const target = new Int32Array(Tb * B);
        const seq = new Uint8Array(110);
        for (let b = 0; b < B; b++) {
          const L = lengths[b];
          seq[0] = E;
          for (let t = 1; t < L - 1; t++) seq[t] = 4 + rng.int(4);
          seq[L - 1] = TRIGGER;
          let cls = 0;
          for (const [lo, hi] of positions) {
            const bit = rng.int(2);
            seq[rng.intIn(lo, hi)] = X + bit;
            cls = 2 * cls + bit;
          }
          for (let t = 0; t < L; t++) setOneHot(x, B, t, b, 8, seq[t]);
          target[(L - 1) * B + b] = cls;
        }
        return { x, T: Tb, B, target, mask: lastStepMask(lengths, Tb), lengths };
      },
      correct(outputs: Arr | Float32Array, batch: TaskBatch): Uint8Array {
        const { T: Tb, B, lengths, target } = batch;
        checkOutputs(NAME, outputs, Tb * B, O);
        const ok = new Uint8Array(B);
        const work = new Float64Array(O);
        for (let b = 0; b < B; b++) {
          const r = (lengths[b] - 1) * B + b;
          ok[b] = oneHotMaxError(outputs, r * O, O, target[r], work) < TOL ? 1 : 0;
        }
        return ok;
      },
    };
  },
};
