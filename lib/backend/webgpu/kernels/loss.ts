/**
 * Losses, WGSL: the loss over R rows of O outputs and its gradient ∂L/∂y, with a row mask and PyTorch's mean
 * reductions exactly as lib/nn/loss.ts (the CPU reference: `mseLoss`, `crossEntropyLoss`, `bceWithLogitsLoss`):
 *
 *   MSE       Σ (y - target)² / (N·O),               dy = 2 (y - target) / (N·O)
 *   CE        Σ (logsumexp(y) - y[class]) / N,       dy = (softmax(y) - onehot) / N
 *   BCE       Σ (softplus(y) - target·y) / (N·O),    dy = (σ(y) - target) / (N·O)
 *
 * N is the number of scored rows (mask ≠ 0), counted on the CPU when the mask is uploaded; unscored rows get dy = 0;
 * N = 0 gives loss 0. One workgroup of 256 threads strides over the rows and reduces the sum in workgroup memory
 * (the CPU sums in double precision in row order; here float32 in a tree — close, not identical). The loss goes to
 * stats[0]; a non-finite loss sets the divergence flag stats[3] = 1 (unless already set).
 *
 * Bindings: uniform (R, O, hasMask, N, scale, yOff), y (read, from element yOff), target (read; class indices as floats for CE),
 * mask (read), dy (rw), stats (rw). Grid (1).
 *
 * @module
 */

import type { LossKind } from "../../../nn/loss.ts";
import type { KernelSpec } from "../gpu.ts";
import { FINITE } from "./reduce.ts";

/**
 * Threads of the loss workgroup.
 *
 * @example
 * ```ts
 * import { LOSS_WG } from "./loss.ts";
 * const rowsPerThread = Math.ceil(6400 / LOSS_WG); // 25
 * ```
 */
export const LOSS_WG = 256;

const HEADER = FINITE + /* wgsl */ `
struct Loss { R: u32, O: u32, hasMask: u32, N: u32, scale: f32, yOff: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Loss;
@group(0) @binding(1) var<storage, read> ys: array<f32>;         // (R, O) from yOff
@group(0) @binding(2) var<storage, read> targets: array<f32>;    // (R, O), or (R) class indices
@group(0) @binding(3) var<storage, read> mask: array<f32>;       // (R)
@group(0) @binding(4) var<storage, read_write> dy: array<f32>;   // (R, O)
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
var<workgroup> red: array<f32, ${LOSS_WG}>;
fn y(i: u32) -> f32 { return ys[p.yOff + i]; }
fn scored(r: u32) -> bool { return p.N > 0u && (p.hasMask == 0u || mask[r] != 0.0); }
fn finish(lid: u32, sum: f32) {
  red[lid] = sum;
  workgroupBarrier();
  for (var st = ${LOSS_WG / 2}u; st > 0u; st >>= 1u) {
    if (lid < st) { red[lid] += red[lid + st]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let loss = red[0] * p.scale;
    stats[0] = loss;
    if (stats[3] == 0.0 && !finite(loss)) { stats[3] = 1.0; }
  }
}
`;

const BODIES: Record<LossKind, string> = {
  mse: /* wgsl */ `
@compute @workgroup_size(${LOSS_WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var sum = 0.0;
  for (var e = lid; e < p.R * p.O; e += ${LOSS_WG}u) {
    var g = 0.0;
    if (scored(e / p.O)) {
      let d = y(e) - targets[e];
      sum += d * d;
      g = 2.0 * d * p.scale;
    }
    dy[e] = g;
  }
  finish(lid, sum);
}
`,
  "cross-entropy": /* wgsl */ `
@compute @workgroup_size(${LOSS_WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var sum = 0.0;
  let O = p.O;
  for (var r = lid; r < p.R; r += ${LOSS_WG}u) {
    let base = r * O;
    if (!scored(r)) {
      for (var o = 0u; o < O; o++) { dy[base + o] = 0.0; }
      continue;
    }
    var mx = y(base);
    for (var o = 1u; o < O; o++) { mx = max(mx, y(base + o)); }
    var z = 0.0;
    for (var o = 0u; o < O; o++) { z += exp(y(base + o) - mx); }
    let logZ = mx + log(z);
    let cls = u32(targets[r]);
    sum += logZ - y(base + cls);
    for (var o = 0u; o < O; o++) { dy[base + o] = exp(y(base + o) - logZ) * p.scale; }
    dy[base + cls] -= p.scale;
  }
  finish(lid, sum);
}
`,
  bce: /* wgsl */ `
@compute @workgroup_size(${LOSS_WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var sum = 0.0;
  for (var e = lid; e < p.R * p.O; e += ${LOSS_WG}u) {
    var g = 0.0;
    if (scored(e / p.O)) {
      let v = y(e);
      let t = targets[e];
      sum += max(v, 0.0) + log(1.0 + exp(-abs(v))) - t * v;   // softplus(v) - t·v
      g = (1.0 / (1.0 + exp(-v)) - t) * p.scale;
    }
    dy[e] = g;
  }
  finish(lid, sum);
}
`,
};

/**
 * The loss kernel of a kind.
 *
 * @example
 * ```ts
 * import { lossKernel } from "./loss.ts";
 * const spec = lossKernel("cross-entropy"); // bindings: uniform, y, target, mask, dy, stats
 * ```
 */
export function lossKernel(kind: LossKind): KernelSpec {
  return {
    name: `loss-${kind}`,
    code: HEADER + BODIES[kind],
    bindings: ["uniform", "read", "read", "read", "rw", "rw"],
  };
}
