// A new cell type is one definition in nn/ (forward beside backward, registered in cells.ts): here a toy gated cell,
// h_t = tanh(a) · σ(b) with (a, b) = W_ih x_t + W_hh h_{t−1} + biases, runs through the model and the reference time
// loops unchanged, its gradients match finite differences (float64), train() trains it, and the fast kernels refuse
// it with a clear error instead of running another cell's equations.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../rng.ts";
import { cellDefinition, cellNames, registerCell } from "./cells.ts";
import { lossAndGradient } from "./loss.ts";
import { Model } from "./model.ts";
import { Adam } from "../optim/adam.ts";
import { train } from "../train.ts";
import { cpuModel } from "../backend/cpu/model.ts";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

registerCell({
  name: "toy-gated",
  gates: 2,
  cellState: false,
  // gates row (2H): a then b; leaves tanh(a), σ(b) there for backward
  forward(B, H, g, _hPrev, _cPrev, h) {
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < H; j++) {
        const r = b * 2 * H, ta = Math.tanh(g[r + j]), sb = sigmoid(g[r + H + j]);
        g[r + j] = ta;
        g[r + H + j] = sb;
        h[b * H + j] = ta * sb;
      }
    }
  },
  backward(B, H, g, _hPrev, _cPrev, _h, _c, dh, dhIn, _dc, dhNorm) {
    for (let b = 0; b < B; b++) {
      let sq = 0;
      for (let j = 0; j < H; j++) {
        const r = b * 2 * H, s = b * H + j, ta = g[r + j], sb = g[r + H + j];
        const d = dhIn === null ? dh[s] : dh[s] + dhIn[s];
        dh[s] = d;
        g[r + j] = d * sb * (1 - ta * ta);
        g[r + H + j] = d * ta * sb * (1 - sb);
        sq += d * d;
      }
      if (dhNorm !== null) dhNorm[b] = Math.sqrt(sq);
    }
  },
});

const I = 2, H = 3, B = 2, T = 6;

describe("a toy cell registered in nn/ only", () => {
  it("is listed with its gate count and builds a model with PyTorch-shaped parameters", () => {
    assert.ok(cellNames().includes("toy-gated"));
    assert.equal(cellDefinition("toy-gated").gates, 2);
    const m = new Model({ cell: "toy-gated", inputSize: I, hiddenSize: H, outputSize: 1, backend: "js" });
    assert.deepEqual(m.parameter("rnn.weight_hh_l0").shape, [2 * H, H]);
    assert.throws(() => cellDefinition("nope"), /cell = "nope", expected "lstm" or "rnn" or "gru" or "toy-gated"/);
  });

  it("its gradients (every parameter, 2 layers, probes on) match finite differences in float64", () => {
    const m = new Model({
      cell: "toy-gated",
      inputSize: I,
      hiddenSize: H,
      numLayers: 2,
      outputSize: 1,
      readout: "every",
      dtype: "float64",
      backend: "js",
      seed: 3,
    });
    const rng = new Rng(5);
    const x = rng.fillNormal(new Float64Array(T * B * I)), target = rng.fillNormal(new Float64Array(T * B));
    const loss = () => lossAndGradient("mse", T * B, 1, m.forward(x, T, B), target, null, null);
    const y = m.forward(x, T, B), dy = m.outputGrad();
    lossAndGradient("mse", T * B, 1, y, target, null, dy);
    m.zeroGrad();
    const res = m.backward(dy, { probes: true });
    assert.ok(res.dhNorm![1].every((v) => v > 0), "probes recorded");
    const analytic = m.grads.slice();
    let worst = 0;
    for (let i = 0; i < m.size; i++) {
      const p0 = m.params[i];
      m.params[i] = p0 + 1e-6;
      const up = loss();
      m.params[i] = p0 - 1e-6;
      const down = loss();
      m.params[i] = p0;
      const numeric = (up - down) / 2e-6;
      worst = Math.max(
        worst,
        Math.abs(numeric - analytic[i]) / Math.max(1e-3, Math.abs(numeric) + Math.abs(analytic[i])),
      );
    }
    assert.ok(worst < 1e-6, `relative error ${worst}`);
  });

  it("trains with the one training loop, and the fast kernels refuse it with a clear error", async () => {
    const m = new Model({ cell: "toy-gated", inputSize: 1, hiddenSize: 4, outputSize: 1, backend: "js", seed: 1 });
    const rng = new Rng(2);
    const batch = (n: number) => {
      const x = rng.fillUniform(new Float32Array(3 * n), -1, 1);
      return { x, T: 3, B: n, target: x.slice(2 * n) }; // the last input, read through the cell
    };
    const test = batch(256);
    const before = lossAndGradient("mse", 256, 1, m.forward(test.x, 3, 256), test.target, null, null);
    await train(m, { loss: "mse", optimizer: new Adam({ lr: 1e-2 }), maxSteps: 300, batches: () => batch(16) });
    const after = lossAndGradient("mse", 256, 1, m.forward(test.x, 3, 256), test.target, null, null);
    assert.ok(after < 0.2 * before, `test MSE ${before} → ${after}`);
    assert.throws(
      () => cpuModel({ cell: "toy-gated", inputSize: 1, hiddenSize: 4, outputSize: 1 }),
      /cell "toy-gated" has no WebAssembly kernel .* use backend "js"/,
    );
  });
});
