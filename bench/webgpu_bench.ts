/**
 * The training-step benchmark on WebGPU (`deno task bench --backend webgpu`): the configs and the fixed batch of
 * train_step_bench.ts, our `WebGpuModel` (forward + MSE loss + full BPTT + Adam fused in one command buffer by
 * `trainStep`), and TensorFlow.js 4.22's WebGPU backend (peers/tfjs_webgpu.ts) in the same process.
 *
 * Ours is timed three ways:
 * - step: `await model.trainStep(batch, ...)` — one step, one readback (loss and gradient norm), as tfjs's
 *   `trainOnBatch` reads back its loss: the comparable number;
 * - step, grouped: `submitTrainStep` ×16 then one `readSteps()`, per step — what a training loop that reads back
 *   every 16 steps (`train` on the GPU without `onStep`) pays; Deno's `mapAsync` costs ≥ ~10 ms however small, so on a fast
 *   GPU this is the throughput number;
 * - forward: `await model.forward(x, T, B)` (one readback of the outputs).
 * The time loops run per step or persistent (`--recurrence auto|steps|persistent`, several allowed, comma-separated).
 * Every timing obeys the per-peer budget (`--peer-budget`): on a software adapter (lavapipe) the large configs take
 * seconds per step, and the numbers only show that it runs.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import process from "node:process";

import { Adam } from "../lib/optim/adam.ts";
import { requestWebGpuDevice, type WebGpuContext } from "../lib/backend/webgpu/device.ts";
import { type RecurrenceMode, WebGpuModel } from "../lib/backend/webgpu/model.ts";
import type { Peer, PeerResult } from "./peers/tfjs.ts";
import { loadTfjsWebGpuPeer } from "./peers/tfjs_webgpu.ts";
import { type BenchConfig, fmtMs, makeBatch, table } from "./common.ts";
import { measure, type MeasureOptions, type Timing } from "./timing.ts";

/** The cells the benchmarks (and their peers) run. */
type CellType = "lstm" | "rnn";

/** Options, as parsed by train_step_bench.ts. */
export interface WebGpuBenchOptions {
  configs: BenchConfig[];
  cells: CellType[];
  peers: boolean;
  quick: boolean;
  peerBudgetMs: number;
  json?: string;
  recurrence: RecurrenceMode[];
}

/** Steps per readback in the grouped timing. */
const GROUP = 16;

interface OursWebGpu {
  recurrence: RecurrenceMode;
  /** Whether the time loops ran as one persistent dispatch (B·H small) or one dispatch per step. */
  persistent: boolean;
  buildMs: number;
  step: Timing;
  stepGrouped: Timing | null;
  forward: Timing | null;
  loss: number;
}

interface WebGpuCase {
  config: string;
  I: number;
  H: number;
  B: number;
  T: number;
  cell: CellType;
  ours: OursWebGpu[];
  peers: Record<string, PeerResult | { status: "unavailable"; reason: string } | { status: "error"; reason: string }>;
}

function timingCell(t: Timing | null, per = 1): string {
  if (t === null) return "not timed";
  if (t.ms === null) return `over budget (~${fmtMs(t.warmup.firstMs / per)})`;
  return fmtMs(t.ms / per);
}

