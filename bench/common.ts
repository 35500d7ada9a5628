/**
 * What the CPU and WebGPU benchmarks share: the configurations, the fixed batch of a configuration and the table
 * formatting.
 *
 * @module
 */

import { Rng, timeMajorToBatchFirst } from "../lib/mod.ts";

/** A benchmark configuration: input size, hidden size, batch, sequence length. */
export interface BenchConfig {
  name: string;
  I: number;
  H: number;
  B: number;
  T: number;
}

/**
 * The configurations both benchmarks time: tiny, small, medium, wide, long.
 *
 * @example
 * ```ts
 * import { BENCH_CONFIGS } from "./common.ts";
 * BENCH_CONFIGS.map((c) => c.name); // ["tiny", "small", "medium", "wide", "long"]
 * ```
 */
export const BENCH_CONFIGS: BenchConfig[] = [
  { name: "tiny", I: 2, H: 8, B: 1, T: 100 },
  { name: "small", I: 2, H: 32, B: 16, T: 200 },
  { name: "medium", I: 2, H: 128, B: 32, T: 200 },
  { name: "wide", I: 64, H: 256, B: 64, T: 100 },
  { name: "long", I: 2, H: 128, B: 32, T: 1000 },
];

/**
 * The fixed random batch of a configuration (seeded, made once, never timed): x (T, B, I) time-major for ours, the
 * same values (B, T, I) for the tfjs peers, and a target per sequence.
 *
 * @example
 * ```ts
 * import { makeBatch } from "./common.ts";
 * const { x, xBatchFirst, target } = makeBatch({ I: 2, B: 4, T: 10 });
 * ```
 */
export function makeBatch(cfg: { I: number; B: number; T: number }) {
  const { I, B, T } = cfg, rng = new Rng(12345);
  const x = rng.fillUniform(new Float32Array(T * B * I), -1, 1);
  const target = rng.fillUniform(new Float32Array(B), -1, 1);
  const xBatchFirst = timeMajorToBatchFirst(x, T, B, I) as Float32Array;
  return { x, target, xBatchFirst };
}

/**
 * Milliseconds with 3 to 4 significant digits ("—" when absent).
 *
 * @example
 * ```ts
 * import { fmtMs } from "./common.ts";
 * fmtMs(0.04321); // "0.043"
 * ```
 */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 1000) return ms.toFixed(1);
  return ms.toFixed(0);
}

/**
 * A plain-text table: the first `leftColumns` columns left-aligned, the rest right-aligned.
 *
 * @example
 * ```ts
 * import { table } from "./common.ts";
 * console.log(table(["config", "ms"], [["tiny", "0.04"]], 1));
 * ```
 */
export function table(header: string[], rows: string[][], leftColumns = 2): string {
  const width = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (r: string[]) =>
    r.map((s, j) => (j < leftColumns ? s.padEnd(width[j]) : s.padStart(width[j]))).join("  ");
  return [line(header), width.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
