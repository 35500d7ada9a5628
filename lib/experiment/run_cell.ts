/**
 * Runs one sweep cell: builds the task and the model, measures gradient flow, trains until the stopping rule or the
 * budget, and tests on fresh sequences. A NaN or infinite loss or gradient marks the cell "diverged" and keeps
 * everything recorded until then. Deterministic: the model's weights come from stream 0 of the cell's seed, the
 * training data from stream 1, the test set from stream 2, the gradient-flow batch from stream 3.
 *
 * @module
 */

import type { Arr } from "../backend/kernels.ts";
import { spectralNorm, spectralRadius } from "../linalg.ts";
import { log } from "../math.ts";
import { lossAndGradient } from "../nn/loss.ts";
import { Model } from "../nn/model.ts";
import { Adam } from "../optim/adam.ts";
import type { Optimizer } from "../optim/optimizer.ts";
import { RMSProp } from "../optim/rmsprop.ts";
import { SGD } from "../optim/sgd.ts";
import { Rng } from "../rng.ts";
import { createTask } from "../tasks/registry.ts";
import type { Task, TaskBatch } from "../tasks/task.ts";
import { type StepInfo, train } from "../train.ts";
import type { Cell } from "./schema.ts";
import type { CurvePoint, GradientFlow, NormProfile, RunOutcome } from "./results.ts";

/** Progress of a running cell, reported about twice a second. */
export interface CellProgress {
  sequences: number;
  maxSequences: number;
  loss: number;
}

/** Options of `runCell`. */
export interface RunCellOptions {
  onProgress?: (p: CellProgress) => void;
}

/**
 * Runs a cell and returns its outcome (the runner adds identity and metadata and writes the file).
 *
 * @example
 * ```ts
 * import { runCell } from "./run_cell.ts";
 * const outcome = runCell({
 *   experiment: "demo", variant: "", seed: 0, backend: "cpu",
 *   task: { name: "adding", params: { T: 20 } },
 *   model: { cell: "lstm", hiddenSize: 8, numLayers: 1, init: {}, dtype: "float32" },
 *   measure: { testSequences: 256, gradientFlow: { at: ["init"], batchSize: 8 } },
 * });
 * outcome.gradientFlow[0].dh.median; // ‖∂L/∂h_t‖ per lag, at initialisation
 * ```
 */
