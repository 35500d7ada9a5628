// WebGpuModel against the CPU Model in float64 (the reference kernels): outputs, every parameter gradient, dx,
// dh0/dc0, the probes, the losses — on shapes that are not multiples of the workgroup sizes (H = 5, 37, 130;
// B = 1, 3; T = 1, 17), 1 and 2 layers, readout last / every / none, both cells, truncated BPTT, with the time loops
// both per step and persistent. Bound: relative error ≤ 1e-4, where the relative error of a tensor is
// max |gpu - cpu| / max |cpu| (testing.ts). Each case logs its errors (the parity table of README.md).
// Skipped visibly under Bun (no WebGPU) and where Deno finds no adapter.
import { cpuModel } from "../cpu/model.ts";
import { describe } from "node:test";
import assert from "node:assert/strict";
import { lossAndGradient, type LossKind } from "../../nn/loss.ts";
import type { ModelConfig, ReadoutPlacement } from "../../nn/model.ts";
import { Adam } from "../../optim/adam.ts";
import { Rng } from "../../rng.ts";
import { type RecurrenceMode, WebGpuModel } from "./model.ts";
import { gpuTest, relErr, testDevice } from "./testing.ts";
import type { CellType } from "../../nn/kernels.ts";

const TOL = 1e-4;

interface Case {
  cell: CellType;
  I: number;
  H: number;
  B: number;
  T: number;
  L: number;
  readout: ReadoutPlacement;
  truncate?: number;
  /** Initial states, final-state gradients, input gradient. */
  extras?: boolean;
}

const CASES: Case[] = [
  { cell: "lstm", I: 2, H: 5, B: 1, T: 1, L: 1, readout: "last" },
  { cell: "lstm", I: 3, H: 37, B: 3, T: 17, L: 2, readout: "every", truncate: 5, extras: true },
  { cell: "lstm", I: 2, H: 130, B: 3, T: 17, L: 1, readout: "none" },
  { cell: "rnn", I: 2, H: 130, B: 3, T: 17, L: 1, readout: "last", truncate: 4, extras: true },
  { cell: "rnn", I: 3, H: 37, B: 1, T: 17, L: 2, readout: "every" },
  { cell: "rnn", I: 1, H: 5, B: 3, T: 1, L: 1, readout: "every" },
];

function name(c: Case): string {
  return `${c.cell} I=${c.I} H=${c.H} B=${c.B} T=${c.T} L=${c.L} readout=${c.readout}` +
    (c.truncate ? ` truncate=${c.truncate}` : "") + (c.extras ? " +h0/c0/dhN/dcN/dx" : "");
}

function check(errors: Record<string, number>, what: string): void {
  const bad = Object.entries(errors).filter(([, e]) => !(e <= TOL));
  assert.deepEqual(bad, [], `${what}: relative errors above ${TOL}: ${JSON.stringify(bad)}`);
}

function fmt(errors: Record<string, number>): string {
  return Object.entries(errors).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(", ");
}

describe("WebGpuModel forward and backward match the CPU model (float64 reference)", () => {
  for (const mode of ["steps", "persistent"] as RecurrenceMode[]) {
    for (const c of CASES) {
      gpuTest(`${mode}: ${name(c)}`, async () => {
        const cfg: ModelConfig = {
          cell: c.cell,
          inputSize: c.I,
          hiddenSize: c.H,
          numLayers: c.L,
          outputSize: c.readout === "none" ? undefined : 3,
          readout: c.readout,
          seed: 7,
          init: { forgetBias: 1 },
        };
        const cpu = cpuModel({ ...cfg, dtype: "float64", backend: "js" });
        const gpu = await WebGpuModel.create(cfg, { device: await testDevice(), recurrence: mode });
        try {
          const { T, B, L, H } = c, lstm = c.cell === "lstm", rng = new Rng(11);
          const x = rng.fillNormal(new Float32Array(T * B * c.I));
          const state = () => rng.fillNormal(new Float32Array(L * B * H), 0, 0.5);
          const h0 = c.extras ? state() : undefined, c0 = c.extras && lstm ? state() : undefined;
          const dhN = c.extras ? state() : undefined, dcN = c.extras && lstm ? state() : undefined;
          const y = cpu.forward(x, T, B, { h0, c0 });
          const yg = await gpu.forward(x, T, B, { h0, c0 });
          const dy = rng.fillNormal(new Float32Array(y.length));
          cpu.zeroGrad();
          const opts = { truncate: c.truncate, probes: true, inputGrad: c.extras, dhN, dcN };
          const r = cpu.backward(dy, opts);
          gpu.zeroGrad();
          const rg = await gpu.backward(dy, { ...opts, grads: true, stateGrads: true });
          const errors: Record<string, number> = { y: relErr(yg, y) };
          for (const p of cpu.parameters) {
            errors[`d${p.name.replace(/^rnn\.|^readout\./, "")}`] = relErr(
              rg.grads!.subarray(p.offset, p.offset + p.size),
              p.grad,
            );
          }
          if (c.extras) errors.dx = relErr(rg.dx!, r.dx!);
          for (let l = 0; l < L; l++) {
            errors[`dh0_l${l}`] = relErr(rg.dh0![l], r.dh0[l]);
            if (lstm) errors[`dc0_l${l}`] = relErr(rg.dc0![l], r.dc0![l]);
            errors[`‖dh‖_l${l}`] = relErr(rg.dhNorm![l], r.dhNorm![l]);
            if (lstm) errors[`‖dc‖_l${l}`] = relErr(rg.dcNorm![l], r.dcNorm![l]);
          }
          console.log(
            `  ${mode} ${name(c)}: max ${Math.max(...Object.values(errors)).toExponential(1)} (${fmt(errors)})`,
          );
          check(errors, name(c));
        } finally {
          gpu.dispose();
        }
      });
    }
  }
});

