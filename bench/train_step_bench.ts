/**
 * Training-step benchmark: one single-layer LSTM or tanh RNN, readout from the last hidden state to 1 output, MSE
 * loss, Adam — ms per training step (forward + loss + BPTT + Adam) and per forward pass, for our float32 wasm
 * kernels with 1 and 2 threads, and for TensorFlow.js 4.22 (cpu and wasm backends) in the same process on the same
 * fixed batch. Also the activation memory our model holds for BPTT against the minimum BPTT needs.
 *
 *   deno task bench [--configs tiny,small] [--cells lstm,rnn] [--no-peers] [--quick] [--json out.json]
 *   bun run bench/train_step_bench.ts [same options]
 *   deno task bench --backend webgpu [same options] [--recurrence auto,steps,persistent]   (webgpu_bench.ts)
 *
 * See bench/README.md.
 *
 * @module
 */

import { cpuModel } from "../lib/backend/cpu/model.ts";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import process from "node:process";
import { parseArgs } from "node:util";
import { Adam } from "../lib/mod.ts";
import { mseLoss } from "../lib/nn/loss.ts";
import type { WasmKernels } from "../lib/backend/cpu/wasm_kernels.ts";
import { loadTfjsPeers, type Peer, type PeerResult } from "./peers/tfjs.ts";
import { BENCH_CONFIGS, type BenchConfig, fmtMs, makeBatch, table } from "./common.ts";
import { measure, type MeasureOptions, sleep, type Timing } from "./timing.ts";

/** The cells the benchmarks (and their peers) run. */
type CellType = "lstm" | "rnn" | "gru";

/** The default cells (with peers) and every cell `--cells` accepts (the GRU: ours only, the peers run lstm and rnn). */
const CELLS: CellType[] = ["lstm", "rnn"];
const ALL_CELLS: CellType[] = ["lstm", "rnn", "gru"];
const THREADS = [1, 2];
/** Largest acceptable ratio of activation memory to the BPTT minimum (the issue's requirement). */
const MEMORY_RATIO_LIMIT = 1.3;

const USAGE = `usage: deno task bench [options]   |   bun run bench/train_step_bench.ts [options]
  --configs a,b      configs to run (${BENCH_CONFIGS.map((c) => c.name).join(",")}; default all)
  --cells a,b        cells to run (lstm,rnn,gru; default lstm,rnn; gru has no tfjs peer here)
  --no-peers         skip TensorFlow.js
  --quick            fewer, shorter runs (CI smoke test)
  --peer-budget s    seconds per peer per case for building the model, warm-up and timed training steps
                     (default 20; the forward pass gets a quarter more)
  --json file        write all results and machine info as JSON
  --backend name     cpu (default: our wasm kernels, tfjs cpu and wasm) or webgpu (Deno: our WebGPU model and
                     tfjs-webgpu, same configs and batch; see webgpu_bench.ts)
  --recurrence a,b   webgpu only: time loops auto (default), steps (one dispatch per step), persistent`;

interface OursResult {
  threads: number;
  /**
   * Process CPU time over wall time while timing the step (JSON only). Waiting threads spin, so with 2 threads it is
   * about 2 whenever the workers run, whatever the speed-up; about 1 would mean they never started.
   */
  stepCpuPerWall: number;
  step: Timing;
  forward: Timing;
  loss: number;
}

interface MemoryResult {
  /** Bytes allocated in the kernel set before the first forward pass (parameters, gradients, weight copies). */
  beforeBytes: number;
  /** ... and after one training step. */
  afterBytes: number;
  /** afterBytes - beforeBytes: what the model holds for the sequence (activations, their gradients, x, y). */
  activationBytes: number;
  /** float32 bytes BPTT needs at minimum: gates T·B·G·H + h (T+1)·B·H (+ c (T+1)·B·H for the LSTM). */
  minimumBytes: number;
  ratio: number;
  /** Size of the kernel set's WebAssembly memory (reserved, grows in steps). */
  memoryBytes: number;
}

interface CaseResult {
  config: string;
  I: number;
  H: number;
  B: number;
  T: number;
  cell: CellType;
  ours: OursResult[];
  memory: MemoryResult;
  peers: Record<string, PeerResult | { status: "unavailable"; reason: string }>;
}

