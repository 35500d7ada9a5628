// WebAssembly SIMD kernels (AssemblyScript), float32: the fast CPU path of lstm-lab.
//
// Each function implements the contract of the reference kernel of the same name in `lib/nn/kernels.ts` /
// `lib/backend/cpu/js_kernels.ts` (checked by `wasm_kernels_test.ts`). Arguments are byte addresses into the
// module's (shared) linear memory plus element counts and strides. Build: `deno task build:wasm`.
//
// Reproducibility: only IEEE-754 basic operations, which WebAssembly defines bit-exactly, and no fused multiply-add
// (relaxed SIMD's madd may or may not fuse, depending on the machine). So a kernel gives the same bits in every
// engine (V8 in Deno, JavaScriptCore in Bun) and on every x86-64 or ARM machine.
//
// Every product C[m, n] is accumulated in the order k = 0, 1, ..., K-1, in the SIMD tiles and in the scalar tails
// alike, so results do not depend on which tile an element falls in or on how work is split across threads.

// ---------------------------------------------------------------------------------------------------------------
// GEMM: C (M, N) = [C +] op(A) (M, K) · B (K, N); A(m, k) at a + 4 (m·ars + k·acs), B(k, n) at b + 4 (k·ldb + n),
// C(m, n) at c + 4 (m·ldc + n). Register tile 4 × 16 (16 accumulators), then 4 × 4, 1 × 16, 1 × 4 and scalar tails.

function tile4x16(
  c: usize,
  pa: usize,
  pb: usize,
  K: i32,
  rs: usize,
  ks: usize,
  bs: usize,
  ldc4: usize,
  acc: bool,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c22 = f32x4.splat(0), c23 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0), c32 = f32x4.splat(0), c33 = f32x4.splat(0);
  const r1 = c + ldc4, r2 = r1 + ldc4, r3 = r2 + ldc4;
  if (acc) {
    c00 = v128.load(c);
    c01 = v128.load(c, 16);
    c02 = v128.load(c, 32);
    c03 = v128.load(c, 48);
    c10 = v128.load(r1);
    c11 = v128.load(r1, 16);
    c12 = v128.load(r1, 32);
    c13 = v128.load(r1, 48);
    c20 = v128.load(r2);
    c21 = v128.load(r2, 16);
    c22 = v128.load(r2, 32);
    c23 = v128.load(r2, 48);
    c30 = v128.load(r3);
    c31 = v128.load(r3, 16);
    c32 = v128.load(r3, 32);
    c33 = v128.load(r3, 48);
  }
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16), b2 = v128.load(pb, 32), b3 = v128.load(pb, 48);
    let av = f32x4.splat(load<f32>(pa));
    c00 = f32x4.add(c00, f32x4.mul(av, b0));
    c01 = f32x4.add(c01, f32x4.mul(av, b1));
    c02 = f32x4.add(c02, f32x4.mul(av, b2));
    c03 = f32x4.add(c03, f32x4.mul(av, b3));
    av = f32x4.splat(load<f32>(pa + rs));
    c10 = f32x4.add(c10, f32x4.mul(av, b0));
    c11 = f32x4.add(c11, f32x4.mul(av, b1));
    c12 = f32x4.add(c12, f32x4.mul(av, b2));
    c13 = f32x4.add(c13, f32x4.mul(av, b3));
    av = f32x4.splat(load<f32>(pa + 2 * rs));
    c20 = f32x4.add(c20, f32x4.mul(av, b0));
    c21 = f32x4.add(c21, f32x4.mul(av, b1));
    c22 = f32x4.add(c22, f32x4.mul(av, b2));
    c23 = f32x4.add(c23, f32x4.mul(av, b3));
    av = f32x4.splat(load<f32>(pa + 3 * rs));
    c30 = f32x4.add(c30, f32x4.mul(av, b0));
    c31 = f32x4.add(c31, f32x4.mul(av, b1));
    c32 = f32x4.add(c32, f32x4.mul(av, b2));
    c33 = f32x4.add(c33, f32x4.mul(av, b3));
    pa += ks;
    pb += bs;
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c, c02, 32);
  v128.store(c, c03, 48);
  v128.store(r1, c10);
  v128.store(r1, c11, 16);
  v128.store(r1, c12, 32);
  v128.store(r1, c13, 48);
  v128.store(r2, c20);
  v128.store(r2, c21, 16);
  v128.store(r2, c22, 32);
  v128.store(r2, c23, 48);
  v128.store(r3, c30);
  v128.store(r3, c31, 16);
  v128.store(r3, c32, 32);
  v128.store(r3, c33, 48);
}

