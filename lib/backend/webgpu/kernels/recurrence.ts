/**
 * The time loops of a recurrent layer, WGSL: the forward recurrence and BPTT (CPU reference: `recurrentForward` and
 * `recurrentBackward` in lib/nn/recurrence.ts, with the cells of lib/nn/lstm.ts and lib/nn/rnn.ts).
 *
 * Layouts (time-major, as on the CPU): gates (T, B, G·H), G = 4 ([i | f | g | o]) for the LSTM and 1 for the RNN
 * (the LSTM's forward leaves the activations there for BPTT; the RNN's gates are scratch, its backward reads h);
 * h and c (T+1, B, H) with the initial state in slot 0; W_hh (G·H, H) inside the flat parameter buffer (at `wOff`) and
 * its transpose wT (H, G·H) kept beside it for the forward product.
 *
 * Two kernels, each the winner for its sizes in the dev harness (dev/bench_kernels.ts; its version numbers in brackets;
 * version 1, two dispatches per step — the generic matmul, then a pointwise cell kernel — is in dev/kernel_versions.ts):
 * - per step [2, 3]: ONE fused dispatch per step: each thread owns a unit j of R batch rows, computes its G dot
 *   products over the previous h (staged through workgroup memory), then the cell (forward); backward: the product
 *   that carries dG[t+1] to dh_t, then the cell backward of step t — so one dispatch per step, mirrored in reverse
 *   time. Each W_hh element read serves R rows (version 2 is R = 1; the model's default R is 4 on a GPU, 8 on lavapipe);
 * - persistent [4]: the whole sequence in ONE dispatch of ONE workgroup that loops over t with a barrier per step
 *   (`storageBarrier()`), for small B·H where dispatch overhead, not arithmetic, bounds the per-step kernels.
 * The model chooses per shape (`recurrence: "auto"`: persistent when B·H ≤ 2048).
 * Probes (‖∂L/∂h_t‖, ‖∂L/∂c_t‖ per (t, b)) are a compile-time constant of the backward kernels: the variant without
 * them has no probe code at all. Per-step kernels write per-workgroup partial sums of squares, reduced by
 * `PROBE_NORMS` afterwards; the persistent kernel writes the norms itself.
 *
 * Activations use the GPU's own `exp` and `tanh` (tanh's argument is clamped to ±15, where it is ±1 in float32, so no
 * implementation overflows; a NaN stays a NaN, so a diverging model is seen as on the CPU): GPU results are close
 * to, not bit-identical with, the CPU's.
 *
 * @module
 */

import type { CellType } from "../../../nn/kernels.ts";
import type { KernelSpec } from "../gpu.ts";
import { NRM2 } from "./reduce.ts";

/**
 * Threads per workgroup of the per-step kernels (units j of a row).
 *
 * @example
 * ```ts
 * import { STEP_WG } from "./recurrence.ts";
 * const chunks = Math.ceil(130 / STEP_WG); // workgroups along H = 130: 3
 * ```
 */
export const STEP_WG = 64;

/**
 * WGSL helpers shared by the cell kernels: the activations, and `NRM2` (reduce.ts) for the probes.
 *
 * @example
 * ```ts
 * import { ACTIVATIONS } from "./recurrence.ts";
 * const code = ACTIVATIONS + "fn f(x: f32) -> f32 { return sigm(x) * tanh_(x); }";
 * ```
 */
export const ACTIVATIONS = NRM2 + /* wgsl */ `
fn sigm(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
// clamp(NaN) may return a bound, and WGSL lets compilers assume no NaNs: a bit test keeps NaN a NaN (as on the CPU)
fn tanh_(x: f32) -> f32 {
  if ((bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u) { return x; }
  return tanh(clamp(x, -15.0, 15.0));
}
`;

/**
 * Gates per unit: 4 for the LSTM ([i | f | g | o]), 1 for the RNN.
 *
 * @example
 * ```ts
 * import { gatesOf } from "./recurrence.ts";
 * gatesOf("lstm"); // 4
 * ```
 */
