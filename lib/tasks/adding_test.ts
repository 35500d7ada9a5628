// The two-channel adding problem, both variants, against their definitions.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../rng.ts";
import { adding } from "./adding.ts";

describe("adding (two-channel)", () => {
  it("arjovsky: length T, values in [0, 1), one marker in each half, target x1 + x2, read after the last step", () => {
    for (const T of [2, 7, 100]) {
      const task = adding.create({ T });
      assert.equal(task.readout, "last");
      const B = 300;
      const batch = task.batch(new Rng(T), B);
      assert.equal(batch.T, T);
      const half = Math.floor(T / 2);
      const seen = new Set<number>();
      for (let b = 0; b < B; b++) {
        const marks: number[] = [];
        for (let t = 0; t < T; t++) {
          const v = batch.x[(t * B + b) * 2], m = batch.x[(t * B + b) * 2 + 1];
          assert.ok(v >= 0 && v < 1 && (m === 0 || m === 1));
          if (m === 1) marks.push(t);
        }
        assert.equal(marks.length, 2);
        assert.ok(marks[0] < half && marks[1] >= half);
        marks.forEach((t) => seen.add(t));
        const sum = batch.x[(marks[0] * B + b) * 2] + batch.x[(marks[1] * B + b) * 2];
        assert.ok(Math.abs(batch.target[b] - sum) < 1e-6);
      }
      if (T <= 7) assert.equal(seen.size, T, "every position can be marked");
    }
  });

  it("pascanu: length T + U{0..⌊T/10⌋}, markers in [0, ⌊l/10⌋) and [⌊l/10⌋, ⌊l/2⌋), target (x1 + x2)/2", () => {
    const T = 40;
    const task = adding.create({ T, variant: "pascanu" });
    assert.equal(task.readout, "every");
    const B = 400;
    const batch = task.batch(new Rng(9), B);
    const lens = new Set<number>();
    for (let b = 0; b < B; b++) {
      const l = batch.lengths[b];
      lens.add(l);
      const marks: number[] = [];
      for (let t = 0; t < l; t++) if (batch.x[(t * B + b) * 2 + 1] === 1) marks.push(t);
      assert.equal(marks.length, 2);
      assert.ok(marks[0] < Math.floor(l / 10));
      assert.ok(marks[1] >= Math.floor(l / 10) && marks[1] < Math.floor(l / 2));
      const mean = (batch.x[(marks[0] * B + b) * 2] + batch.x[(marks[1] * B + b) * 2]) / 2;
      assert.ok(Math.abs(batch.target[(l - 1) * B + b] - mean) < 1e-6);
    }
    assert.deepEqual([...lens].sort(), [40, 41, 42, 43, 44]);
  });

  it("criterion: squared error < 0.04", () => {
    const task = adding.create({ T: 10 });
    const batch = task.batch(new Rng(1), 4);
    const y = Float32Array.from(batch.target, (t, b) => t + [0.19, -0.19, 0.21, -0.25][b]);
    assert.deepEqual(Array.from(task.correct(y, batch)), [1, 1, 0, 0]);
  });
});