describe("probes of vanishing gradients", () => {
  for (const mode of ["steps", "persistent"] as RecurrenceMode[]) {
    for (const cell of ["lstm", "rnn"] as CellType[]) {
      gpuTest(`${mode}, ${cell}: a gradient of ~1e-30 has its norm, not 0 (no raw float32 squares)`, async () => {
        const cfg: ModelConfig = { cell, inputSize: 2, hiddenSize: 37, outputSize: 2, readout: "every", seed: 5 };
        const cpu = cpuModel({ ...cfg, dtype: "float64", backend: "js" });
        const gpu = await WebGpuModel.create(cfg, { device: await testDevice(), recurrence: mode });
        try {
          const T = 9, B = 3, rng = new Rng(3);
          const x = rng.fillNormal(new Float32Array(T * B * 2));
          const y = cpu.forward(x, T, B);
          await gpu.forward(x, T, B);
          const dy = rng.fillNormal(new Float32Array(y.length), 0, 1e-30);
          const r = cpu.backward(dy, { probes: true });
          const rg = await gpu.backward(dy, { probes: true });
          assert.ok(rg.dhNorm![0].every((v) => v > 1e-32), "every probe is positive");
          const errors: Record<string, number> = { "‖dh‖": relErr(rg.dhNorm![0], r.dhNorm![0]) };
          if (cell === "lstm") errors["‖dc‖"] = relErr(rg.dcNorm![0], r.dcNorm![0]);
          check(errors, `${mode} ${cell} tiny gradients`);
        } finally {
          gpu.dispose();
        }
      });
    }
  }
});

