// Known values: every optimizer and both clipping rules against trajectories computed by PyTorch
// (tools/torch_optim_fixtures.py, float64), plus the float32 path and option validation.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Adam } from "./adam.ts";
import { clipGradNorm, clipGradValue, gradNorm } from "./clip.ts";
import type { Optimizer } from "./optimizer.ts";
import { RMSProp } from "./rmsprop.ts";
import { SGD } from "./sgd.ts";

interface Fixture {
  torch: string;
  p0: number[];
  grads: number[][];
  cases: { name: string; torch_class: string; options: Record<string, unknown>; params_after_each_step: number[][] }[];
  clip_norm: { max_norm: number; grad: number[]; norm: number; clipped: number[] }[];
  clip_value: { limit: number; grad: number[]; clipped: number[] };
}
const fx: Fixture = JSON.parse(readFileSync(new URL("./testdata/torch_optim.json", import.meta.url), "utf8"));

function fromTorch(cls: string, o: Record<string, unknown>): Optimizer {
  const lr = o.lr as number, wd = o.weight_decay as number | undefined;
  switch (cls) {
    case "SGD":
      return new SGD({
        lr,
        momentum: o.momentum as number | undefined,
        dampening: o.dampening as number | undefined,
        nesterov: o.nesterov as boolean | undefined,
        weightDecay: wd,
      });
    case "RMSprop":
      return new RMSProp({
        lr,
        alpha: o.alpha as number | undefined,
        momentum: o.momentum as number | undefined,
        centered: o.centered as boolean | undefined,
        weightDecay: wd,
      });
    case "Adam":
    case "AdamW":
      return new Adam({
        lr,
        betas: o.betas as [number, number] | undefined,
        eps: o.eps as number | undefined,
        weightDecay: wd,
        decoupled: cls === "AdamW",
      });
  }
  throw new Error(`no optimizer for ${cls}`);
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = rtol * Math.max(1, Math.abs(want[i]));
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: got ${got[i]}, PyTorch ${want[i]}`);
  }
}

describe(`optimizers match PyTorch ${fx.torch} step by step`, () => {
  for (const c of fx.cases) {
    it(`${c.name} (float64)`, () => {
      const opt = fromTorch(c.torch_class, c.options);
      const p = Float64Array.from(fx.p0);
      fx.grads.forEach((g, k) => {
        opt.step(p, Float64Array.from(g));
        assertClose(p, c.params_after_each_step[k], 1e-12, `${c.name} step ${k + 1}`);
      });
      assert.equal(opt.steps, fx.grads.length);
    });
    it(`${c.name} (float32 buffers)`, () => {
      const opt = fromTorch(c.torch_class, c.options);
      const p = Float32Array.from(fx.p0);
      for (const g of fx.grads) opt.step(p, Float32Array.from(g));
      assertClose(p, c.params_after_each_step.at(-1)!, 1e-5, `${c.name} float32`);
    });
  }
});

describe("clipping", () => {
  it("by global norm matches torch.nn.utils.clip_grad_norm_ (which adds 1e-6 to the norm)", () => {
    for (const c of fx.clip_norm) {
      const g = Float64Array.from(c.grad);
      const norm = clipGradNorm(g, c.max_norm);
      assert.ok(Math.abs(norm - c.norm) <= 1e-12 * c.norm, `norm ${norm} vs ${c.norm}`);
      assertClose(g, c.clipped, 1e-5, `clip to ${c.max_norm}`);
      if (c.max_norm < c.norm) assert.ok(Math.abs(gradNorm(g) - c.max_norm) < 1e-12, "clipped norm = threshold");
      else assert.deepEqual(Array.from(g), c.grad, "below the threshold: untouched");
    }
  });
  it("by global norm: Pascanu Algorithm 1 exactly, direction kept", () => {
    const g = new Float64Array([3, 4]);
    assert.equal(clipGradNorm(g, 1), 5);
    assertClose(g, [0.6, 0.8], 1e-15, "clipped");
    const same = new Float64Array([0.3, 0.4]);
    clipGradNorm(same, 1);
    assert.deepEqual(Array.from(same), [0.3, 0.4]);
  });
  it("by global norm: a non-finite gradient is reported and left alone", () => {
    const g = new Float64Array([1, NaN]);
    assert.ok(Number.isNaN(clipGradNorm(g, 1)));
    assert.equal(g[0], 1);
  });
  it("by value matches torch.nn.utils.clip_grad_value_", () => {
    const c = fx.clip_value;
    const g = Float64Array.from(c.grad);
    clipGradValue(g, c.limit);
    assert.deepEqual(Array.from(g), c.clipped);
  });
});

describe("option validation names the field and the allowed values", () => {
  it("rejects bad options", () => {
    assert.throws(() => new SGD({ lr: 0 }), /SGD: lr = 0, expected a finite number > 0/);
    assert.throws(() => new SGD({ lr: 0.1, nesterov: true }), /nesterov/);
    assert.throws(() => new Adam({ lr: 1e-3, betas: [1, 0.999] }), /Adam: betas\[0\] = 1/);
    assert.throws(() => new RMSProp({ lr: 1e-3, alpha: -1 }), /RMSProp: alpha = -1/);
    assert.throws(() => clipGradNorm(new Float64Array(1), 0), /threshold = 0/);
  });
  it("rejects a parameter buffer that changes size", () => {
    const opt = new Adam({ lr: 1e-3 });
    opt.step(new Float64Array(3), new Float64Array(3));
    assert.throws(() => opt.step(new Float64Array(4), new Float64Array(4)), /params has 4 values/);
  });
});