export const gatesOf = (cell: CellType): number => (cell === "lstm" ? 4 : 1);

// ---------------------------------------------------------------------------------------------- forward, v2 / v3

/**
 * Versions 2 and 3, one fused dispatch per step, R batch rows per thread:
 *
 *   pre (G values) = gates[t][b, gate·H + j] + Σ_k h[t][b, k] · wT[k, gate·H + j]     (k = 0 .. H-1)
 *   cell (lstm.ts / rnn.ts): activations → gates[t]; c[t+1], h[t+1]
 *
 * Bindings: step uniform (dynamic: B, H, t), wT (H, G·H) (read), gates (rw), h (rw), c (rw).
 * Grid (ceil(H / 64), ceil(B / R)).
 */
function forwardStepFused(cell: CellType, R: number): string {
  const G = gatesOf(cell), lstm = cell === "lstm";
  return ACTIVATIONS + /* wgsl */ `
const WG = ${STEP_WG}u;
const R = ${R}u;
struct Step { B: u32, H: u32, t: u32, pad: u32 }
@group(0) @binding(0) var<uniform> s: Step;
@group(0) @binding(1) var<storage, read> wT: array<f32>;            // (H, G·H) = W_hhᵀ
@group(0) @binding(2) var<storage, read_write> gates: array<f32>;   // (T, B, G·H)
@group(0) @binding(3) var<storage, read_write> h: array<f32>;       // (T+1, B, H)
@group(0) @binding(4) var<storage, read_write> c: array<f32>;       // (T+1, B, H), LSTM
var<workgroup> hs: array<f32, ${R * STEP_WG}>;                    // h[t] of rows b0 .. b0+R-1, WG columns
@compute @workgroup_size(${STEP_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let B = s.B;
  let H = s.H;
  let GH = ${G}u * H;
  let t = s.t;
  let j = wid.x * WG + lid;
  let b0 = wid.y * R;
  var acc: array<${lstm ? "vec4f" : "f32"}, R>;
  for (var k0 = 0u; k0 < H; k0 += WG) {
    for (var r = 0u; r < R; r++) {
      let b = b0 + r;
      let k = k0 + lid;
      var v = 0.0;
      if (b < B && k < H) { v = h[(t * B + b) * H + k]; }
      hs[r * WG + lid] = v;
    }
    workgroupBarrier();
    if (j < H) {
      let kn = min(WG, H - k0);
      for (var kk = 0u; kk < kn; kk++) {
        let row = (k0 + kk) * GH + j;
${
    lstm
      ? /* wgsl */ `        let w = vec4f(wT[row], wT[row + H], wT[row + 2u * H], wT[row + 3u * H]);
        for (var r = 0u; r < R; r++) { acc[r] += hs[r * WG + kk] * w; }`
      : /* wgsl */ `        let w = wT[row];
        for (var r = 0u; r < R; r++) { acc[r] += hs[r * WG + kk] * w; }`
  }
      }
    }
    workgroupBarrier();
  }
  if (j >= H) { return; }
  for (var r = 0u; r < R; r++) {
    let b = b0 + r;
    if (b >= B) { break; }
    let sIdx = (t * B + b) * H + j;
    let nIdx = sIdx + B * H;
${
    lstm
      ? /* wgsl */ `    let gi = (t * B + b) * GH + j;
    let pre = acc[r];
    let i = sigm(gates[gi] + pre.x);
    let f = sigm(gates[gi + H] + pre.y);
    let g = tanh_(gates[gi + 2u * H] + pre.z);
    let o = sigm(gates[gi + 3u * H] + pre.w);
    gates[gi] = i; gates[gi + H] = f; gates[gi + 2u * H] = g; gates[gi + 3u * H] = o;
    let cn = f * c[sIdx] + i * g;
    c[nIdx] = cn;
    h[nIdx] = o * tanh_(cn);`
      : /* wgsl */ `    let gi = (t * B + b) * H + j;
    let hn = tanh_(gates[gi] + acc[r]);
    h[nIdx] = hn;`
  }
  }
}
`;
}