export function runCell(cell: Cell, opts: RunCellOptions = {}): RunOutcome {
  const start = performance.now();
  const task = createTask(cell.task.name, cell.task.params);
  const model = new Model({
    cell: cell.model.cell,
    inputSize: task.inputSize,
    hiddenSize: cell.model.hiddenSize,
    numLayers: cell.model.numLayers,
    outputSize: task.outputSize,
    readout: task.readout,
    dtype: cell.model.dtype,
    init: cell.model.init,
    seed: cell.seed,
    threads: 1,
  });
  try {
    const gfSpec = cell.measure.gradientFlow;
    const gfBatch = gfSpec === undefined ? null : task.batch(new Rng(cell.seed, 3), gfSpec.batchSize);
    const gradientFlow: GradientFlow[] = [];
    const measureFlow = (at: GradientFlow["at"]) => {
      if (gfBatch !== null) gradientFlow.push(measureGradientFlow(model, task, gfBatch, at));
    };
    if (gfSpec?.at.includes("init")) measureFlow("init");

    const outcome: RunOutcome = {
      status: "measured",
      steps: 0,
      sequences: 0,
      sequencesToSuccess: null,
      curve: [],
      gradientFlow,
      test: null,
      baseline: { description: task.baseline.description, loss: task.baseline.loss, accuracy: task.baseline.accuracy },
      wallMs: 0,
    };
    const tr = cell.training;
    if (tr !== undefined) {
      const data = new Rng(cell.seed, 1);
      const checkpoints = (gfSpec?.at ?? []).filter((a): a is number => typeof a === "number").sort((a, b) => a - b);
      const stop = tr.stop;
      const window = stop.kind === "st3"
        ? stop.lastN
        : stop.kind === "accuracy" || stop.kind === "loss"
        ? stop.window
        : 0;
      const recent = new SequenceWindow(window);
      const evalSets = stop.kind === "evaluate"
        ? task.evaluationSets?.() ?? [task.batch(new Rng(cell.seed, 4), stop.sequences)]
        : [];
      let nextEval = stop.kind === "evaluate" ? stop.every : Infinity;
      let curveLoss = 0, curveNorm = 0, curveCorrect = 0, curveSeqs = 0, curveSteps = 0;
      let lastReport = performance.now();
      const onStep = (info: StepInfo): boolean => {
        const batch = info.batch as TaskBatch;
        const ok = task.correct(info.outputs, batch);
        let correct = 0;
        for (let b = 0; b < ok.length; b++) correct += ok[b];
        recent.push(batch.B, correct, info.loss);
        curveLoss += info.loss;
        curveNorm += info.gradNorm;
        curveCorrect += correct;
        curveSeqs += batch.B;
        curveSteps++;
        if (info.step % tr.logEvery === 0) {
          outcome.curve.push(
            curvePoint(info, curveLoss / curveSteps, curveCorrect / curveSeqs, curveNorm / curveSteps),
          );
          curveLoss =
            curveNorm =
            curveCorrect =
            curveSeqs =
            curveSteps =
              0;
        }
        while (checkpoints.length > 0 && info.sequences >= checkpoints[0]) {
          checkpoints.shift();
          measureFlow(info.sequences);
        }
        const now = performance.now();
        if (opts.onProgress !== undefined && now - lastReport > 500) {
          lastReport = now;
          opts.onProgress({ sequences: info.sequences, maxSequences: tr.maxSequences, loss: info.loss });
        }
        if (stop.kind === "evaluate") {
          if (info.sequences < nextEval) return false;
          while (nextEval <= info.sequences) nextEval += stop.every;
          return evalSets.every((set) => accuracyOn(model, task, set) >= stop.threshold);
        }
        return recent.full && solved(stop, recent);
      };
      const result = train(model, {
        loss: task.loss,
        optimizer: makeOptimizer(tr.optimizer),
        batches: () => task.batch(data, tr.batchSize),
        maxSequences: tr.maxSequences,
        clipNorm: tr.clipNorm,
        clipValue: tr.clipValue,
        truncate: tr.truncate,
        logEvery: Number.MAX_SAFE_INTEGER, // the curve is recorded in onStep, with accuracy
        onStep,
      });
      if (curveSteps > 0) {
        outcome.curve.push({
          step: result.steps,
          sequences: result.sequences,
          loss: curveLoss / curveSteps,
          accuracy: curveCorrect / curveSeqs,
          gradNorm: curveNorm / curveSteps,
        });
      }
      outcome.steps = result.steps;
      outcome.sequences = result.sequences;
      if (result.status === "diverged") {
        outcome.status = "diverged";
        outcome.diverged = { step: result.diverged!.step, what: result.diverged!.what };
      } else if (result.status === "solved") {
        outcome.status = "solved";
        outcome.sequencesToSuccess = result.sequences;
      } else {
        outcome.status = stop.kind === "never" ? "trained" : "not-solved";
      }
    }
    if (outcome.status !== "diverged") {
      if (gfSpec?.at.includes("end") && tr !== undefined) measureFlow("end");
      if (cell.measure.testSequences > 0) {
        outcome.test = testModel(model, task, new Rng(cell.seed, 2), cell.measure.testSequences);
      }
    }
    outcome.wallMs = performance.now() - start;
    return outcome;
  } finally {
    model.dispose();
  }
}

function curvePoint(info: StepInfo, loss: number, accuracy: number, gradNorm: number): CurvePoint {
  return { step: info.step, sequences: info.sequences, loss, accuracy, gradNorm };
}

