// Training on the GPU against the CPU loop (lib/train.ts) on a float64 CPU model: the parameters after 20 fused
// optimizer steps (Adam and SGD with momentum, with clipping by norm and by value), each step's loss and gradient
// norm; steps submitted in groups read back once give the same as steps read one by one; divergence is reported
// with no update applied; train() on the GPU returns what it returns on the CPU. Relative error as in testing.ts, bound 1e-4.
// Skipped visibly under Bun (no WebGPU) and where Deno finds no adapter.
import { cpuModel } from "../cpu/model.ts";
import { describe } from "node:test";
import assert from "node:assert/strict";
import type { LossKind } from "../../nn/loss.ts";
import type { ModelConfig } from "../../nn/model.ts";
import { Adam } from "../../optim/adam.ts";
import type { Optimizer } from "../../optim/optimizer.ts";
import { RMSProp } from "../../optim/rmsprop.ts";
import { SGD } from "../../optim/sgd.ts";
import { Rng } from "../../rng.ts";
import { type Batch, train } from "../../train.ts";
import { WebGpuModel } from "./model.ts";
import { gpuTest, relErr, testDevice } from "./testing.ts";

const TOL = 1e-4;

interface Setup {
  name: string;
  cfg: ModelConfig;
  T: number;
  B: number;
  loss: LossKind;
  optimizer: () => Optimizer;
  clipNorm?: number;
  clipValue?: number;
  truncate?: number;
  masked?: boolean;
}

const SETUPS: Setup[] = [
  {
    name: "LSTM H=37, Adam, clipNorm 0.5, MSE, readout last",
    cfg: { cell: "lstm", inputSize: 2, hiddenSize: 37, outputSize: 1, readout: "last", seed: 1 },
    T: 17,
    B: 3,
    loss: "mse",
    optimizer: () => new Adam({ lr: 1e-2 }),
    clipNorm: 0.5,
  },
  {
    name: "2-layer RNN H=5, SGD momentum 0.9, clipNorm 1 + clipValue 0.05, CE masked, readout every, truncate 5",
    cfg: { cell: "rnn", inputSize: 3, hiddenSize: 5, numLayers: 2, outputSize: 4, readout: "every", seed: 2 },
    T: 17,
    B: 3,
    loss: "cross-entropy",
    optimizer: () => new SGD({ lr: 0.1, momentum: 0.9 }),
    clipNorm: 1,
    clipValue: 0.05,
    truncate: 5,
    masked: true,
  },
  {
    name: "LSTM H=130 B=1, AdamW, clipNorm 1, BCE, readout every",
    cfg: { cell: "lstm", inputSize: 2, hiddenSize: 130, outputSize: 2, readout: "every", seed: 3 },
    T: 9,
    B: 1,
    loss: "bce",
    optimizer: () => new Adam({ lr: 3e-3, decoupled: true }),
    clipNorm: 1,
  },
  {
    name: "RNN H=37, RMSProp centered with momentum and weight decay, MSE, readout last",
    cfg: { cell: "rnn", inputSize: 2, hiddenSize: 37, outputSize: 1, readout: "last", seed: 4 },
    T: 17,
    B: 3,
    loss: "mse",
    optimizer: () => new RMSProp({ lr: 1e-3, momentum: 0.5, centered: true, weightDecay: 1e-4 }),
  },
];

/** 20 fixed batches of a setup. */
function batches(s: Setup, n = 20): Batch[] {
  const rng = new Rng(99, 1), I = s.cfg.inputSize, O = s.cfg.outputSize!, { T, B } = s;
  const R = s.cfg.readout === "last" ? B : T * B;
  return Array.from({ length: n }, () => ({
    x: rng.fillNormal(new Float32Array(T * B * I)),
    T,
    B,
    target: s.loss === "cross-entropy"
      ? Array.from({ length: R }, () => rng.int(O))
      : s.loss === "bce"
      ? Array.from({ length: R * O }, () => rng.int(2))
      : Array.from(rng.fillUniform(new Float64Array(R * O), -1, 1)),
    mask: s.masked ? Array.from({ length: R }, (_, r) => (r < B * 4 ? 0 : 1)) : null,
  }));
}

describe("20 fused training steps on the GPU match train() on the CPU (float64)", () => {
  for (const s of SETUPS) {
    gpuTest(s.name, async () => {
      const data = batches(s);
      const cpu = cpuModel({ ...s.cfg, dtype: "float64", backend: "js" });
      const ref = await train(cpu, {
        loss: s.loss,
        optimizer: s.optimizer(),
        batches: (k) => data[k],
        maxSteps: data.length,
        clipNorm: s.clipNorm,
        clipValue: s.clipValue,
        truncate: s.truncate,
        logEvery: 1,
      });
      const gpu = await WebGpuModel.create(s.cfg, { device: await testDevice() });
      try {
        const opt = s.optimizer(), losses: number[] = [], norms: number[] = [];
        for (const batch of data) {
          const r = await gpu.trainStep(batch, {
            loss: s.loss,
            optimizer: opt,
            clipNorm: s.clipNorm,
            clipValue: s.clipValue,
            truncate: s.truncate,
          });
          assert.equal(r.diverged, null);
          losses.push(r.loss);
          norms.push(r.gradNorm);
        }
        assert.equal(gpu.optimizerSteps(opt), data.length);
        const errors = {
          params: relErr(await gpu.readParams(), cpu.params),
          losses: relErr(losses, ref.history.map((h) => h.loss)),
          gradNorms: relErr(norms, ref.history.map((h) => h.gradNorm)),
        };
        console.log(
          `  ${s.name}: ${Object.entries(errors).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(", ")}`,
        );
        for (const [k, v] of Object.entries(errors)) assert.ok(v <= TOL, `${k}: relative error ${v} > ${TOL}`);
      } finally {
        gpu.dispose();
      }
    });
  }
});

