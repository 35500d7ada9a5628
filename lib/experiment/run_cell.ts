/**
 * Runs one sweep cell, on the backend the cell names (`cell.backend`, resolved before cells are expanded): builds the
 * task and the model, measures gradient flow, trains until the stopping rule or the budget, and tests on fresh
 * sequences. A NaN or infinite loss or gradient marks the cell "diverged" and keeps everything recorded until then.
 * Deterministic: the model's weights come from stream 0 of the cell's seed, the training data from stream 1, the
 * test set from stream 2, the gradient-flow batch from stream 3, the evaluation sets from stream 4.
 *
 * On the GPU (WebGPU), what differs is deliberate:
 * - numbers: float32 on the GPU, whose `exp`/`tanh` are its own: close to the CPU's, not bit-identical, so long
 *   runs drift apart like runs on two CPU architectures would (success or failure is what must agree);
 * - readbacks (each costs ≥ 10 ms in Deno): rules that can stop at any step (accuracy, st3, loss windows) read back
 *   every step; the others ("never", "evaluate") read back once per `readbackGroup` steps and right after each step
 *   where something is measured (gradient-flow checkpoints, evaluation points), which gives exactly the per-step
 *   result;
 * - gradient flow is measured by the CPU model loaded with the GPU's weights at that moment (one readback), so the
 *   measurement code is the same;
 * - the model must be float32 (the GPU backend has no float64).
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { cpuBackendFor, cpuModel } from "../backend/cpu/model.ts";
import { createModel } from "../backend/model.ts";
import { sharedWebGpuDevice, type WebGpuContext } from "../backend/webgpu/device.ts";
import { spectralNorm, spectralRadius } from "../linalg.ts";
import { log10 } from "../math.ts";
import { quantileSorted } from "../quantile.ts";
import { lossAndGradient } from "../nn/loss.ts";
import { gatesPerUnit } from "../nn/layer.ts";
import { Model } from "../nn/model.ts";
import type { TrainableModel } from "../nn/trainable.ts";
import { Rng } from "../rng.ts";
import { createTask } from "../tasks/registry.ts";
import type { Task, TaskBatch } from "../tasks/task.ts";
import { train } from "../train.ts";
import type { Cell } from "./schema.ts";
import type { GradientFlow, NormProfile, RunOutcome, TestMetrics } from "./results.ts";
import {
  type CellProgress,
  CellRecorder,
  evaluationSets,
  fractionCorrect,
  modelConfigOf,
  testBatches,
  TestTally,
  trainOptionsOf,
} from "./cell_training.ts";

export type { CellProgress };

const noted = new Set<string>();

/** The backend of a cell: a "cpu" cell whose cell has no wasm kernel runs on the reference kernels (said once). */
function cpuBackend(cell: Cell, config: ReturnType<typeof modelConfigOf>): "cpu" | "js" | "webgpu" {
  if (cell.backend !== "cpu") return cell.backend;
  const { backend, note } = cpuBackendFor(config);
  if (note !== null && !noted.has(note)) {
    noted.add(note);
    console.error(`note: ${note}`);
  }
  return backend;
}

/** Options of `runCell`. */
export interface RunCellOptions {
  onProgress?: (p: CellProgress) => void;
  /** The WebGPU device for a "webgpu" cell (default: one per process, created on first use, kept for later cells). */
  device?: WebGpuContext;
}

/**
 * Runs a cell and returns its outcome (the runner adds identity and metadata and writes the file).
 *
 * @example
 * ```ts
 * import { runCell } from "./run_cell.ts";
 * const outcome = await runCell({
 *   experiment: "demo", variant: "", seed: 0, backend: "cpu",
 *   task: { name: "adding", params: { T: 20 } },
 *   model: { cell: "lstm", hiddenSize: 8, numLayers: 1, init: {}, dtype: "float32" },
 *   measure: { testSequences: 256, gradientFlow: { at: ["init"], batchSize: 8 } },
 * });
 * outcome.gradientFlow[0].dh.median; // ‖∂L/∂h_t‖ per lag, at initialisation
 * ```
 */
