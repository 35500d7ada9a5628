/**
 * Runs one sweep cell on the WebGPU backend: `runCell` (run_cell.ts) with the training on the GPU. Same outcome
 * shape, same RNG streams (weights: stream 0 of the cell's seed, through `cpuModel(config)`; training data: 1; test
 * set: 2; gradient-flow batch: 3; evaluation sets: 4), same stopping rules, same curve.
 *
 * Differences, all deliberate:
 * - numbers: float32 on the GPU, whose `exp`/`tanh` are its own: close to the CPU's, not bit-identical, so long
 *   runs drift apart like runs on two CPU architectures would (success or failure is what must agree);
 * - readbacks (each costs ≥ 10 ms in Deno): every step reads back its loss, gradient norm and outputs (the curve's
 *   accuracy needs the outputs). Rules that can stop at any step (accuracy, st3, loss windows) read back every step;
 *   the others ("never", "evaluate") read back once per 32 steps and right after each step where something is
 *   measured (gradient-flow checkpoints, evaluation points) — which gives exactly the per-step result;
 * - gradient flow is measured by the CPU model (`measureGradientFlow` of run_cell.ts, the same code) loaded with the
 *   GPU's weights at that moment (one readback), so the measurement code is shared, not duplicated;
 * - the model must be float32 (the GPU backend has no float64).
 *
 * @module
 */

import { cpuModel } from "../backend/cpu/model.ts";
import { requestWebGpuDevice, type WebGpuContext } from "../backend/webgpu/device.ts";
import { WebGpuModel } from "../backend/webgpu/model.ts";
import { trainWebGpu } from "../backend/webgpu/train.ts";
import { lossAndGradient } from "../nn/loss.ts";
import { Model } from "../nn/model.ts";
import { Rng } from "../rng.ts";
import { createTask } from "../tasks/registry.ts";
import type { Task } from "../tasks/task.ts";
import type { GradientFlow, RunOutcome, TestMetrics } from "./results.ts";
import { type CellProgress, measureGradientFlow } from "./run_cell.ts";
import {
  CellRecorder,
  evaluationSets,
  fractionCorrect,
  modelConfigOf,
  testBatches,
  TestTally,
  trainOptionsOf,
} from "./cell_training.ts";
import type { Cell } from "./schema.ts";

/** Options of `runCellWebGpu`. */
export interface RunCellWebGpuOptions {
  onProgress?: (p: CellProgress) => void;
  /** The device (default: one per process, created on first use and kept for the next cells). */
  device?: WebGpuContext;
}

let shared: Promise<WebGpuContext> | null = null;

/** One device per process (worker thread), shared by the cells it runs. */
function sharedDevice(): Promise<WebGpuContext> {
  shared ??= requestWebGpuDevice().then((ctx) => {
    ctx.lost.then(() => (shared = null)); // a lost device is replaced for the next cell
    return ctx;
  }, (e) => {
    shared = null;
    throw e;
  });
  return shared;
}

/**
 * Runs a cell on the GPU and returns its outcome (see the module doc for the differences from `runCell`).
 *
 * @example
 * ```ts
 * import { runCellWebGpu } from "./run_cell_webgpu.ts";
 * const outcome = await runCellWebGpu({
 *   experiment: "demo", variant: "", seed: 0, backend: "webgpu",
 *   task: { name: "latch", params: { T: 20 } },
 *   model: { cell: "lstm", hiddenSize: 8, numLayers: 1, init: {}, dtype: "float32" },
 *   training: {
 *     optimizer: { name: "adam", lr: 1e-2 }, batchSize: 16, maxSequences: 1600, truncate: 0, logEvery: 10,
 *     stop: { kind: "never" },
 *   },
 *   measure: { testSequences: 256 },
 * });
 * console.log(outcome.status, outcome.test);
 * ```
 */
export async function runCellWebGpu(cell: Cell, opts: RunCellWebGpuOptions = {}): Promise<RunOutcome> {
  const start = performance.now();
  if (cell.model.dtype !== "float32") {
    throw new RangeError(`runCellWebGpu: model.dtype = "${cell.model.dtype}"; the WebGPU backend is float32 only`);
  }
  const task = createTask(cell.task.name, cell.task.params);
  const config = modelConfigOf(cell, task);
  const device = opts.device ?? await sharedDevice();
  const model = await WebGpuModel.create(config, { device });
  let mirror: Model | null = null; // the CPU model that measures gradient flow, created when first needed
  try {
    const gfSpec = cell.measure.gradientFlow;
    const gfBatch = gfSpec === undefined ? null : task.batch(new Rng(cell.seed, 3), gfSpec.batchSize);
    const gradientFlow: GradientFlow[] = [];
    const measureFlow = async (at: GradientFlow["at"]) => {
      if (gfBatch === null) return;
      mirror ??= cpuModel(config);
      mirror.params.set(await model.readParams());
      gradientFlow.push(measureGradientFlow(mirror, task, gfBatch, at));
    };
    if (gfSpec?.at.includes("init")) await measureFlow("init");

    const rec = new CellRecorder(cell, task, gradientFlow, opts.onProgress);
    const outcome = rec.outcome;
    const tr = cell.training;
    if (tr !== undefined) {
      const evalSets = evaluationSets(cell, task, new Rng(cell.seed, 4));
      const stop = rec.stop;
      // Rules that may stop at any step read back every step; the others only where something is measured.
      const anyStep = stop.kind === "accuracy" || stop.kind === "st3" || stop.kind === "loss";
      const result = await trainWebGpu(model, {
        ...trainOptionsOf(tr, task, new Rng(cell.seed, 1)),
        onStep: async (info) => {
          const due = rec.step(info);
          for (const at of due.checkpoints) await measureFlow(at);
          if (due.evaluate) {
            const threshold = (stop as { threshold: number }).threshold;
            for (const set of evalSets) {
              if (fractionCorrect(task, await model.forward(set.x, set.T, set.B), set) < threshold) return false;
            }
            return true;
          }
          return due.solved;
        },
        readOutputs: true,
        readEvery: anyStep ? 1 : 32,
        readAfter: (_step, sequences) => rec.eventDue(sequences),
      });
      rec.finish(result);
    }
    if (outcome.status !== "diverged") {
      if (gfSpec?.at.includes("end") && tr !== undefined) await measureFlow("end");
      if (cell.measure.testSequences > 0) {
        outcome.test = await testModel(model, task, new Rng(cell.seed, 2), cell.measure.testSequences);
      }
    }
    outcome.wallMs = performance.now() - start;
    return outcome;
  } finally {
    model.dispose();
    (mirror as Model | null)?.dispose();
  }
}

/** As `testModel` of run_cell.ts, with the forward passes on the GPU (one readback per test batch). */
async function testModel(model: WebGpuModel, task: Task, rng: Rng, n: number): Promise<TestMetrics> {
  const tally = new TestTally();
  for (const batch of testBatches(task, rng, n)) {
    const y = await model.forward(batch.x, batch.T, batch.B);
    const R = model.outputRows(batch.T, batch.B);
    tally.add(
      lossAndGradient(task.loss, R, model.outputWidth, y, batch.target, batch.mask ?? null, null),
      task.correct(y, batch),
    );
  }
  return tally.result();
}
