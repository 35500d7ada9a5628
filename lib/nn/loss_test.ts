// Losses and their gradients against PyTorch (tools/torch_loss_fixtures.py: nn.MSELoss, nn.CrossEntropyLoss,
// nn.BCEWithLogitsLoss, mean over the scored rows), plus the edge cases.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { lossAndGradient, type LossKind } from "./loss.ts";

interface Case {
  kind: LossKind;
  R: number;
  O: number;
  y: number[];
  target: number[];
  mask: number[] | null;
  loss: number;
  grad: number[];
}
const fx: { torch: string; cases: Case[] } = JSON.parse(
  readFileSync(new URL("./testdata/torch_losses.json", import.meta.url), "utf8"),
);

describe(`losses match PyTorch ${fx.torch}`, () => {
  for (const c of fx.cases) {
    it(`${c.kind}${c.mask ? ", masked" : ""}: value and gradient`, () => {
      const dy = new Float64Array(c.R * c.O);
      const loss = lossAndGradient(c.kind, c.R, c.O, Float64Array.from(c.y), c.target, c.mask, dy);
      assert.ok(Math.abs(loss - c.loss) <= 1e-14 * Math.max(1, Math.abs(c.loss)), `loss ${loss} vs ${c.loss}`);
      for (let i = 0; i < dy.length; i++) {
        assert.ok(
          Math.abs(dy[i] - c.grad[i]) <= 1e-15 + 1e-13 * Math.abs(c.grad[i]),
          `grad[${i}] ${dy[i]} vs ${c.grad[i]}`,
        );
      }
    });
  }
});

describe("loss edge cases", () => {
  it("no scored row: loss 0 and gradient 0", () => {
    const dy = new Float64Array(2).fill(7);
    assert.equal(lossAndGradient("mse", 2, 1, new Float64Array([1, 2]), [0, 0], [0, 0], dy), 0);
    assert.deepEqual(Array.from(dy), [0, 0]);
  });
  it("stays finite for extreme logits", () => {
    const y = new Float64Array([1000, -1000]);
    assert.ok(Number.isFinite(lossAndGradient("cross-entropy", 1, 2, y, [1], null, null)));
    assert.ok(Number.isFinite(lossAndGradient("bce", 2, 1, y, [0, 1], null, null)));
  });
  it("rejects a class index out of range and short targets, naming them", () => {
    assert.throws(
      () => lossAndGradient("cross-entropy", 1, 3, new Float64Array(3), [3], null, null),
      /classes\[0\] = 3, expected an integer in \[0, 2\]/,
    );
    assert.throws(
      () => lossAndGradient("mse", 2, 2, new Float64Array(4), [1, 2], null, null),
      /target has 2 entries, expected 4/,
    );
    assert.throws(
      () => lossAndGradient("hinge" as LossKind, 1, 1, new Float64Array(1), [0], null, null),
      /kind = "hinge"/,
    );
  });
});