// ------------------------------------------------------------------------------------------------ forward, v4

/**
 * Version 4, persistent: ONE workgroup runs all T steps; threads stride over the B·H units, a `storageBarrier()`
 * separates the steps (h[t+1] written by all threads before any reads it).
 * Bindings: uniform (B, H, T), wT (read), gates (rw), h (rw), c (rw). Grid (1).
 */
function forwardPersistent(cell: CellType, wg: number): string {
  const G = gatesOf(cell), lstm = cell === "lstm";
  return ACTIVATIONS + /* wgsl */ `
struct Seq { B: u32, H: u32, T: u32, pad: u32 }
@group(0) @binding(0) var<uniform> s: Seq;
@group(0) @binding(1) var<storage, read> wT: array<f32>;            // (H, G·H) = W_hhᵀ
@group(0) @binding(2) var<storage, read_write> gates: array<f32>;   // (T, B, G·H)
@group(0) @binding(3) var<storage, read_write> h: array<f32>;       // (T+1, B, H)
@group(0) @binding(4) var<storage, read_write> c: array<f32>;       // (T+1, B, H), LSTM
@compute @workgroup_size(${wg})
fn main(@builtin(local_invocation_index) lid: u32) {
  let B = s.B;
  let H = s.H;
  let GH = ${G}u * H;
  for (var t = 0u; t < s.T; t++) {
    for (var u = lid; u < B * H; u += ${wg}u) {
      let b = u / H;
      let j = u % H;
      let hp = (t * B + b) * H;
${
    lstm
      ? /* wgsl */ `      var pre = vec4f(0.0);
      for (var k = 0u; k < H; k++) {
        let row = k * GH + j;
        pre += h[hp + k] * vec4f(wT[row], wT[row + H], wT[row + 2u * H], wT[row + 3u * H]);
      }
      let gi = (t * B + b) * GH + j;
      let i = sigm(gates[gi] + pre.x);
      let f = sigm(gates[gi + H] + pre.y);
      let g = tanh_(gates[gi + 2u * H] + pre.z);
      let o = sigm(gates[gi + 3u * H] + pre.w);
      gates[gi] = i; gates[gi + H] = f; gates[gi + 2u * H] = g; gates[gi + 3u * H] = o;
      let cn = f * c[hp + j] + i * g;
      c[hp + B * H + j] = cn;
      h[hp + B * H + j] = o * tanh_(cn);`
      : /* wgsl */ `      var pre = 0.0;
      for (var k = 0u; k < H; k++) { pre += h[hp + k] * wT[k * GH + j]; }
      let gi = (t * B + b) * H + j;
      let hn = tanh_(gates[gi] + pre);
      h[hp + B * H + j] = hn;`
  }
    }
    storageBarrier();
  }
}
`;
}

// ------------------------------------------------------------------------------------------------ backward, shared

/**
 * Flags of a backward step (bits of `Step.flags`).
 *
 * @example
 * ```ts
 * import { STEP_DHSEQ, STEP_FIRST } from "./recurrence.ts";
 * const flags = STEP_FIRST | STEP_DHSEQ; // the last time step, with gradients from above
 * ```
 */
export const STEP_FIRST = 1; // t = T-1: dh comes from dhInit (the gradient on the final state)
/**
 * Truncation: the state entering step t+1 is detached, so no gradient reaches h_t, c_t from step t+1.
 *
 * @example
 * ```ts
 * import { STEP_CUT } from "./recurrence.ts";
 * const cutAt = (t: number, k: number) => (k > 0 && (t + 1) % k === 0 ? STEP_CUT : 0);
 * ```
 */
