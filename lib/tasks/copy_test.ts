// The copy memory problem against its definition, and its memoryless baseline.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lossAndGradient } from "../nn/loss.ts";
import { Rng } from "../rng.ts";
import { copy } from "./copy.ts";

describe("copy (ASB16)", () => {
  it("10 tokens from a0-a7, T - 1 blanks, the delimiter, 10 blanks; target T + 10 blanks then the tokens", () => {
    for (const T of [1, 5, 100]) {
      const task = copy.create({ T });
      const B = 50, L = T + 20;
      const batch = task.batch(new Rng(T), B);
      assert.equal(batch.T, L);
      for (let b = 0; b < B; b++) {
        const s: number[] = [];
        for (let t = 0; t < L; t++) {
          const row = Array.from((batch.x as Float32Array).slice((t * B + b) * 10, (t * B + b + 1) * 10));
          assert.equal(row.reduce((a, v) => a + v, 0), 1);
          s.push(row.indexOf(1));
        }
        const tokens = s.slice(0, 10);
        assert.ok(tokens.every((v) => v < 8));
        assert.deepEqual(s.slice(10), [...new Array(T - 1).fill(8), 9, ...new Array(10).fill(8)]);
        const target = Array.from({ length: L }, (_, t) => batch.target[t * B + b]);
        assert.deepEqual(target, [...new Array(T + 10).fill(8), ...tokens]);
      }
    }
  });

  it("the memoryless baseline's cross-entropy is exactly 10 ln 8 / (T + 20)", () => {
    for (const T of [1, 100, 300]) {
      const task = copy.create({ T });
      const batch = task.batch(new Rng(1), 4);
      const y = task.baseline.outputs(batch);
      const L = lossAndGradient("cross-entropy", batch.T * 4, 10, y, batch.target, null, null);
      const want = 10 * Math.log(8) / (T + 20);
      assert.ok(Math.abs(L - want) < 1e-14 && Math.abs(task.baseline.loss - want) < 1e-15);
    }
  });

  it("criterion: all 10 tokens recalled (argmax); one wrong token fails the sequence", () => {
    const task = copy.create({ T: 3 });
    const batch = task.batch(new Rng(2), 2);
    const y = new Float32Array(batch.T * 2 * 10);
    for (let r = 0; r < batch.T * 2; r++) y[r * 10 + batch.target[r]] = 1;
    assert.deepEqual(Array.from(task.correct(y, batch)), [1, 1]);
    const r = (batch.T - 1) * 2 + 1; // last token of sequence 1
    y[r * 10 + (batch.target[r] + 1) % 8] = 2;
    assert.deepEqual(Array.from(task.correct(y, batch)), [1, 0]);
  });
});
