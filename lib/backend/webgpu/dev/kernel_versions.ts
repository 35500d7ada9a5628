/**
 * The numbered kernel versions that lost to the production kernels (kept for the dev harness, dev/bench_kernels.ts,
 * as llm.c keeps dev/cuda beside its training code), and one numbering over all versions, winners included:
 *
 *   matmul       1 naive · 2 16×16 tiles · 3 64×64 tiles, 4×4 per thread (kernels/matmul.ts, production)
 *   column sums  1 one thread per column · 2 64 columns × 4 row lanes (kernels/reduce.ts, production)
 *   time loops   1 two dispatches per step: the recurrent product (the generic matmul, dynamic uniform) + a pointwise
 *                  cell kernel · 2 fused, 1 row per thread · 3 fused, R rows per thread · 4 persistent
 *                  (2-4: kernels/recurrence.ts, production; the model picks 3 or 4 per shape)
 *
 * Nothing in the production path (model.ts and kernels/) imports this file.
 *
 * @module
 */

import type { CellType } from "../../../nn/kernels.ts";
import type { KernelSpec } from "../gpu.ts";
import { ceilDiv } from "../gpu.ts";
import {
  MATMUL_HEADER,
  matmulBindings,
  matmulGroups as productionGroups,
  matmulKernel as production,
} from "../kernels/matmul.ts";
import {
  ACTIVATIONS,
  backwardPersistentKernel,
  backwardStepKernel,
  cellBackwardBody,
  forwardPersistentKernel,
  forwardStepKernel,
  gatesOf,
  STEP_CUT,
  STEP_DHSEQ,
} from "../kernels/recurrence.ts";
import { COLSUM_HEADER, columnSumKernel as productionColumnSums } from "../kernels/reduce.ts";

// ------------------------------------------------------------------------------------------------ matmul

/** Versions of the product kernel. */
export type MatmulVersion = 1 | 2 | 3;

/** Version 1: one thread per element of C. Grid (ceil(N/16), ceil(M/16)). */
const MATMUL_1 = MATMUL_HEADER + /* wgsl */ `
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let n = g.x;
  let m = g.y;
  if (m >= u.M || n >= u.N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < u.K; k++) {
    acc += A[u.aOff + m * u.aRs + k * u.aCs] * Bm[u.bOff + k * u.bRs + n * u.bCs];
  }
  store(m, n, acc);
}
`;

/** Version 2: 16×16 tiles in workgroup memory. Grid (ceil(N/16), ceil(M/16)). */
const MATMUL_2 = MATMUL_HEADER + /* wgsl */ `
var<workgroup> As: array<f32, 256>;   // [m][k], 16 × 16
var<workgroup> Bs: array<f32, 256>;   // [k][n], 16 × 16
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) w: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let m0 = w.y * 16u;
  let n0 = w.x * 16u;
  var acc = 0.0;
  for (var k0 = 0u; k0 < u.K; k0 += 16u) {
    // Adjacent threads read adjacent addresses: along k when A is row-major (aCs = 1), along m otherwise.
    if (u.aCs == 1u) { As[l.y * 16u + l.x] = loadA(m0 + l.y, k0 + l.x); }
    else { As[l.x * 16u + l.y] = loadA(m0 + l.x, k0 + l.y); }
    if (u.bCs == 1u) { Bs[l.y * 16u + l.x] = loadB(k0 + l.y, n0 + l.x); }
    else { Bs[l.x * 16u + l.y] = loadB(k0 + l.x, n0 + l.y); }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) { acc += As[l.y * 16u + kk] * Bs[kk * 16u + l.x]; }
    workgroupBarrier();
  }
  let m = m0 + l.y;
  let n = n0 + l.x;
  if (m < u.M && n < u.N) { store(m, n, acc); }
}
`;

/**
 * The product kernel of a version; `dynamic` makes its uniform a dynamic-offset binding (one block per time step,
 * for the two-dispatch recurrences of version 1 of the time loops).
 *
 * @example
 * ```ts
 * import { matmulKernel } from "./kernel_versions.ts";
 * const spec = matmulKernel(1); // the naive product
 * ```
 */
