// The noise-free long time lag problems (HS97 Exp 2a/2b) and the very long lag with distractors (Exp 2c).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lossAndGradient } from "../nn/loss.ts";
import { Rng } from "../rng.ts";
import { longLag } from "./long_lag.ts";
import { LONG_LAG_DISTRACTORS_MAX_K, longLagDistractors } from "./long_lag_distractors.ts";
import type { TaskBatch } from "./task.ts";

function symbols(batch: TaskBatch, b: number, I: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < batch.lengths[b]; t++) {
    const row = Array.from((batch.x as Float32Array).slice((t * batch.B + b) * I, (t * batch.B + b + 1) * I));
    assert.equal(row.reduce((a, v) => a + v, 0), 1, "one-hot");
    out.push(row.indexOf(1));
  }
  return out;
}

describe("long-lag (HS97 Exp 2a/2b)", () => {
  it("2a: the two sequences (y, a1 … a_{p-1}, y) and (x, a1 … a_{p-1}, x), each half the time; next-symbol targets", () => {
    const p = 10, n = 800;
    const task = longLag.create({ p });
    const batch = task.batch(new Rng(1), n);
    assert.equal(batch.T, p + 1);
    let ys = 0;
    for (let b = 0; b < n; b++) {
      const s = symbols(batch, b, p + 1);
      assert.ok(s[0] === p - 1 || s[0] === p);
      if (s[0] === p) ys++;
      assert.deepEqual(s.slice(1, p), Array.from({ length: p - 1 }, (_, i) => i));
      assert.equal(s[p], s[0]);
      for (let t = 0; t < p; t++) assert.equal(batch.target[t * n + b], s[t + 1]);
    }
    assert.ok(Math.abs(ys / n - 0.5) < 4 * Math.sqrt(0.25 / n));
  });

  it("2b: random middle symbols from a1 … a_{p-1}; only the last prediction is judged", () => {
    const p = 6, n = 400;
    const task = longLag.create({ p, variant: "2b" });
    const batch = task.batch(new Rng(2), n);
    const middle = new Set<string>();
    for (let b = 0; b < n; b++) {
      const s = symbols(batch, b, p + 1);
      for (let t = 1; t < p; t++) assert.ok(s[t] >= 0 && s[t] < p - 1);
      assert.equal(s[p], s[0]);
      middle.add(s.slice(1, p).join());
    }
    assert.ok(middle.size > n / 2, "the middle varies");
    // Right about the last symbol, wrong everywhere else: correct in 2b.
    const y = new Float32Array(batch.T * n * (p + 1));
    for (let b = 0; b < n; b++) {
      for (let t = 0; t < p; t++) {
        const r = t * n + b;
        y[r * (p + 1) + (t === p - 1 ? batch.target[r] : (batch.target[r] + 1) % (p - 1))] = 20;
      }
    }
    assert.ok(task.correct(y, batch).every((v) => v === 1));
    assert.ok(longLag.create({ p }).correct(y, batch).every((v) => v === 0), "2a judges every step");
  });

  it("criterion: max |p - onehot| < 0.25 (p(next) > 0.75 with the rest spread)", () => {
    const p = 3;
    const task = longLag.create({ p });
    const batch = task.batch(new Rng(3), 2);
    const O = p + 1, y = new Float32Array(batch.T * 2 * O);
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < p; t++) {
        const r = t * 2 + b;
        y[r * O + batch.target[r]] = Math.log((b === 0 ? 0.76 : 0.74) * (O - 1) / (1 - (b === 0 ? 0.76 : 0.74)));
      }
    }
    assert.deepEqual(Array.from(task.correct(y, batch)), [1, 0]);
  });

  it("baseline: ln 2 / p (2a) and ((p - 1) ln(p - 1) + ln 2) / p (2b), exactly, for the default p = 100", () => {
    for (const variant of ["2a", "2b"]) {
      const task = longLag.create({ variant });
      const batch = task.batch(new Rng(4), 3);
      const L = lossAndGradient(
        "cross-entropy",
        batch.T * 3,
        101,
        task.baseline.outputs(batch),
        batch.target,
        batch.mask!,
        null,
      );
      const want = variant === "2a" ? Math.log(2) / 100 : (99 * Math.log(99) + Math.log(2)) / 100;
      assert.ok(Math.abs(L - want) < 1e-12 * want && Math.abs(task.baseline.loss - want) < 1e-12 * want);
      assert.ok(task.correct(task.baseline.outputs(batch), batch).every((v) => v === 0));
    }
  });
});

describe("long-lag-distractors (HS97 Exp 2c)", () => {
  it("(b, x|y, q + k distractors, e, x|y): minimal length q + 4, mean length q + 14, lag ≥ q + 1", () => {
    const q = 5, p = 4, I = p + 4, n = 6000;
    const task = longLagDistractors.create({ q, p });
    const batch = task.batch(new Rng(5), n);
    let sum = 0, sumSq = 0, min = Infinity, ys = 0;
    for (let b = 0; b < n; b++) {
      const L = batch.lengths[b];
      const s = symbols(batch, b, I);
      assert.equal(s[0], p + 1, "b first");
      assert.ok(s[1] === p + 2 || s[1] === p + 3, "x or y second");
      for (let t = 2; t < L - 2; t++) assert.ok(s[t] < p, "distractors");
      assert.equal(s[L - 2], p, "trigger e");
      assert.equal(s[L - 1], s[1], "the final symbol repeats the second");
      assert.equal(batch.target[(L - 2) * n + b], s[1] - (p + 2));
      ys += s[1] - (p + 2);
      assert.ok(L - 3 >= q + 1, "lag from s to e");
      assert.ok(L <= q + 4 + LONG_LAG_DISTRACTORS_MAX_K);
      sum += L;
      sumSq += L * L;
      min = Math.min(min, L);
    }
    const mean = sum / n, se = Math.sqrt((sumSq / n - mean * mean) / n);
    assert.equal(min, q + 4);
    assert.ok(Math.abs(mean - (q + 14)) < 4 * se, `mean length ${mean} vs ${q + 14} ± ${4 * se}`);
    assert.ok(Math.abs(ys / n - 0.5) < 4 * Math.sqrt(0.25 / n));
  });

  it("criterion: both outputs within 0.2 of the target (p(target) > 0.8)", () => {
    const task = longLagDistractors.create({ q: 3, p: 2 });
    const batch = task.batch(new Rng(6), 2);
    const y = new Float32Array(batch.T * 2 * 2);
    for (let b = 0; b < 2; b++) {
      const r = (batch.lengths[b] - 2) * 2 + b, q = b === 0 ? 0.81 : 0.79;
      y[r * 2 + batch.target[r]] = Math.log(q / (1 - q));
    }
    assert.deepEqual(Array.from(task.correct(y, batch)), [1, 0]);
  });
});