async function runOurs(
  ctx: WebGpuContext,
  cfg: BenchConfig,
  cell: CellType,
  recurrence: RecurrenceMode,
  x: Float32Array,
  target: Float32Array,
  timing: Omit<MeasureOptions, "deadline">,
  budgetMs: number,
): Promise<OursWebGpu> {
  const { I, H, B, T } = cfg;
  const start = performance.now();
  const model = await WebGpuModel.create(
    { cell, inputSize: I, hiddenSize: H, outputSize: 1, readout: "last", seed: 0 },
    { device: ctx, recurrence },
  );
  const buildMs = performance.now() - start;
  try {
    const opt = new Adam({ lr: 1e-3 }), batch = { x, T, B, target };
    const opts = { loss: "mse" as const, optimizer: opt };
    let loss = NaN;
    const deadline = start + budgetMs;
    const step = await measure(async () => {
      loss = (await model.trainStep(batch, opts)).loss;
    }, { ...timing, deadline });
    let stepGrouped: Timing | null = null, forward: Timing | null = null;
    if (step.ms !== null && performance.now() < deadline) {
      stepGrouped = await measure(async () => {
        for (let i = 0; i < GROUP; i++) model.submitTrainStep(batch, opts);
        const r = await model.readSteps();
        loss = r[GROUP - 1].loss;
      }, { ...timing, warmupMs: 0, warmupCalls: 1, deadline });
    }
    if (step.ms !== null) {
      forward = await measure(() => model.forward(x, T, B), {
        ...timing,
        warmupMs: 0,
        warmupCalls: 1,
        deadline: performance.now() + budgetMs / 4,
      });
    }
    return { recurrence, persistent: model.usesPersistent(B), buildMs, step, stepGrouped, forward, loss };
  } finally {
    model.dispose();
  }
}

function report(results: WebGpuCase[], peerNames: string[], device: string): string {
  const out: string[] = [];
  out.push(`Training step on WebGPU (${device}), ms (median of timed runs)`);
  const rows: string[][] = [];
  for (const c of results) {
    for (const o of c.ours) {
      const peerCells = peerNames.map((p) => {
        const r = c.peers[p];
        if (r === undefined) return "—";
        if (r.status === "unavailable" || r.status === "error") return "n/a";
        if (r.status === "over-budget") return `over budget (~${fmtMs(r.step.warmup.firstMs)})`;
        return fmtMs(r.step.ms);
      });
      const ratios = peerNames.map((p) => {
        const r = c.peers[p];
        if (r === undefined || r.status === "unavailable" || r.status === "error") return "—";
        // Over budget (either side): the cold first calls stand in, and the ratio is marked approximate.
        const peerMs = r.status === "over-budget" ? r.step.warmup.firstMs : r.step.ms!;
        const oursMs = o.step.ms ?? o.step.warmup.firstMs;
        const x = peerMs / oursMs, approx = r.status === "over-budget" || o.step.ms === null;
        return `${approx ? "~" : ""}${x < 10 ? x.toFixed(1) : x.toFixed(0)}×`;
      });
      rows.push([
        `${c.config} (${c.I},${c.H},${c.B},${c.T})`,
        c.cell,
        `${o.recurrence}${o.persistent ? " (persistent)" : " (per step)"}`,
        timingCell(o.step),
        timingCell(o.stepGrouped, GROUP),
        timingCell(o.forward),
        ...peerCells,
        ...ratios,
      ]);
    }
  }
  out.push(table(
    [
      "config",
      "cell",
      "time loops",
      "ours step",
      `ours step (${GROUP}/readback)`,
      "ours fwd",
      ...peerNames,
      ...peerNames.map((p) => `× ${p}`),
    ],
    rows,
    3,
  ));
  out.push(
    "config (I,H,B,T); ours step: trainStep, one readback per step (as trainOnBatch); " +
      `ours step (${GROUP}/readback): ${GROUP} steps submitted, one readback, per step; ` +
      "× peer: peer ms/step ÷ ours step. over budget (~X): the cold first call took X ms and left no room to time; " +
      "~N×: a ratio using such cold first calls.",
  );
  return out.join("\n");
}

/**
 * Runs the WebGPU benchmark and prints its tables (and writes the JSON with `opts.json`).
 *
 * @example
 * ```ts
 * import { runWebGpuBench } from "./webgpu_bench.ts";
 * await runWebGpuBench({
 *   configs: [{ name: "tiny", I: 2, H: 8, B: 1, T: 100 }],
 *   cells: ["lstm"], peers: false, quick: true, peerBudgetMs: 5000, recurrence: ["auto"],
 * }, { runtime: "deno", date: new Date().toISOString() });
 * ```
 */