describe("readback groups, divergence, the training loop", () => {
  gpuTest("steps submitted in a group and read back once equal steps read one by one", async () => {
    const s = SETUPS[0], data = batches(s, 8);
    const dev = await testDevice();
    const a = await WebGpuModel.create(s.cfg, { device: dev }), b = await WebGpuModel.create(s.cfg, { device: dev });
    try {
      const optA = s.optimizer(), optB = s.optimizer(), opts = { loss: s.loss, clipNorm: s.clipNorm };
      const one = [];
      for (const batch of data) one.push(await a.trainStep(batch, { ...opts, optimizer: optA }));
      for (const batch of data) b.submitTrainStep(batch, { ...opts, optimizer: optB, readOutputs: true });
      assert.equal(b.pendingSteps, data.length);
      const group = await b.readSteps();
      assert.deepEqual(group.map((r) => r.loss), one.map((r) => r.loss));
      assert.deepEqual(group.map((r) => r.gradNorm), one.map((r) => r.gradNorm));
      assert.deepEqual(Array.from(await b.readParams()), Array.from(await a.readParams()));
      assert.equal(group[3].outputs!.length, s.B);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  gpuTest("a non-finite loss or gradient applies no update, and stops later updates of its group", async () => {
    const s = SETUPS[0], data = batches(s, 4);
    const gpu = await WebGpuModel.create(s.cfg, { device: await testDevice() });
    try {
      const opt = s.optimizer(), opts = { loss: s.loss, optimizer: opt };
      await gpu.trainStep(data[0], opts);
      const before = await gpu.readParams();
      const bad = { ...data[1], target: Array.from(data[1].target, (v, i) => (i === 0 ? NaN : v)) };
      const r = await gpu.trainStep(bad, opts);
      assert.equal(r.diverged, "loss");
      assert.deepEqual(Array.from(await gpu.readParams()), Array.from(before), "no update with a NaN loss");
      assert.equal(gpu.optimizerSteps(opt), 1, "the optimizer's counters are set back");
      // a group whose second step diverges (a NaN input)
      const nanX = { ...data[2], x: Float32Array.from(data[2].x, (v, i) => (i === 0 ? NaN : v)) };
      gpu.submitTrainStep(data[1], opts);
      gpu.submitTrainStep(nanX, opts);
      gpu.submitTrainStep(data[3], opts);
      const group = await gpu.readSteps();
      assert.deepEqual(group.map((g) => g.diverged), [null, "loss", "loss"]);
      const ref = await WebGpuModel.create(s.cfg, { device: await testDevice() });
      try {
        const opt2 = s.optimizer();
        await ref.trainStep(data[0], { ...opts, optimizer: opt2 });
        await ref.trainStep(data[1], { ...opts, optimizer: opt2 });
        assert.deepEqual(Array.from(await gpu.readParams()), Array.from(await ref.readParams()));
      } finally {
        ref.dispose();
      }
    } finally {
      gpu.dispose();
    }
  });

  gpuTest(
    "train on the GPU returns what it returns on the CPU (status, steps, history), per-step and grouped readbacks",
    async () => {
      const s = SETUPS[1], data = batches(s, 30);
      const common = {
        loss: s.loss,
        batches: (k: number) => data[k],
        maxSequences: 25 * s.B,
        clipNorm: s.clipNorm,
        clipValue: s.clipValue,
        truncate: s.truncate,
        logEvery: 10,
      };
      const cpu = cpuModel({ ...s.cfg, dtype: "float64", backend: "js" });
      const ref = await train(cpu, { ...common, optimizer: s.optimizer() });
      for (const readEvery of [1, 7]) {
        const gpu = await WebGpuModel.create(s.cfg, { device: await testDevice() });
        try {
          const res = await train(gpu, { ...common, optimizer: s.optimizer(), readEvery });
          assert.deepEqual([res.status, res.steps, res.sequences], [ref.status, ref.steps, ref.sequences]);
          assert.deepEqual(res.history.map((h) => h.step), ref.history.map((h) => h.step));
          assert.ok(relErr(res.history.map((h) => h.loss), ref.history.map((h) => h.loss)) <= TOL);
          assert.ok(relErr(await gpu.readParams(), cpu.params) <= TOL);
        } finally {
          gpu.dispose();
        }
      }
      // onStep stops the run at the same step; a divergence is reported as train reports it
      const stopAt = (info: { step: number }) => info.step === 13;
      const cpu2 = cpuModel({ ...s.cfg, dtype: "float64", backend: "js" });
      const ref2 = await train(cpu2, { ...common, optimizer: s.optimizer(), onStep: stopAt });
      const gpu2 = await WebGpuModel.create(s.cfg, { device: await testDevice() });
      try {
        const res2 = await train(gpu2, { ...common, optimizer: s.optimizer(), onStep: stopAt });
        assert.deepEqual([res2.status, res2.steps], [ref2.status, ref2.steps]);
        assert.equal(res2.status, "solved");
        const nan = (
          k: number,
        ) => (k === 4 ? { ...data[k], x: new Float32Array(data[k].x.length).fill(NaN) } : data[k]);
        const res3 = await train(gpu2, { ...common, batches: nan, optimizer: s.optimizer(), readEvery: 10 });
        assert.deepEqual([res3.status, res3.steps, res3.diverged], ["diverged", 4, { step: 5, what: "loss" }]);
      } finally {
        gpu2.dispose();
      }
    },
  );
});
