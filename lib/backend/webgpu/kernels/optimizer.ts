/**
 * Optimizer updates, WGSL, one thread per parameter — exactly the rules of lib/optim (PyTorch's), the CPU reference
 * being `SGD.step`, `RMSProp.step` and `Adam.step`:
 *
 *   g ← clamp(grad · stats[2], -clipValue, clipValue)     clipping by norm (factor from the norm kernel), by value
 *   SGD       g ← g + λp;  b ← g (first step) or μb + (1-τ)g;  p ← p - η (g + μb if Nesterov, else b);  μ = 0: p ← p - ηg
 *   RMSProp   g ← g + λp;  v ← αv + (1-α)g²;  d ← √v + ε (or √(v - m²) + ε, m ← αm + (1-α)g, centered);
 *             b ← μb + g/d, p ← p - ηb (μ > 0), or p ← p - ηg/d
 *   Adam      p ← p·decay (AdamW: 1 - ηλ);  g ← g + λ₂p (Adam's L2);  m ← β₁m + (1-β₁)g;  v ← β₂v + (1-β₂)g²;
 *             p ← p - stepSize · m / (√v / √(1-β₂ᵗ) + ε),  stepSize = η / (1-β₁ᵗ)
 *
 * β₁ᵗ, β₂ᵗ are running products kept on the CPU (as `Adam` does) and passed in the uniform block each step. Nothing
 * is written when the divergence flag stats[3] is set (no update with a non-finite loss or gradient).
 *
 * Bindings: uniform (per step, caller-owned), params (rw), grads (read), stats (read), state1..3 (rw; unused ones
 * bound to a dummy). Grid (ceil(n / 256)).
 *
 * @module
 */

import type { OptimizerKind } from "../../../optim/spec.ts";
import type { KernelSpec } from "../gpu.ts";

export type { OptimizerKind };

const HEADER = /* wgsl */ `
struct Opt {
  n: u32, flags: u32, clipValue: f32, lr: f32,     // flags: SGD 1 first step, 2 Nesterov; RMSProp 1 centered, 2 momentum
  a: f32, b: f32, c: f32, d: f32,                   // per rule, see below
  e: f32, f: f32, g: f32, h: f32,
}
@group(0) @binding(0) var<uniform> u: Opt;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> s1: array<f32>;
@group(0) @binding(5) var<storage, read_write> s2: array<f32>;
@group(0) @binding(6) var<storage, read_write> s3: array<f32>;
fn grad(i: u32) -> f32 {
  var g = grads[i] * stats[2];
  if (u.clipValue > 0.0) {
    if (g > u.clipValue) { g = u.clipValue; } else if (g < -u.clipValue) { g = -u.clipValue; }
  }
  return g;
}
`;

const BODIES: Record<OptimizerKind, string> = {
  // a = μ, b = 1 - τ, c = λ
  sgd: /* wgsl */ `
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= u.n || stats[3] != 0.0) { return; }
  let p = params[i];
  let g = grad(i) + u.c * p;
  if (u.a == 0.0) { params[i] = p - u.lr * g; return; }
  var b = g;
  if ((u.flags & 1u) == 0u) { b = u.a * s1[i] + u.b * g; }
  s1[i] = b;
  if ((u.flags & 2u) != 0u) { params[i] = p - u.lr * (g + u.a * b); } else { params[i] = p - u.lr * b; }
}
`,
  // a = α, b = 1 - α, c = ε, d = μ, e = λ
  rmsprop: /* wgsl */ `
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= u.n || stats[3] != 0.0) { return; }
  let p = params[i];
  let g = grad(i) + u.e * p;
  let v = u.a * s1[i] + u.b * g * g;
  s1[i] = v;
  var avg: f32;
  if ((u.flags & 1u) != 0u) {
    let m = u.a * s2[i] + u.b * g;
    s2[i] = m;
    avg = sqrt(v - m * m) + u.c;
  } else {
    avg = sqrt(v) + u.c;
  }
  if ((u.flags & 2u) != 0u) {
    let b = u.d * s3[i] + g / avg;
    s3[i] = b;
    params[i] = p - u.lr * b;
  } else {
    params[i] = p - u.lr * g / avg;
  }
}
`,
  // a = β₁, b = 1 - β₁, c = β₂, d = 1 - β₂, e = ε, f = λ₂ (Adam's L2), g = decay (AdamW), h = √(1 - β₂ᵗ);
  // lr carries stepSize = η / (1 - β₁ᵗ)
  adam: /* wgsl */ `
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= u.n || stats[3] != 0.0) { return; }
  let p = params[i] * u.g;
  let g = grad(i) + u.f * p;
  let m = u.a * s1[i] + u.b * g;
  let v = u.c * s2[i] + u.d * g * g;
  s1[i] = m;
  s2[i] = v;
  params[i] = p - u.lr * m / (sqrt(v) / u.h + u.e);
}
`,
};

/**
 * The update kernel of an optimizer rule.
 *
 * @example
 * ```ts
 * import { optimizerKernel } from "./optimizer.ts";
 * const spec = optimizerKernel("adam"); // bindings: uniform, params, grads, stats, s1, s2, s3
 * ```
 */
export function optimizerKernel(kind: OptimizerKind): KernelSpec {
  return {
    name: `opt-${kind}`,
    code: HEADER + BODIES[kind],
    bindings: ["uniform", "rw", "read", "read", "rw", "rw", "rw"],
  };
}
