/** Pascanu et al.'s smart-tanh initialisation: sparsity per unit on the side their code puts it, ρ = 0.95, scales. */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { smartTanhInit } from "./init_pascanu.ts";
import { spectralRadius } from "../linalg.ts";

function nonZerosPer(w: Float64Array, H: number, by: "row" | "col"): number[] {
  const out = new Array(H).fill(0);
  for (let j = 0; j < H; j++) for (let i = 0; i < H; i++) if (w[j * H + i] !== 0) out[by === "row" ? j : i]++;
  return out;
}

describe("smartTanhInit", () => {
  it("keeps 15 outgoing weights per unit (15 non-zeros per column of our [H, H] layout) and ρ = 0.95", () => {
    const H = 50, p = smartTanhInit(6, H, 4, 52);
    assert.deepEqual(nonZerosPer(p.weightHh, H, "col"), new Array(H).fill(15));
    assert.ok(nonZerosPer(p.weightHh, H, "row").some((n) => n !== 15)); // fan-in is not fixed
    assert.ok(Math.abs(spectralRadius(p.weightHh, H) - 0.95) < 1e-9);
    assert.ok(p.bias.every((b) => b === 0) && p.biasOut.every((b) => b === 0));
    assert.deepEqual([p.weightIh.length, p.weightOut.length, p.bias.length, p.biasOut.length], [300, 200, 50, 4]);
  });

  it("follows the paper's text with sparsity 'incoming' (15 per row of ours)", () => {
    const H = 40, p = smartTanhInit(2, H, 1, 3, { sparsity: "incoming" });
    assert.deepEqual(nonZerosPer(p.weightHh, H, "row"), new Array(H).fill(15));
    assert.ok(Math.abs(spectralRadius(p.weightHh, H) - 0.95) < 1e-9);
  });

  it("draws W_in and W_out with std 0.01 (sample std of 20,000 draws within 2%)", () => {
    const p = smartTanhInit(100, 200, 100, 7);
    for (const w of [p.weightIh, p.weightOut]) {
      let s = 0, s2 = 0;
      for (const v of w) {
        s += v;
        s2 += v * v;
      }
      const mean = s / w.length, sd = Math.sqrt(s2 / w.length - mean * mean);
      assert.ok(Math.abs(sd - 0.01) < 0.0002, `std ${sd}`);
      assert.ok(Math.abs(mean) < 0.0003, `mean ${mean}`);
    }
  });

  it("zeroes nothing when H ≤ 15, is deterministic per seed, and names bad options", () => {
    const p = smartTanhInit(1, 10, 1, 0);
    assert.ok(p.weightHh.every((v) => v !== 0));
    assert.deepEqual(smartTanhInit(3, 20, 2, 9), smartTanhInit(3, 20, 2, 9));
    assert.throws(() => smartTanhInit(1, 0, 1, 0), /hiddenSize must be an integer >= 1, got 0/);
    // deno-lint-ignore no-explicit-any
    assert.throws(() => smartTanhInit(1, 4, 1, 0, { sparsity: "rows" as any }), /opts.sparsity must be/);
  });
});
