/**
 * Small statistics for the plots: decimal logarithms (through `lib/math.ts`, so Deno and Bun agree to the bit),
 * quantiles and medians, Wilson score intervals for success rates, and least-squares lines.
 *
 * @module
 */

import { exp, log, log10 } from "../math.ts";
import { quantileSorted } from "../quantile.ts";

export { log10, quantileSorted };

const LN10 = log(10);

/** Smallest positive float32 (a subnormal): a float32 gradient norm below it is stored as 0. */
export const FLOAT32_TINY = 1.401298464324817e-45;
/** Largest finite float32: a float32 gradient norm above it is stored as Infinity (null in JSON). */
export const FLOAT32_MAX = 3.4028234663852886e38;
/** Smallest normal float32; below it float32 keeps fewer significant digits (subnormals). */
export const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

/**
 * Ten raised to `x`, from `lib/math.ts`'s `exp`.
 *
 * @example
 * ```ts
 * import { pow10 } from "./stats.ts";
 * pow10(-2); // 0.01 (to within an ulp)
 * ```
 */
export function pow10(x: number): number {
  return exp(x * LN10);
}

/**
 * `base` raised to `k` for base > 0, as exp(k ln base).
 *
 * @example
 * ```ts
 * import { powPositive } from "./stats.ts";
 * powPositive(0.5, 3); // 0.125 (to within an ulp)
 * ```
 */
export function powPositive(base: number, k: number): number {
  return exp(k * log(base));
}

/**
 * Quantile `q` of unsorted numbers (NaN values are dropped first).
 *
 * @example
 * ```ts
 * import { quantile } from "./stats.ts";
 * quantile([4, 1, 3, 2], 0.25); // 1.75
 * ```
 */
export function quantile(values: readonly number[], q: number): number {
  return quantileSorted(values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b), q);
}

/**
 * Median of numbers (NaN dropped; NaN for none). With an even count it is the mean of the two middle values, except
 * when one of them is infinite: then the middle value nearer zero is taken, so that one overflowed seed does not
 * turn the median infinite while most seeds are finite.
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * median([3, 1, 2]); // 2
 * median([1, 2, 3, 4]); // 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = (s.length - 1) / 2, lo = s[Math.floor(mid)], hi = s[Math.ceil(mid)];
  if (lo === hi) return lo;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return Math.abs(lo) < Math.abs(hi) ? lo : hi;
  return (lo + hi) / 2;
}

/** A success rate with its Wilson score interval. */
export interface RateInterval {
  rate: number;
  lo: number;
  hi: number;
}

/**
 * Wilson score interval for `k` successes out of `n` trials (z = 1.96 by default: 95%). Unlike the normal
 * approximation it stays inside [0, 1] and is not degenerate at 0/n or n/n, which is where the seed counts of a
 * learnability sweep usually are. n = 0 gives { rate: NaN, lo: 0, hi: 1 }.
 *
 * @example
 * ```ts
 * import { wilson } from "./stats.ts";
 * wilson(5, 5); // { rate: 1, lo: 0.566, hi: 1 } (rounded)
 * wilson(0, 5); // { rate: 0, lo: 0, hi: 0.434 }
 * ```
 */
export function wilson(k: number, n: number, z = 1.96): RateInterval {
  if (n <= 0) return { rate: NaN, lo: 0, hi: 1 };
  const p = k / n, z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  return { rate: p, lo: Math.max(0, center - half), hi: Math.min(1, center + half) };
}

/** A least-squares line y = intercept + slope·x. */
export interface LineFit {
  slope: number;
  intercept: number;
  /** Coefficient of determination (1 for a perfect line; NaN when y is constant). */
  r2: number;
  n: number;
}

/**
 * Ordinary least-squares fit of y against x (pairs with a non-finite value are skipped). Fewer than two points give
 * NaN slope and intercept.
 *
 * @example
 * ```ts
 * import { linearFit } from "./stats.ts";
 * linearFit([0, 1, 2], [1, 3, 5]); // { slope: 2, intercept: 1, r2: 1, n: 3 }
 * ```
 */
export function linearFit(x: readonly number[], y: readonly number[]): LineFit {
  let n = 0, sx = 0, sy = 0;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) continue;
    n++;
    sx += x[i];
    sy += y[i];
  }
  if (n < 2) return { slope: NaN, intercept: NaN, r2: NaN, n };
  const mx = sx / n, my = sy / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) continue;
    const dx = x[i] - mx, dy = y[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? NaN : (sxy * sxy) / (sxx * syy), n };
}
