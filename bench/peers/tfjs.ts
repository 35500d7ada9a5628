/**
 * The TensorFlow.js 4.22 peer, set up the way a tfjs user would: a `tf.sequential` of `tf.layers.lstm` (or
 * `tf.layers.simpleRNN`) with `inputShape: [T, I]` and a `tf.layers.dense({ units: 1 })` on its last output,
 * compiled with Adam and mean squared error; a training step is `model.trainOnBatch(x, y)` on a batch-first
 * (B, T, I) tensor (it resolves after the loss is read back, so the step is complete), a forward pass is
 * `model.predict(x)` followed by `dataSync()`. Layer defaults are kept (tfjs's LSTM uses hardSigmoid for its gates,
 * which is cheaper than the exact sigmoid ours and PyTorch use), except the recurrent initializer: tfjs's default
 * `orthogonal` takes 17 s (medium LSTM) to 2 minutes (wide LSTM) to build the model on the cpu backend, a one-off
 * cost that says nothing about a training step; `glorotUniform` (like the input weights) builds in milliseconds.
 *
 * Two backends run in this process: `cpu` (plain JS, from @tensorflow/tfjs) and `wasm`
 * (@tensorflow/tfjs-backend-wasm, its .wasm files loaded from node_modules through a file:// URL, no network).
 *
 * tfjs calls are synchronous under the hood and cannot be interrupted (and a terminated worker keeps running in Deno
 * 2.9), so the time budget is enforced between calls: building the model, the cold first training step and the timed
 * steps share the budget; a timed run starts only while the estimate says it fits. A peer whose first step leaves
 * no room for one timed step is "over budget". The forward pass is timed afterwards, within a quarter of the budget.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type * as TF from "@tensorflow/tfjs";
import { measure, type MeasureOptions, type Timing } from "../timing.ts";

/** One benchmark case, with the batch in tfjs's batch-first layout. */
export interface PeerJob {
  cell: "lstm" | "rnn";
  I: number;
  H: number;
  B: number;
  T: number;
  /** (B, T, I) */
  x: Float32Array;
  /** (B, 1) */
  target: Float32Array;
}

/** A peer's result on one case. */
export interface PeerResult {
  /** "over-budget": the first training step left no room for a timed one. */
  status: "ok" | "over-budget";
  /** ms to build and compile the model and upload the batch. */
  buildMs: number;
  step: Timing;
  /** null when the budget was spent on training steps. */
  forward: Timing | null;
  /** Loss after the last step (sanity: finite). */
  loss: number;
}

/** A loaded peer (one tfjs backend). */
export interface Peer {
  name: string;
  /** What the backend runs with (wasm: SIMD, threads, binary). */
  info: Record<string, unknown>;
  run(job: PeerJob, budgetMs: number, timing: Omit<MeasureOptions, "deadline">): Promise<PeerResult>;
}

/** The peers that load in this runtime, and why the others do not. */
export interface LoadedPeers {
  peers: Peer[];
  unavailable: { name: string; reason: string }[];
}

const NOISE = [/running TensorFlow\.js in Node\.js/, /^=+$/];

/** Runs fn with tfjs's advice to install tfjs-node (a native backend, not a wasm/JS one) kept off the console. */
async function quietly<T>(fn: () => T | Promise<T>): Promise<T> {
  const { warn, log } = console;
  const filter = (orig: (...a: unknown[]) => void) => (...a: unknown[]) => {
    const text = a.map(String).join(" ").trim();
    if (text !== "" && !NOISE.some((re) => re.test(text))) orig(...a);
  };
  console.warn = filter(warn);
  console.log = filter(log);
  try {
    return await fn();
  } finally {
    console.warn = warn;
    console.log = log;
  }
}

