/**
 * Finite-difference gradient checking, the reference against which every backward pass of `nn/` is tested: central
 * differences of a scalar function of a float64 buffer, and the relative-error measure used to compare them.
 *
 * @module
 */

/**
 * Central differences (f(v + ε e_i) - f(v - ε e_i)) / 2ε for every entry i of `v`, perturbed in place and restored.
 *
 * @example
 * ```ts
 * import { centralDifferences } from "./gradcheck.ts";
 * const v = new Float64Array([1, 2]);
 * centralDifferences(() => v[0] * v[0] + 3 * v[1], v); // ≈ [2, 3]
 * ```
 */
export function centralDifferences(f: () => number, v: Float64Array, eps = 1e-6): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const old = v[i];
    v[i] = old + eps;
    const up = f();
    v[i] = old - eps;
    const down = f();
    v[i] = old;
    out[i] = (up - down) / (2 * eps);
  }
  return out;
}

/**
 * The largest relative error between an analytic gradient `a` and a numeric one `n`, and where it is:
 * |a - n| / max(1e-3, |a| + |n|). Central differences carry ~1e-10 of rounding noise (ε·|L| / h), so gradients below
 * ~1e-3 are compared absolutely (to ~1e-9); a wrong gradient is off by its own size.
 *
 * @example
 * ```ts
 * import { maxRelativeError } from "./gradcheck.ts";
 * maxRelativeError(new Float64Array([1, 2]), new Float64Array([1, 2.002])); // { err: ≈ 5e-4, at: 1 }
 * ```
 */
export function maxRelativeError(a: ArrayLike<number>, n: ArrayLike<number>): { err: number; at: number } {
  if (a.length !== n.length) throw new RangeError(`maxRelativeError: lengths differ (${a.length} vs ${n.length})`);
  let worst = 0, at = -1;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - n[i]) / Math.max(1e-3, Math.abs(a[i]) + Math.abs(n[i]));
    if (Number.isNaN(err)) return { err, at: i };
    if (err > worst) (worst = err, at = i);
  }
  return { err: worst, at };
}