export async function runCell(cell: Cell, opts: RunCellOptions = {}): Promise<RunOutcome> {
  const start = performance.now();
  if (cell.backend === "webgpu" && cell.model.dtype !== "float32") {
    throw new RangeError(`runCell: model.dtype = "${cell.model.dtype}"; the WebGPU backend is float32 only`);
  }
  const task = createTask(cell.task.name, cell.task.params);
  const config = modelConfigOf(cell, task);
  const device = cell.backend === "webgpu" ? opts.device ?? await sharedWebGpuDevice() : undefined;
  const model = await createModel({ ...config, backend: cpuBackend(cell, config) }, { device });
  // Gradient flow is measured by a CPU model: this one, or one loaded with the GPU's weights (created when needed).
  let mirror: Model | null = model instanceof Model ? model : null;
  try {
    const gfSpec = cell.measure.gradientFlow;
    const gfBatch = gfSpec === undefined ? null : task.batch(new Rng(cell.seed, 3), gfSpec.batchSize);
    const gradientFlow: GradientFlow[] = [];
    const measureFlow = async (at: GradientFlow["at"]) => {
      if (gfBatch === null) return;
      if (mirror !== model) {
        mirror ??= cpuModel(config);
        mirror.writeParams(await model.readParams());
      }
      gradientFlow.push(measureGradientFlow(mirror!, task, gfBatch, at));
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
      const result = await train(model, {
        ...trainOptionsOf(tr, task, new Rng(cell.seed, 1)),
        correct: (info) => rec.correct(info),
        onStep: async (info) => {
          const due = rec.step(info);
          for (const at of due.checkpoints) await measureFlow(at);
          if (due.evaluate && stop.kind === "evaluate") {
            for (const set of evalSets) {
              if (fractionCorrect(task, await model.forward(set.x, set.T, set.B), set) < stop.threshold) return false;
            }
            return true;
          }
          return due.solved;
        },
        readOutputs: true,
        readEvery: anyStep ? 1 : model.readbackGroup,
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
    if (mirror !== null && mirror !== model) mirror.dispose();
  }
}

/**
 * ‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖) of the top layer against the lag k = (step of the sequence's last scored row) - t, with
 * the loss at the last scored step of each sequence only, on a fixed batch; plus ‖W_hh‖₂ (and the RNN's spectral
 * radius) of every layer. Quantiles are over the batch's sequences.
 */
export function measureGradientFlow(model: Model, task: Task, batch: TaskBatch, at: GradientFlow["at"]): GradientFlow {
  const { T, B } = batch;
  const R = model.outputRows(T, B);
  // Loss at the last scored step of each sequence only.
  const lastRow = new Int32Array(B).fill(-1);
  if (task.readout === "last") {
    for (let b = 0; b < B; b++) lastRow[b] = T - 1;
  } else {
    const mask = batch.mask;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) if (mask === null || mask === undefined || mask[t * B + b] !== 0) lastRow[b] = t;
    }
  }
  let mask: Uint8Array | null = null;
  if (task.readout === "every") {
    mask = new Uint8Array(R);
    for (let b = 0; b < B; b++) if (lastRow[b] >= 0) mask[lastRow[b] * B + b] = 1;
  }
  const y = model.forward(batch.x, T, B);
  const dy = model.outputGrad();
  lossAndGradient(task.loss, R, model.outputWidth, y, batch.target, mask, dy);
  model.zeroGrad();
  const res = model.backward(dy, { probes: true });
  model.zeroGrad();
  const L = model.config.numLayers;
  const profile = (norms: Arr): NormProfile => normProfile(norms, T, B, lastRow);
  const G = gatesPerUnit(model.config.cell), H = model.config.hiddenSize;
  const layers = model.layers.map((_, l) => {
    const w = model.parameter(`rnn.weight_hh_l${l}`).value;
    const entry: { spectralNorm: number; spectralRadius?: number } = { spectralNorm: spectralNorm(w, G * H, H) };
    if (G === 1) entry.spectralRadius = spectralRadius(w, H);
    return entry;
  });
  return {
    at,
    T,
    B,
    layers,
    dh: profile(res.dhNorm![L - 1]),
    dc: res.dcNorm === null ? null : profile(res.dcNorm[L - 1]),
  };
}

/** Quantiles over sequences of the norms at each lag k = lastRow[b] - t (k = 0 at the scored step). */
function normProfile(norms: Arr, T: number, B: number, lastRow: Int32Array): NormProfile {
  const maxLag = Math.max(...lastRow) + 1;
  const q25: number[] = [], median: number[] = [], q75: number[] = [], logMean: number[] = [];
  const vals: number[] = [];
  for (let k = 0; k < maxLag; k++) {
    vals.length = 0;
    for (let b = 0; b < B; b++) {
      const t = lastRow[b] - k;
      if (t >= 0 && t < T) vals.push(norms[t * B + b]);
    }
    vals.sort((a, b) => a - b);
    q25.push(round(quantileSorted(vals, 0.25)));
    median.push(round(quantileSorted(vals, 0.5)));
    q75.push(round(quantileSorted(vals, 0.75)));
    let s = 0;
    for (const x of vals) s += x > 0 ? log10(x) : -400;
    logMean.push(round(s / vals.length));
  }
  return { q25, median, q75, logMean };
}

/** Five significant digits: plenty for plots, and it keeps committed result files small. */
function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(5)) : x;
}

/** Test loss and criterion (see `testBatches`: fresh sequences, or the task's fixed sets). */
export async function testModel(model: TrainableModel, task: Task, rng: Rng, n: number): Promise<TestMetrics> {
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