export function matmulKernel(version: MatmulVersion, dynamic = false): KernelSpec {
  const code = version === 1 ? MATMUL_1 : version === 2 ? MATMUL_2 : production().code;
  return { name: `matmul${version}${dynamic ? "-dyn" : ""}`, code, bindings: matmulBindings(dynamic) };
}

/**
 * Workgroups of a product for a version.
 *
 * @example
 * ```ts
 * import { matmulGroups } from "./kernel_versions.ts";
 * matmulGroups(1, 100, 512); // [32, 7, 1]: 16 × 16 tiles
 * ```
 */
export function matmulGroups(version: MatmulVersion, M: number, N: number): [number, number, number] {
  return version === 3 ? productionGroups(M, N) : [ceilDiv(N, 16), ceilDiv(M, 16), 1];
}

// ------------------------------------------------------------------------------------------------ column sums

/** Versions of the column-sum kernel. */
export type ColumnSumVersion = 1 | 2;

/** Version 1: one thread per column, rows in order. Grid (ceil(N / 64)). */
const COLSUM_1 = COLSUM_HEADER + /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= u.N) { return; }
  var s = 0.0;
  for (var m = 0u; m < u.M; m++) { s += A[u.aOff + m * u.lda + n]; }
  put(n, s);
}
`;

/**
 * The column-sum kernel of a version.
 *
 * @example
 * ```ts
 * import { columnSumKernel } from "./kernel_versions.ts";
 * const spec = columnSumKernel(1); // bindings: uniform, A (read), out (rw)
 * ```
 */
export function columnSumKernel(version: ColumnSumVersion): KernelSpec {
  if (version === 2) return productionColumnSums();
  return { name: "colsum1", code: COLSUM_1, bindings: ["uniform", "read", "rw"] };
}

// ------------------------------------------------------------------------------------------------ time loops

/** Versions of the time-loop kernels. */
export type RecurrenceVersion = 1 | 2 | 3 | 4;

/**
 * Version 1, pointwise part of a forward step (after the matmul added h[t]·W_hhᵀ into gates[t]).
 * Bindings: step uniform (dynamic), gates (rw), h (rw), c (rw). Grid (ceil(B·H / 64)).
 */
function forwardCellV1(cell: CellType): string {
  return ACTIVATIONS + /* wgsl */ `
struct Step { B: u32, H: u32, t: u32, pad: u32 }
@group(0) @binding(0) var<uniform> s: Step;
@group(0) @binding(1) var<storage, read_write> gates: array<f32>;   // (T, B, G·H)
@group(0) @binding(2) var<storage, read_write> h: array<f32>;       // (T+1, B, H)
@group(0) @binding(3) var<storage, read_write> c: array<f32>;       // (T+1, B, H), LSTM
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let H = s.H;
  let u = gid.x;
  if (u >= s.B * H) { return; }
  let b = u / H;
  let j = u % H;
  let sIdx = (s.t * s.B + b) * H + j;      // slot t (previous state) of h / c
  let nIdx = sIdx + s.B * H;               // slot t+1
${
    cell === "lstm"
      ? /* wgsl */ `
  let gi = (s.t * s.B + b) * 4u * H + j;
  let i = sigm(gates[gi]);
  let f = sigm(gates[gi + H]);
  let g = tanh_(gates[gi + 2u * H]);
  let o = sigm(gates[gi + 3u * H]);
  gates[gi] = i; gates[gi + H] = f; gates[gi + 2u * H] = g; gates[gi + 3u * H] = o;
  let cn = f * c[sIdx] + i * g;
  c[nIdx] = cn;
  h[nIdx] = o * tanh_(cn);`
      : /* wgsl */ `
  let gi = (s.t * s.B + b) * H + j;
  let hn = tanh_(gates[gi]);
  h[nIdx] = hn;`
  }
}
`;
}

/**
 * Version 1, pointwise part of a backward step: dh = dhRec (B, H) [+ dhSeq[t]]; cell backward; gates[t] ← dG[t].
 * The product dhRec = dG[t]·W_hh follows as a matmul dispatch (or zero, or dhInit, set by the host). No probes.
 * Bindings: step uniform (dynamic), gates (rw), h (read), c (read), dhSeq (read), dhRec (read), dc (rw).
 */
function backwardCellV1(cell: CellType): string {
  const G = gatesOf(cell);
  return ACTIVATIONS + /* wgsl */ `