export const STEP_CUT = 2;
/**
 * dhSeq (T, B, H) holds gradients from above (readout at every step, or the layer above).
 *
 * @example
 * ```ts
 * import { STEP_DHSEQ } from "./recurrence.ts";
 * const flags = STEP_DHSEQ; // a layer below the top, or a readout at every step
 * ```
 */
export const STEP_DHSEQ = 4;

/**
 * The LSTM / RNN cell backward of one unit (b, j) at step t, given dh (total); WGSL statements (every backward kernel,
 * and version 1 of dev/kernel_versions.ts).
 *
 * @example
 * ```ts
 * import { cellBackwardBody } from "./recurrence.ts";
 * const wgsl = cellBackwardBody("rnn", "  ", false); // reads dh, h, gates; writes gates[gi]
 * ```
 */
export function cellBackwardBody(cell: CellType, indent: string, probes: boolean): string {
  const lines = cell === "lstm"
    ? [
      "let gi = (t * B + b) * GH + j;",
      "let i = gates[gi]; let f = gates[gi + H]; let g = gates[gi + 2u * H]; let o = gates[gi + 3u * H];",
      "let sIdx = (t * B + b) * H + j;           // slot t of c: c_{t-1}",
      "let tc = tanh_(c[sIdx + B * H]);           // tanh(c_t)",
      "let dct = dcIn + dh * o * (1.0 - tc * tc);",
      "gates[gi] = dct * g * i * (1.0 - i);",
      "gates[gi + H] = dct * c[sIdx] * f * (1.0 - f);",
      "gates[gi + 2u * H] = dct * i * (1.0 - g * g);",
      "gates[gi + 3u * H] = dh * tc * o * (1.0 - o);",
      "dc[b * H + j] = dct * f;",
      ...(probes ? ["sq = vec4f(leaf(dh), leaf(dct));"] : []),
    ]
    : [
      "let gi = (t * B + b) * H + j;",
      "let hn = h[(t * B + b) * H + B * H + j];  // h_t",
      "gates[gi] = dh * (1.0 - hn * hn);",
      ...(probes ? ["sq = vec4f(leaf(dh), 0.0, 0.0);"] : []),
    ];
  return lines.map((l) => indent + l).join("\n");
}

// ---------------------------------------------------------------------------------------------- backward, v2 / v3

/**
 * Versions 2 and 3, one fused dispatch per step, R rows per thread:
 *
 *   dh = dhInit[b, j]                                  (flag FIRST: t = T-1)
 *      | 0, and dc = 0                                 (flag CUT: truncation boundary between t and t+1)
 *      | Σ_g dG[t+1][b, g] · W_hh[g, j]                (g = 0 .. G·H-1: the gradient carried to h_t)
 *   dh += dhSeq[t][b, j]                               (flag DHSEQ)
 *   cell backward at t → dG[t] over gates[t], dc ← dc_t ⊙ f
 *   probes: per workgroup, ‖dh‖ and ‖dc_t‖ of its units as (scale, ssq) → part[((t·B + b)·chunks + chunk)·4 ..]
 *
 * Bindings: step uniform (dynamic), W (the parameter buffer; W_hh at wOff), gates (rw), h (read), c (read),
 * dhSeq (read), dhInit (read), dc (rw), part (rw). Grid (chunks = ceil(H / 64), ceil(B / R)).
 */
