/**
 * The PyTorch peer: `torch_cpu.py` run by a Python that has `torch` (`LSTM_LAB_PYTHON`, else `python3`), as a fresh
 * process per thread count, on the same configs and the same batch as ours (written to temporary float32 files).
 * `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` are removed from that process's environment only (some machines set
 * them, and they select slower OpenBLAS kernels), and `OMP_NUM_THREADS` / `OPENBLAS_NUM_THREADS` / `MKL_NUM_THREADS`
 * are set to the thread count. The script names the BLAS library it ran on.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { MeasureOptions } from "../timing.ts";
import type { PeerResult } from "./tfjs.ts";

/** One case for the PyTorch peer: the batch time-major (T, B, I), as ours. */
export interface TorchCase {
  config: string;
  cell: "lstm" | "rnn" | "gru";
  I: number;
  H: number;
  B: number;
  T: number;
  x: Float32Array;
  target: Float32Array;
}

/** The Python to use, or why there is none. */
export function findTorchPython(): { python: string; version: string } | { python: null; reason: string } {
  // LSTM_LAB_PYTHON, else the first Python on PATH, else the system's (Debian's python3-torch installs there, and a
  // pyenv or venv python3 on PATH often lacks torch)
  const candidates = process.env.LSTM_LAB_PYTHON ? [process.env.LSTM_LAB_PYTHON] : ["python3", "/usr/bin/python3"];
  const reasons: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ["-c", "import torch, sys; print(torch.__version__)"], {
      encoding: "utf8",
      timeout: 120_000,
    });
    if (r.error !== undefined) {
      reasons.push(`${python}: ${r.error.message}`);
      continue;
    }
    if (r.status !== 0) {
      const last = (r.stderr ?? "").trim().split("\n").pop() ?? "";
      reasons.push(`${python} -c "import torch" failed: ${last}`);
      continue;
    }
    return { python, version: r.stdout.trim() };
  }
  return { python: null, reason: `${reasons.join("; ")} (set LSTM_LAB_PYTHON)` };
}

/** What one PyTorch process reported. */
export interface TorchRun {
  threads: number;
  info: Record<string, unknown> | null;
  results: Map<string, PeerResult>;
  error: string | null;
}

/**
 * Runs every case in one fresh PyTorch process with `threads` threads; results keyed "config/cell".
 *
 * @example
 * ```ts
 * import { findTorchPython, runTorch } from "./torch.ts";
 * const py = findTorchPython();
 * if (py.python !== null) {
 *   const x = new Float32Array(10 * 2).fill(0.5), target = new Float32Array(1);
 *   const run = runTorch(py.python, 1, [{ config: "t", cell: "rnn", I: 2, H: 4, B: 1, T: 10, x, target }],
 *     { runs: 1, minRunMs: 1, warmupMs: 0, warmupCalls: 1 }, 5000);
 *   console.log(run.results.get("t/rnn")?.step.ms);
 * }
 * ```
 */
export function runTorch(
  python: string,
  threads: number,
  cases: TorchCase[],
  timing: Omit<MeasureOptions, "deadline">,
  budgetMs: number,
): TorchRun {
  const dir = mkdtempSync(join(tmpdir(), "lstm-lab-torch-"));
  try {
    const jobCases = cases.map((c, i) => {
      const x = join(dir, `x${i}.f32`), target = join(dir, `y${i}.f32`);
      writeFileSync(x, new Uint8Array(c.x.buffer, c.x.byteOffset, c.x.byteLength));
      writeFileSync(target, new Uint8Array(c.target.buffer, c.target.byteOffset, c.target.byteLength));
      return { config: c.config, cell: c.cell, I: c.I, H: c.H, B: c.B, T: c.T, x, target };
    });
    const jobFile = join(dir, "job.json");
    // Removed by the script itself before it loads torch (a child's env option cannot remove a variable in Deno).
    const unsetEnv = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];
    writeFileSync(jobFile, JSON.stringify({ threads, unsetEnv, timing, budgetMs, cases: jobCases }));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    for (const k of ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]) env[k] = String(threads);
    const script = fileURLToPath(new URL("./torch_cpu.py", import.meta.url));
    const r = spawnSync(python, [script, jobFile], {
      env,
      encoding: "utf8",
      timeout: cases.length * budgetMs * 1.5 + 120_000,
      maxBuffer: 64 << 20,
    });
    const run: TorchRun = { threads, info: null, results: new Map(), error: null };
    for (const line of (r.stdout ?? "").split("\n")) {
      if (!line.startsWith("{")) continue;
      const msg = JSON.parse(line);
      if (msg.info) run.info = msg.info;
      else if (msg.case) run.results.set(`${msg.case.config}/${msg.case.cell}`, msg.result);
    }
    if (r.error !== undefined || r.status !== 0) {
      run.error = `${python} torch_cpu.py (${threads} threads) failed: ${
        r.error?.message ?? (r.stderr ?? "").trim().split("\n").slice(-3).join(" / ")
      }`;
    }
    return run;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
