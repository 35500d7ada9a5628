/**
 * The two array types everything numeric in lstm-lab works on: flat, row-major typed arrays of float32 or float64.
 * The bottom of the layering (see README, "Architecture"): every other module may import this one.
 *
 * @module
 */

/** Element type of every buffer a model uses. */
export type DType = "float32" | "float64";

/**
 * A flat buffer of one of the two element types.
 *
 * @example
 * ```ts
 * import type { Arr } from "./arr.ts";
 * const a: Arr = new Float32Array(4);
 * ```
 */
export type Arr = Float32Array | Float64Array;
