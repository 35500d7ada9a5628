/**
 * Pascanu et al.'s Ω: a value worked out by hand, their RNN.py formula transcribed in their row-vector layout, an
 * orthogonal linear Jacobian (Ω = 0), and the gradient against central finite differences with dC/dh and h constant.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type PascanuActivation, pascanuRegularizer } from "./pascanu_regularizer.ts";
import { orthogonal } from "../linalg.ts";
import { Rng } from "../rng.ts";

function randomCase(T: number, B: number, H: number, seed: number) {
  const rng = new Rng(seed);
  const dh = rng.fillNormal(new Float64Array(T * B * H));
  const h = rng.fillUniform(new Float64Array((T + 1) * B * H), -0.95, 0.95);
  const w = rng.fillNormal(new Float64Array(H * H), 0, 0.5);
  return { dh, h, w };
}

describe("pascanuRegularizer", () => {
  it("matches a value and gradient worked out by hand (T = 2, B = 2, H = 2, one step without error)", () => {
    // W_hh = [[1, 2], [0, 1]] (row j: weights into unit j). Step 1: row 0 has d = (1, 0), h_1 = (0, 0.5): δ = (1, 0),
    // a = δ W = (1, 2), num 5, den 1, term (5 − 1)² = 16. Row 1 has d = (0, 2), h_1 = (0.5, 0): δ = (0, 2), a = (0, 2),
    // num 4 = den, term 0. Step 2: d = 0 on both rows (den < bound): not counted. Ω = (16/2 + 0)/(1 + 0) = 8.
    // Gradient: only row 0 of step 1 has term ≠ 0: 2(5 − 1)/1 · 2 δᵀa / 2 = 8 · [[1, 2], [0, 0]].
    const dh = new Float64Array([1, 0, 0, 2, 0, 0, 0, 0]);
    const h = new Float64Array([0, 0, 0, 0, 0, 0.5, 0.5, 0, 0.3, -0.2, 0.1, 0.9]);
    const r = pascanuRegularizer(dh, h, new Float64Array([1, 2, 0, 1]), 2, 2, 2);
    assert.equal(r.value, 8);
    assert.equal(r.counted, 0.5);
    assert.deepEqual([...r.grad], [8, 16, 0, 0]);
  });

  it("equals RNN.py's formula transcribed in their row-vector layout (W_theirs = W_hhᵀ)", () => {
    const T = 5, B = 3, H = 4, { dh, h, w } = randomCase(T, B, H, 1);
    const wTheirs = new Float64Array(H * H); // wTheirs[i][j] = w[j][i]: h_k = tanh(h_{k-1}·wTheirs + …)
    for (let j = 0; j < H; j++) for (let i = 0; i < H; i++) wTheirs[i * H + j] = w[j * H + i];
    // tmp_x = (d_ht[1:] * (1 - ht**2)) . W_hh.T ; tmp_x = (tmp_x**2).sum(2); tmp_y = (d_ht[1:]**2).sum(2)
    // tmp_reg = (switch(tmp_y >= bound, tmp_x/tmp_y, 1) - 1)**2 ; n = mean(tmp_y >= bound, axis=1)
    // Omega = tmp_reg.mean(1).sum() / n.sum()
    let sumMean = 0, sumN = 0;
    for (let k = 0; k < T; k++) {
      let regSum = 0, nOk = 0;
      for (let b = 0; b < B; b++) {
        const d = dh.subarray((k * B + b) * H, (k * B + b + 1) * H), y = h.subarray(((k + 1) * B + b) * H);
        let x2 = 0, y2 = 0;
        for (let i = 0; i < H; i++) {
          let s = 0; // (δ · W_theirsᵀ)_i = Σ_j δ_j W_theirs[i][j]
          for (let j = 0; j < H; j++) s += d[j] * (1 - y[j] ** 2) * wTheirs[i * H + j];
          x2 += s * s;
          y2 += d[i] * d[i];
        }
        const ok = y2 >= 1e-20;
        regSum += ((ok ? x2 / y2 : 1) - 1) ** 2;
        nOk += ok ? 1 : 0;
      }
      sumMean += regSum / B;
      sumN += nOk / B;
    }
    const r = pascanuRegularizer(dh, h, w, T, B, H);
    assert.ok(Math.abs(r.value - sumMean / sumN) <= 1e-12 * Math.abs(r.value), `${r.value} vs ${sumMean / sumN}`);
  });

  it("is 0 with zero gradient for a linear RNN with an orthogonal W_hh (the Jacobian preserves every norm)", () => {
    const T = 3, B = 2, H = 6, { dh, h } = randomCase(T, B, H, 2);
    const r = pascanuRegularizer(dh, h, orthogonal(H, H, new Rng(3)), T, B, H, "linear");
    assert.ok(r.value < 1e-28, `${r.value}`);
    assert.ok(r.grad.every((g) => Math.abs(g) < 1e-13));
  });

  for (const act of ["tanh", "sigmoid", "linear"] as PascanuActivation[]) {
    it(`gradient matches central finite differences (${act}; dC/dh and h held constant)`, () => {
      const T = 4, B = 3, H = 5, { dh, h, w } = randomCase(T, B, H, 7);
      if (act === "sigmoid") { for (let i = 0; i < h.length; i++) h[i] = 0.5 + 0.5 * h[i]; // states in (0, 1)
       }
      dh.fill(0, 2 * B * H, 2 * B * H + H); // step 3, row 0: no error, masked out
      const r = pascanuRegularizer(dh, h, w, T, B, H, act);
      assert.ok(r.counted < 1 && r.value > 0);
      const eps = 1e-6;
      let maxErr = 0, maxG = 0;
      for (let p = 0; p < H * H; p++) {
        const wp = w.slice(), wm = w.slice();
        wp[p] += eps;
        wm[p] -= eps;
        const fd = (pascanuRegularizer(dh, h, wp, T, B, H, act).value -
          pascanuRegularizer(dh, h, wm, T, B, H, act).value) / (2 * eps);
        maxErr = Math.max(maxErr, Math.abs(fd - r.grad[p]));
        maxG = Math.max(maxG, Math.abs(r.grad[p]));
      }
      assert.ok(maxG > 1e-3, "a non-trivial gradient");
      assert.ok(maxErr <= 1e-6 * Math.max(1, maxG), `max |fd − grad| = ${maxErr} (max |grad| ${maxG})`);
    });
  }

  it("excludes rows with ‖dC/dh‖² below the bound, gives 0 when none is counted, and names bad input", () => {
    const r = pascanuRegularizer(new Float64Array([1e-11]), new Float64Array([0, 0]), new Float64Array([3]), 1, 1, 1);
    assert.deepEqual([r.value, r.counted, r.grad[0]], [0, 0, 0]); // den 1e-22 < 1e-20
    assert.throws(
      () => pascanuRegularizer(new Float64Array(3), new Float64Array(4), new Float64Array(1), 1, 2, 1),
      /dh must have T·B·H = 2 entries, got 3/,
    );
    assert.throws(
      () => pascanuRegularizer(new Float64Array(2), new Float64Array(2), new Float64Array(1), 1, 2, 1),
      /h must have \(T\+1\)·B·H = 4 entries/,
    );
    assert.throws(() => pascanuRegularizer([], [], [], 0, 1, 1), /T must be an integer >= 1, got 0/);
  });
});