/** The last `size` training sequences: how many were correct and their mean loss (batch losses weighted by B). */
class SequenceWindow {
  #batches: { n: number; correct: number; loss: number }[] = [];
  #n = 0;
  #correct = 0;
  #lossSum = 0;
  constructor(readonly size: number) {}
  push(n: number, correct: number, loss: number): void {
    this.#batches.push({ n, correct, loss });
    this.#n += n;
    this.#correct += correct;
    this.#lossSum += loss * n;
    // Drop whole batches while the rest still covers the window.
    while (this.#batches.length > 1 && this.#n - this.#batches[0].n >= this.size) {
      const old = this.#batches.shift()!;
      this.#n -= old.n;
      this.#correct -= old.correct;
      this.#lossSum -= old.loss * old.n;
    }
  }
  get full(): boolean {
    return this.size > 0 && this.#n >= this.size;
  }
  get accuracy(): number {
    return this.#correct / this.#n;
  }
  get loss(): number {
    return this.#lossSum / this.#n;
  }
}

function solved(stop: NonNullable<Cell["training"]>["stop"], w: SequenceWindow): boolean {
  switch (stop.kind) {
    case "st3":
      return w.loss < stop.beta && w.accuracy === 1;
    case "accuracy":
      return w.accuracy >= stop.threshold;
    case "loss":
      return w.loss <= stop.target;
    case "evaluate":
    case "never":
      return false;
  }
}

/** Fraction of a (fixed) set's sequences the model gets right. */
function accuracyOn(model: Model, task: Task, set: TaskBatch): number {
  const ok = task.correct(model.forward(set.x, set.T, set.B), set);
  let n = 0;
  for (let b = 0; b < ok.length; b++) n += ok[b];
  return n / ok.length;
}

function makeOptimizer(o: NonNullable<Cell["training"]>["optimizer"]): Optimizer {
  switch (o.name) {
    case "sgd":
      return new SGD({ lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay });
    case "rmsprop":
      return new RMSProp({
        lr: o.lr,
        alpha: o.alpha,
        eps: o.eps,
        momentum: o.momentum,
        centered: o.centered,
        weightDecay: o.weightDecay,
      });
    case "adam":
    case "adamw":
      return new Adam({
        lr: o.lr,
        betas: o.betas as [number, number] | undefined,
        eps: o.eps,
        weightDecay: o.weightDecay,
        decoupled: o.name === "adamw",
      });
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
  const G = model.config.cell === "lstm" ? 4 : 1, H = model.config.hiddenSize;
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
    q25.push(round(quantile(vals, 0.25)));
    median.push(round(quantile(vals, 0.5)));
    q75.push(round(quantile(vals, 0.75)));
    let s = 0;
    for (const x of vals) s += x > 0 ? log10(x) : -400;
    logMean.push(round(s / vals.length));
  }
  return { q25, median, q75, logMean };
}

const LN10 = log(10);
function log10(x: number): number {
  return log(x) / LN10;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Five significant digits: plenty for plots, and it keeps committed result files small. */
function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(5)) : x;
}

/**
 * Loss and criterion on `n` fresh sequences, in batches of up to 256; for a task whose paper fixes its sets
 * (`evaluationSets`), on all sequences of those sets instead.
 */
export function testModel(model: Model, task: Task, rng: Rng, n: number) {
  const fixed = task.evaluationSets?.() ?? null;
  let lossSum = 0, correct = 0, seen = 0;
  for (let i = 0; fixed === null ? seen < n : i < fixed.length; i++) {
    const batch = fixed === null ? task.batch(rng, Math.min(256, n - seen)) : fixed[i];
    const B = batch.B;
    const y = model.forward(batch.x, batch.T, B);
    const loss = lossAndGradient(
      task.loss,
      model.outputRows(),
      model.outputWidth,
      y,
      batch.target,
      batch.mask ?? null,
      null,
    );
    lossSum += loss * B;
    const ok = task.correct(y, batch);
    for (let b = 0; b < B; b++) correct += ok[b];
    seen += B;
  }
  return { sequences: seen, loss: lossSum / seen, accuracy: correct / seen, wrong: seen - correct };
}