export async function runWebGpuBench(opts: WebGpuBenchOptions, machine: Record<string, unknown>): Promise<void> {
  const timing: Omit<MeasureOptions, "deadline"> = opts.quick
    ? { runs: 3, minRunMs: 20, warmupMs: 0, warmupCalls: 1 }
    : { runs: 7, minRunMs: 150, warmupMs: 300, warmupCalls: 3 };
  let ctx: WebGpuContext;
  try {
    ctx = await requestWebGpuDevice();
  } catch (e) {
    console.error(`--backend webgpu: ${(e as Error).message}`);
    process.exit(2);
  }
  const device = `${ctx.info.description}${ctx.info.isFallbackAdapter ? ", a software adapter" : ""}`;
  console.log(`WebGPU adapter: ${device}`);
  const budgetS = opts.peerBudgetMs / 1000;
  console.log(`budget: ${budgetS} s per model per case (ours and each peer) for build + warm-up + timed steps`);
  let peers: Peer[] = [];
  const unavailable: { name: string; reason: string }[] = [];
  if (opts.peers) {
    const loaded = await loadTfjsWebGpuPeer();
    peers = loaded.peers;
    unavailable.push(...loaded.unavailable);
    for (const p of peers) console.log(`peer ${p.name}: ${JSON.stringify(p.info)}`);
    for (const u of unavailable) console.log(`peer ${u.name}: not available: ${u.reason}`);
  } else {
    console.log("peers: skipped (--no-peers)");
  }
  const peerNames = opts.peers ? ["tfjs-webgpu"] : [];
  const results: WebGpuCase[] = [];
  for (const cfg of opts.configs) {
    const { x, target, xBatchFirst } = makeBatch(cfg);
    for (const cell of opts.cells) {
      const c: WebGpuCase = { config: cfg.name, I: cfg.I, H: cfg.H, B: cfg.B, T: cfg.T, cell, ours: [], peers: {} };
      for (const mode of opts.recurrence) {
        c.ours.push(await runOurs(ctx, cfg, cell, mode, x, target, timing, opts.peerBudgetMs));
      }
      let line = `${cfg.name.padEnd(6)} ${cell.padEnd(4)} ours: ${
        c.ours.map((o) =>
          `${o.recurrence}${o.persistent ? "/persistent" : "/steps"} ${timingCell(o.step)} ms/step, ` +
          `${timingCell(o.stepGrouped, GROUP)} ms/step grouped, ${timingCell(o.forward)} ms/fwd`
        ).join("; ")
      }`;
      for (const u of unavailable) c.peers[u.name] = { status: "unavailable", reason: u.reason };
      for (const peer of peers) {
        const job = { cell, I: cfg.I, H: cfg.H, B: cfg.B, T: cfg.T, x: xBatchFirst, target };
        try {
          const r = await peer.run(job, opts.peerBudgetMs, { ...timing, warmupMs: 0, warmupCalls: 1 });
          c.peers[peer.name] = r;
          line +=
            `; ${peer.name} ${
              r.status === "ok" ? fmtMs(r.step.ms) : `over budget (~${fmtMs(r.step.warmup.firstMs)})`
            }` +
            " ms/step";
        } catch (e) {
          c.peers[peer.name] = { status: "error", reason: (e as Error).message };
          line += `; ${peer.name} error: ${(e as Error).message}`;
        }
      }
      console.log(line);
      results.push(c);
    }
  }
  console.log("\n" + report(results, peerNames, device));
  if (opts.json !== undefined) {
    const doc = {
      machine: { ...machine, webgpu: ctx.info },
      backend: "webgpu",
      options: { ...opts, configs: opts.configs.map((c) => c.name) },
      timing,
      group: GROUP,
      peerInfo: Object.fromEntries(peers.map((p) => [p.name, p.info])),
      unavailable,
      configs: opts.configs,
      results,
    };
    writeFileSync(opts.json, JSON.stringify(doc, null, 2) + "\n");
    console.log(`\nwrote ${opts.json}`);
  }
  ctx.device.destroy();
}
