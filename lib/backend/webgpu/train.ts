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

import type { Batch, LogRecord, StepInfo, TrainOptions, TrainResult, TrainStatus } from "../../train.ts";
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
  const maxSteps = opts.maxSteps ?? Infinity, maxSequences = opts.maxSequences ?? Infinity;
  if (maxSteps === Infinity && maxSequences === Infinity) {
    throw new RangeError("trainWebGpu: give a budget, maxSteps or maxSequences");
  }
  for (const [field, v] of [["maxSteps", opts.maxSteps], ["maxSequences", opts.maxSequences]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
      throw new RangeError(`trainWebGpu: ${field} = ${v}, expected a positive integer`);
    }
  }
  const logEvery = opts.logEvery ?? 100;
  if (!(Number.isInteger(logEvery) && logEvery > 0)) {
    throw new RangeError(`trainWebGpu: logEvery = ${logEvery}, expected a positive integer`);
  }
  const readEvery = opts.readEvery ?? (opts.onStep !== undefined ? 1 : 32);
  if (!(Number.isInteger(readEvery) && readEvery > 0)) {
    throw new RangeError(`trainWebGpu: readEvery = ${readEvery}, expected a positive integer`);
  }
  const readOutputs = opts.readOutputs ?? (opts.onStep !== undefined || opts.metric !== undefined);
  if (model.pendingSteps > 0) await model.readSteps(); // someone else's unread steps: not ours to report
  const start = performance.now();
  const history: LogRecord[] = [];
  let step = 0, sequences = 0, lossSum = 0, normSum = 0, pending = 0, lastMetric: number | undefined;
  let status: TrainStatus = "budget", diverged: TrainResult["diverged"];
  const log = () => {
    if (pending === 0) return;
    const record: LogRecord = {
      step,
      sequences,
      loss: lossSum / pending,
      gradNorm: normSum / pending,
      elapsedMs: performance.now() - start,
    };
    if (lastMetric !== undefined) record.metric = lastMetric;
    history.push(record);
    opts.onLog?.(record);
    lossSum = normSum = pending = 0;
    return record;
  };
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
  while (!done && step < maxSteps && sequences < maxSequences) {
    // Submit a group of steps (the budget is counted on submitted steps, as train() counts taken ones).
    const group: Batch[] = [];
    let subSteps = step, subSequences = sequences;
    while (subSteps < maxSteps && subSequences < maxSequences) {
      const batch = opts.batches(subSteps);
      model.submitTrainStep(batch, stepOptions);
      group.push(batch);
      subSteps++;
      subSequences += batch.B;
      if (group.length >= readEvery) break;
      if (opts.readAfter?.(subSteps, subSequences)) break;
      if (opts.targetLoss !== undefined && subSteps % logEvery === 0) break;
    }
    const results = await model.readSteps();
    for (let i = 0; i < results.length; i++) {
      const r = results[i], batch = group[i];
      if (r.diverged !== null) {
        (status = "diverged", diverged = { step: step + 1, what: r.diverged });
        done = true;
        break;
      }
      step++;
      sequences += batch.B;
      lossSum += r.loss;
      normSum += r.gradNorm;
      pending++;
      opts.onResult?.(step, r);
      const info: StepInfo = {
        step,
        sequences,
        loss: r.loss,
        gradNorm: r.gradNorm,
        outputs: r.outputs ?? EMPTY,
        batch,
      };
      if (opts.metric !== undefined) lastMetric = opts.metric(info);
      if ((await opts.onStep?.(info)) === true) {
        status = "solved";
        done = true;
        break;
      }
      if (step % logEvery === 0) {
        const record = log()!;
        if (opts.targetLoss !== undefined && record.loss <= opts.targetLoss) {
          status = "target-loss";
          done = true;
          break;
        }
      }
    }
  }
  log();
  return { status, steps: step, sequences, history, diverged, elapsedMs: performance.now() - start };
}
