/**
 * Small statistics for the plots: decimal logarithms (through `lib/math.ts`, so Deno and Bun agree to the bit),
 * quantiles and medians, Wilson score intervals for success rates, and least-squares lines.
 *
 * @module
 */

import { exp, log, log10 } from "../math.ts";
import { quantileSorted } from "../quantile.ts";
import { Rng } from "../rng.ts";

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

// ── Statistics over trials (issue 10): the paper's mean, the median, a bootstrap interval, success counts ──────────

/**
 * Arithmetic mean of numbers (NaN dropped; NaN for none). The statistic the 1997-2013 papers report over trials.
 *
 * @example
 * ```ts
 * import { meanOf } from "./stats.ts";
 * meanOf([1, 2, 6]); // 3
 * ```
 */
export function meanOf(values: readonly number[]): number {
  let s = 0, n = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    s += v;
    n++;
  }
  return n === 0 ? NaN : s / n;
}

/** A point estimate with a confidence interval. */
export interface Interval {
  /** The statistic on the sample itself. */
  estimate: number;
  lo: number;
  hi: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
  /** Number of bootstrap resamples behind lo and hi. */
  resamples: number;
}

/** Options of `bootstrapInterval`. */
export interface BootstrapOptions {
  /** The statistic (default `meanOf`). It receives a resample as a plain array. */
  statistic?: (sample: readonly number[]) => number;
  /** Number of resamples (default 10,000). */
  resamples?: number;
  /** Confidence level in (0, 1) (default 0.95). */
  level?: number;
  /** Seed of the `Rng` that draws the resamples (default 0): the same seed gives the same interval, bit for bit. */
  seed?: number;
}

/**
 * The bootstrap distribution of a statistic: `resamples` resamples of `values` drawn with replacement (same size as
 * the sample, NaN dropped first) by `new Rng(seed)`, the statistic of each, sorted ascending. Deterministic.
 *
 * @example
 * ```ts
 * import { bootstrapDistribution } from "./stats.ts";
 * bootstrapDistribution([3, 3, 3], { resamples: 4 }); // [3, 3, 3, 3]
 * ```
 */
export function bootstrapDistribution(values: readonly number[], opts: BootstrapOptions = {}): number[] {
  const fn = "bootstrapDistribution";
  const statistic = opts.statistic ?? meanOf, resamples = opts.resamples ?? 10000, seed = opts.seed ?? 0;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`${fn}: resamples must be an integer >= 1, got ${resamples}`);
  }
  const x = values.filter((v) => !Number.isNaN(v));
  if (x.length === 0) throw new RangeError(`${fn}: values must hold at least one number (not NaN), got none`);
  const rng = new Rng(seed), n = x.length, sample = new Array<number>(n), out = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = x[rng.int(n)];
    out[r] = statistic(sample);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Percentile bootstrap interval of a statistic over trials (Efron & Tibshirani 1993, ch. 13): the (1 − level)/2 and
 * (1 + level)/2 quantiles (linear interpolation, as `quantile`) of the statistic over `resamples` resamples drawn with
 * replacement. Seeded with the project's `Rng`, so the interval is the same on every rerun, under Deno and Bun.
 * With few trials (5-10) the percentile interval is too narrow (it cannot reach beyond the sample's range): report
 * the trial count beside it.
 *
 * @example
 * ```ts
 * import { bootstrapInterval, median } from "./stats.ts";
 * bootstrapInterval([74000, 81000, 69000, 90000], { resamples: 2000, seed: 1 }); // mean 78,500 with lo, hi
 * bootstrapInterval([1, 2, 3, 4, 100], { statistic: median }); // the median's interval
 * ```
 */
export function bootstrapInterval(values: readonly number[], opts: BootstrapOptions = {}): Interval {
  const level = opts.level ?? 0.95;
  if (typeof level !== "number" || !(level > 0 && level < 1)) {
    throw new RangeError(`bootstrapInterval: level must be a number in (0, 1), got ${level}`);
  }
  const dist = bootstrapDistribution(values, opts);
  const statistic = opts.statistic ?? meanOf;
  return {
    estimate: statistic(values.filter((v) => !Number.isNaN(v))),
    lo: quantileSorted(dist, (1 - level) / 2),
    hi: quantileSorted(dist, (1 + level) / 2),
    level,
    resamples: dist.length,
  };
}

/** Success count over trials with its Wilson interval. */
export interface SuccessCount extends RateInterval {
  k: number;
  n: number;
}

/**
 * Successes among trials, with the Wilson score interval of the rate (`wilson`, 95% by default).
 *
 * @example
 * ```ts
 * import { successCount } from "./stats.ts";
 * successCount([true, true, false, true]); // { k: 3, n: 4, rate: 0.75, lo: 0.301, hi: 0.954 } (rounded)
 * ```
 */
export function successCount(outcomes: readonly boolean[], z = 1.96): SuccessCount {
  let k = 0;
  for (const o of outcomes) if (o) k++;
  return { k, n: outcomes.length, ...wilson(k, outcomes.length, z) };
}

/**
 * Which end of a checking window a success is dated at.
 *
 * - `"start"`: the window is a test run after training (frozen weights); the count is the training sequences before
 *   it. HS97 Exp 2a/2b/2c ("success after" with ABS(β) on 10,000 successive sequences; Table 11). Evidence in the
 *   paper itself: Table 2 reports the LSTM successful after 5,040 sequences at p = 100, fewer than its 10,000-sequence
 *   window, which a count including the window could not be.
 * - `"end"`: the window is part of training (a stopping rule on the training stream) and the count is the sequences
 *   processed when training stopped. HS97 ST3(β) (Exp 4, 6: "the 2000 most recent training sequences" correct) and
 *   Exp 5's n_seq rule (Tables 7-9 report sequences to stop).
 */
export type WindowDating = "start" | "end";

/**
 * How each HS97 experiment dates a success decided over a window of sequences (see `WindowDating` for the evidence).
 * Exp 1 and 3 test on separate sets, not over a window of training sequences; they are not listed.
 */
export const HS97_WINDOW_DATING: Readonly<Record<string, { window: number; dating: WindowDating }>> = {
  "2a": { window: 10000, dating: "start" },
  "2b": { window: 10000, dating: "start" },
  "2c": { window: 10000, dating: "start" },
  "4": { window: 2000, dating: "end" },
  "5": { window: 2000, dating: "end" },
  "6a": { window: 2000, dating: "end" },
  "6b": { window: 2000, dating: "end" },
};

/**
 * The date of a success decided over a window of `window` successive sequences, given `endSequences`, the number of
 * sequences seen when the window was complete (our runners' `sequencesToSuccess`): `endSequences − window` when
 * dated at the window's start, `endSequences` at its end. null stays null (no success).
 *
 * @example
 * ```ts
 * import { windowSuccessDate } from "./stats.ts";
 * windowSuccessDate(15040, 10000, "start"); // 5040: HS97 Exp 2a's way
 * windowSuccessDate(74000, 2000, "end"); // 74000: ST3's way
 * ```
 */
export function windowSuccessDate(endSequences: number | null, window: number, dating: WindowDating): number | null {
  const fn = "windowSuccessDate";
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`${fn}: window must be an integer >= 1, got ${window}`);
  }
  if (dating !== "start" && dating !== "end") {
    throw new RangeError(`${fn}: dating must be "start" or "end", got ${JSON.stringify(dating)}`);
  }
  if (endSequences === null) return null;
  if (!Number.isInteger(endSequences) || endSequences < window) {
    throw new RangeError(
      `${fn}: endSequences must be an integer >= window (${window}), the count when the window was complete; got ${endSequences}`,
    );
  }
  return dating === "start" ? endSequences - window : endSequences;
}

