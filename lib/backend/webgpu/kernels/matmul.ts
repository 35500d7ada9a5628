/**
 * The matrix product, WGSL: C (M, N) = [C +] [bias] + op(A) (M, K) · op(B) (K, N), with any strides, so one kernel
 * serves every product of a layer (CPU reference: `gemmReference` in lib/nn/gemm.ts):
 *
 *   input projections   gates (T·B, G·H) = b_ih + b_hh + x (T·B, I) · W_ihᵀ      B(k, n) = W_ih[n·I + k]
 *   weight gradients    dW_hh (G·H, H) += dGᵀ (G·H, T·B) · h (T·B, H)            A(m, k) = dG[k·G·H + m]
 *                       dW_ih (G·H, I) += dGᵀ · x
 *   input gradient      dx (T·B, I) = dG (T·B, G·H) · W_ih (G·H, I)
 *   readout             y (R, O) = b + h (R, H) · Wᵀ;   dW (O, H) += dyᵀ · h;   dh (R, H) = dy · W
 *   initial-state grad  dh0 (B, H) = dG[0] (B, G·H) · W_hh (G·H, H)
 *
 * Element (m, k) of A is `A[aOff + m·aRs + k·aCs]`, element (k, n) of B is `Bm[bOff + k·bRs + n·bCs]`, element (m, n)
 * of C is `C[cOff + m·ldc + n]` (offsets in elements, so parameters are addressed inside the flat parameter buffer).
 * Each C element sums its K products in order k = 0, 1, ..., K-1 (as the CPU kernels do), then adds the biases and,
 * with `accumulate`, the old C.
 *
 * The kernel is version 3 of the dev harness (dev/bench_kernels.ts, which times it against versions 1, naive, and 2,
 * 16×16 tiles, kept in dev/kernel_versions.ts): register-blocked, 64×64 tiles, each of 256 threads computes a 4×4
 * block. Tiles are loaded along whichever dimension of A (or B) is contiguous in memory, so a transposed operand is
 * read as coalesced as a plain one.
 *
 * @module
 */

import type { BindingKind, KernelSpec } from "../gpu.ts";
import { ceilDiv, Uniforms } from "../gpu.ts";

/**
 * Bindings of every version of the product: uniform block (dynamic: one block per time step), A, B, bias (read),
 * C (read-write).
 *
 * @example
 * ```ts
 * import { matmulBindings } from "./matmul.ts";
 * matmulBindings(false); // ["uniform", "read", "read", "read", "rw"]
 * ```
 */
export function matmulBindings(dynamic: boolean): BindingKind[] {
  return [dynamic ? "uniform-dynamic" : "uniform", "read", "read", "read", "rw"];
}

/**
 * WGSL shared by every version of the product: the uniform block, the bindings, bounds-checked loads and the store
 * (biases, accumulate).
 *
 * @example
 * ```ts
 * import { MATMUL_HEADER } from "./matmul.ts";
 * const code = MATMUL_HEADER + "@compute @workgroup_size(1) fn main() { store(0u, 0u, loadA(0u, 0u)); }";
 * ```
 */
export const MATMUL_HEADER = /* wgsl */ `
struct Mm {
  M: u32, N: u32, K: u32, accumulate: u32,
  aOff: u32, aRs: u32, aCs: u32, biasMode: u32,   // biasMode: 0 none, 1 bias1, 2 bias1 + bias2
  bOff: u32, bRs: u32, bCs: u32, bias1Off: u32,
  cOff: u32, ldc: u32, bias2Off: u32, pad: u32,
}
@group(0) @binding(0) var<uniform> u: Mm;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> Bm: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

fn loadA(m: u32, k: u32) -> f32 {
  if (m < u.M && k < u.K) { return A[u.aOff + m * u.aRs + k * u.aCs]; }
  return 0.0;
}
fn loadB(k: u32, n: u32) -> f32 {
  if (k < u.K && n < u.N) { return Bm[u.bOff + k * u.bRs + n * u.bCs]; }
  return 0.0;
}
fn store(m: u32, n: u32, acc: f32) {
  var v = acc;
  if (u.biasMode >= 1u) { v += bias[u.bias1Off + n]; }
  if (u.biasMode == 2u) { v += bias[u.bias2Off + n]; }
  let ci = u.cOff + m * u.ldc + n;
  if (u.accumulate == 1u) { v += C[ci]; }
  C[ci] = v;
}
`;

