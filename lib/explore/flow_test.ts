/**
 * The explorer's computation: URL settings with path-precise errors, the profile against a direct use of the library
 * (Model.backward with probes), decay against growth with ρ, and the LSTM's cell-state gradient and gates.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpuModel, lossAndGradient, Rng } from "../mod.ts";
import { createTask } from "../tasks/registry.ts";
import { gpuTest, testDevice } from "../backend/webgpu/testing.ts";
import {
  DEFAULT_SETTINGS,
  flowHeatmap,
  gradientFlowProfile,
  gradientFlowProfileWebGpu,
  libraryCall,
  modelConfig,
  settingsFromQuery,
  settingsToQuery,
} from "./flow.ts";

describe("explorer settings", () => {
  it("round-trip through the URL and reject bad values by name, value and range", () => {
    const s = { ...DEFAULT_SETTINGS, cell: "lstm" as const, T: 321, forgetBias: 2.5, loss: "every" as const };
    assert.deepEqual(settingsFromQuery(settingsToQuery(s)), { settings: s, errors: [] });
    assert.equal(settingsToQuery(DEFAULT_SETTINGS), "");
    const bad = settingsFromQuery("cell=gru2&T=1.5&rho=x&seeds=0");
    assert.deepEqual(bad.errors, [
      'cell: got "gru2", expected one of rnn, lstm',
      "T: got 1.5, expected an integer in [2, 2000]",
      "rho: got x, expected a number in [0, 3]",
      "seeds: got 0, expected an integer in [1, 20]",
    ]);
    assert.deepEqual(bad.settings, DEFAULT_SETTINGS);
  });
});

describe("gradientFlowProfile", () => {
  it("is the batch median of the library's probes at lag k = T − 1 − t, over seeds", () => {
    const s = { ...DEFAULT_SETTINGS, T: 30, hiddenSize: 16, batch: 5, seeds: 1, seed: 3 };
    const p = gradientFlowProfile(s);
    // the same with lib/mod.ts directly, as libraryCall shows it
    const model = cpuModel(modelConfig(s, 3));
    const batch = createTask("adding", { T: 30, variant: "arjovsky" }).batch(new Rng(3, 1), 5);
    const y = model.forward(batch.x, batch.T, batch.B), dy = model.outputGrad();
    lossAndGradient("mse", model.outputRows(), 1, y, batch.target, null, dy);
    const { dhNorm } = model.backward(dy, { probes: true });
    for (const k of [0, 1, 7, 29]) {
      const t = 29 - k;
      const col = Array.from(dhNorm![0].subarray(t * 5, t * 5 + 5)).sort((a, b) => a - b);
      assert.equal(p.dh.median[k], col[2], `lag ${k}`);
    }
    assert.match(libraryCall(s), /gradientFlowProfile\(\{ cell: "rnn", hiddenSize: 16, T: 30/);
  });

  it("vanishes for ρ = 0.5 and grows for ρ = 1.5 (tanh RNN); the LSTM has ‖∂L/∂c_t‖ and gate means", () => {
    const base = { ...DEFAULT_SETTINGS, T: 100, hiddenSize: 64, seeds: 3 };
    const low = gradientFlowProfile({ ...base, rho: 0.5 }), high = gradientFlowProfile({ ...base, rho: 1.5 });
    assert.ok(low.factor < 0.7 && high.factor > 1, `${low.factor} ${high.factor}`);
    assert.ok(low.bound!.every((b, k) => low.dh.median[k] <= b * (1 + 1e-6)), "inside Pascanu's bound");
    for (let k = 0; k < 100; k++) assert.ok(low.dh.q25[k] <= low.dh.median[k] && low.dh.median[k] <= low.dh.q75[k]);
    const lstm = gradientFlowProfile({ ...base, cell: "lstm", forgetBias: 3 });
    assert.equal(lstm.dc!.median.length, 100);
    assert.equal(lstm.bound, null);
    const f = lstm.gates!.forget;
    assert.ok(f.every((v) => v > 0.9), "σ(3) ≈ 0.95: the forget gate is mostly open");
    const cells = flowHeatmap({ ...base, T: 40 }, 10);
    assert.deepEqual([...new Set(cells.map((c) => c.T))], [5, 10, 15, 20, 25, 30, 35, 40]);
  });
});

describe("gradientFlowProfileWebGpu", () => {
  gpuTest("gives the CPU's profile on WebGPU (float32: relative 1e-5), for the RNN and the LSTM", async () => {
    const device = await testDevice();
    for (const cell of ["rnn", "lstm"] as const) {
      const s = { ...DEFAULT_SETTINGS, cell, T: 40, hiddenSize: 16, batch: 4, seeds: 2 };
      const cpu = gradientFlowProfile(s), gpu = await gradientFlowProfileWebGpu({ ...s, backend: "webgpu" }, device);
      assert.equal(gpu.lambda1, cpu.lambda1);
      for (const q of ["dh", "dc"] as const) {
        if (cell === "rnn" && q === "dc") continue;
        const a = gpu[q]!.median, b = cpu[q]!.median;
        const scale = Math.max(...b);
        for (let k = 0; k < 40; k++) assert.ok(Math.abs(a[k] - b[k]) <= 1e-5 * scale, `${cell} ${q} lag ${k}`);
      }
    }
  });
});
