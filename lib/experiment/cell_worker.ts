/**
 * A worker thread of the experiment runner: receives cells, runs them (`run_cell.ts`, on the cell's backend) one at a
 * time, and posts progress and outcomes back. Each worker runs single-threaded kernels: the runner's parallelism is one cell per core.
 *
 * @module
 */

import { parentPort } from "node:worker_threads";
import { runCell } from "./run_cell.ts";
import type { RunOutcome } from "./results.ts";
import type { Cell } from "./schema.ts";

/** Messages from the runner to a worker. */
export type ToWorker = { type: "run"; hash: string; cell: Cell };

/** Messages from a worker to the runner. */
export type FromWorker =
  | { type: "progress"; hash: string; sequences: number; maxSequences: number; loss: number }
  | { type: "done"; hash: string; outcome: RunOutcome }
  | { type: "error"; hash: string; message: string };

const port = parentPort!;
port.on("message", async (msg: ToWorker) => {
  try {
    const outcome = await runCell(msg.cell, {
      onProgress: (p) => port.postMessage({ type: "progress", hash: msg.hash, ...p } satisfies FromWorker),
    });
    port.postMessage({ type: "done", hash: msg.hash, outcome } satisfies FromWorker);
  } catch (e) {
    const err = e as Error;
    port.postMessage({ type: "error", hash: msg.hash, message: err.stack ?? String(err) } satisfies FromWorker);
  }
});
