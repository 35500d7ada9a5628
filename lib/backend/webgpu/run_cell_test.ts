// Sweep cells on the WebGPU backend against the CPU (one runner, lib/experiment/run_cell.ts): the same
// success or failure, the same stopping point on a short run, a close curve and test; and the runner running a
// webgpu cell on its worker threads (the cell_worker.ts hook). Skipped visibly under Bun and without an adapter.
import { describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCell } from "../../experiment/run_cell.ts";
import { readCells } from "../../experiment/results.ts";
import { runExperiment } from "../../experiment/runner.ts";
import type { Cell } from "../../experiment/schema.ts";
import { gpuTest, relErr, testDevice } from "./testing.ts";

function latchCell(cell: "lstm" | "rnn", T: number, maxSequences: number, stop: unknown): Cell {
  return {
    experiment: "webgpu-test",
    variant: "",
    seed: 0,
    backend: "cpu",
    task: { name: "latch", params: { T } },
    model: { cell, hiddenSize: 4, numLayers: 1, init: { forgetBias: 3 }, dtype: "float32" },
    training: {
      optimizer: { name: "adam", lr: 3e-2 },
      batchSize: 8,
      maxSequences,
      clipNorm: 1,
      truncate: 0,
      logEvery: 10,
      stop,
    },
    measure: { testSequences: 128, gradientFlow: { at: ["init", 160, "end"], batchSize: 4 } },
  } as Cell;
}

describe("a sweep cell on WebGPU gives the CPU's outcome", () => {
  gpuTest("LSTM on the latch problem: solved, at the same number of sequences", async () => {
    const cell = latchCell("lstm", 20, 3200, { kind: "accuracy", threshold: 1, window: 200 });
    const cpu = await runCell(cell);
    const gpu = await runCell({ ...cell, backend: "webgpu" }, { device: await testDevice() });
    assert.equal(cpu.status, "solved");
    assert.deepEqual([gpu.status, gpu.sequencesToSuccess, gpu.steps], [cpu.status, cpu.sequencesToSuccess, cpu.steps]);
    assert.ok(relErr(gpu.curve.map((p) => p.loss), cpu.curve.map((p) => p.loss)) < 1e-4, "training curve");
    assert.equal(gpu.gradientFlow.length, cpu.gradientFlow.length);
    assert.ok(relErr(gpu.gradientFlow[0].dh.median, cpu.gradientFlow[0].dh.median) < 1e-4, "gradient flow at init");
    assert.equal(gpu.test!.accuracy, cpu.test!.accuracy);
  });

  gpuTest("tanh RNN on a longer latch with a small budget: not solved, as on the CPU", async () => {
    const cell = latchCell("rnn", 60, 640, { kind: "accuracy", threshold: 1, window: 200 });
    const cpu = await runCell(cell);
    const gpu = await runCell({ ...cell, backend: "webgpu" }, { device: await testDevice() });
    assert.equal(cpu.status, "not-solved");
    assert.deepEqual([gpu.status, gpu.steps, gpu.sequences], [cpu.status, cpu.steps, cpu.sequences]);
    assert.ok(Math.abs(gpu.test!.accuracy - cpu.test!.accuracy) <= 0.05, "test accuracy close");
  });

  gpuTest("a 'never' rule reads back in groups: the same curve and gradient-flow checkpoints", async () => {
    const cell = latchCell("lstm", 20, 640, { kind: "never" });
    const cpu = await runCell(cell);
    const gpu = await runCell({ ...cell, backend: "webgpu" }, { device: await testDevice() });
    assert.deepEqual([gpu.status, gpu.steps, gpu.curve.length], [cpu.status, cpu.steps, cpu.curve.length]);
    assert.deepEqual(gpu.gradientFlow.map((g) => g.at), cpu.gradientFlow.map((g) => g.at));
    assert.ok(relErr(gpu.curve.map((p) => p.loss), cpu.curve.map((p) => p.loss)) < 1e-4, "training curve");
    assert.ok(relErr(gpu.gradientFlow[1].dh.median, cpu.gradientFlow[1].dh.median) < 1e-3, "gradient flow at 160");
  });

  gpuTest("the runner runs a webgpu cell on a worker thread", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lstm-lab-webgpu-"));
    try {
      const experiment = {
        name: "webgpu-runner",
        description: "runner test on WebGPU",
        task: { name: "latch", params: { T: 20 } },
        model: { cell: "lstm", hiddenSize: 4 },
        training: { optimizer: { name: "adam", lr: 1e-2 }, batchSize: 8, maxSequences: 160, logEvery: 5 },
        measure: { testSequences: 32, gradientFlow: { at: ["init"], batchSize: 4 } },
      };
      const out = join(dir, "out");
      const s = await runExperiment(experiment, { outDir: out, workers: 1, backend: "webgpu", progress: "none" });
      assert.deepEqual([s.ran, s.failed.length, s.complete], [1, 0, true], JSON.stringify(s.failed));
      const [c] = readCells(out);
      assert.equal(c.meta.backend, "webgpu");
      assert.equal(c.config.backend, "webgpu");
      assert.equal(c.status, "trained");
      assert.equal(c.test!.sequences, 32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
