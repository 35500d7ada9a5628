/**
 * Helpers shared by the task generators: parameter validation with the registry's error messages, the row layout of
 * padded time-major batches, and per-row softmax, argmax and error measures for the success criteria.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { exp } from "../math.ts";

/**
 * A task parameter's value.
 *
 * @example
 * ```ts
 * import type { ParamValue } from "./common.ts";
 * const v: ParamValue = "pascanu";
 * ```
 */
export type ParamValue = number | string | boolean;

/**
 * Task parameters by name.
 *
 * @example
 * ```ts
 * import type { Params } from "./common.ts";
 * const p: Params = { T: 200, variant: "pascanu" };
 * ```
 */
export type Params = Readonly<Record<string, ParamValue>>;

/**
 * A logit far enough below 0 that `exp(LOGIT_OFF)` underflows to exactly 0 in double precision: a baseline that puts
 * logit 0 on some classes and `LOGIT_OFF` on the others gives those others probability 0, so its cross-entropy is
 * exact (e.g. exactly ln 2 for two classes at logit 0), while every output stays finite.
 *
 * @example
 * ```ts
 * import { LOGIT_OFF } from "./common.ts";
 * import { exp } from "../math.ts";
 * exp(LOGIT_OFF); // 0
 * ```
 */
export const LOGIT_OFF = -1000;

/** `value` as it appears in error messages: strings quoted, everything else as `String` writes it. */
function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * The defaults overridden by `params`; a RangeError names any parameter the task does not have and lists the allowed
 * ones.
 *
 * @example
 * ```ts
 * import { resolveParams } from "./common.ts";
 * resolveParams("copy", { T: 100 }, { T: 200 }); // { T: 200 }
 * // resolveParams("copy", { T: 100 }, { L: 5 }) throws: copy: unknown parameter "L"; allowed: T
 * ```
 */
export function resolveParams(task: string, defaults: Params, params: Params | undefined): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = { ...defaults };
  if (params === undefined || params === null) return out;
  for (const key of Object.keys(params)) {
    if (!Object.hasOwn(defaults, key)) {
      const allowed = Object.keys(defaults);
      throw new RangeError(
        `${task}: unknown parameter ${show(key)}; allowed: ${allowed.length > 0 ? allowed.join(", ") : "(none)"}`,
      );
    }
    out[key] = params[key];
  }
  return out;
}

/**
 * `value` if it is a safe integer in [min, max] (max optional), else a RangeError naming the task, the parameter, the
 * value and what is allowed.
 *
 * @example
 * ```ts
 * import { intParam } from "./common.ts";
 * intParam("adding-1997", "T", 100, 10); // 100
 * // intParam("adding-1997", "T", -5, 10) throws: adding-1997: T = -5, expected an integer ≥ 10
 * ```
 */
export function intParam(task: string, name: string, value: unknown, min: number, max?: number): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= min && (max === undefined || value <= max)) {
    return value;
  }
  const allowed = max === undefined ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
  throw new RangeError(`${task}: ${name} = ${show(value)}, expected ${allowed}`);
}

/**
 * `value` if it is one of `choices`, else a RangeError naming the task, the parameter, the value and the choices.
 *
 * @example
 * ```ts
 * import { choiceParam } from "./common.ts";
 * choiceParam("adding", "variant", "pascanu", ["pascanu", "arjovsky"] as const); // "pascanu"
 * // choiceParam("adding", "variant", "x", ["pascanu", "arjovsky"]) throws:
 * //   adding: variant = "x", expected one of "pascanu", "arjovsky"
 * ```
 */
export function choiceParam<C extends string>(task: string, name: string, value: unknown, choices: readonly C[]): C {
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as C;
  throw new RangeError(`${task}: ${name} = ${show(value)}, expected one of ${choices.map(show).join(", ")}`);
}