/** 64×64 tiles, K in steps of 16, each thread a 4×4 block. Grid (ceil(N/64), ceil(M/64)). */
const MATMUL = MATMUL_HEADER + /* wgsl */ `
var<workgroup> As: array<f32, 1024>;  // [k][m], 16 × 64
var<workgroup> Bs: array<f32, 1024>;  // [k][n], 16 × 64
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) w: vec3u, @builtin(local_invocation_id) l: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let m0 = w.y * 64u;
  let n0 = w.x * 64u;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < u.K; k0 += 16u) {
    for (var e = 0u; e < 4u; e++) {
      let idx = li + e * 256u;
      // A tile (64 m × 16 k), read along its contiguous dimension.
      var am = idx / 16u;
      var ak = idx % 16u;
      if (u.aCs != 1u) { ak = idx / 64u; am = idx % 64u; }
      As[ak * 64u + am] = loadA(m0 + am, k0 + ak);
      // B tile (16 k × 64 n).
      var bk = idx / 64u;
      var bn = idx % 64u;
      if (u.bCs != 1u) { bn = idx / 16u; bk = idx % 16u; }
      Bs[bk * 64u + bn] = loadB(k0 + bk, n0 + bn);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let a = vec4f(As[kk * 64u + l.y * 4u], As[kk * 64u + l.y * 4u + 1u],
                    As[kk * 64u + l.y * 4u + 2u], As[kk * 64u + l.y * 4u + 3u]);
      let b = vec4f(Bs[kk * 64u + l.x * 4u], Bs[kk * 64u + l.x * 4u + 1u],
                    Bs[kk * 64u + l.x * 4u + 2u], Bs[kk * 64u + l.x * 4u + 3u]);
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + l.y * 4u + i;
    if (m < u.M) {
      let r = acc[i];
      for (var j = 0u; j < 4u; j++) {
        let n = n0 + l.x * 4u + j;
        if (n < u.N) { store(m, n, r[j]); }
      }
    }
  }
}
`;

/**
 * The product kernel (64×64 tiles, 4×4 per thread).
 *
 * @example
 * ```ts
 * import { matmulKernel } from "./matmul.ts";
 * const spec = matmulKernel(); // spec.code is WGSL; spec.bindings: uniform, A, B, bias, C
 * ```
 */
export function matmulKernel(): KernelSpec {
  return { name: "matmul3", code: MATMUL, bindings: matmulBindings(false) };
}

/** Operand layout of one product (offsets in elements). */
export interface MatmulArgs {
  M: number;
  N: number;
  K: number;
  /** A (M, K): element (m, k) at off + m·rs + k·cs. */
  a: { off?: number; rs: number; cs: number };
  /** B (K, N): element (k, n) at off + k·rs + n·cs. */
  b: { off?: number; rs: number; cs: number };
  /** C (M, N): element (m, n) at off + m·ld + n. */
  c: { off?: number; ld: number };
  accumulate: boolean;
  /** Offsets of one or two bias vectors (N) in the bias buffer, added to every row. */
  bias?: number[];
}

/**
 * The uniform block of a product.
 *
 * @example
 * ```ts
 * import { matmulUniforms } from "./matmul.ts";
 * // C (2, 3) = A (2, 4) · B (4, 3), all row-major
 * const u = matmulUniforms({ M: 2, N: 3, K: 4, a: { rs: 4, cs: 1 }, b: { rs: 3, cs: 1 }, c: { ld: 3 }, accumulate: false });
 * ```
 */
export function matmulUniforms(p: MatmulArgs): Uniforms {
  const bias = p.bias ?? [];
  return new Uniforms().u(
    p.M,
    p.N,
    p.K,
    p.accumulate ? 1 : 0,
    p.a.off ?? 0,
    p.a.rs,
    p.a.cs,
    bias.length,
    p.b.off ?? 0,
    p.b.rs,
    p.b.cs,
    bias[0] ?? 0,
    p.c.off ?? 0,
    p.c.ld,
    bias[1] ?? 0,
    0,
  );
}

/**
 * Workgroups of a product: one per 64×64 tile of C.
 *
 * @example
 * ```ts
 * import { matmulGroups } from "./matmul.ts";
 * matmulGroups(100, 512); // [8, 2, 1]: 64 × 64 tiles
 * ```
 */
export function matmulGroups(M: number, N: number): [number, number, number] {
  return [ceilDiv(N, 64), ceilDiv(M, 64), 1];
}