function tile4x4(
  c: usize,
  pa: usize,
  pb: usize,
  K: i32,
  rs: usize,
  ks: usize,
  bs: usize,
  ldc4: usize,
  acc: bool,
): void {
  const r1 = c + ldc4, r2 = r1 + ldc4, r3 = r2 + ldc4;
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  if (acc) {
    c0 = v128.load(c);
    c1 = v128.load(r1);
    c2 = v128.load(r2);
    c3 = v128.load(r3);
  }
  for (let k = 0; k < K; k++) {
    const b0 = v128.load(pb);
    c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(pa)), b0));
    c1 = f32x4.add(c1, f32x4.mul(f32x4.splat(load<f32>(pa + rs)), b0));
    c2 = f32x4.add(c2, f32x4.mul(f32x4.splat(load<f32>(pa + 2 * rs)), b0));
    c3 = f32x4.add(c3, f32x4.mul(f32x4.splat(load<f32>(pa + 3 * rs)), b0));
    pa += ks;
    pb += bs;
  }
  v128.store(c, c0);
  v128.store(r1, c1);
  v128.store(r2, c2);
  v128.store(r3, c3);
}

function tile1x16(c: usize, pa: usize, pb: usize, K: i32, ks: usize, bs: usize, acc: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  if (acc) {
    c0 = v128.load(c);
    c1 = v128.load(c, 16);
    c2 = v128.load(c, 32);
    c3 = v128.load(c, 48);
  }
  for (let k = 0; k < K; k++) {
    const av = f32x4.splat(load<f32>(pa));
    c0 = f32x4.add(c0, f32x4.mul(av, v128.load(pb)));
    c1 = f32x4.add(c1, f32x4.mul(av, v128.load(pb, 16)));
    c2 = f32x4.add(c2, f32x4.mul(av, v128.load(pb, 32)));
    c3 = f32x4.add(c3, f32x4.mul(av, v128.load(pb, 48)));
    pa += ks;
    pb += bs;
  }
  v128.store(c, c0);
  v128.store(c, c1, 16);
  v128.store(c, c2, 32);
  v128.store(c, c3, 48);
}

function tile1x4(c: usize, pa: usize, pb: usize, K: i32, ks: usize, bs: usize, acc: bool): void {
  let c0 = acc ? v128.load(c) : f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    c0 = f32x4.add(c0, f32x4.mul(f32x4.splat(load<f32>(pa)), v128.load(pb)));
    pa += ks;
    pb += bs;
  }
  v128.store(c, c0);
}

function tile1x1(c: usize, pa: usize, pb: usize, K: i32, ks: usize, bs: usize, acc: bool): void {
  let s: f32 = acc ? load<f32>(c) : 0;
  for (let k = 0; k < K; k++) {
    s = s + load<f32>(pa) * load<f32>(pb);
    pa += ks;
    pb += bs;
  }
  store<f32>(c, s);
}

/** Rows [m0, m1) of C = [C +] op(A) · B (threads split work by rows). */
export function gemm(
  m0: i32,
  m1: i32,
  N: i32,
  K: i32,
  a: usize,
  ars: i32,
  acs: i32,
  b: usize,
  ldb: i32,
  c: usize,
  ldc: i32,
  accumulate: i32,
): void {
  // K is cut into panels of KC so that the panels of A and B being multiplied stay in L2 (a long K, such as the
  // T·B rows of a weight gradient, would otherwise stream both from L3 once per tile). Each C element still sums
  // its products in order of k: a panel continues the sums the previous one stored.
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    gemmPanel(
      m0,
      m1,
      N,
      kc,
      a + ((<usize> k0 * acs) << 2),
      ars,
      acs,
      b + ((<usize> k0 * ldb) << 2),
      ldb,
      c,
      ldc,
      accumulate != 0 || k0 > 0,
    );
  }
  if (K == 0 && accumulate == 0) {
    for (let m = m0; m < m1; m++) memory.fill(c + ((<usize> m * ldc) << 2), 0, <usize> N << 2);
  }
}

const KC = 256;

