/**
 * The per-step factor of the 1997 LSTM's constant error carousel (CEC), measured under its own truncated learning rule
 * and under the full BPTT gradient of the same network: the companion of experiments/gradient_flow_cells.ts for the
 * cell the runner cannot drive yet (lstm-1997 is not a model kind of the runner: lib/nn/lstm_1997.ts is a standalone
 * network). Writes results/gradient-flow-cells/lstm_1997_cec.json; run it from a clean checkout:
 *
 *   deno run -A tools/cec_factor.ts [--out results/gradient-flow-cells/lstm_1997_cec.json]
 *
 * Network: HS97's Exp 4 net (adding problem: 2 inputs, 2 blocks × 2 cells, 1 output, biases on every unit, initial
 * weights U[-0.1, 0.1], input-gate biases -3 and -6; `LSTM_1997_PAPER_NETS.exp4`), no forget gate. Inputs: the
 * two-channel adding problem of gradient_flow_cells.ts (fixed length T), 32 sequences, 5 seeds, T = 100 and 1000.
 * Loss: squared error at the last step only, as in the runner's gradient-flow measurement. Probe: ‖∂L/∂s(t)‖ per step
 * and sequence, the error on the cell states as each rule carries it back (`lstm1997Backward`'s dsNorm).
 *
 * Reported per rule and T: the factor per step, fitted as the runner does (least squares of log10 of the median norm
 * against the lag, lags ≥ 1), and the largest |ratio − 1| of consecutive norms ‖∂L/∂s(t−1)‖ / ‖∂L/∂s(t)‖ over every
 * step and sequence (0 means: carried with a factor of exactly 1, bit for bit).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { execSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import {
  lstm1997Backward,
  lstm1997Forward,
  lstm1997Init,
  lstm1997Params,
  LSTM_1997_PAPER_NETS,
} from "../lib/nn/lstm_1997.ts";
import { Rng } from "../lib/rng.ts";
import { createTask } from "../lib/tasks/registry.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { out: { type: "string", default: "results/gradient-flow-cells/lstm_1997_cec.json" } },
});

const net = LSTM_1997_PAPER_NETS.exp4, cfg = net.config, B = 32, SEEDS = [0, 1, 2, 3, 4], TS = [100, 1000];

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Least-squares slope of log10(norm) against the lag (lags ≥ 1 with positive normal norms), as a factor per step. */
function fittedFactor(byLag: number[]): number {
  const pts = byLag.map((v, k) => [k, Math.log10(v)] as const).filter(([k, y]) => k >= 1 && Number.isFinite(y));
  const n = pts.length, mx = pts.reduce((a, p) => a + p[0], 0) / n, my = pts.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0, sxx = 0;
  for (const [x, y] of pts) (sxy += (x - mx) * (y - my), sxx += (x - mx) ** 2);
  return 10 ** (sxy / sxx);
}

const rows: Record<string, unknown>[] = [];
for (const rule of ["truncated", "full"] as const) {
  for (const T of TS) {
    const factors: number[] = [];
    let maxDev = 0;
    for (const seed of SEEDS) {
      const p = lstm1997Params(cfg);
      lstm1997Init(cfg, p, new Rng(seed, 0), net.init);
      const batch = createTask("adding", { T, variant: "arjovsky" }).batch(new Rng(seed, 3), B);
      const x = Float64Array.from(batch.x);
      const tape = lstm1997Forward(cfg, p, T, B, x);
      const dyK = new Float64Array(T * B);
      for (let b = 0; b < B; b++) dyK[(T - 1) * B + b] = tape.yK[(T - 1) * B + b] - batch.target[b];
      const dsNorm = new Float64Array(T * B);
      lstm1997Backward(cfg, p, tape, dyK, rule, { dsNorm });
      const byLag: number[] = [];
      for (let k = 0; k < T; k++) {
        const t = T - 1 - k, vals: number[] = [];
        for (let b = 0; b < B; b++) vals.push(dsNorm[t * B + b]);
        byLag.push(median(vals));
        if (t < T - 1) {
          for (let b = 0; b < B; b++) {
            maxDev = Math.max(maxDev, Math.abs(dsNorm[t * B + b] / dsNorm[(t + 1) * B + b] - 1));
          }
        }
      }
      factors.push(fittedFactor(byLag));
    }
    rows.push({ rule, T, seeds: SEEDS.length, factorPerStep: median(factors), maxAbsRatioMinus1: maxDev });
    console.log(
      `${rule.padEnd(9)} T=${String(T).padEnd(4)} factor/step ${median(factors).toFixed(6)}  max|ratio−1| ${
        maxDev.toExponential(2)
      }`,
    );
  }
}

const git = (c: string) => execSync(`git ${c}`, { encoding: "utf8" }).trim();
const out = {
  what: "per-step factor of ‖∂L/∂s(t)‖ of the 1997 LSTM (HS97 Exp 4 net) at initialisation, loss at the last step",
  script: "tools/cec_factor.ts",
  net: "LSTM_1997_PAPER_NETS.exp4",
  batchSize: B,
  commit: git("rev-parse HEAD"),
  dirty: git("status --porcelain --untracked-files=no") !== "",
  runtime: typeof Deno !== "undefined" ? `deno ${Deno.version.deno}` : `bun ${process.versions.bun}`,
  rows,
};
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, JSON.stringify(out, null, 2) + "\n");
console.log(`wrote ${values.out}`);
