/**
 * The sweep runner: expands an experiment, skips the cells already finished in the output folder, runs the rest on
 * worker threads (one cell per worker, one worker per core by default), writes each finished cell atomically, and
 * merges the tables at the end. Killing it (Ctrl-C, kill -9) loses at most the cells in flight; rerunning resumes.
 *
 * `shard: [k, n]` runs every n-th cell from the k-th (deterministic), so a large sweep spreads over a job array
 * (Slurm `--array`, a Kubernetes Indexed Job); shards write side by side into the same `cells/` folder. A cell is
 * claimed (`claim.ts`) before it is computed, so runs over the same folder at the same time share the work instead of
 * doubling it. The output folder is checked for writing before any cell runs; invalid cell files found there are
 * moved aside and their cells computed again (`results.ts`).
 *
 * @module
 */

import { existsSync, mkdirSync, unlinkSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Worker } from "node:worker_threads";
import { type BackendChoice, resolveBackend } from "../backend/select.ts";
import type { FromWorker, ToWorker } from "./cell_worker.ts";
import { type Claim, claimCell, HEARTBEAT_MS } from "./claim.ts";
import { Progress, type ProgressMode } from "./progress.ts";
import { type CellResult, cellsDir, finishedCells, mergeResults, runMeta, writeCellResult } from "./results.ts";
import { SCHEMA_VERSION } from "./schema.ts";
import { expandSweep, shardOf, type SweepCell } from "./sweep.ts";

/** Options of `runExperiment`. */
export interface RunOptions {
  /** Output folder of this experiment (cells/ and the merged tables go there). */
  outDir: string;
  /** Apply the experiment's quick profile. */
  quick?: boolean;
  /** Parallel cells (default: the number of cores). */
  workers?: number;
  /** Run shard k of n (1-based). */
  shard?: [number, number];
  /** Run only the cells whose label matches (e.g. /seqLen=100 /); the others stay as they are. */
  filter?: RegExp;
  /** Run nothing: only merge the cells already finished into the tables. */
  mergeOnly?: boolean;
  /** "cpu" (default), "webgpu", or "auto" (WebGPU where an adapter exists): resolved once, before the cells. */
  backend?: BackendChoice;
  /** Where the experiment came from (error messages). */
  source?: string;
  /** Progress on stderr: "tty" (one updating line), "plain" (lines), "json" (JSON lines), "none". */
  progress?: ProgressMode;
  /** Refuse sweeps of more cells than this (default `MAX_CELLS` of sweep.ts). */
  maxCells?: number;
  /** Why results may be written from a working tree with uncommitted changes (recorded in each cell's meta). */
  dirtyReason?: string;
}

/** The output folder cannot be written (checked before any cell runs). */
export class OutDirError extends Error {
  constructor(readonly outDir: string, cause: unknown) {
    const e = cause as { code?: string; message?: string };
    super(
      `${outDir}: the output folder is not writable (${e.code ?? String(e.message ?? cause).split("\n")[0]}); ` +
        `nothing was run: choose another --out`,
    );
    this.name = "OutDirError";
  }
}