function gemmPanel(
  m0: i32,
  m1: i32,
  N: i32,
  K: i32,
  a: usize,
  ars: i32,
  acs: i32,
  b: usize,
  ldb: i32,
  c: usize,
  ldc: i32,
  acc: bool,
): void {
  const rs = <usize> ars << 2, ks = <usize> acs << 2, bs = <usize> ldb << 2, ldc4 = <usize> ldc << 2;
  const n16 = N & ~15, n4 = N & ~3;
  let m = m0;
  for (; m + 4 <= m1; m += 4) {
    const pa = a + <usize> m * rs, crow = c + <usize> m * ldc4;
    let n = 0;
    for (; n < n16; n += 16) tile4x16(crow + (<usize> n << 2), pa, b + (<usize> n << 2), K, rs, ks, bs, ldc4, acc);
    for (; n < n4; n += 4) tile4x4(crow + (<usize> n << 2), pa, b + (<usize> n << 2), K, rs, ks, bs, ldc4, acc);
    for (; n < N; n++) {
      for (let i: usize = 0; i < 4; i++) {
        tile1x1(crow + i * ldc4 + (<usize> n << 2), pa + i * rs, b + (<usize> n << 2), K, ks, bs, acc);
      }
    }
  }
  for (; m < m1; m++) {
    const pa = a + <usize> m * rs, crow = c + <usize> m * ldc4;
    let n = 0;
    for (; n < n16; n += 16) tile1x16(crow + (<usize> n << 2), pa, b + (<usize> n << 2), K, ks, bs, acc);
    for (; n < n4; n += 4) tile1x4(crow + (<usize> n << 2), pa, b + (<usize> n << 2), K, ks, bs, acc);
    for (; n < N; n++) tile1x1(crow + (<usize> n << 2), pa, b + (<usize> n << 2), K, ks, bs, acc);
  }
}

/** out (N) += column sums of A (M, N), row stride lda, summed in row order. Columns [n0, n1). */
export function addColumnSums(n0: i32, n1: i32, M: i32, a: usize, lda: i32, out: usize): void {
  // Row by row (A is read sequentially); `out` stays in L1. Per column the order of the sum is still m = 0, 1, ...
  const rs = <usize> lda << 2, n4 = n0 + ((n1 - n0) & ~3);
  let p = a;
  for (let m = 0; m < M; m++) {
    let n = n0;
    for (; n < n4; n += 4) {
      const o = <usize> n << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(p + o)));
    }
    for (; n < n1; n++) {
      const o = <usize> n << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(p + o));
    }
    p += rs;
  }
}

/** Rows [m0, m1) of C (M, N) set to bias1 + bias2 (bias2 = 0: bias1 only). */
export function fillRows(m0: i32, m1: i32, N: i32, c: usize, bias1: usize, bias2: usize): void {
  const row = <usize> N << 2;
  for (let m = m0; m < m1; m++) {
    const p = c + <usize> m * row;
    for (let n = 0; n < N; n++) {
      const o = <usize> n << 2;
      store<f32>(p + o, bias2 == 0 ? load<f32>(bias1 + o) : load<f32>(bias1 + o) + load<f32>(bias2 + o));
    }
  }
}

/** out (cols, rows) = Aᵀ for A (rows, cols). */
export function transpose(rows: i32, cols: i32, a: usize, out: usize): void {
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      store<f32>(out + ((<usize> q * rows + r) << 2), load<f32>(a + ((<usize> r * cols + q) << 2)));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Vector elementary functions (f32x4). exp: Cody-Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, then the degree-6
// polynomial of Cephes' expf (max relative error ~2e-7), scaled by 2^n built in the exponent bits.
// tanh: Cephes' tanhf odd polynomial for |x| < 0.625, 1 - 2/(e^{2|x|} + 1) beyond, sign restored.

function vexp(x: v128): v128 {
  // Clamp with pmin/pmax (single x86 instructions; NaN handling is irrelevant: inputs are finite or the run diverges).
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  // n = round(x / ln 2) by the magic-number trick: adding 1.5·2^23 leaves round-to-nearest-even(x / ln 2) in the low
  // mantissa bits, so the same value gives n as a float (subtract the magic) and as an integer (subtract its bits).
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(12582912.0));
  const n = f32x4.sub(t, f32x4.splat(12582912.0));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.sub(t, i32x4.splat(0x4b400000)), i32x4.splat(127)), 23); // 2^n
  return f32x4.mul(p, scale);
}

function vsigmoid(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), vexp(f32x4.neg(x))));
}

// tanh as a rational function x·P(x²)/Q(x²) on |x| ≤ 7.9053 (beyond, tanh rounds to ±1 in float32): one division,
// no exp, and relative accuracy near 0 (it is odd in x). Coefficients of Eigen's float tanh.

