/**
 * The training loop of lib/train.ts on a `WebGpuModel`: same options, same result, same rules (a budget in steps or
 * sequences, a target loss checked at each log record, an `onStep` success criterion, "diverged" on a non-finite loss
 * or gradient with no update applied), with each step fused on the GPU (`WebGpuModel.submitTrainStep`).
 *
 * Readbacks cost about 10 ms each in Deno whatever their size, so steps are submitted in groups and their losses,
 * gradient norms (and, when `onStep` or `metric` is given, outputs) read back once per group:
 * - without `onStep`, up to `readEvery` (default 32) steps per readback, and always right after a step that ends a
 *   log interval when `targetLoss` is set: the result is exactly that of reading every step (a divergence stops the
 *   later updates of its group on the GPU);
 * - with `onStep` (which may stop the run), every step by default (`readEvery` 1). A larger `readEvery` is allowed;
 *   then steps submitted after the one that stopped the run have already been applied (up to readEvery - 1 more) —
 *   unless `readAfter` forces a readback at the steps where the caller needs to decide.
 *
 * @module
 */

import { type Batch, type StepInfo, TrainingRun, type TrainOptions, type TrainResult } from "../../train.ts";
import type { TrainStepResult, WebGpuModel } from "./model.ts";

/** Options of `trainWebGpu`: those of `train`, an `onStep` that may be async, and the readback policy. */
export interface WebGpuTrainOptions extends Omit<TrainOptions, "onStep"> {
  /** Called after every step, in order; return (or resolve to) true to stop with status "solved". */
  onStep?: (info: StepInfo) => boolean | void | Promise<boolean | void>;
  /** Steps submitted per readback (default 1 with `onStep`, else 32). */
  readEvery?: number;
  /**
   * Return true to read back right after the step that brings the run to (`step`, `sequences`): where the caller's
   * `onStep` needs the model as it is after exactly that step (a measurement, an evaluation).
   */
  readAfter?: (step: number, sequences: number) => boolean;
  /** Read back each step's outputs for `onStep` / `metric` (default: true when either is given). */
  readOutputs?: boolean;
  /** Read back the probes of each step (`StepInfo` gets no field for them; see `onResult`). */
  probes?: boolean;
  /** Called with each step's full readback (loss, gradient norm, outputs, probes) before `onStep`. */
  onResult?: (step: number, result: TrainStepResult) => void;
}

const EMPTY = new Float32Array(0);

/**
 * Trains a `WebGpuModel` in place (see the module doc); the result has the shape of `train`'s.
 *
 * @example
 * ```ts
 * import { WebGpuModel } from "./model.ts";
 * import { trainWebGpu } from "./train.ts";
 * import { Adam } from "../../optim/adam.ts";
 * import { Rng } from "../../rng.ts";
 * const model = await WebGpuModel.create({ cell: "lstm", inputSize: 1, hiddenSize: 8, outputSize: 1, seed: 0 });
 * const rng = new Rng(1), T = 5, B = 8;
 * const result = await trainWebGpu(model, {
 *   loss: "mse",
 *   optimizer: new Adam({ lr: 1e-2 }),
 *   maxSteps: 50,
 *   batches: () => {
 *     const x = rng.fillUniform(new Float32Array(T * B), -1, 1);
 *     return { x, T, B, target: x.slice(0, B) };
 *   },
 * });
 * console.log(result.status, result.history.at(-1));
 * model.dispose();
 * ```
 */
export async function trainWebGpu(model: WebGpuModel, opts: WebGpuTrainOptions): Promise<TrainResult> {
  const run = new TrainingRun("trainWebGpu", opts);
  const readEvery = opts.readEvery ?? (opts.onStep !== undefined ? 1 : 32);
  if (!(Number.isInteger(readEvery) && readEvery > 0)) {
    throw new RangeError(`trainWebGpu: readEvery = ${readEvery}, expected a positive integer`);
  }
  const readOutputs = opts.readOutputs ?? (opts.onStep !== undefined || opts.metric !== undefined);
  if (model.pendingSteps > 0) await model.readSteps(); // someone else's unread steps: not ours to report
  const stepOptions = {
    loss: opts.loss,
    optimizer: opts.optimizer,
    clipNorm: opts.clipNorm,
    clipValue: opts.clipValue,
    truncate: opts.truncate,
    probes: opts.probes,
    readOutputs,
  };
  let done = false;
  while (!done && run.withinBudget()) {
    // Submit a group of steps (the budget is counted on submitted steps, as train() counts taken ones).
    const group: Batch[] = [];
    let subSteps = run.step, subSequences = run.sequences;
    while (subSteps < run.maxSteps && subSequences < run.maxSequences) {
      const batch = opts.batches(subSteps);
      model.submitTrainStep(batch, stepOptions);
      group.push(batch);
      subSteps++;
      subSequences += batch.B;
      if (group.length >= readEvery) break;
      if (opts.readAfter?.(subSteps, subSequences)) break;
      if (opts.targetLoss !== undefined && subSteps % run.logEvery === 0) break;
    }
    const results = await model.readSteps();
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (r.diverged !== null) {
        run.diverge(r.diverged);
        done = true;
        break;
      }
      opts.onResult?.(run.step + 1, r);
      const info = run.stepTaken(group[i], r.loss, r.gradNorm, r.outputs ?? EMPTY);
      if ((await opts.onStep?.(info)) === true) {
        run.solve();
        done = true;
        break;
      }
      if (run.logIfDue()) {
        done = true;
        break;
      }
    }
  }
  return run.finish();
}
