// The 1997 adding and multiplication generators against the paper's definition: lengths, marker placement and
// values, targets, the first-pair rule, and the derived baselines checked on many sequences.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../rng.ts";
import { adding1997, drawHs97Marks, hs97FirstPairMarkedProbability } from "./adding_1997.ts";
import { multiplication, multiplicationBaseline } from "./multiplication.ts";
import type { TaskBatch } from "./task.ts";

interface Seq {
  L: number;
  values: number[];
  markers: number[];
  target: number;
}

function sequences(batch: TaskBatch): Seq[] {
  const { B, x, lengths, target } = batch;
  const out: Seq[] = [];
  for (let b = 0; b < B; b++) {
    const L = lengths[b];
    const values: number[] = [], markers: number[] = [];
    for (let t = 0; t < L; t++) {
      values.push(x[(t * B + b) * 2]);
      markers.push(x[(t * B + b) * 2 + 1]);
    }
    out.push({ L, values, markers, target: target[(L - 1) * B + b] });
  }
  return out;
}

/** Checks the marker rules of HS97 Exp 4/5 for one sequence; returns the positions marked 1. */
function checkMarkers(s: Seq, T: number): number[] {
  const M = Math.floor(T / 2) - 1;
  assert.equal(s.markers[0], -1, "first pair marker -1");
  assert.equal(s.markers[s.L - 1], -1, "last pair marker -1");
  const marked: number[] = [];
  for (let t = 0; t < s.L; t++) {
    assert.ok([1, 0, -1].includes(s.markers[t]));
    if (t > 0 && t < s.L - 1) assert.notEqual(s.markers[t], -1);
    if (s.markers[t] === 1) marked.push(t);
  }
  assert.ok(marked.length === 1 || marked.length === 2, `two marks, one hidden when on the first pair: ${marked}`);
  for (const t of marked) assert.ok(t < Math.max(10, M), `mark at ${t}`);
  if (marked.length === 2) assert.ok(marked[0] < 10, "X1 among the first 10 pairs");
  return marked;
}

describe("HS97 marker placement", () => {
  it("i1 among the first 10, i2 among the first ⌊T/2⌋ - 1 other than i1, lengths in [T, T + ⌊T/10⌋]", () => {
    for (const T of [11, 12, 21, 22, 100, 1000]) {
      const rng = new Rng(T);
      const M = Math.floor(T / 2) - 1;
      let firstMarked = 0, minL = Infinity, maxL = -Infinity;
      const n = 20000;
      for (let i = 0; i < n; i++) {
        const { length, i1, i2 } = drawHs97Marks(rng, T);
        assert.ok(i1 >= 0 && i1 < 10 && i2 >= 0 && i2 < M && i1 !== i2);
        minL = Math.min(minL, length);
        maxL = Math.max(maxL, length);
        if (i1 === 0 || i2 === 0) firstMarked++;
      }
      assert.equal(minL, T);
      assert.equal(maxL, T + Math.floor(T / 10));
      const p0 = hs97FirstPairMarkedProbability(T);
      assert.ok(
        Math.abs(firstMarked / n - p0) < 4 * Math.sqrt(p0 * (1 - p0) / n),
        `T=${T}: ${firstMarked / n} vs ${p0}`,
      );
    }
  });

  it("P(a mark on the first pair) = 0.1 + 0.9/(⌊T/2⌋ - 2) for T ≥ 22; 0.35 for T = 11", () => {
    assert.ok(Math.abs(hs97FirstPairMarkedProbability(100) - (0.1 + 0.9 / 48)) < 1e-15);
    assert.ok(Math.abs(hs97FirstPairMarkedProbability(1000) - (0.1 + 0.9 / 498)) < 1e-15);
    // T = 11: X2 among pairs 0-3; for i1 in 1-3 three candidates, for i1 in 4-9 four.
    assert.ok(Math.abs(hs97FirstPairMarkedProbability(11) - (0.1 + 0.1 * (3 / 3 + 6 / 4))) < 1e-15);
  });
});

