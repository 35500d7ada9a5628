/**
 * Reductions, WGSL: column sums (bias gradients; CPU reference `addColumnSums` of lib/nn/js_kernels.ts),
 * the global gradient norm with the clipping factor (CPU reference: `gradNorm` / `clipGradNorm`, lib/optim/clip.ts),
 * and the transpose that keeps W_hhᵀ for the forward product (`transpose` of the CPU kernels).
 *
 * The statistics buffer `stats` (4 floats) carries what a training step reads back:
 *   [0] loss   [1] global gradient norm (before clipping)   [2] clip factor (1 when not clipping)
 *   [3] divergence flag: 0 ok, 1 non-finite loss, 2 non-finite gradient (sticky within a group of steps: the
 *       optimizer kernels apply nothing once it is set, so no update is applied with or after a divergence)
 *
 * @module
 */

import type { KernelSpec } from "../gpu.ts";

/**
 * WGSL: whether a float is finite (bit test, immune to fast-math assumptions).
 *
 * @example
 * ```ts
 * import { FINITE } from "./reduce.ts";
 * const code = FINITE + "fn ok(x: f32) -> bool { return finite(x); }";
 * ```
 */
export const FINITE = /* wgsl */ `
fn finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }
`;

/**
 * WGSL shared by every version of the column sums: the uniform block, the bindings, and `put` (write or add a column's
 * sum to both places).
 *
 * @example
 * ```ts
 * import { COLSUM_HEADER } from "./reduce.ts";
 * const code = COLSUM_HEADER + "@compute @workgroup_size(1) fn main() { put(0u, A[u.aOff]); }";
 * ```
 */
export const COLSUM_HEADER = /* wgsl */ `
struct Cs { M: u32, N: u32, lda: u32, aOff: u32, out1: u32, out2: u32, accumulate: u32, pad: u32 }
@group(0) @binding(0) var<uniform> u: Cs;
@group(0) @binding(1) var<storage, read> A: array<f32>;          // (M, N), row stride lda, from aOff
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // out[out1 + n] and out[out2 + n] (N)
fn put(n: u32, v: f32) {
  var a = v;
  var b = v;
  if (u.accumulate == 1u) { a += out[u.out1 + n]; b += out[u.out2 + n]; }
  out[u.out1 + n] = a;
  if (u.out2 != u.out1) { out[u.out2 + n] = b; }
}
`;

const COLSUM_2 = COLSUM_HEADER + /* wgsl */ `
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(64, 4)
fn main(@builtin(workgroup_id) w: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let n = w.x * 64u + l.x;
  var s = 0.0;
  if (n < u.N) {
    for (var m = l.y; m < u.M; m += 4u) { s += A[u.aOff + m * u.lda + n]; }
  }
  red[l.y * 64u + l.x] = s;
  workgroupBarrier();
  if (l.y == 0u && n < u.N) {
    put(n, ((red[l.x] + red[64u + l.x]) + red[128u + l.x]) + red[192u + l.x]);
  }
}
`;

/**
 * Column sums of A (M, N), written (or added, with `accumulate`) to two places of `out` — the same sums are the
 * gradients of both b_ih and b_hh: 64 columns × 4 row lanes per workgroup, lanes combined in workgroup memory
 * (version 2 of the dev harness; version 1, one thread per column, is in dev/kernel_versions.ts). Grid (ceil(N / 64)).
 *
 * @example
 * ```ts
 * import { columnSumKernel } from "./reduce.ts";
 * const spec = columnSumKernel(); // bindings: uniform, A (read), out (rw)
 * ```
 */
export function columnSumKernel(): KernelSpec {
  return { name: "colsum2", code: COLSUM_2, bindings: ["uniform", "read", "rw"] };
}

/**
 * Threads per workgroup and most workgroups of the gradient-norm partial pass.
 *
 * @example
 * ```ts
 * import { NORM_MAX_GROUPS, NORM_WG } from "./reduce.ts";
 * const groups = Math.min(NORM_MAX_GROUPS, Math.ceil(330_000 / NORM_WG)); // 256
 * ```
 */
export const NORM_WG = 256;
/**
 * Upper bound on workgroups of the first norm pass (the second pass reduces their partials in one workgroup).
 *
 * @example
 * ```ts
 * import { NORM_MAX_GROUPS } from "./reduce.ts";
 * const partials = new Float32Array(3 * NORM_MAX_GROUPS); // (scale, ssq, bad) per workgroup
 * ```
 */
export const NORM_MAX_GROUPS = 256;

/**
 * WGSL: a set of magnitudes as (scale, ssq) with norm = scale·√ssq (LAPACK's nrm2 scheme): `leaf(v)` is one value,
 * `nrm2(a, b)` two sets combined. Combining never squares a raw value, so float32 neither overflows on large
 * gradients nor loses a gradient of 1e-30 (whose square underflows). Used by the gradient norm and the probes.
 *
 * @example
 * ```ts
 * import { NRM2 } from "./reduce.ts";
 * const code = NRM2 + "fn norm(a: vec2f) -> f32 { return a.x * sqrt(a.y); }";
 * ```
 */
export const NRM2 = /* wgsl */ `
fn leaf(v: f32) -> vec2f { return vec2f(abs(v), select(0.0, 1.0, v != 0.0)); }
fn nrm2(a: vec2f, b: vec2f) -> vec2f {
  if (a.x == 0.0) { return b; }
  if (b.x == 0.0) { return a; }
  if (a.x >= b.x) { let r = b.x / a.x; return vec2f(a.x, a.y + b.y * r * r); }
  let r = a.x / b.x;
  return vec2f(b.x, b.y + a.y * r * r);
}
`;