const WASM_DIR = new URL("../../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url);

/** Loads tfjs and its backends; a backend that fails to load is listed with the reason instead. */
export async function loadTfjsPeers(): Promise<LoadedPeers> {
  const unavailable: LoadedPeers["unavailable"] = [];
  let tf: typeof TF;
  try {
    tf = await import("@tensorflow/tfjs");
  } catch (e) {
    const reason = `@tensorflow/tfjs does not load: ${(e as Error).message} (run \`deno install\`)`;
    return { peers: [], unavailable: [{ name: "tfjs-cpu", reason }, { name: "tfjs-wasm", reason }] };
  }
  const peers: Peer[] = [];
  if (await quietly(() => tf.setBackend("cpu"))) peers.push(tfjsPeer(tf, "cpu", { version: tf.version.tfjs }));
  else unavailable.push({ name: "tfjs-cpu", reason: "tf.setBackend('cpu') failed" });
  try {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    if (!existsSync(fileURLToPath(WASM_DIR))) throw new Error(`${fileURLToPath(WASM_DIR)} is missing`);
    wasm.setWasmPaths(WASM_DIR.href);
    if (!(await quietly(() => tf.setBackend("wasm")))) throw new Error("tf.setBackend('wasm') failed");
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT") as boolean;
    const multithread = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT") as boolean;
    const info = {
      version: wasm.version_wasm,
      simd,
      threads: wasm.getThreadsCount(),
      binary: simd && multithread
        ? "tfjs-backend-wasm-threaded-simd.wasm"
        : simd
        ? "tfjs-backend-wasm-simd.wasm"
        : "tfjs-backend-wasm.wasm",
      note: multithread ? "" : "tfjs disables its threaded wasm build when IS_NODE (true in Deno and Bun)",
    };
    peers.push(tfjsPeer(tf, "wasm", info));
  } catch (e) {
    unavailable.push({ name: "tfjs-wasm", reason: (e as Error).message ?? String(e) });
  }
  return { peers, unavailable };
}

/**
 * The peer for one registered tfjs backend ("cpu", "wasm"; peers/tfjs_webgpu.ts uses it for "webgpu").
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { tfjsPeer } from "./tfjs.ts";
 * const peer = tfjsPeer(tf, "cpu", { version: tf.version.tfjs });
 * ```
 */
export function tfjsPeer(tf: typeof TF, backend: "cpu" | "wasm" | "webgpu", info: Record<string, unknown>): Peer {
  return {
    name: `tfjs-${backend}`,
    info,
    run: (job, budgetMs, timing) =>
      quietly(async () => {
        const start = performance.now();
        await tf.setBackend(backend);
        const { cell, I, H, B, T } = job;
        const model = tf.sequential();
        const recurrentInitializer = "glorotUniform"; // see the module doc
        model.add(
          cell === "lstm"
            ? tf.layers.lstm({ units: H, inputShape: [T, I], recurrentInitializer })
            : tf.layers.simpleRNN({ units: H, inputShape: [T, I], recurrentInitializer }),
        );
        model.add(tf.layers.dense({ units: 1 }));
        const optimizer = tf.train.adam(1e-3);
        model.compile({ optimizer, loss: "meanSquaredError" });
        const x = tf.tensor3d(job.x, [B, T, I]), y = tf.tensor2d(job.target, [B, 1]);
        const buildMs = performance.now() - start;
        let loss = NaN;
        const trainStep = async () => {
          loss = (await model.trainOnBatch(x, y)) as number;
        };
        const forward = backend === "webgpu"
          ? async () => { // tfjs-webgpu's dataSync needs OffscreenCanvas, which Deno lacks: read back asynchronously
            const out = model.predict(x) as TF.Tensor;
            await out.data();
            out.dispose();
          }
          : () => {
            const out = model.predict(x) as TF.Tensor;
            out.dataSync();
            out.dispose();
          };
        try {
          const step = await measure(trainStep, { ...timing, deadline: start + budgetMs });
          const fwdDeadline = performance.now() + budgetMs / 4;
          const fwd = step.ms === null ? null : await measure(forward, { ...timing, deadline: fwdDeadline });
          return { status: step.ms === null ? "over-budget" : "ok", buildMs, step, forward: fwd, loss };
        } finally {
          model.dispose();
          optimizer.dispose();
          x.dispose();
          y.dispose();
        }
      }),
  };
}
