/**
 * A worker thread of the experiment runner: receives cells, runs them (`run_cell.ts`) one at a time, and posts
 * progress and outcomes back. Each worker runs single-threaded kernels: the runner's parallelism is one cell per core.
 *
 * @module
 */

import { parentPort } from "node:worker_threads";
import { runCell } from "./run_cell.ts";
import type { Cell } from "./schema.ts";

/** Messages from the runner to a worker. */
export type ToWorker = { type: "run"; hash: string; cell: Cell };

/** Messages from a worker to the runner. */
export type FromWorker =
  | { type: "progress"; hash: string; sequences: number; maxSequences: number; loss: number }
  | { type: "done"; hash: string; outcome: ReturnType<typeof runCell> }
  | { type: "error"; hash: string; message: string };

const port = parentPort!;
port.on("message", (msg: ToWorker) => {
  if (msg.cell.backend === "webgpu") {
    runWebGpu(msg);
    return;
  }
  try {
    const outcome = runCell(msg.cell, {
      onProgress: (p) => port.postMessage({ type: "progress", hash: msg.hash, ...p } satisfies FromWorker),
    });
    port.postMessage({ type: "done", hash: msg.hash, outcome } satisfies FromWorker);
  } catch (e) {
    const err = e as Error;
    port.postMessage({ type: "error", hash: msg.hash, message: err.stack ?? String(err) } satisfies FromWorker);
  }
});

/** A WebGPU cell (run_cell_webgpu.ts, async; loaded only when needed): the same messages as a CPU cell. */
async function runWebGpu(msg: Extract<ToWorker, { type: "run" }>): Promise<void> {
  try {
    const { runCellWebGpu } = await import("./run_cell_webgpu.ts");
    const outcome = await runCellWebGpu(msg.cell, {
      onProgress: (p) => port.postMessage({ type: "progress", hash: msg.hash, ...p } satisfies FromWorker),
    });
    port.postMessage({ type: "done", hash: msg.hash, outcome } satisfies FromWorker);
  } catch (e) {
    const err = e as Error;
    port.postMessage({ type: "error", hash: msg.hash, message: err.stack ?? String(err) } satisfies FromWorker);
  }
}