function parseOptions() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      configs: { type: "string" },
      cells: { type: "string" },
      "no-peers": { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      "peer-budget": { type: "string", default: "20" },
      json: { type: "string" },
      backend: { type: "string", default: "cpu" },
      recurrence: { type: "string", default: "auto" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const pick = <T>(list: string | undefined, all: T[], key: (t: T) => string, what: string): T[] => {
    if (list === undefined) return all;
    return list.split(",").map((name) => {
      const found = all.find((t) => key(t) === name.trim());
      if (found === undefined) throw new RangeError(`--${what}: unknown "${name}"; have ${all.map(key).join(", ")}`);
      return found;
    });
  };
  const budgetS = Number(values["peer-budget"]);
  if (!(budgetS > 0)) throw new RangeError(`--peer-budget: ${values["peer-budget"]} is not a positive number`);
  return {
    configs: pick(values.configs, BENCH_CONFIGS, (c) => c.name, "configs"),
    cells: values.cells === undefined ? CELLS : pick(values.cells, ALL_CELLS, (c) => c, "cells"),
    peers: !values["no-peers"],
    quick: values.quick,
    peerBudgetMs: budgetS * 1000,
    json: values.json,
    backend: pick(values.backend, ["cpu", "webgpu"], (b) => b, "backend")[0],
    recurrence: pick(values.recurrence, ["auto", "steps", "persistent"] as const, (r) => r, "recurrence"),
  };
}

type Options = ReturnType<typeof parseOptions>;

function timingFor(quick: boolean): Omit<MeasureOptions, "deadline"> {
  return quick
    ? { runs: 3, minRunMs: 20, warmupMs: 0, warmupCalls: 1 }
    : { runs: 7, minRunMs: 150, warmupMs: 300, warmupCalls: 3 };
}

/** Times our model on one case with `threads` threads; with `memory`, also measures what it allocates. */
async function runOurs(
  cfg: BenchConfig,
  cell: CellType,
  threads: number,
  x: Float32Array,
  target: Float32Array,
  timing: Omit<MeasureOptions, "deadline">,
  memory: MemoryResult[] | null,
): Promise<OursResult> {
  const { I, H, B, T } = cfg;
  const model = cpuModel({ cell, inputSize: I, hiddenSize: H, outputSize: 1, readout: "last", threads, seed: 0 });
  const kernels = model.kernels as WasmKernels;
  const opt = new Adam({ lr: 1e-3 });
  let loss = NaN;
  const step = () => {
    const y = model.forward(x, T, B);
    const dy = model.outputGrad();
    loss = mseLoss(B, 1, y, target, null, dy);
    model.zeroGrad();
    model.backward(dy);
    opt.step(model.params, model.grads);
  };
  try {
    if (threads > 1) await sleep(100); // let the worker threads start (until then calls run on this thread)
    const before = kernels.usedBytes;
    step();
    if (memory !== null) {
      // BPTT keeps the gates (G·H per row), the states h (and c) and, for the GRU, the hidden part W_hh h + b_hh (3H)
      const after = kernels.usedBytes, states = cell === "lstm" ? 2 : 1;
      const G = cell === "lstm" ? 4 : cell === "gru" ? 6 : 1;
      const minimumBytes = 4 * (T * B * G * H + states * (T + 1) * B * H);
      memory.push({
        beforeBytes: before,
        afterBytes: after,
        activationBytes: after - before,
        minimumBytes,
        ratio: (after - before) / minimumBytes,
        memoryBytes: kernels.memory.buffer.byteLength,
      });
    }
    const cpu0 = process.cpuUsage(), t0 = performance.now();
    const stepTiming = await measure(step, timing);
    const cpu = process.cpuUsage(cpu0), stepCpuPerWall = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
    const forwardTiming = await measure(() => model.forward(x, T, B), timing);
    return { threads, stepCpuPerWall, step: stepTiming, forward: forwardTiming, loss };
  } finally {
    model.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------- reporting

function fmtBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

function bestOurs(c: CaseResult): number {
  return Math.min(...c.ours.map((o) => o.step.ms ?? Infinity));
}

function peerStepCell(r: CaseResult["peers"][string] | undefined): string {
  if (r === undefined) return "—";
  if (r.status === "unavailable") return "n/a";
  if (r.status === "over-budget") return `over budget (~${fmtMs(r.step.warmup.firstMs)} ms/step)`;
  return `${fmtMs(r.step.ms)}`;
}

function ratioCell(c: CaseResult, peer: string): string {
  const r = c.peers[peer], ours = bestOurs(c);
  if (r === undefined || r.status === "unavailable") return "—";
  if (r.status === "over-budget") return `~${(r.step.warmup.firstMs / ours).toFixed(0)}×`;
  const x = r.step.ms! / ours;
  return `${x < 10 ? x.toFixed(1) : x.toFixed(0)}×`;
}

function report(results: CaseResult[], peerNames: string[]): string {
  const out: string[] = [];
  const cfgOf = (c: CaseResult) => BENCH_CONFIGS.find((k) => k.name === c.config)!;
  const ms = (c: CaseResult, threads: number, what: "step" | "forward") =>
    c.ours.find((o) => o.threads === threads)?.[what].ms ?? null;
  out.push("Training step, ms (median of timed runs; ours = float32 wasm kernels)");
  out.push(table(
    [
      "config",
      "cell",
      "ours 1t",
      "ours 2t",
      "ours fwd",
      ...peerNames,
      ...peerNames.map((p) => `× ${p}`),
      "target (LSTM)",
      "PyTorch 1.13*",
    ],
    results.map((c) => {
      const cfg = cfgOf(c), best = bestOurs(c), lstm = c.cell === "lstm";
      const fwd = Math.min(...c.ours.map((o) => o.forward.ms ?? Infinity));
      return [
        `${c.config} (${c.I},${c.H},${c.B},${c.T})`,
        c.cell,
        fmtMs(ms(c, 1, "step")),
        fmtMs(ms(c, 2, "step")),
        fmtMs(Number.isFinite(fwd) ? fwd : null),
        ...peerNames.map((p) => peerStepCell(c.peers[p])),
        ...peerNames.map((p) => ratioCell(c, p)),
        lstm ? `≤ ${cfg.targetMs} ${best <= cfg.targetMs ? "met" : "MISSED"}` : "",
        lstm ? String(cfg.torchMs) : "",
      ];
    }),
  ));
  out.push(
    "config (I,H,B,T); ours 1t / 2t: threads = 1 / 2; ours fwd: forward pass, best thread count; " +
      "× peer: peer ms/step ÷ ours (best) ms/step.",
    "over budget (~X ms/step): the peer's cold first step took X ms and left no room for a timed step in its budget; " +
      "~N× uses X.",
    "* PyTorch 1.13 LSTM training step on this machine type, as reported in the issue by its author — not rerun here.",
  );
  out.push("", "Forward pass, ms");
  out.push(table(
    ["config", "cell", "ours 1t", "ours 2t", ...peerNames],
    results.map((c) => [
      c.config,
      c.cell,
      fmtMs(ms(c, 1, "forward")),
      fmtMs(ms(c, 2, "forward")),
      ...peerNames.map((p) => {
        const r = c.peers[p];
        if (r === undefined) return "—";
        if (r.status === "unavailable") return "n/a";
        if (r.status === "over-budget") return "not timed";
        return r.forward?.ms != null ? fmtMs(r.forward.ms) : "over budget";
      }),
    ]),
  ));
  out.push("", "Activation memory of our model for BPTT (after one training step, threads = 1)");
  out.push(table(
    ["config", "cell", "held", "BPTT minimum", "ratio", "requirement", "wasm memory"],
    results.map((c) => {
      const m = c.memory, applies = c.cell === "lstm" && c.config === "long";
      return [
        c.config,
        c.cell,
        fmtBytes(m.activationBytes),
        fmtBytes(m.minimumBytes),
        `${m.ratio.toFixed(3)}×`,
        applies ? `≤ ${MEMORY_RATIO_LIMIT}× ${m.ratio <= MEMORY_RATIO_LIMIT ? "met" : "MISSED"}` : "",
        fmtBytes(m.memoryBytes),
      ];
    }),
  ));
  out.push(
    "held: kernel-set bytes allocated after the step minus before the first forward (parameters, gradients and " +
      "weight copies excluded; Adam's state is in JS memory); minimum: float32 gates T·B·G·H + h (T+1)·B·H " +
      "(+ c (T+1)·B·H, LSTM); wasm memory: the kernel set's whole WebAssembly memory (parameters included, grown " +
      "in steps).",
  );
  return out.join("\n");
}

function machineInfo() {
  let cpuModel = os.cpus()[0]?.model ?? "unknown";
  try {
    const m = readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m);
    if (m) cpuModel = m[1].trim();
  } catch { /* not Linux */ }
  const g = globalThis as { Deno?: { version: { deno: string; v8: string } }; Bun?: { version: string } };
  const runtime = g.Bun
    ? `bun ${g.Bun.version}`
    : g.Deno
    ? `deno ${g.Deno.version.deno} (v8 ${g.Deno.version.v8})`
    : `node ${process.version}`;
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    if (dirty.trim() !== "") commit += " (with uncommitted changes)";
  } catch { /* no git */ }
  return {
    date: new Date().toISOString(),
    runtime,
    platform: `${os.platform()} ${os.arch()}`,
    cores: os.cpus().length,
    cpuModel,
    memoryBytes: os.totalmem(),
    loadavg: os.loadavg(),
    commit,
  };
}

// ---------------------------------------------------------------------------------------------------- main

async function main() {
  let opts: Options;
  try {
    opts = parseOptions();
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  const machine = machineInfo();
  if (opts.backend === "webgpu") {
    console.log(
      `train-step bench, WebGPU — ${machine.runtime}, ${machine.cores} cores, ${machine.cpuModel}, ${machine.date}`,
    );
    console.log(`commit ${machine.commit}; args: ${process.argv.slice(2).join(" ")}`);
    const { runWebGpuBench } = await import("./webgpu_bench.ts");
    const gpuCells = opts.cells.filter((c): c is "lstm" | "rnn" => c !== "gru");
    if (gpuCells.length < opts.cells.length) console.log("gru: not on WebGPU (its WGSL kernels are not written)");
    return await runWebGpuBench({ ...opts, cells: gpuCells }, machine);
  }
  const timing = timingFor(opts.quick);
  console.log(`train-step bench — ${machine.runtime}, ${machine.cores} cores, ${machine.cpuModel}, ${machine.date}`);
  console.log(`commit ${machine.commit}; args: ${process.argv.slice(2).join(" ") || "(none)"}`);
  console.log(`load average at start: ${machine.loadavg.map((l) => l.toFixed(2)).join(" ")}`);

  let peers: Peer[] = [];
  const unavailable: { name: string; reason: string }[] = [];
  if (opts.peers) {
    const loaded = await loadTfjsPeers();
    peers = loaded.peers;
    unavailable.push(...loaded.unavailable);
    for (const p of peers) console.log(`peer ${p.name}: ${JSON.stringify(p.info)}`);
    for (const u of unavailable) console.log(`peer ${u.name}: not available in ${machine.runtime}: ${u.reason}`);
    console.log(
      `peer budget: ${opts.peerBudgetMs / 1000} s per peer per case for build + warm-up + training steps, ` +
        `then ${opts.peerBudgetMs / 4000} s for forward passes`,
    );
  } else {
    console.log("peers: skipped (--no-peers)");
  }
  const peerNames = opts.peers ? ["tfjs-cpu", "tfjs-wasm"] : [];

  const results: CaseResult[] = [];
  for (const cfg of opts.configs) {
    const { x, target, xBatchFirst } = makeBatch(cfg);
    for (const cell of opts.cells) {
      const memory: MemoryResult[] = [];
      const ours: OursResult[] = [];
      for (const threads of THREADS) {
        ours.push(await runOurs(cfg, cell, threads, x, target, timing, threads === 1 ? memory : null));
      }
      const c: CaseResult = {
        config: cfg.name,
        I: cfg.I,
        H: cfg.H,
        B: cfg.B,
        T: cfg.T,
        cell,
        ours,
        memory: memory[0],
        peers: {},
      };
      let line = `${cfg.name.padEnd(6)} ${cell.padEnd(4)} ours: ${
        ours.map((o) => `${o.threads}t ${fmtMs(o.step.ms)} ms/step, ${fmtMs(o.forward.ms)} ms/fwd`).join("; ")
      }`;
      for (const u of unavailable) c.peers[u.name] = { status: "unavailable", reason: u.reason };
      for (const peer of peers) {
        if (cell === "gru") {
          c.peers[peer.name] = { status: "unavailable", reason: "the tfjs peers here run lstm and rnn" };
          continue;
        }
        const job = { cell, I: cfg.I, H: cfg.H, B: cfg.B, T: cfg.T, x: xBatchFirst, target };
        const r = await peer.run(job, opts.peerBudgetMs, { ...timing, warmupMs: 0, warmupCalls: 1 });
        c.peers[peer.name] = r;
        line += `; ${peer.name} ${r.status === "ok" ? `${fmtMs(r.step.ms)} ms/step` : peerStepCell(r)}`;
      }
      console.log(line);
      results.push(c);
    }
  }

  const loadavgEnd = os.loadavg();
  console.log("\n" + report(results, peerNames));
  console.log(
    `\nload average at end: ${loadavgEnd.map((l) => l.toFixed(2)).join(" ")} (this run keeps 1-2 cores busy)`,
  );
  if (opts.json !== undefined) {
    const peerInfo = Object.fromEntries(peers.map((p) => [p.name, p.info]));
    const doc = {
      machine,
      loadavgEnd,
      options: { ...opts, configs: opts.configs.map((c) => c.name) },
      timing,
      peerInfo,
      unavailable,
      configs: BENCH_CONFIGS,
      results,
    };
    writeFileSync(opts.json, JSON.stringify(doc, null, 2) + "\n");
    console.log(`\nwrote ${opts.json}`);
  }
}

await main();