function vtanh(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-7.90531110763549805)), f32x4.splat(7.90531110763549805));
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(5.12229709037114e-08));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.48572235717979e-05));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(6.37261928875436e-04));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(4.89352455891786e-03));
  p = f32x4.mul(p, x);
  let q = f32x4.splat(1.19825839466702e-06);
  q = f32x4.add(f32x4.mul(q, z), f32x4.splat(1.18534705686654e-04));
  q = f32x4.add(f32x4.mul(q, z), f32x4.splat(2.26843463243900e-03));
  q = f32x4.add(f32x4.mul(q, z), f32x4.splat(4.89352518554385e-03));
  return f32x4.div(p, q);
}

// Scalar forms for the tails: the same lanes' arithmetic, so an element's value does not depend on its position.

function sexp(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0);
}

function ssigmoid(x: f32): f32 {
  return f32x4.extract_lane(vsigmoid(f32x4.splat(x)), 0);
}

function stanh(x: f32): f32 {
  return f32x4.extract_lane(vtanh(f32x4.splat(x)), 0);
}

/** exp, sigmoid and tanh on n floats (for tests of the approximations): out = f(x), op 0 = exp, 1 = σ, 2 = tanh. */
export function elementwise(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize> i << 2, v = v128.load(x + o);
    v128.store(out + o, op == 0 ? vexp(v) : op == 1 ? vsigmoid(v) : vtanh(v));
  }
  for (; i < n; i++) {
    const o = <usize> i << 2, v = load<f32>(x + o);
    store<f32>(out + o, op == 0 ? sexp(v) : op == 1 ? ssigmoid(v) : stanh(v));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// LSTM cell, rows [b0, b1) of the batch; see lib/nn/lstm.ts for the equations. gates (B, 4H) = [i | f | g | o].

/** LSTM step forward (pointwise part). */
export function lstmCellForward(b0: i32, b1: i32, H: i32, gates: usize, cPrev: usize, c: usize, h: usize): void {
  const H4 = <usize> H << 2, h4 = H & ~3;
  for (let b = b0; b < b1; b++) {
    const gi = gates + <usize> b * 4 * H4, gf = gi + H4, gg = gf + H4, go = gg + H4;
    const s = <usize> b * H4;
    let j = 0;
    for (; j < h4; j += 4) {
      const o = <usize> j << 2;
      const i = vsigmoid(v128.load(gi + o)), f = vsigmoid(v128.load(gf + o));
      const g = vtanh(v128.load(gg + o)), og = vsigmoid(v128.load(go + o));
      v128.store(gi + o, i);
      v128.store(gf + o, f);
      v128.store(gg + o, g);
      v128.store(go + o, og);
      const ct = f32x4.add(f32x4.mul(f, v128.load(cPrev + s + o)), f32x4.mul(i, g));
      v128.store(c + s + o, ct);
      v128.store(h + s + o, f32x4.mul(og, vtanh(ct)));
    }
    for (; j < H; j++) {
      const o = <usize> j << 2;
      const i = ssigmoid(load<f32>(gi + o)), f = ssigmoid(load<f32>(gf + o));
      const g = stanh(load<f32>(gg + o)), og = ssigmoid(load<f32>(go + o));
      store<f32>(gi + o, i);
      store<f32>(gf + o, f);
      store<f32>(gg + o, g);
      store<f32>(go + o, og);
      const ct = f * load<f32>(cPrev + s + o) + i * g;
      store<f32>(c + s + o, ct);
      store<f32>(h + s + o, og * stanh(ct));
    }
  }
}

/** LSTM step backward (pointwise part). dhIn, dhNorm, dcNorm: 0 when absent. Norms are written per row (f32). */
export function lstmCellBackward(
  b0: i32,
  b1: i32,
  H: i32,
  gates: usize,
  cPrev: usize,
  c: usize,
  dh: usize,
  dhIn: usize,
  dc: usize,
  dhNorm: usize,
  dcNorm: usize,
): void {
  // Two copies of the loop: with probes the squares are summed in float64 (a float32 square underflows below
  // ~1e-23, long before the gradient itself does), without them nothing is summed at all.
  if (dhNorm != 0 || dcNorm != 0) lstmBackwardRows(b0, b1, H, gates, cPrev, c, dh, dhIn, dc, dhNorm, dcNorm, true);
  else lstmBackwardRows(b0, b1, H, gates, cPrev, c, dh, dhIn, dc, 0, 0, false);
}

/** Σ x² of a float32 vector's lanes, added to a float64x2 accumulator (squares taken in float64). */
// @ts-ignore: decorator
@inline
function addSquares64(acc: v128, x: v128): v128 {
  const lo = f64x2.promote_low_f32x4(x), hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1));
  return f64x2.add(acc, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
}