struct Step { B: u32, H: u32, t: u32, flags: u32, chunks: u32, wOff: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> s: Step;
@group(0) @binding(1) var<storage, read_write> gates: array<f32>;   // (T, B, G·H)
@group(0) @binding(2) var<storage, read> h: array<f32>;             // (T+1, B, H)
@group(0) @binding(3) var<storage, read> c: array<f32>;             // (T+1, B, H), LSTM
@group(0) @binding(4) var<storage, read> dhSeq: array<f32>;         // (T, B, H)
@group(0) @binding(5) var<storage, read> dhRec: array<f32>;         // (B, H)
@group(0) @binding(6) var<storage, read_write> dc: array<f32>;      // (B, H)
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let B = s.B;
  let H = s.H;
  let GH = ${G}u * H;
  let t = s.t;
  let u = gid.x;
  if (u >= B * H) { return; }
  let b = u / H;
  let j = u % H;
  var dh = dhRec[u];
  if ((s.flags & ${STEP_DHSEQ}u) != 0u) { dh += dhSeq[(t * B + b) * H + j]; }
  var dcIn = 0.0;
  if ((s.flags & ${STEP_CUT}u) == 0u) { dcIn = dc[u]; }
${cellBackwardBody(cell, "  ", false)}
}
`;
}

/**
 * The forward kernel of a version: 1 → the pointwise cell (after a matmul); 2, 3 → fused step with R = 1 or the
 * given rows; 4 → persistent with `wg` threads.
 *
 * @example
 * ```ts
 * import { forwardKernel } from "./kernel_versions.ts";
 * const spec = forwardKernel("lstm", 3, { rows: 4 }); // bindings: step, wT, gates, h, c
 * ```
 */
export function forwardKernel(
  cell: CellType,
  version: RecurrenceVersion,
  o: { rows?: number; wg?: number } = {},
): KernelSpec {
  switch (version) {
    case 1:
      return { name: `fwd1-${cell}`, code: forwardCellV1(cell), bindings: ["uniform-dynamic", "rw", "rw", "rw"] };
    case 2:
    case 3:
      return forwardStepKernel(cell, version === 2 ? 1 : o.rows ?? 4);
    case 4:
      return forwardPersistentKernel(cell, o.wg ?? 256);
  }
}

/**
 * The backward kernel of a version (see `forwardKernel`); `probes` compiles the probe code in (versions 2-4).
 *
 * @example
 * ```ts
 * import { backwardKernel } from "./kernel_versions.ts";
 * const spec = backwardKernel("rnn", 3, { rows: 4, probes: true });
 * ```
 */
export function backwardKernel(
  cell: CellType,
  version: RecurrenceVersion,
  o: { rows?: number; wg?: number; probes?: boolean } = {},
): KernelSpec {
  const probes = o.probes ?? false;
  switch (version) {
    case 1:
      if (probes) throw new RangeError("backwardKernel: version 1 has no probes (use 2, 3 or 4)");
      return {
        name: `bwd1-${cell}`,
        code: backwardCellV1(cell),
        bindings: ["uniform-dynamic", "rw", "read", "read", "read", "read", "rw"],
      };
    case 2:
    case 3:
      return backwardStepKernel(cell, version === 2 ? 1 : o.rows ?? 4, probes);
    case 4:
      return backwardPersistentKernel(cell, o.wg ?? 256, probes);
  }
}
