/**
 * BLAS threads against worker threads, on 2 cores (issue 11): throughput in training steps per second of
 * - one model with OpenBLAS on 1 thread,
 * - one model on 2 threads, each with one OpenBLAS thread and half the batch rows (`threading: "workers"`, the
 *   default),
 * - one model on 1 thread with OpenBLAS on 2 threads (`threading: "openblas"`),
 * - two models at once, each in its own worker thread with OpenBLAS on 1 thread (what a sweep runs: one cell per
 *   core),
 * - and the wasm kernels with 1 and 2 threads, for reference.
 *
 *   deno run -A bench/blas_threads.ts [--configs small,medium] [--seconds 3]
 *
 * @module
 */

import os from "node:os";
import process from "node:process";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { Adam, type CellType, cpuModel } from "../lib/mod.ts";
import { mseLoss } from "../lib/nn/loss.ts";
import { Model } from "../lib/nn/model.ts";
import type { CpuKernelChoice } from "../lib/backend/cpu/cpu_kernels.ts";
import { loadBlas } from "../lib/backend/cpu/blas.ts";
import { blasKernels, type BlasThreading } from "../lib/backend/cpu/blas_kernels.ts";
import { BENCH_CONFIGS, type BenchConfig, makeBatch, table } from "./common.ts";

interface Job {
  cfg: BenchConfig;
  cell: CellType;
  kernels: CpuKernelChoice;
  threads: number;
  threading?: BlasThreading;
  seconds: number;
}

/** Steps per second of one model, timed for `seconds` after 2 warm-up steps. */
async function stepsPerSecond(job: Job): Promise<number> {
  const { cfg, cell } = job, { I, H, B, T } = cfg, { x, target } = makeBatch(cfg);
  const config = { cell, inputSize: I, hiddenSize: H, outputSize: 1, kernels: job.kernels, threads: job.threads };
  const model = job.kernels === "blas"
    ? new Model(config, blasKernels("float32", { threads: job.threads, threading: job.threading }))
    : cpuModel(config);
  const opt = new Adam({ lr: 1e-3 });
  const step = () => {
    const y = model.forward(x, T, B);
    const dy = model.outputGrad();
    mseLoss(B, 1, y, target, null, dy);
    model.zeroGrad();
    model.backward(dy);
    opt.step(model.params, model.grads);
  };
  if (job.threads > 1) await new Promise((r) => setTimeout(r, 100));
  step();
  step();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < job.seconds * 1000) (step(), n++);
  const rate = n / ((performance.now() - t0) / 1000);
  model.dispose();
  return rate;
}

/** Two models at once, each in a worker thread: their summed steps per second. */
function twoWorkers(job: Job): Promise<number> {
  const run = () =>
    new Promise<number>((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: job });
      w.once("message", (r: number) => (resolve(r), w.terminate()));
      w.once("error", reject);
    });
  return Promise.all([run(), run()]).then(([a, b]) => a + b);
}

if (!isMainThread) {
  parentPort!.postMessage(await stepsPerSecond(workerData as Job));
} else {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { configs: { type: "string", default: "small,medium,wide" }, seconds: { type: "string", default: "3" } },
  });
  const seconds = Number(values.seconds);
  const configs = values.configs.split(",").map((n) => BENCH_CONFIGS.find((c) => c.name === n)!);
  const { blas, reason } = loadBlas();
  if (blas === null) {
    console.log(`no BLAS: ${reason}`);
    process.exit(0);
  }
  console.log(
    `${blas.version}; ${os.cpus().length} cores; load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`,
  );
  const rows: string[][] = [];
  for (const cfg of configs) {
    for (const cell of ["lstm", "rnn"] as CellType[]) {
      const base = { cfg, cell, seconds };
      const r = {
        wasm1: await stepsPerSecond({ ...base, kernels: "wasm", threads: 1 }),
        wasm2: await stepsPerSecond({ ...base, kernels: "wasm", threads: 2 }),
        blas1: await stepsPerSecond({ ...base, kernels: "blas", threads: 1 }),
        blas2: await stepsPerSecond({ ...base, kernels: "blas", threads: 2, threading: "workers" }),
        blas2ob: await stepsPerSecond({ ...base, kernels: "blas", threads: 2, threading: "openblas" }),
        workers: await twoWorkers({ ...base, kernels: "blas", threads: 1 }),
      };
      const f = (v: number) => v.toFixed(v < 10 ? 2 : 1);
      rows.push([cfg.name, cell, f(r.wasm1), f(r.wasm2), f(r.blas1), f(r.blas2), f(r.blas2ob), f(r.workers)]);
      console.log(rows.at(-1)!.join("  "));
    }
  }
  console.log("\nTraining steps per second (more is better)");
  console.log(
    table(["config", "cell", "wasm 1t", "wasm 2t", "blas 1t", "blas 2t", "blas 2ob", "2 models × blas 1t"], rows),
  );
}