function backwardStepFused(cell: CellType, R: number, probes: boolean): string {
  const G = gatesOf(cell);
  return ACTIVATIONS + /* wgsl */ `
const WG = ${STEP_WG}u;
const R = ${R}u;
struct Step { B: u32, H: u32, t: u32, flags: u32, chunks: u32, wOff: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> s: Step;
@group(0) @binding(1) var<storage, read> W: array<f32>;             // parameters; W_hh (G·H, H) at s.wOff
@group(0) @binding(2) var<storage, read_write> gates: array<f32>;   // (T, B, G·H): activations in, dG out
@group(0) @binding(3) var<storage, read> h: array<f32>;             // (T+1, B, H)
@group(0) @binding(4) var<storage, read> c: array<f32>;             // (T+1, B, H), LSTM
@group(0) @binding(5) var<storage, read> dhSeq: array<f32>;         // (T, B, H)
@group(0) @binding(6) var<storage, read> dhInit: array<f32>;        // (B, H)
@group(0) @binding(7) var<storage, read_write> dc: array<f32>;      // (B, H)
@group(0) @binding(8) var<storage, read_write> part: array<f32>;    // (T, B, chunks, 4), probes
var<workgroup> gs: array<f32, ${R * STEP_WG}>;                    // dG[t+1] of rows b0 .. b0+R-1, WG columns
${probes ? `var<workgroup> red: array<vec4f, ${STEP_WG}>;` : ""}
@compute @workgroup_size(${STEP_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let B = s.B;
  let H = s.H;
  let GH = ${G}u * H;
  let t = s.t;
  let j = wid.x * WG + lid;
  let b0 = wid.y * R;
  let first = (s.flags & ${STEP_FIRST}u) != 0u;
  let cut = (s.flags & ${STEP_CUT}u) != 0u;
  var acc: array<f32, R>;
  if (!first && !cut) {
    let next = (t + 1u) * B;
    for (var g0 = 0u; g0 < GH; g0 += WG) {
      for (var r = 0u; r < R; r++) {
        let b = b0 + r;
        let g = g0 + lid;
        var v = 0.0;
        if (b < B && g < GH) { v = gates[(next + b) * GH + g]; }
        gs[r * WG + lid] = v;
      }
      workgroupBarrier();
      if (j < H) {
        let gn = min(WG, GH - g0);
        for (var gg = 0u; gg < gn; gg++) {
          let w = W[s.wOff + (g0 + gg) * H + j];
          for (var r = 0u; r < R; r++) { acc[r] += gs[r * WG + gg] * w; }
        }
      }
      workgroupBarrier();
    }
  }
  for (var r = 0u; r < R; r++) {
    let b = b0 + r;
    ${probes ? "var sq = vec4f(0.0);" : ""}
    if (j < H && b < B) {
      var dh = acc[r];
      if (first) { dh = dhInit[b * H + j]; }
      if ((s.flags & ${STEP_DHSEQ}u) != 0u) { dh += dhSeq[(t * B + b) * H + j]; }
      var dcIn = 0.0;
      if (!cut) { dcIn = dc[b * H + j]; }
${cellBackwardBody(cell, "      ", probes)}
    }
${
    probes
      ? /* wgsl */ `    red[lid] = sq;
    workgroupBarrier();
    for (var st = WG / 2u; st > 0u; st >>= 1u) {
      if (lid < st) {
        let a = red[lid];
        let o = red[lid + st];
        red[lid] = vec4f(nrm2(a.xy, o.xy), nrm2(a.zw, o.zw));
      }
      workgroupBarrier();
    }
    if (lid == 0u && b < B) {
      let p = ((t * B + b) * s.chunks + wid.x) * 4u;
      part[p] = red[0].x;
      part[p + 1u] = red[0].y;
      part[p + 2u] = red[0].z;
      part[p + 3u] = red[0].w;
    }
    workgroupBarrier();`
      : ""
  }
  }
}
`;
}

// ------------------------------------------------------------------------------------------------ backward, v4

/**
 * Version 4, persistent backward: ONE workgroup runs t = T-1 .. 0 (the same step as versions 2/3, with the flags
 * computed in the kernel from T and the truncation length), a `storageBarrier()` between steps. With probes, each
 * thread leaves its units' |dh|, |dc_t| in `sq` (B, H, 2) and, after a barrier, threads b < B combine row b
 * (scaled, no raw squares) and write the norms (T, B) directly.
 * Bindings: uniform (B, H, T, flags (DHSEQ), truncate, wOff), W (read), gates (rw), h (read), c (read),
 * dhSeq (read), dhInit (read), dc (rw), sq (rw), dhNorm (rw), dcNorm (rw). Grid (1).
 */
