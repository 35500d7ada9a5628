// Initialisation schemes: bounds and distributions, orthogonality, exact spectral radius, identity, forget bias,
// determinism, and errors naming the field.
import { cpuModel } from "../backend/cpu/model.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spectralNorm, spectralRadius } from "../linalg.ts";
import type { InitConfig } from "./init.ts";

const H = 16;
function model(cell: "lstm" | "rnn", init: InitConfig, seed = 0) {
  return cpuModel({ cell, inputSize: 3, hiddenSize: H, outputSize: 2, dtype: "float64", init, seed });
}
const maxAbs = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));
const block = (w: ArrayLike<number>, g: number) => Float64Array.from(w).subarray(g * H * H, (g + 1) * H * H);

describe("initialisation", () => {
  it("PyTorch's default: every parameter in U(-1/√H, 1/√H), filling the range", () => {
    const m = model("lstm", {});
    const k = 1 / Math.sqrt(H);
    for (const p of m.parameters) {
      assert.ok(maxAbs(p.value) <= k, `${p.name} within ±1/√H`);
      if (p.size >= 50) assert.ok(maxAbs(p.value) > 0.9 * k, `${p.name} spans the range`);
    }
  });
  it("Glorot uniform for input weights: bound √(6 / (I + H)) per gate block", () => {
    const w = model("lstm", { inputWeights: "glorot" }).parameter("rnn.weight_ih_l0").value;
    const bound = Math.sqrt(6 / (3 + H));
    assert.ok(maxAbs(w) <= bound && maxAbs(w) > 0.9 * bound);
  });
  it("orthogonal recurrent weights: each gate block is orthogonal (times the gain)", () => {
    const w = model("lstm", { recurrentWeights: "orthogonal", gain: 1.5 }).parameter("rnn.weight_hh_l0").value;
    for (let g = 0; g < 4; g++) {
      const q = block(w, g);
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < H; j++) {
          let dot = 0;
          for (let r = 0; r < H; r++) dot += q[r * H + i] * q[r * H + j];
          assert.ok(Math.abs(dot - (i === j ? 2.25 : 0)) < 1e-12, `block ${g} (QᵀQ)[${i},${j}] = ${dot}`);
        }
      }
    }
  });
  it("spectral radius ρ exactly (Gaussian base) and ρ·Q (orthogonal base: spectral norm ρ too)", () => {
    for (const rho of [0.5, 1.1]) {
      const g = model("rnn", { recurrentWeights: { spectralRadius: rho } }).parameter("rnn.weight_hh_l0").value;
      assert.ok(Math.abs(spectralRadius(g, H) - rho) < 1e-9, `Gaussian base: ρ = ${spectralRadius(g, H)}`);
      assert.ok(spectralNorm(g, H, H) > rho, "a Gaussian matrix's spectral norm exceeds its spectral radius");
      const o =
        model("rnn", { recurrentWeights: { spectralRadius: rho, base: "orthogonal" } }).parameter("rnn.weight_hh_l0")
          .value;
      assert.ok(Math.abs(spectralRadius(o, H) - rho) < 1e-9);
      assert.ok(Math.abs(spectralNorm(o, H, H) - rho) < 1e-9);
    }
  });
  it("identity (IRNN) with zero biases", () => {
    const m = model("rnn", { recurrentWeights: "identity", bias: "zeros" });
    const w = m.parameter("rnn.weight_hh_l0").value;
    for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) assert.equal(w[i * H + j], i === j ? 1 : 0);
    assert.equal(maxAbs(m.parameter("rnn.bias_ih_l0").value), 0);
  });
  it("forget bias: b_ih + b_hh equals it on the forget block, other blocks keep their scheme", () => {
    const m = model("lstm", { forgetBias: 1 });
    const bi = m.parameter("rnn.bias_ih_l0").value, bh = m.parameter("rnn.bias_hh_l0").value;
    for (let j = H; j < 2 * H; j++) assert.equal(bi[j] + bh[j], 1);
    assert.ok(maxAbs(bi.subarray(0, H)) > 0, "input-gate biases still uniform");
  });
  it("is deterministic per seed and differs across seeds", () => {
    assert.deepEqual(model("lstm", {}, 3).params, model("lstm", {}, 3).params);
    assert.notDeepEqual(model("lstm", {}, 3).params, model("lstm", {}, 4).params);
  });
  it("rejects unknown schemes, naming the field and what is allowed", () => {
    assert.throws(
      () => model("lstm", { inputWeights: "he" as "glorot" }),
      /init\.inputWeights = "he", expected "uniform" or "glorot"/,
    );
    assert.throws(
      () => model("rnn", { recurrentWeights: "random" as "orthogonal" }),
      /init\.recurrentWeights = "random"/,
    );
    assert.throws(() => model("lstm", { forgetBias: NaN }), /init\.forgetBias/);
  });
});