describe("losses on the GPU match lib/nn/loss.ts (values and gradients, with masks)", () => {
  const kinds: LossKind[] = ["mse", "cross-entropy", "bce"];
  for (const kind of kinds) {
    for (const masked of [false, true]) {
      gpuTest(`${kind}${masked ? ", masked rows" : ""}`, async () => {
        const T = 7, B = 3, O = 4, I = 2;
        const cfg: ModelConfig = {
          cell: "lstm",
          inputSize: I,
          hiddenSize: 5,
          outputSize: O,
          readout: "every",
          seed: 3,
        };
        const cpu = cpuModel({ ...cfg, dtype: "float64", backend: "js" });
        const gpu = await WebGpuModel.create(cfg, { device: await testDevice() });
        try {
          const rng = new Rng(5), R = T * B;
          const x = rng.fillNormal(new Float32Array(T * B * I));
          const target = kind === "cross-entropy"
            ? Array.from({ length: R }, () => rng.int(O))
            : kind === "bce"
            ? Array.from({ length: R * O }, () => rng.int(2))
            : Array.from(rng.fillNormal(new Float64Array(R * O)));
          const mask = masked ? Array.from({ length: R }, (_, r) => (r % 3 === 1 ? 0 : 1)) : null;
          const y = cpu.forward(x, T, B);
          const dy = cpu.outputGrad();
          const loss = lossAndGradient(kind, R, O, y, target, mask, dy);
          cpu.zeroGrad();
          cpu.backward(dy);
          let sq = 0;
          for (const g of cpu.grads) sq += g * g;
          // lr tiny: the update does not matter here; loss and norm are computed before it
          const r = await gpu.trainStep({ x, T, B, target, mask }, {
            loss: kind,
            optimizer: new Adam({ lr: 1e-9 }),
            readOutputs: true,
          });
          const errors = {
            outputs: relErr(r.outputs!, y),
            loss: relErr([r.loss], [loss]),
            gradNorm: relErr([r.gradNorm], [Math.sqrt(sq)]),
          };
          console.log(`  ${kind}${masked ? " masked" : ""}: ${fmt(errors)}`);
          check(errors, kind);
          assert.equal(r.diverged, null);
        } finally {
          gpu.dispose();
        }
      });
    }
  }
  gpuTest("every row masked: loss 0, gradient 0 (as PyTorch's mean over no rows is defined here)", async () => {
    const cfg: ModelConfig = { cell: "rnn", inputSize: 1, hiddenSize: 5, outputSize: 2, readout: "every", seed: 1 };
    const gpu = await WebGpuModel.create(cfg, { device: await testDevice() });
    try {
      const T = 3, B = 2, x = new Float32Array(T * B).fill(0.5);
      const r = await gpu.trainStep({ x, T, B, target: new Array(T * B).fill(1), mask: new Array(T * B).fill(0) }, {
        loss: "cross-entropy",
        optimizer: new Adam({ lr: 1e-3 }),
      });
      assert.deepEqual([r.loss, r.gradNorm, r.diverged], [0, 0, null]);
    } finally {
      gpu.dispose();
    }
  });
});

describe("same initialisation and layout as Model; clear errors", () => {
  gpuTest("the same seed gives the same weights; writeParams/readParams round-trip", async () => {
    const cfg: ModelConfig = {
      cell: "lstm",
      inputSize: 3,
      hiddenSize: 6,
      numLayers: 2,
      outputSize: 2,
      seed: 42,
      init: { recurrentWeights: "orthogonal" },
    };
    const cpu = cpuModel(cfg);
    const gpu = await WebGpuModel.create(cfg, { device: await testDevice() });
    try {
      assert.deepEqual(Array.from(await gpu.readParams()), Array.from(cpu.params));
      assert.deepEqual(
        gpu.parameters.map((p) => [p.name, p.offset, p.size]),
        cpu.parameters.map((p) => [
          p.name,
          p.offset,
          p.size,
        ]),
      );
      const v = new Float32Array(gpu.size).map((_, i) => i / 1000);
      gpu.writeParams(v);
      assert.deepEqual(Array.from(await gpu.readParams()), Array.from(v));
    } finally {
      gpu.dispose();
    }
  });
  gpuTest("bad input is rejected with the field, the value and what is allowed", async () => {
    const gpu = await WebGpuModel.create({ cell: "rnn", inputSize: 2, hiddenSize: 3, outputSize: 1 }, {
      device: await testDevice(),
    });
    try {
      await assert.rejects(gpu.forward(new Float32Array(5), 2, 2), /x has 5 values, expected T·B·I = 2·2·2 = 8/);
      await assert.rejects(gpu.backward(null), /call forward first/);
      await assert.rejects(
        gpu.forward(new Float32Array(4), 1, 2, { c0: [0, 0, 0, 0, 0, 0] }),
        /c0 is given but cell is "rnn"/,
      );
      const opt = new Adam({ lr: 1e-3 });
      await assert.rejects(
        gpu.trainStep({ x: new Float32Array(4), T: 1, B: 2, target: [1] }, { loss: "mse", optimizer: opt }),
        /mse: target has 1 entries, expected 2/,
      );
      await assert.rejects(
        WebGpuModel.create({ cell: "rnn", inputSize: 2, hiddenSize: 3, outputSize: 1, dtype: "float64" }),
        /float32 only/,
      );
      const device = await testDevice(), cfg = { cell: "rnn", inputSize: 2, hiddenSize: 3, outputSize: 1 } as const;
      await assert.rejects(
        // a numbered kernel version of the dev harness (old option), through a cast as a JavaScript caller would pass it
        WebGpuModel.create(cfg, { device, versions: { step: 1 } as { rows?: number } }),
        /versions\.step is not an option; .*dev harness .*versions takes only rows/,
      );
      await assert.rejects(
        WebGpuModel.create(cfg, { device, versions: { rows: 0 } }),
        /versions\.rows = 0, expected an integer in \[1, 16\]/,
      );
    } finally {
      gpu.dispose();
    }
  });
});