function backwardPersistent(cell: CellType, wg: number, probes: boolean): string {
  const G = gatesOf(cell);
  return ACTIVATIONS + /* wgsl */ `
struct Seq { B: u32, H: u32, T: u32, flags: u32, truncate: u32, wOff: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> s: Seq;
@group(0) @binding(1) var<storage, read> W: array<f32>;             // parameters; W_hh (G·H, H) at s.wOff
@group(0) @binding(2) var<storage, read_write> gates: array<f32>;   // (T, B, G·H): activations in, dG out
@group(0) @binding(3) var<storage, read> h: array<f32>;             // (T+1, B, H)
@group(0) @binding(4) var<storage, read> c: array<f32>;             // (T+1, B, H), LSTM
@group(0) @binding(5) var<storage, read> dhSeq: array<f32>;         // (T, B, H)
@group(0) @binding(6) var<storage, read> dhInit: array<f32>;        // (B, H)
@group(0) @binding(7) var<storage, read_write> dc: array<f32>;      // (B, H)
@group(0) @binding(8) var<storage, read_write> sqs: array<f32>;     // (B, H, 2), probes scratch
@group(0) @binding(9) var<storage, read_write> dhNorm: array<f32>;  // (T, B), probes
@group(0) @binding(10) var<storage, read_write> dcNorm: array<f32>; // (T, B), probes
@compute @workgroup_size(${wg})
fn main(@builtin(local_invocation_index) lid: u32) {
  let B = s.B;
  let H = s.H;
  let T = s.T;
  let GH = ${G}u * H;
  for (var step = 0u; step < T; step++) {
    let t = T - 1u - step;
    let first = step == 0u;
    let cut = !first && s.truncate > 0u && (t + 1u) % s.truncate == 0u;
    for (var u = lid; u < B * H; u += ${wg}u) {
      let b = u / H;
      let j = u % H;
      var dh = 0.0;
      if (first) {
        dh = dhInit[u];
      } else if (!cut) {
        let row = ((t + 1u) * B + b) * GH;
        for (var g = 0u; g < GH; g++) { dh += gates[row + g] * W[s.wOff + g * H + j]; }
      }
      if ((s.flags & ${STEP_DHSEQ}u) != 0u) { dh += dhSeq[(t * B + b) * H + j]; }
      var dcIn = 0.0;
      if (!cut) { dcIn = dc[u]; }
      ${probes ? "var sq = vec4f(0.0);" : ""}
${cellBackwardBody(cell, "      ", probes)}
      ${probes ? "sqs[2u * u] = sq.x; sqs[2u * u + 1u] = sq.z;" : ""}
    }
    storageBarrier();
${
    probes
      ? /* wgsl */ `    for (var b = lid; b < B; b += ${wg}u) {
      var nh = vec2f(0.0);
      var nc = vec2f(0.0);
      for (var j = 0u; j < H; j++) {
        nh = nrm2(nh, leaf(sqs[2u * (b * H + j)]));
        nc = nrm2(nc, leaf(sqs[2u * (b * H + j) + 1u]));
      }
      dhNorm[t * B + b] = nh.x * sqrt(nh.y);
      dcNorm[t * B + b] = nc.x * sqrt(nc.y);
    }
    storageBarrier();`
      : ""
  }
  }
}
`;
}

/**
 * Reduces the per-workgroup partial norms of the per-step backward kernels, (scale, ssq) pairs, into norms:
 * dhNorm[t·B + b] = scale·√ssq of the chunks combined, dcNorm likewise. Bindings: uniform (TB, chunks), part (read),
 * dhNorm (rw), dcNorm (rw). Grid (ceil(T·B / 64)).
 *
 * @example
 * ```ts
 * import { PROBE_NORMS } from "./recurrence.ts";
 * PROBE_NORMS.bindings; // ["uniform", "read", "rw", "rw"]
 * ```
 */