/** WGSL: (scale, ssq, bad) of two sets combined: `nrm2` plus the non-finite marker; both norm passes reduce with it. */
const SCALED_SSQ = NRM2 + /* wgsl */ `
fn comb(a: vec3f, b: vec3f) -> vec3f { return vec3f(nrm2(a.xy, b.xy), max(a.z, b.z)); }
`;

/**
 * Gradient norm, pass 1: each workgroup reduces a strided share of the n gradients to a scaled sum of squares
 * (scale, ssq) with ‖·‖ = scale·√ssq (LAPACK's nrm2 scheme, so float32 squares of large gradients cannot overflow
 * where the CPU's double-precision sum would not) plus a non-finite marker; partial[wg] = (scale, ssq, bad).
 * Bindings: uniform (n, offset), grads (read), partial (rw). Grid (groups ≤ 256).
 *
 * @example
 * ```ts
 * import { NORM_FINAL, NORM_PARTIAL } from "./reduce.ts";
 * [NORM_PARTIAL.name, NORM_FINAL.name]; // the two passes of the gradient norm
 * ```
 */
export const NORM_PARTIAL: KernelSpec = {
  name: "norm-partial",
  bindings: ["uniform", "read", "rw"],
  code: FINITE + /* wgsl */ `
struct Np { n: u32, groups: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Np;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;  // (groups, 3)
var<workgroup> red: array<vec3f, ${NORM_WG}>;
${SCALED_SSQ}
@compute @workgroup_size(${NORM_WG})
fn main(@builtin(workgroup_id) w: vec3u, @builtin(local_invocation_index) lid: u32) {
  var acc = vec3f(0.0);
  for (var i = w.x * ${NORM_WG}u + lid; i < p.n; i += p.groups * ${NORM_WG}u) {
    let g = grads[i];
    if (!finite(g)) { acc.z = 1.0; }
    else if (g != 0.0) { acc = comb(acc, vec3f(abs(g), 1.0, 0.0)); }
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var st = ${NORM_WG / 2}u; st > 0u; st >>= 1u) {
    if (lid < st) { red[lid] = comb(red[lid], red[lid + st]); }
    workgroupBarrier();
  }
  if (lid == 0u) {
    partial[3u * w.x] = red[0].x;
    partial[3u * w.x + 1u] = red[0].y;
    partial[3u * w.x + 2u] = red[0].z;
  }
}
`,
};

/**
 * Gradient norm, pass 2 (one workgroup): combines the partials, writes the norm to stats[1] and the clip factor
 * (Pascanu et al. 2013, Algorithm 1: threshold / norm when norm ≥ threshold, else 1; threshold 0 = no clipping)
 * to stats[2]; a non-finite norm sets the divergence flag stats[3] = 2 (unless the loss set it already).
 * Bindings: uniform (groups, clipNorm), partial (read), stats (rw). Grid (1).
 *
 * @example
 * ```ts
 * import { NORM_FINAL } from "./reduce.ts";
 * NORM_FINAL.bindings; // ["uniform", "read", "rw"]: uniforms, partials, stats
 * ```
 */
export const NORM_FINAL: KernelSpec = {
  name: "norm-final",
  bindings: ["uniform", "read", "rw"],
  code: FINITE + /* wgsl */ `
struct Nf { groups: u32, clipNorm: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Nf;
@group(0) @binding(1) var<storage, read> partial: array<f32>;   // (groups, 3)
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
var<workgroup> red: array<vec3f, ${NORM_WG}>;
${SCALED_SSQ}
@compute @workgroup_size(${NORM_WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = vec3f(0.0);
  if (lid < p.groups) { acc = vec3f(partial[3u * lid], partial[3u * lid + 1u], partial[3u * lid + 2u]); }
  red[lid] = acc;
  workgroupBarrier();
  for (var st = ${NORM_WG / 2}u; st > 0u; st >>= 1u) {
    if (lid < st) { red[lid] = comb(red[lid], red[lid + st]); }
    workgroupBarrier();
  }
  if (lid == 0u) {
    var norm = red[0].x * sqrt(red[0].y);
    if (red[0].z != 0.0) { norm = bitcast<f32>(0x7fc00000u); }   // NaN: a gradient was NaN or infinite
    var scale = 1.0;
    if (p.clipNorm > 0.0 && finite(norm) && norm >= p.clipNorm) { scale = p.clipNorm / norm; }
    stats[1] = norm;
    stats[2] = scale;
    if (stats[3] == 0.0 && !finite(norm)) { stats[3] = 2.0; }
  }
}
`,
};

/**
 * out (cols, rows) = Aᵀ for A (rows, cols) at element offset `off` of the input: W_hhᵀ for the forward product.
 * Bindings: uniform (rows, cols, off), A (read), out (rw). Grid (ceil(cols / 16), ceil(rows / 16)).
 *
 * @example
 * ```ts
 * import { TRANSPOSE } from "./reduce.ts";
 * TRANSPOSE.bindings; // ["uniform", "read", "rw"]
 * ```
 */
export const TRANSPOSE: KernelSpec = {
  name: "transpose",
  bindings: ["uniform", "read", "rw"],
  code: /* wgsl */ `
struct Tp { rows: u32, cols: u32, off: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Tp;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let q = g.x;
  let r = g.y;
  if (r < p.rows && q < p.cols) { out[q * p.rows + r] = A[p.off + r * p.cols + q]; }
}
`,
};