/**
 * A loss mask over the T·B rows of a readout at every step with a 1 at each sequence's last step (row
 * (lengths[b] - 1)·B + b) and 0 elsewhere (earlier steps and padding).
 *
 * @example
 * ```ts
 * import { lastStepMask } from "./common.ts";
 * lastStepMask(new Int32Array([3, 2]), 3); // rows t·2 + b: [0,0, 0,1, 1,0]
 * ```
 */
export function lastStepMask(lengths: Int32Array, T: number): Uint8Array {
  const B = lengths.length;
  const mask = new Uint8Array(T * B);
  for (let b = 0; b < B; b++) mask[(lengths[b] - 1) * B + b] = 1;
  return mask;
}

/**
 * Throws a RangeError unless `outputs` holds at least `rows`·`O` values (the layout a task's criterion reads).
 *
 * @example
 * ```ts
 * import { checkOutputs } from "./common.ts";
 * checkOutputs("copy", new Float32Array(20), 2, 10); // fine
 * // checkOutputs("copy", new Float32Array(5), 2, 10) throws
 * ```
 */
export function checkOutputs(task: string, outputs: ArrayLike<number>, rows: number, O: number): void {
  if (outputs.length < rows * O) {
    throw new RangeError(
      `${task}: outputs have ${outputs.length} values, expected ${rows * O} (${rows} rows of ${O} outputs)`,
    );
  }
}

/**
 * Writes the softmax of the O logits of `y` starting at `base` into `out` (double precision, via `math.ts`).
 *
 * @example
 * ```ts
 * import { softmaxRow } from "./common.ts";
 * const p = new Float64Array(2);
 * softmaxRow(new Float32Array([0, 0]), 0, 2, p); // p = [0.5, 0.5]
 * ```
 */
export function softmaxRow(y: ArrayLike<number>, base: number, O: number, out: Float64Array): Float64Array {
  let max = -Infinity;
  for (let o = 0; o < O; o++) if (y[base + o] > max) max = y[base + o];
  let z = 0;
  for (let o = 0; o < O; o++) z += out[o] = exp(y[base + o] - max);
  for (let o = 0; o < O; o++) out[o] /= z;
  return out;
}

/**
 * The index of the largest of the O values of `y` starting at `base`; ties go to the lowest index (so a uniform
 * output always "predicts" class 0).
 *
 * @example
 * ```ts
 * import { argmaxRow } from "./common.ts";
 * argmaxRow(new Float32Array([0, 3, 3]), 0, 3); // 1
 * ```
 */
export function argmaxRow(y: ArrayLike<number>, base: number, O: number): number {
  let best = 0;
  for (let o = 1; o < O; o++) if (y[base + o] > y[base + best]) best = o;
  return best;
}

/**
 * The largest absolute error of the softmax probabilities of one row of logits against the one-hot vector of `cls`:
 * max over o of |p_o - [o = cls]| (the 1997 criteria "every output error below ε", applied to probabilities).
 *
 * @example
 * ```ts
 * import { oneHotMaxError } from "./common.ts";
 * oneHotMaxError(new Float32Array([0, 0]), 0, 2, 1, new Float64Array(2)); // 0.5
 * ```
 */
export function oneHotMaxError(y: ArrayLike<number>, base: number, O: number, cls: number, work: Float64Array): number {
  softmaxRow(y, base, O, work);
  let err = 0;
  for (let o = 0; o < O; o++) {
    const d = o === cls ? 1 - work[o] : work[o];
    if (d > err) err = d;
  }
  return err;
}

/**
 * Sets the one-hot input of symbol `s` at step t of sequence b in a time-major x (T, B, I).
 *
 * @example
 * ```ts
 * import { setOneHot } from "./common.ts";
 * const x = new Float32Array(2 * 1 * 3); // T = 2, B = 1, I = 3
 * setOneHot(x, 1, 1, 0, 3, 2); // x = [0,0,0, 0,0,1]
 * ```
 */
export function setOneHot(x: Arr, B: number, t: number, b: number, I: number, s: number): void {
  x[(t * B + b) * I + s] = 1;
}
