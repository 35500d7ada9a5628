// The latch / two-sequence problem against its definition.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../rng.ts";
import { latch } from "./latch.ts";

describe("latch (BSF94, HS97 Exp 3a)", () => {
  it("first N values all +1 (target 1) or all -1 (target 0), then noise N(0, 0.2); lengths in [T, 1.1T]", () => {
    const T = 50, N = 3, n = 2000;
    const task = latch.create({ T, N });
    const batch = task.batch(new Rng(1), n);
    let ones = 0, s1 = 0, s2 = 0, m = 0;
    const lens = new Set<number>();
    for (let b = 0; b < n; b++) {
      const L = batch.lengths[b];
      lens.add(L);
      const cls = batch.target[(L - 1) * n + b];
      assert.ok(cls === 0 || cls === 1);
      ones += cls;
      for (let t = 0; t < N; t++) assert.equal(batch.x[t * n + b], cls === 1 ? 1 : -1);
      for (let t = N; t < L; t++) {
        const v = batch.x[t * n + b];
        s1 += v;
        s2 += v * v;
        m++;
      }
    }
    assert.deepEqual([...lens].sort((a, b) => a - b), [50, 51, 52, 53, 54, 55]);
    assert.ok(Math.abs(ones / n - 0.5) < 4 * Math.sqrt(0.25 / n));
    const mean = s1 / m, variance = s2 / m - mean * mean;
    assert.ok(Math.abs(mean) < 4 * Math.sqrt(0.2 / m));
    assert.ok(Math.abs(variance - 0.2) < 4 * 0.2 * Math.sqrt(2 / m), `noise variance ${variance}`);
  });

  it("criterion: |σ(logit) - target| < 0.2", () => {
    const task = latch.create({ T: 5, N: 1 });
    const batch = task.batch(new Rng(2), 4);
    const y = new Float32Array(batch.T * 4);
    const logit = (p: number) => Math.log(p / (1 - p));
    [0.19, 0.21, 0.1, 0.5].forEach((err, b) => { // |σ(y) - target| = err
      const r = (batch.lengths[b] - 1) * 4 + b;
      y[r] = batch.target[r] === 1 ? logit(1 - err) : logit(err);
    });
    assert.deepEqual(Array.from(task.correct(y, batch)), [1, 0, 1, 0]);
  });
});