// @ts-ignore: decorator
@inline
function lstmBackwardRows(
  b0: i32,
  b1: i32,
  H: i32,
  gates: usize,
  cPrev: usize,
  c: usize,
  dh: usize,
  dhIn: usize,
  dc: usize,
  dhNorm: usize,
  dcNorm: usize,
  probes: bool,
): void {
  const H4 = <usize> H << 2, h4 = H & ~3;
  const one = f32x4.splat(1);
  for (let b = b0; b < b1; b++) {
    const gi = gates + <usize> b * 4 * H4, gf = gi + H4, gg = gf + H4, go = gg + H4;
    const s = <usize> b * H4;
    let sh = f64x2.splat(0), sc = f64x2.splat(0);
    let j = 0;
    for (; j < h4; j += 4) {
      const o = <usize> j << 2;
      const i = v128.load(gi + o), f = v128.load(gf + o), g = v128.load(gg + o), og = v128.load(go + o);
      let dht = v128.load(dh + s + o);
      if (dhIn != 0) dht = f32x4.add(dht, v128.load(dhIn + s + o));
      const tc = vtanh(v128.load(c + s + o));
      const dct = f32x4.add(v128.load(dc + s + o), f32x4.mul(f32x4.mul(dht, og), f32x4.sub(one, f32x4.mul(tc, tc))));
      v128.store(gi + o, f32x4.mul(f32x4.mul(f32x4.mul(dct, g), i), f32x4.sub(one, i)));
      v128.store(gf + o, f32x4.mul(f32x4.mul(f32x4.mul(dct, v128.load(cPrev + s + o)), f), f32x4.sub(one, f)));
      v128.store(gg + o, f32x4.mul(f32x4.mul(dct, i), f32x4.sub(one, f32x4.mul(g, g))));
      v128.store(go + o, f32x4.mul(f32x4.mul(f32x4.mul(dht, tc), og), f32x4.sub(one, og)));
      v128.store(dh + s + o, dht);
      v128.store(dc + s + o, f32x4.mul(dct, f));
      if (probes) {
        sh = addSquares64(sh, dht);
        sc = addSquares64(sc, dct);
      }
    }
    let shs: f64 = f64x2.extract_lane(sh, 0) + f64x2.extract_lane(sh, 1);
    let scs: f64 = f64x2.extract_lane(sc, 0) + f64x2.extract_lane(sc, 1);
    for (; j < H; j++) {
      const o = <usize> j << 2;
      const i = load<f32>(gi + o), f = load<f32>(gf + o), g = load<f32>(gg + o), og = load<f32>(go + o);
      let dht = load<f32>(dh + s + o);
      if (dhIn != 0) dht = dht + load<f32>(dhIn + s + o);
      const tc = stanh(load<f32>(c + s + o));
      const dct = load<f32>(dc + s + o) + dht * og * (1 - tc * tc);
      store<f32>(gi + o, dct * g * i * (1 - i));
      store<f32>(gf + o, dct * load<f32>(cPrev + s + o) * f * (1 - f));
      store<f32>(gg + o, dct * i * (1 - g * g));
      store<f32>(go + o, dht * tc * og * (1 - og));
      store<f32>(dh + s + o, dht);
      store<f32>(dc + s + o, dct * f);
      if (probes) {
        shs += <f64> dht * <f64> dht;
        scs += <f64> dct * <f64> dct;
      }
    }
    if (probes) {
      if (dhNorm != 0) store<f32>(dhNorm + (<usize> b << 2), <f32> Math.sqrt(shs));
      if (dcNorm != 0) store<f32>(dcNorm + (<usize> b << 2), <f32> Math.sqrt(scs));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Vanilla RNN cell, rows [b0, b1); see lib/nn/rnn.ts.

/** RNN step forward: h = tanh(pre). */
export function rnnCellForward(b0: i32, b1: i32, H: i32, pre: usize, h: usize): void {
  const start = <usize> b0 * H, end = <usize> b1 * H, end4 = start + ((end - start) & ~3);
  let k = start;
  for (; k < end4; k += 4) v128.store(h + (k << 2), vtanh(v128.load(pre + (k << 2))));
  for (; k < end; k++) store<f32>(h + (k << 2), stanh(load<f32>(pre + (k << 2))));
}

/** RNN step backward: dh += dhIn; pre = dh ⊙ (1 - h²); dhNorm per row. dhIn, dhNorm: 0 when absent. */
export function rnnCellBackward(
  b0: i32,
  b1: i32,
  H: i32,
  pre: usize,
  h: usize,
  dh: usize,
  dhIn: usize,
  dhNorm: usize,
): void {
  if (dhNorm != 0) rnnBackwardRows(b0, b1, H, pre, h, dh, dhIn, dhNorm, true);
  else rnnBackwardRows(b0, b1, H, pre, h, dh, dhIn, 0, false);
}

// @ts-ignore: decorator
@inline
function rnnBackwardRows(
  b0: i32,
  b1: i32,
  H: i32,
  pre: usize,
  h: usize,
  dh: usize,
  dhIn: usize,
  dhNorm: usize,
  probes: bool,
): void {
  const h4 = H & ~3, one = f32x4.splat(1);
  for (let b = b0; b < b1; b++) {
    const s = <usize> b * (<usize> H << 2);
    let sq = f64x2.splat(0);
    let j = 0;
    for (; j < h4; j += 4) {
      const o = s + (<usize> j << 2);
      let d = v128.load(dh + o);
      if (dhIn != 0) d = f32x4.add(d, v128.load(dhIn + o));
      const hv = v128.load(h + o);
      v128.store(dh + o, d);
      v128.store(pre + o, f32x4.mul(d, f32x4.sub(one, f32x4.mul(hv, hv))));
      if (probes) sq = addSquares64(sq, d);
    }
    let sqs: f64 = f64x2.extract_lane(sq, 0) + f64x2.extract_lane(sq, 1);
    for (; j < H; j++) {
      const o = s + (<usize> j << 2);
      let d = load<f32>(dh + o);
      if (dhIn != 0) d = d + load<f32>(dhIn + o);
      const hv = load<f32>(h + o);
      store<f32>(dh + o, d);
      store<f32>(pre + o, d * (1 - hv * hv));
      if (probes) sqs += <f64> d * <f64> d;
    }
    if (probes) store<f32>(dhNorm + (<usize> b << 2), <f32> Math.sqrt(sqs));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The time loops of a layer (see lib/nn/recurrence.ts for the reference), on batch rows [b0, b1): every step works
// row by row, so threads can run the whole loop on their own rows with no synchronisation between steps.
// lstm = 1: LSTM (c given), 0: RNN (c = 0). Like every exported kernel, the row range comes first.

/** Forward recurrence: for t: gates[t] += h[t] · W_hhᵀ; cell forward. */
export function recurrentForward(
  b0: i32,
  b1: i32,
  lstm: i32,
  T: i32,
  B: i32,
  H: i32,
  gates: usize,
  h: usize,
  c: usize,
  wHhT: usize,
): void {
  const GH = lstm != 0 ? 4 * H : H;
  const stepG = (<usize> B * GH) << 2, stepH = (<usize> B * H) << 2;
  for (let t = 0; t < T; t++) {
    const g = gates + <usize> t * stepG, hp = h + <usize> t * stepH;
    gemm(b0, b1, GH, H, hp, H, 1, wHhT, GH, g, GH, 1);
    if (lstm != 0) lstmCellForward(b0, b1, H, g, c + <usize> t * stepH, c + <usize> (t + 1) * stepH, hp + stepH);
    else rnnCellForward(b0, b1, H, g, hp + stepH);
  }
}

/** Backward recurrence with truncation (0 = full) and probes (dhNorm, dcNorm: 0 when absent). */
export function recurrentBackward(
  b0: i32,
  b1: i32,
  lstm: i32,
  T: i32,
  B: i32,
  H: i32,
  gates: usize,
  h: usize,
  c: usize,
  wHh: usize,
  dhSeq: usize,
  dh: usize,
  dc: usize,
  truncate: i32,
  dhNorm: usize,
  dcNorm: usize,
): void {
  const GH = lstm != 0 ? 4 * H : H;
  const stepG = (<usize> B * GH) << 2, stepH = (<usize> B * H) << 2, stepN = <usize> B << 2;
  for (let t = T - 1; t >= 0; t--) {
    const g = gates + <usize> t * stepG;
    const dhIn: usize = dhSeq == 0 ? 0 : dhSeq + <usize> t * stepH;
    const nh: usize = dhNorm == 0 ? 0 : dhNorm + <usize> t * stepN;
    if (lstm != 0) {
      const nc: usize = dcNorm == 0 ? 0 : dcNorm + <usize> t * stepN;
      lstmCellBackward(b0, b1, H, g, c + <usize> t * stepH, c + <usize> (t + 1) * stepH, dh, dhIn, dc, nh, nc);
    } else {
      rnnCellBackward(b0, b1, H, g, h + <usize> (t + 1) * stepH, dh, dhIn, nh);
    }
    if (truncate > 0 && t > 0 && t % truncate == 0) {
      // The state entering this chunk is detached.
      const rows = (<usize> b0 * H) << 2, len = (<usize> (b1 - b0) * H) << 2;
      memory.fill(dh + rows, 0, len);
      if (lstm != 0) memory.fill(dc + rows, 0, len);
    } else {
      gemm(b0, b1, H, GH, g, GH, 1, wHh, H, dh, H, 0); // dh = dG[t] · W_hh: the gradient reaching h[t-1]
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// GRU cell (PyTorch's nn.GRU), rows [b0, b1); see lib/nn/gru.ts for the equations. gx (B, 3H) = W_ih x + b_ih in,
// activations [r | z | n] out; gh (B, 3H) = W_hh h_prev + b_hh, kept apart because r multiplies its n block only.

/** GRU step forward (pointwise part): h = (1 - z) ⊙ n + z ⊙ h_prev. */
export function gruCellForward(b0: i32, b1: i32, H: i32, gx: usize, gh: usize, hPrev: usize, h: usize): void {
  const H4 = <usize> H << 2, h4 = H & ~3, one = f32x4.splat(1);
  for (let b = b0; b < b1; b++) {
    const xr = gx + <usize> b * 3 * H4, xz = xr + H4, xn = xz + H4;
    const hr = gh + <usize> b * 3 * H4, hz = hr + H4, hn = hz + H4;
    const s = <usize> b * H4;
    let j = 0;
    for (; j < h4; j += 4) {
      const o = <usize> j << 2;
      const r = vsigmoid(f32x4.add(v128.load(xr + o), v128.load(hr + o)));
      const z = vsigmoid(f32x4.add(v128.load(xz + o), v128.load(hz + o)));
      const n = vtanh(f32x4.add(v128.load(xn + o), f32x4.mul(r, v128.load(hn + o))));
      v128.store(xr + o, r);
      v128.store(xz + o, z);
      v128.store(xn + o, n);
      v128.store(h + s + o, f32x4.add(f32x4.mul(f32x4.sub(one, z), n), f32x4.mul(z, v128.load(hPrev + s + o))));
    }
    for (; j < H; j++) {
      const o = <usize> j << 2;
      const r = ssigmoid(load<f32>(xr + o) + load<f32>(hr + o));
      const z = ssigmoid(load<f32>(xz + o) + load<f32>(hz + o));
      const n = stanh(load<f32>(xn + o) + r * load<f32>(hn + o));
      store<f32>(xr + o, r);
      store<f32>(xz + o, z);
      store<f32>(xn + o, n);
      store<f32>(h + s + o, (1 - z) * n + z * load<f32>(hPrev + s + o));
    }
  }
}

/**
 * GRU step backward (pointwise part): gx ← d(gx), gh ← d(gh), dh ← dh ⊙ z (the direct part of ∂L/∂h_{t-1}; the caller
 * adds d(gh) · W_hh). dhIn, dhNorm: 0 when absent.
 */
export function gruCellBackward(
  b0: i32,
  b1: i32,
  H: i32,
  gx: usize,
  gh: usize,
  hPrev: usize,
  dh: usize,
  dhIn: usize,
  dhNorm: usize,
): void {
  if (dhNorm != 0) gruBackwardRows(b0, b1, H, gx, gh, hPrev, dh, dhIn, dhNorm, true);
  else gruBackwardRows(b0, b1, H, gx, gh, hPrev, dh, dhIn, 0, false);
}

// @ts-ignore: decorator
@inline
function gruBackwardRows(
  b0: i32,
  b1: i32,
  H: i32,
  gx: usize,
  gh: usize,
  hPrev: usize,
  dh: usize,
  dhIn: usize,
  dhNorm: usize,
  probes: bool,
): void {
  const H4 = <usize> H << 2, h4 = H & ~3, one = f32x4.splat(1);
  for (let b = b0; b < b1; b++) {
    const xr = gx + <usize> b * 3 * H4, xz = xr + H4, xn = xz + H4;
    const hr = gh + <usize> b * 3 * H4, hz = hr + H4, hn = hz + H4;
    const s = <usize> b * H4;
    let sq = f64x2.splat(0);
    let j = 0;
    for (; j < h4; j += 4) {
      const o = <usize> j << 2;
      const r = v128.load(xr + o), z = v128.load(xz + o), n = v128.load(xn + o), ghn = v128.load(hn + o);
      let d = v128.load(dh + s + o);
      if (dhIn != 0) d = f32x4.add(d, v128.load(dhIn + s + o));
      const dnPre = f32x4.mul(f32x4.mul(d, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
      const dzPre = f32x4.mul(f32x4.mul(f32x4.mul(d, f32x4.sub(v128.load(hPrev + s + o), n)), z), f32x4.sub(one, z));
      const drPre = f32x4.mul(f32x4.mul(f32x4.mul(dnPre, ghn), r), f32x4.sub(one, r));
      v128.store(xr + o, drPre);
      v128.store(xz + o, dzPre);
      v128.store(xn + o, dnPre);
      v128.store(hr + o, drPre);
      v128.store(hz + o, dzPre);
      v128.store(hn + o, f32x4.mul(dnPre, r));
      v128.store(dh + s + o, f32x4.mul(d, z));
      if (probes) sq = addSquares64(sq, d);
    }
    let sqs: f64 = f64x2.extract_lane(sq, 0) + f64x2.extract_lane(sq, 1);
    for (; j < H; j++) {
      const o = <usize> j << 2;
      const r = load<f32>(xr + o), z = load<f32>(xz + o), n = load<f32>(xn + o), ghn = load<f32>(hn + o);
      let d = load<f32>(dh + s + o);
      if (dhIn != 0) d = d + load<f32>(dhIn + s + o);
      const dnPre = d * (1 - z) * (1 - n * n);
      const dzPre = d * (load<f32>(hPrev + s + o) - n) * z * (1 - z);
      const drPre = dnPre * ghn * r * (1 - r);
      store<f32>(xr + o, drPre);
      store<f32>(xz + o, dzPre);
      store<f32>(xn + o, dnPre);
      store<f32>(hr + o, drPre);
      store<f32>(hz + o, dzPre);
      store<f32>(hn + o, dnPre * r);
      store<f32>(dh + s + o, d * z);
      if (probes) sqs += <f64> d * <f64> d;
    }
    if (probes) store<f32>(dhNorm + (<usize> b << 2), <f32> Math.sqrt(sqs));
  }
}

/** GRU forward recurrence: for t: hidden[t] += h[t] · W_hhᵀ (hidden[t] holds b_hh); cell forward. */
export function gruRecurrentForward(
  b0: i32,
  b1: i32,
  T: i32,
  B: i32,
  H: i32,
  gates: usize,
  hidden: usize,
  h: usize,
  wHhT: usize,
): void {
  const GH = 3 * H;
  const stepG = (<usize> B * GH) << 2, stepH = (<usize> B * H) << 2;
  for (let t = 0; t < T; t++) {
    const g = gates + <usize> t * stepG, gh = hidden + <usize> t * stepG, hp = h + <usize> t * stepH;
    gemm(b0, b1, GH, H, hp, H, 1, wHhT, GH, gh, GH, 1);
    gruCellForward(b0, b1, H, g, gh, hp, hp + stepH);
  }
}

/** GRU backward recurrence with truncation (0 = full) and the ‖∂L/∂h_t‖ probe (dhNorm: 0 when absent). */
export function gruRecurrentBackward(
  b0: i32,
  b1: i32,
  T: i32,
  B: i32,
  H: i32,
  gates: usize,
  hidden: usize,
  h: usize,
  wHh: usize,
  dhSeq: usize,
  dh: usize,
  truncate: i32,
  dhNorm: usize,
): void {
  const GH = 3 * H;
  const stepG = (<usize> B * GH) << 2, stepH = (<usize> B * H) << 2, stepN = <usize> B << 2;
  for (let t = T - 1; t >= 0; t--) {
    const g = gates + <usize> t * stepG, gh = hidden + <usize> t * stepG;
    const dhIn: usize = dhSeq == 0 ? 0 : dhSeq + <usize> t * stepH;
    const nh: usize = dhNorm == 0 ? 0 : dhNorm + <usize> t * stepN;
    gruCellBackward(b0, b1, H, g, gh, h + <usize> t * stepH, dh, dhIn, nh);
    if (truncate > 0 && t > 0 && t % truncate == 0) {
      const rows = (<usize> b0 * H) << 2, len = (<usize> (b1 - b0) * H) << 2;
      memory.fill(dh + rows, 0, len); // the state entering this chunk is detached
    } else {
      gemm(b0, b1, H, GH, gh, GH, 1, wHh, H, dh, H, 1); // dh (direct part) += d(hidden)[t] · W_hh
    }
  }
}
