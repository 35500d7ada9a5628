/**
 * Statistics over trials: the mean, the bootstrap interval (constant sample, the exact bootstrap distribution of a
 * 3-point sample, determinism), Wilson intervals against Newcombe's published table, and the dating of a success
 * checked over a window of sequences (HS97's two rules).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  bootstrapDistribution,
  bootstrapInterval,
  firstWindowSuccess,
  HS97_WINDOW_DATING,
  meanOf,
  median,
  successCount,
  trialSummary,
  wilson,
  windowSuccessDate,
} from "./stats.ts";

describe("meanOf", () => {
  it("is the arithmetic mean, NaN dropped, NaN for none", () => {
    assert.equal(meanOf([1, 2, 6]), 3);
    assert.equal(meanOf([1, NaN, 3]), 2);
    assert.ok(Number.isNaN(meanOf([])));
  });
});

describe("bootstrapInterval", () => {
  it("of a constant sample is the constant, for the mean and the median", () => {
    for (const statistic of [meanOf, median]) {
      const r = bootstrapInterval([7, 7, 7, 7, 7], { statistic, resamples: 500, seed: 3 });
      assert.deepEqual([r.estimate, r.lo, r.hi, r.resamples, r.level], [7, 7, 7, 500, 0.95]);
    }
  });

  it("draws the exact bootstrap distribution of the mean of [1, 2, 3] (27 equally likely resamples)", () => {
    // The 3^3 resamples of (1, 2, 3) have sums 3..9 with counts 1, 3, 6, 7, 6, 3, 1 (the coefficients of
    // (x + x² + x³)³). Their mean's CDF at each value, against the frequencies of 40,000 seeded resamples.
    const counts = [1, 3, 6, 7, 6, 3, 1], B = 40000;
    const dist = bootstrapDistribution([1, 2, 3], { resamples: B, seed: 11 });
    let cum = 0;
    for (let s = 3; s <= 9; s++) {
      cum += counts[s - 3];
      const exact = cum / 27, observed = dist.filter((m) => m <= s / 3 + 1e-12).length / B;
      // binomial standard error ≤ 0.0025 at B = 40,000: 0.01 is four of them
      assert.ok(Math.abs(observed - exact) < 0.01, `P(mean ≤ ${s}/3): ${observed} vs exact ${exact}`);
    }
  });

  it("gives the exact distribution's percentiles on a two-point sample", () => {
    // Resample means of [0, 1] (n = 2): 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4. Level 0.4: the 30% and 70%
    // quantiles both fall among the 0.5s; level 0.95: the 2.5% and 97.5% quantiles are 0 and 1.
    const narrow = bootstrapInterval([0, 1], { resamples: 20000, level: 0.4, seed: 5 });
    assert.deepEqual([narrow.estimate, narrow.lo, narrow.hi], [0.5, 0.5, 0.5]);
    const wide = bootstrapInterval([0, 1], { resamples: 20000, seed: 5 });
    assert.deepEqual([wide.lo, wide.hi], [0, 1]);
  });

  it("is deterministic: the same seed gives the same bits, another seed other resamples", () => {
    const x = [74000, 81000, 69000, 90000, 120000, 65000];
    const a = bootstrapInterval(x, { resamples: 2000, seed: 1 });
    assert.deepEqual(bootstrapInterval(x, { resamples: 2000, seed: 1 }), a);
    assert.notDeepEqual(
      bootstrapDistribution(x, { resamples: 2000, seed: 2 }),
      bootstrapDistribution(x, {
        resamples: 2000,
        seed: 1,
      }),
    );
    assert.ok(a.lo < a.estimate && a.estimate < a.hi && a.lo >= 65000 && a.hi <= 120000);
  });

  it("gives the same bits under Deno and Bun (golden values: a change of the Rng stream or quantile rule shows here)", () => {
    const x = [74000, 81000, 69000, 90000, 120000, 65000, 30000];
    const m = bootstrapInterval(x, { resamples: 1000, seed: 42 });
    assert.deepEqual([m.estimate, m.lo, m.hi], [75571.42857142857, 56428.57142857143, 94292.85714285714]);
    const md = bootstrapInterval(x, { resamples: 1000, seed: 42, statistic: median });
    assert.deepEqual([md.estimate, md.lo, md.hi], [74000, 65000, 90000]);
  });

  it("rejects bad input with the field's name", () => {
    assert.throws(() => bootstrapInterval([1, 2], { resamples: 0 }), /resamples must be an integer >= 1, got 0/);
    assert.throws(() => bootstrapInterval([1, 2], { level: 1 }), /level must be a number in \(0, 1\), got 1/);
    assert.throws(() => bootstrapInterval([NaN]), /values must hold at least one number/);
  });
});

describe("wilson / successCount", () => {
  it("matches Newcombe (1998), Statistics in Medicine 17:857-872, Table II, score method", () => {
    // (k, n, lower, upper) to 4 decimals as published
    const table: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [k, n, lo, hi] of table) {
      const w = wilson(k, n, 1.959964);
      assert.equal(Math.round(w.lo * 1e4) / 1e4, lo, `${k}/${n} lower`);
      assert.equal(Math.round(w.hi * 1e4) / 1e4, hi, `${k}/${n} upper`);
    }
  });

  it("counts successes and attaches the interval", () => {
    const s = successCount([true, true, false, true]);
    assert.deepEqual([s.k, s.n, s.rate], [3, 4, 0.75]);
    assert.deepEqual([s.lo, s.hi], [wilson(3, 4).lo, wilson(3, 4).hi]);
  });
});

describe("dating a success checked over a window", () => {
  it("HS97 2a is dated at the window's start: 5,040 sequences is below its 10,000-sequence window", () => {
    const rule = HS97_WINDOW_DATING["2a"];
    assert.deepEqual(rule, { window: 10000, dating: "start" });
    assert.equal(windowSuccessDate(15040, rule.window, rule.dating), 5040);
    assert.equal(windowSuccessDate(74000, 2000, HS97_WINDOW_DATING["4"].dating), 74000); // ST3: at the end
    assert.equal(windowSuccessDate(null, 2000, "end"), null);
  });

  it("finds the first run of N correct sequences and dates it either way", () => {
    const c = [1, 0, 1, 1, 0, 1, 1, 1, 1, 0];
    assert.equal(firstWindowSuccess(c, 3, "start"), 5); // sequences 6, 7, 8 (1-based): 5 before the run
    assert.equal(firstWindowSuccess(c, 3, "end"), 8);
    assert.equal(firstWindowSuccess(c, 5, "end"), null);
    assert.equal(firstWindowSuccess([true, true], 2, "start"), 0);
  });

  it("rejects a count smaller than its window, and bad rules", () => {
    assert.throws(() => windowSuccessDate(5040, 10000, "start"), /endSequences must be an integer >= window/);
    assert.throws(() => windowSuccessDate(100, 0, "end"), /window must be an integer >= 1, got 0/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => windowSuccessDate(100, 10, "middle" as any), /dating must be "start" or "end"/);
  });
});

describe("trialSummary", () => {
  it("reports the mean and median over successes, the count over all trials", () => {
    const s = trialSummary([74000, null, 81000, 69000, null], { resamples: 1000, seed: 4 });
    assert.equal(s.n, 5);
    assert.deepEqual([s.success.k, s.success.n], [3, 5]);
    assert.equal(s.mean, (74000 + 81000 + 69000) / 3);
    assert.equal(s.median, 74000);
    assert.ok(s.meanInterval !== null && s.meanInterval.lo >= 69000 && s.meanInterval.hi <= 81000);
    assert.ok(s.medianInterval !== null && s.medianInterval.estimate === 74000);
    const none = trialSummary([null, null]);
    assert.ok(Number.isNaN(none.mean) && none.meanInterval === null && none.success.k === 0);
  });
});