describe("adding-1997", () => {
  it("inputs, markers and target 0.5 + (X1 + X2)/4 as the paper defines them", () => {
    for (const T of [11, 100]) {
      const task = adding1997.create({ T });
      const batch = task.batch(new Rng(1), 400);
      let single = 0;
      for (const s of sequences(batch)) {
        assert.ok(s.L >= T && s.L <= T + Math.floor(T / 10));
        for (const v of s.values) assert.ok(v >= -1 && v < 1);
        const marked = checkMarkers(s, T);
        if (marked.length === 1) single++;
        const sum = marked.reduce((a, t) => a + s.values[t], 0);
        assert.ok(Math.abs(s.target - (0.5 + sum / 4)) < 1e-6);
      }
      assert.ok(single > 0, "the first-pair case occurs");
    }
  });

  it("criterion: |error| < 0.04 at the last step", () => {
    const task = adding1997.create({ T: 20 });
    const batch = task.batch(new Rng(2), 3);
    const y = new Float32Array(batch.T * batch.B);
    const rowsOf = Array.from(batch.lengths, (L, b) => (L - 1) * batch.B + b);
    rowsOf.forEach((r, b) => (y[r] = batch.target[r] + [0.035, -0.035, 0.045][b]));
    assert.deepEqual(Array.from(task.correct(y, batch)), [1, 1, 0]);
  });

  it("baseline 0.5 on 40,000 sequences: MSE and accuracy as derived (the published 1/24 and ≈15% are approximate)", () => {
    const task = adding1997.create({ T: 100 });
    let se = 0, se2 = 0, ok = 0, n = 0;
    const rng = new Rng(3);
    for (let i = 0; i < 40; i++) {
      const batch = task.batch(rng, 1000);
      const c = task.correct(task.baseline.outputs(batch), batch);
      for (let b = 0; b < batch.B; b++) {
        const r = (batch.lengths[b] - 1) * batch.B + b;
        const e = (batch.target[r] - 0.5) * (batch.target[r] - 0.5);
        se += e;
        se2 += e * e;
        ok += c[b];
        n++;
      }
    }
    const mse = se / n, sdErr = Math.sqrt((se2 / n - mse * mse) / n);
    assert.ok(Math.abs(mse - task.baseline.loss) < 4 * sdErr, `${mse} vs ${task.baseline.loss} ± ${4 * sdErr}`);
    assert.ok(Math.abs(mse - 1 / 24) > 4 * sdErr, "distinguishable from 1/24: the first-pair case lowers it");
    const a = task.baseline.accuracy!;
    assert.ok(Math.abs(ok / n - a) < 4 * Math.sqrt(a * (1 - a) / n));
  });
});

describe("multiplication", () => {
  it("values in [0, 1), markers as in adding-1997, target X1·X2 with a first-pair mark counting 1", () => {
    const T = 30;
    const task = multiplication.create({ T });
    const batch = task.batch(new Rng(4), 400);
    for (const s of sequences(batch)) {
      for (const v of s.values) assert.ok(v >= 0 && v < 1);
      const marked = checkMarkers(s, T);
      const product = marked.reduce((a, t) => a * s.values[t], 1);
      assert.ok(Math.abs(s.target - product) < 1e-6);
    }
  });

  it("baseline: the target's mean and variance (not 7/144 ≈ 0.0486, which ignores the first-pair case)", () => {
    const T = 11;
    const task = multiplication.create({ T });
    const { mean, mse, accuracy } = multiplicationBaseline(T);
    let s1 = 0, s2 = 0, ok = 0, n = 0;
    const rng = new Rng(5);
    for (let i = 0; i < 40; i++) {
      const batch = task.batch(rng, 1000);
      const c = task.correct(task.baseline.outputs(batch), batch);
      for (let b = 0; b < batch.B; b++) {
        const v = batch.target[(batch.lengths[b] - 1) * batch.B + b];
        s1 += v;
        s2 += v * v;
        ok += c[b];
        n++;
      }
    }
    const m = s1 / n, variance = s2 / n - m * m;
    assert.ok(Math.abs(m - mean) < 4 * Math.sqrt(variance / n), `mean ${m} vs ${mean}`);
    assert.ok(Math.abs(variance - mse) < 0.002, `variance ${variance} vs ${mse}`);
    assert.ok(Math.abs(ok / n - accuracy) < 4 * Math.sqrt(accuracy * (1 - accuracy) / n), `${ok / n} vs ${accuracy}`);
    // Without the first-pair case the variance would be 1/9 - 1/16 = 7/144.
    assert.ok(Math.abs(1 / 9 - 1 / 16 - 7 / 144) < 1e-15);
    assert.ok(multiplicationBaseline(100).mse > 7 / 144 + 0.01);
  });
});