/**
 * The first run of `window` successive correct sequences in a per-sequence record (`correct[i]`: sequence i + 1 was
 * correct), dated by `dating`: the number of sequences before the run ("start") or at its last sequence ("end");
 * null if there is none.
 *
 * @example
 * ```ts
 * import { firstWindowSuccess } from "./stats.ts";
 * firstWindowSuccess([false, true, true, true], 3, "start"); // 1
 * firstWindowSuccess([false, true, true, true], 3, "end"); // 4
 * ```
 */
export function firstWindowSuccess(
  correct: ArrayLike<boolean | number>,
  window: number,
  dating: WindowDating,
): number | null {
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`firstWindowSuccess: window must be an integer >= 1, got ${window}`);
  }
  let run = 0;
  for (let i = 0; i < correct.length; i++) {
    run = correct[i] ? run + 1 : 0;
    if (run === window) return windowSuccessDate(i + 1, window, dating);
  }
  return null;
}

/** What a reproduction row reports over its trials. */
export interface TrialSummary {
  /** Trials run. */
  n: number;
  /** Successes and the Wilson interval of the success rate. */
  success: SuccessCount;
  /** Over the successful trials' sequences to success: the paper's statistic (mean), the median, and 95% bootstrap
   * intervals of each (NaN when no trial succeeded). */
  mean: number;
  median: number;
  meanInterval: Interval | null;
  medianInterval: Interval | null;
}

/**
 * The statistics of one reproduction row: `sequencesToSuccess[i]` is trial i's date of success, or null when it did
 * not succeed. Mean and median are over the successful trials only (as the papers' means are); the success count
 * says how many that is.
 *
 * @example
 * ```ts
 * import { trialSummary } from "./stats.ts";
 * const s = trialSummary([74000, null, 81000, 69000], { resamples: 1000 });
 * s.success.k; // 3
 * s.mean; // 74666.67 (rounded)
 * ```
 */
export function trialSummary(
  sequencesToSuccess: readonly (number | null)[],
  opts: Omit<BootstrapOptions, "statistic"> = {},
): TrialSummary {
  const ok = sequencesToSuccess.filter((v): v is number => v !== null && !Number.isNaN(v));
  const success = successCount(sequencesToSuccess.map((v) => v !== null && !Number.isNaN(v)));
  return {
    n: sequencesToSuccess.length,
    success,
    mean: meanOf(ok),
    median: median(ok),
    meanInterval: ok.length ? bootstrapInterval(ok, opts) : null,
    medianInterval: ok.length ? bootstrapInterval(ok, { ...opts, statistic: median }) : null,
  };
}
