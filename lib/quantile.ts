/**
 * Quantiles of sorted numbers: shared by the runner (per-batch quantiles of the gradient probes) and the plots
 * (quantiles over seeds), so both interpolate the same way.
 *
 * @module
 */

/**
 * Quantile `q` of sorted numbers, linear interpolation between order statistics (numpy's default); NaN for an
 * empty list. Infinity is a valid value (an exact order statistic is returned as is, never ∞ − ∞).
 *
 * @example
 * ```ts
 * import { quantileSorted } from "./quantile.ts";
 * quantileSorted([1, 2, 3, 4], 0.5); // 2.5
 * quantileSorted([1, Infinity, Infinity], 0.5); // Infinity
 * ```
 */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  if (lo === hi) return sorted[lo];
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