/** Creates the output folder and its cells/ and writes a probe file there, or throws an OutDirError. */
function checkWritable(outDir: string): void {
  try {
    const dir = cellsDir(outDir);
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.probe.${process.pid}.${Date.now()}`);
    writeFileSync(probe, "");
    unlinkSync(probe);
  } catch (e) {
    throw new OutDirError(outDir, e);
  }
}

/** What a run did. */
export interface RunSummary {
  experiment: string;
  outDir: string;
  /** Cells in the sweep (all shards). */
  total: number;
  /** Cells of this shard. */
  selected: number;
  /** Cells found finished and skipped. */
  skipped: number;
  /** Cells run and written now. */
  ran: number;
  /** Cells that failed with an error (not written; a rerun retries them). */
  failed: { label: string; message: string }[];
  /** Cells left to another run that held them (claimed, or finished meanwhile). */
  elsewhere: number;
  /** Whether every cell of the sweep is now finished (then the merged tables are complete). */
  complete: boolean;
}

/**
 * Runs an experiment (a parsed experiment file) into `opts.outDir`.
 *
 * @example
 * ```ts
 * import { runExperiment } from "./runner.ts";
 * import experiment from "../../experiments/gradient_flow.ts";
 * const summary = await runExperiment(experiment, { outDir: "results/_runs/gradient-flow-quick", quick: true });
 * console.log(summary.ran, "cells run,", summary.skipped, "already done");
 * ```
 */
export async function runExperiment(experiment: unknown, opts: RunOptions): Promise<RunSummary> {
  const { backend } = await resolveBackend(opts.backend ?? "cpu");
  const cells = expandSweep(experiment, {
    quick: opts.quick,
    backend,
    source: opts.source,
    maxCells: opts.maxCells,
  });
  const name = cells[0].config.experiment;
  checkWritable(opts.outDir);
  const sharded = opts.shard ? shardOf(cells, opts.shard[0], opts.shard[1]) : cells;
  const selected = opts.filter ? sharded.filter((c) => opts.filter!.test(c.label)) : sharded;
  const done = finishedCells(opts.outDir, new Set(selected.map((c) => c.hash)));
  const todo = opts.mergeOnly ? [] : selected.filter((c) => !done.has(c.hash));
  const progress = new Progress(opts.progress ?? "plain", name, selected.length, selected.length - todo.length);
  const failed: RunSummary["failed"] = [];
  const counts = { ran: 0, elsewhere: 0 };
  if (todo.length > 0) {
    const workers = Math.max(1, Math.min(opts.workers ?? cpus().length, todo.length));
    await runCells(todo, workers, opts.outDir, backend, progress, failed, counts, opts.dirtyReason);
  }
  const merged = mergeResults(opts.outDir, {
    experiment: name,
    profile: opts.quick ? "quick" : "full",
    cells: cells.map((c) => ({ hash: c.hash, label: c.label })),
  });
  progress.finish(opts.outDir, merged.complete);
  return {
    experiment: name,
    outDir: opts.outDir,
    total: cells.length,
    selected: selected.length,
    skipped: selected.length - todo.length,
    ran: counts.ran,
    failed,
    elsewhere: counts.elsewhere,
    complete: merged.complete,
  };
}

function runCells(
  todo: SweepCell[],
  nWorkers: number,
  outDir: string,
  backend: string,
  progress: Progress,
  failed: RunSummary["failed"],
  counts: { ran: number; elsewhere: number },
  dirtyReason: string | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const queue = [...todo];
    const byHash = new Map(todo.map((c) => [c.hash, c]));
    const claims = new Map<string, Claim>();
    const heartbeat = setInterval(() => claims.forEach((c) => c.touch()), HEARTBEAT_MS);
    const releaseAll = () => {
      clearInterval(heartbeat);
      claims.forEach((c) => c.release());
      claims.clear();
    };
    let active = 0;
    const workers: Worker[] = [];
    // The next cell no other run has finished or holds, claimed for this run.
    const next = (): SweepCell | undefined => {
      for (let cell = queue.shift(); cell !== undefined; cell = queue.shift()) {
        const claim = existsSync(join(cellsDir(outDir), `${cell.hash}.json`))
          ? null
          : claimCell(cellsDir(outDir), cell.hash);
        if (claim !== null) {
          claims.set(cell.hash, claim);
          return cell;
        }
        counts.elsewhere++;
      }
      return undefined;
    };
    const dispatch = (w: Worker) => {
      const cell = next();
      if (cell === undefined) {
        w.terminate(); // idle: nothing to clean up
        if (--active === 0) {
          releaseAll();
          resolve();
        }
        return;
      }
      progress.started(cell.hash, cell.label);
      w.postMessage({ type: "run", hash: cell.hash, cell: cell.config } satisfies ToWorker);
    };
    for (let i = 0; i < nWorkers; i++) {
      const w = new Worker(new URL("./cell_worker.ts", import.meta.url));
      workers.push(w);
      active++;
      w.on("message", (msg: FromWorker) => {
        const cell = byHash.get(msg.hash)!;
        if (msg.type === "progress") {
          progress.update(msg.hash, msg.sequences / msg.maxSequences, msg.loss);
          return;
        }
        if (msg.type === "done") {
          const result: CellResult = {
            schema: "lstm-lab/cell",
            version: SCHEMA_VERSION,
            hash: cell.hash,
            label: cell.label,
            axes: cell.axes,
            config: cell.config,
            meta: runMeta(backend, dirtyReason),
            ...msg.outcome,
          };
          try {
            writeCellResult(outDir, result);
            counts.ran++;
            progress.finished(msg.hash, result.status);
          } catch (e) {
            const message = `writing its result failed: ${(e as Error).message}`;
            failed.push({ label: cell.label, message });
            progress.failed(msg.hash, message);
          }
        } else {
          failed.push({ label: cell.label, message: msg.message });
          progress.failed(msg.hash, msg.message);
        }
        claims.get(msg.hash)?.release();
        claims.delete(msg.hash);
        dispatch(w);
      });
      w.on("error", (e) => {
        for (const other of workers) other.terminate();
        releaseAll();
        reject(e);
      });
      dispatch(w);
    }
  });
}
