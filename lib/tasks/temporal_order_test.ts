// The temporal order problems (HS97 Exp 6a/6b and Pascanu et al.'s variant) against their definitions.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../rng.ts";
import type { TaskBatch } from "./task.ts";
import { TEMPORAL_ORDER_POSITIONS, TEMPORAL_ORDER_SYMBOLS, temporalOrder } from "./temporal_order.ts";
import { temporalOrderPascanu } from "./temporal_order_pascanu.ts";

/** The symbol index at each valid step of sequence b (asserting one-hot inputs there). */
function symbols(batch: TaskBatch, b: number, I: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < batch.lengths[b]; t++) {
    let hot = -1, sum = 0;
    for (let i = 0; i < I; i++) {
      const v = batch.x[(t * batch.B + b) * I + i];
      assert.ok(v === 0 || v === 1);
      sum += v;
      if (v === 1) hot = i;
    }
    assert.equal(sum, 1, "one-hot");
    out.push(hot);
  }
  return out;
}

/** Asserts every class frequency is within 4 standard errors of 1/K. */
function balanced(counts: number[], n: number): void {
  const p = 1 / counts.length, tol = 4 * Math.sqrt(p * (1 - p) / n);
  for (const c of counts) assert.ok(Math.abs(c / n - p) < tol, `class frequencies ${counts}`);
}

/** Logits giving probability p to class `cls` and equal shares to the other K - 1. */
function logitsWith(p: number, cls: number, K: number): number[] {
  const y = new Array(K).fill(0);
  y[cls] = Math.log(p * (K - 1) / (1 - p));
  return y;
}

describe("temporal-order (HS97 Exp 6)", () => {
  for (const variant of ["6a", "6b"] as const) {
    it(`${variant}: E first, B last, fillers a-d, X/Y at the paper's positions, class from their order`, () => {
      const task = temporalOrder.create({ variant });
      const positions = TEMPORAL_ORDER_POSITIONS[variant];
      const K = 1 << positions.length;
      assert.equal(task.outputSize, K);
      const { E, B: TRIGGER, X, Y } = TEMPORAL_ORDER_SYMBOLS;
      const n = 1600;
      const batch = task.batch(new Rng(6), n);
      const counts = new Array(K).fill(0), lens = new Set<number>();
      for (let b = 0; b < n; b++) {
        const L = batch.lengths[b];
        lens.add(L);
        const s = symbols(batch, b, 8);
        assert.equal(s[0], E);
        assert.equal(s[L - 1], TRIGGER);
        const xy: [number, number][] = [];
        for (let t = 1; t < L - 1; t++) {
          if (s[t] === X || s[t] === Y) xy.push([t, s[t] - X]);
          else assert.ok(s[t] >= 4 && s[t] <= 7, "filler from a-d");
        }
        assert.equal(xy.length, positions.length);
        xy.forEach(([t], i) => assert.ok(t >= positions[i][0] && t <= positions[i][1]));
        const cls = xy.reduce((a, [, bit]) => 2 * a + bit, 0);
        assert.equal(batch.target[(L - 1) * n + b], cls);
        counts[cls]++;
      }
      assert.deepEqual([...lens].sort((a, b) => a - b), Array.from({ length: 11 }, (_, i) => 100 + i));
      balanced(counts, n);
    });
  }

  it("criterion: every class probability within 0.3 of the one-hot target (p(true) > 0.7)", () => {
    const task = temporalOrder.create();
    const batch = task.batch(new Rng(7), 2);
    const y = new Float32Array(batch.T * 2 * 4);
    for (let b = 0; b < 2; b++) {
      const r = (batch.lengths[b] - 1) * 2 + b;
      y.set(logitsWith(b === 0 ? 0.72 : 0.68, batch.target[r], 4), r * 4);
    }
    assert.deepEqual(Array.from(task.correct(y, batch)), [1, 0]);
  });
});

describe("temporal-order-pascanu", () => {
  it("length T, one A/B in [⌊T/10⌋, 2⌊T/10⌋) and one in [⌊T/2⌋, ⌊T/2⌋ + ⌊T/10⌋), fillers 2-5, class v0 + 2 v1", () => {
    for (const T of [10, 100]) {
      const task = temporalOrderPascanu.create({ T });
      const n = 1600;
      const batch = task.batch(new Rng(T), n);
      const tenth = Math.floor(T / 10), half = Math.floor(T / 2);
      const counts = [0, 0, 0, 0];
      for (let b = 0; b < n; b++) {
        assert.equal(batch.lengths[b], T);
        const s = symbols(batch, b, 6);
        const ab = s.flatMap((v, t) => (v < 2 ? [[t, v]] : []));
        assert.equal(ab.length, 2);
        assert.ok(ab[0][0] >= tenth && ab[0][0] < 2 * tenth);
        assert.ok(ab[1][0] >= half && ab[1][0] < half + tenth);
        assert.equal(batch.target[b], ab[0][1] + 2 * ab[1][1]);
        counts[batch.target[b]]++;
      }
      balanced(counts, n);
    }
  });

  it("criterion: argmax, ties to the lowest class", () => {
    const task = temporalOrderPascanu.create({ T: 10 });
    const batch = { ...task.batch(new Rng(1), 3), target: new Int32Array([2, 0, 1]) };
    const y = new Float32Array([0, 0, 1, 0.5, 0, 0, 0, 0, 3, 3, 1, 0]);
    assert.deepEqual(Array.from(task.correct(y, batch)), [1, 1, 0]);
  });
});