export const PROBE_NORMS: KernelSpec = {
  name: "probe-norms",
  bindings: ["uniform", "read", "rw", "rw"],
  code: ACTIVATIONS + /* wgsl */ `
struct P { TB: u32, chunks: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> part: array<f32>;          // (T·B, chunks, 4)
@group(0) @binding(2) var<storage, read_write> dhNorm: array<f32>;  // (T·B)
@group(0) @binding(3) var<storage, read_write> dcNorm: array<f32>;  // (T·B)
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.TB) { return; }
  var nh = vec2f(0.0);
  var nc = vec2f(0.0);
  for (var k = 0u; k < p.chunks; k++) {
    let i = (r * p.chunks + k) * 4u;
    nh = nrm2(nh, vec2f(part[i], part[i + 1u]));
    nc = nrm2(nc, vec2f(part[i + 2u], part[i + 3u]));
  }
  dhNorm[r] = nh.x * sqrt(nh.y);
  dcNorm[r] = nc.x * sqrt(nc.y);
}
`,
};

/**
 * The per-step forward kernel (one fused dispatch per time step), each thread serving `rows` batch rows.
 *
 * @example
 * ```ts
 * import { forwardStepKernel } from "./recurrence.ts";
 * const spec = forwardStepKernel("lstm", 4); // bindings: step (dynamic), wT, gates, h, c
 * ```
 */
export function forwardStepKernel(cell: CellType, rows: number): KernelSpec {
  return {
    name: `fwd3-${cell}-r${rows}`,
    code: forwardStepFused(cell, rows),
    bindings: ["uniform-dynamic", "read", "rw", "rw", "rw"],
  };
}

/**
 * The persistent forward kernel (one dispatch of one workgroup of `wg` threads for all T steps).
 *
 * @example
 * ```ts
 * import { forwardPersistentKernel } from "./recurrence.ts";
 * const spec = forwardPersistentKernel("rnn", 256); // bindings: uniform (B, H, T), wT, gates, h, c
 * ```
 */
export function forwardPersistentKernel(cell: CellType, wg: number): KernelSpec {
  return {
    name: `fwd4-${cell}-wg${wg}`,
    code: forwardPersistent(cell, wg),
    bindings: ["uniform", "read", "rw", "rw", "rw"],
  };
}

/**
 * The per-step backward kernel, each thread serving `rows` batch rows; `probes` compiles the probe code in (partial
 * norms per workgroup, combined afterwards by `PROBE_NORMS`).
 *
 * @example
 * ```ts
 * import { backwardStepKernel } from "./recurrence.ts";
 * const spec = backwardStepKernel("rnn", 4, true);
 * ```
 */
export function backwardStepKernel(cell: CellType, rows: number, probes: boolean): KernelSpec {
  return {
    name: `bwd3-${cell}-r${rows}${probes ? "-probes" : ""}`,
    code: backwardStepFused(cell, rows, probes),
    bindings: ["uniform-dynamic", "read", "rw", "read", "read", "read", "read", "rw", "rw"],
  };
}

/**
 * The persistent backward kernel (one workgroup of `wg` threads, t = T-1 .. 0); `probes` compiles the probe code in
 * (the norms written directly).
 *
 * @example
 * ```ts
 * import { backwardPersistentKernel } from "./recurrence.ts";
 * const spec = backwardPersistentKernel("lstm", 256, false);
 * ```
 */
export function backwardPersistentKernel(cell: CellType, wg: number, probes: boolean): KernelSpec {
  return {
    name: `bwd4-${cell}-wg${wg}${probes ? "-probes" : ""}`,
    code: backwardPersistent(cell, wg, probes),
    bindings: ["uniform", "read", "rw", "read", "read", "read", "read", "rw", "rw", "rw", "rw"],
  };
}
