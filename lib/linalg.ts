/**
 * Small dense linear algebra for initialisation and analysis of recurrent weight matrices.
 *
 * Matrices are row-major arrays with explicit sizes: an m×n matrix `a` holds entry (i, j) at `a[i * n + j]`. Inputs
 * may be any `ArrayLike<number>` (a `Float64Array`, a `Float32Array` of weights, a plain array); results are new
 * `Float64Array`s. Everything is computed with basic IEEE-754 operations and `Math.sqrt` (all correctly rounded), in a
 * fixed order, so results are bit-identical in every engine.
 *
 * - `orthogonal`: a Haar-random (semi-)orthogonal matrix, as `torch.nn.init.orthogonal_` makes it.
 * - `qr`: Householder QR with thin Q.
 * - `spectralNorm`: the largest singular value σ₁ (Pascanu et al.'s λ₁ for exploding-gradient bounds).
 * - `symmetricEigenvalues`: Householder tridiagonalisation and implicit QL.
 * - `eigenvalues`, `spectralRadius`, `scaleToSpectralRadius`: balancing, Householder reduction to Hessenberg form and
 *   the Francis double-shift QR algorithm (as EISPACK `hqr` / Numerical Recipes), for general real matrices.
 *
 * Bad sizes throw a `RangeError` naming the parameter, the value and what is allowed.
 *
 * @module
 */

import type { Rng } from "./rng.ts";

// ---------------------------------------------------------------------------------------------------------------------
// Argument checks

function checkDim(fn: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${fn}: ${name} must be a positive integer, got ${v}`);
}

function checkLength(fn: string, name: string, a: ArrayLike<number>, expected: number, dims: string): void {
  if (a === null || typeof a !== "object" || typeof a.length !== "number") {
    throw new RangeError(`${fn}: ${name} must be an array of numbers, got ${a === null ? "null" : typeof a}`);
  }
  if (a.length !== expected) {
    throw new RangeError(`${fn}: ${name}.length must be ${dims} = ${expected}, got ${a.length}`);
  }
}

function checkFinite(fn: string, name: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new RangeError(`${fn}: ${name}[${i}] must be finite, got ${a[i]}`);
  }
}

/** sqrt(a² + b²) without overflow or destructive underflow (`Math.hypot` is engine-approximated; this is not). */
function pythag(a: number, b: number): number {
  const x = a < 0 ? -a : a, y = b < 0 ? -b : b;
  const big = x > y ? x : y, small = x > y ? y : x;
  if (big === 0) return 0;
  const r = small / big;
  return big * Math.sqrt(1 + r * r);
}

/** |a| with the sign of b (Fortran SIGN). */
function withSign(a: number, b: number): number {
  const m = a < 0 ? -a : a;
  return b >= 0 ? m : -m;
}

// ---------------------------------------------------------------------------------------------------------------------
// Basic operations

/**
 * The transpose of the m×n matrix `a`: an n×m matrix.
 *
 * @example
 * ```ts
 * import { transpose } from "./linalg.ts";
 * transpose(new Float64Array([1, 2, 3, 4, 5, 6]), 2, 3); // [1, 4, 2, 5, 3, 6] (3×2)
 * ```
 */
export function transpose(a: ArrayLike<number>, m: number, n: number): Float64Array {
  checkDim("transpose", "m", m);
  checkDim("transpose", "n", n);
  checkLength("transpose", "a", a, m * n, `m * n (m = ${m}, n = ${n})`);
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  }
  return t;
}

/**
 * The product of the m×k matrix `a` and the k×n matrix `b`: an m×n matrix (each entry summed in order of k).
 *
 * @example
 * ```ts
 * import { matmul } from "./linalg.ts";
 * matmul(new Float64Array([1, 2, 3, 4]), new Float64Array([5, 6, 7, 8]), 2, 2, 2); // [19, 22, 43, 50]
 * ```
 */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  checkDim("matmul", "m", m);
  checkDim("matmul", "k", k);
  checkDim("matmul", "n", n);
  checkLength("matmul", "a", a, m * k, `m * k (m = ${m}, k = ${k})`);
  checkLength("matmul", "b", b, k * n, `k * n (k = ${k}, n = ${n})`);
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------------------------------
// QR and orthogonal initialisation

/**
 * Householder QR decomposition of the m×n matrix `a`: `a = q r` with `q` of shape m×p (orthonormal columns) and `r` of
 * shape p×n (upper triangular), p = min(m, n). The diagonal of `r` may have either sign (as LAPACK's `geqrf`).
 *
 * @example
 * ```ts
 * import { matmul, qr } from "./linalg.ts";
 * const a = new Float64Array([1, 2, 3, 4, 5, 6]); // 3×2
 * const { q, r } = qr(a, 3, 2); // q: 3×2, r: 2×2
 * matmul(q, r, 3, 2, 2); // ≈ a
 * ```
 */
export function qr(a: ArrayLike<number>, m: number, n: number): { q: Float64Array; r: Float64Array } {
  checkDim("qr", "m", m);
  checkDim("qr", "n", n);
  checkLength("qr", "a", a, m * n, `m * n (m = ${m}, n = ${n})`);
  const p = m < n ? m : n;
  const w = Float64Array.from(a); // working copy: R above the diagonal, Householder vectors below
  const tau = new Float64Array(p);
  const v = new Float64Array(m);

  for (let j = 0; j < p; j++) {
    // Householder reflector H = I - tau v vᵀ (v[j] = 1) with H x = beta e_j, for x = column j from row j down.
    let scale = 0;
    for (let i = j; i < m; i++) {
      const x = Math.abs(w[i * n + j]);
      if (x > scale) scale = x;
    }
    if (scale === 0) continue; // column already zero: H = I
    let ss = 0;
    for (let i = j; i < m; i++) {
      const x = w[i * n + j] / scale;
      ss += x * x;
    }
    const x0 = w[j * n + j];
    const beta = -withSign(scale * Math.sqrt(ss), x0);
    const v0 = x0 - beta;
    tau[j] = (beta - x0) / beta;
    v[j] = 1;
    for (let i = j + 1; i < m; i++) v[i] = w[i * n + j] / v0;
    // Apply H to the remaining columns.
    for (let c = j + 1; c < n; c++) {
      let s = 0;
      for (let i = j; i < m; i++) s += v[i] * w[i * n + c];
      s *= tau[j];
      for (let i = j; i < m; i++) w[i * n + c] -= s * v[i];
    }
    w[j * n + j] = beta;
    for (let i = j + 1; i < m; i++) w[i * n + j] = v[i];
  }

  const r = new Float64Array(p * n);
  for (let i = 0; i < p; i++) {
    for (let c = i; c < n; c++) r[i * n + c] = w[i * n + c];
  }
  // Thin Q = H_0 H_1 ... H_{p-1} [I_p; 0], accumulated backwards.
  const q = new Float64Array(m * p);
  for (let i = 0; i < p; i++) q[i * p + i] = 1;
  for (let j = p - 1; j >= 0; j--) {
    if (tau[j] === 0) continue;
    for (let c = j; c < p; c++) {
      let s = q[j * p + c];
      for (let i = j + 1; i < m; i++) s += w[i * n + j] * q[i * p + c];
      s *= tau[j];
      q[j * p + c] -= s;
      for (let i = j + 1; i < m; i++) q[i * p + c] -= s * w[i * n + j];
    }
  }
  return { q, r };
}

/**
 * A random (semi-)orthogonal rows×cols matrix, made as `torch.nn.init.orthogonal_` makes it: a Gaussian matrix (drawn
 * row-major as rows×cols, transposed to tall if rows < cols) is QR-decomposed and Q's columns are multiplied by the
 * signs of R's diagonal, so the result is Haar-distributed. `QᵀQ = I` if rows ≥ cols, `QQᵀ = I` otherwise. Multiply by
 * a gain as needed.
 *
 * @example
 * ```ts
 * import { orthogonal } from "./linalg.ts";
 * import { Rng } from "./rng.ts";
 * const w = orthogonal(4, 4, new Rng(0)); // 4×4, wᵀw = I
 * const u = orthogonal(2, 5, new Rng(0)); // 2×5, u uᵀ = I
 * ```
 */
export function orthogonal(rows: number, cols: number, rng: Rng): Float64Array {
  checkDim("orthogonal", "rows", rows);
  checkDim("orthogonal", "cols", cols);
  const g = new Float64Array(rows * cols);
  for (let i = 0; i < g.length; i++) g[i] = rng.normal();
  const wide = rows < cols;
  const m = wide ? cols : rows, n = wide ? rows : cols; // the tall shape, m ≥ n
  const { q, r } = qr(wide ? transpose(g, rows, cols) : g, m, n);
  for (let j = 0; j < n; j++) {
    if (r[j * n + j] < 0) { // (a zero diagonal, probability 0, keeps the column as is)
      for (let i = 0; i < m; i++) q[i * n + j] = -q[i * n + j];
    }
  }
  return wide ? transpose(q, m, n) : q;
}

// ---------------------------------------------------------------------------------------------------------------------
// Symmetric eigenvalues and the spectral norm

/**
 * The eigenvalues of the symmetric n×n matrix `a`, in descending order: Householder reduction to tridiagonal form and
 * the implicit QL algorithm (Numerical Recipes `tred2` / `tqli`), accurate to a few ulps of the largest |eigenvalue|
 * (repeated eigenvalues are no problem). `a` must be symmetric to within 1e-12 relative to its largest entry.
 *
 * @example
 * ```ts
 * import { symmetricEigenvalues } from "./linalg.ts";
 * symmetricEigenvalues(new Float64Array([2, 1, 1, 2]), 2); // ≈ [3, 1]
 * ```
 */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  const fn = "symmetricEigenvalues";
  checkDim(fn, "n", n);
  checkLength(fn, "a", a, n * n, `n * n (n = ${n})`);
  checkFinite(fn, "a", a);
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.abs(a[i]);
    if (x > maxAbs) maxAbs = x;
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (Math.abs(a[i * n + j] - a[j * n + i]) > 1e-12 * maxAbs) {
        throw new RangeError(
          `${fn}: a must be symmetric, but a[${i}, ${j}] = ${a[i * n + j]} and a[${j}, ${i}] = ${a[j * n + i]}`,
        );
      }
    }
  }
  return symmetricEigenvaluesUnchecked(Float64Array.from(a), n);
}

/** tred2 (eigenvalues only) + tqli on the lower triangle of `w` (1-based indices in NR become 0-based here). */
function symmetricEigenvaluesUnchecked(w: Float64Array, n: number): Float64Array {
  const d = new Float64Array(n), e = new Float64Array(n);
  // Householder tridiagonalisation, bottom row up, using the lower triangle.
  for (let i = n - 1; i >= 1; i--) {
    const l = i - 1;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(w[i * n + k]);
      if (scale === 0) {
        e[i] = w[i * n + l];
      } else {
        for (let k = 0; k <= l; k++) {
          w[i * n + k] /= scale;
          h += w[i * n + k] * w[i * n + k];
        }
        let f = w[i * n + l];
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        w[i * n + l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          g = 0;
          for (let k = 0; k <= j; k++) g += w[j * n + k] * w[i * n + k];
          for (let k = j + 1; k <= l; k++) g += w[k * n + j] * w[i * n + k];
          e[j] = g / h;
          f += e[j] * w[i * n + j];
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          f = w[i * n + j];
          g = e[j] - hh * f;
          e[j] = g;
          for (let k = 0; k <= j; k++) w[j * n + k] -= f * e[k] + g * w[i * n + k];
        }
      }
    } else {
      e[i] = w[i * n + l];
    }
    d[i] = h;
  }
  for (let i = 0; i < n; i++) d[i] = w[i * n + i];

  // Implicit QL with Wilkinson-like shifts on the tridiagonal (d, e).
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    let m: number;
    do {
      for (m = l; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) + dd === dd) break;
      }
      if (m !== l) {
        if (iter++ === 60) {
          throw new Error(`symmetricEigenvalues: QL iteration did not converge (eigenvalue ${l} of ${n})`);
        }
        let g = (d[l + 1] - d[l]) / (2 * e[l]);
        let r = pythag(g, 1);
        g = d[m] - d[l] + e[l] / (g + withSign(r, g));
        let s = 1, c = 1, p = 0;
        let i: number;
        for (i = m - 1; i >= l; i--) {
          const f = s * e[i];
          const b = c * e[i];
          r = pythag(f, g);
          e[i + 1] = r;
          if (r === 0) { // recover from underflow
            d[i + 1] -= p;
            e[m] = 0;
            break;
          }
          s = f / r;
          c = g / r;
          g = d[i + 1] - p;
          r = (d[i] - g) * s + 2 * c * b;
          p = s * r;
          d[i + 1] = g + p;
          g = c * r - b;
        }
        if (r === 0 && i >= l) continue;
        d[l] -= p;
        e[l] = g;
        e[m] = 0;
      }
    } while (m !== l);
  }
  return d.sort().reverse();
}

/**
 * The largest singular value σ₁ = ‖a‖₂ of the rows×cols matrix `a` (Pascanu et al.'s λ₁): the square root of the
 * largest eigenvalue of the Gram matrix of the smaller side (`aᵀa` or `a aᵀ`, after scaling `a` to entries ≤ 1),
 * found with `symmetricEigenvalues`. Accurate to about 1e-14 relative, also when the top singular values are equal
 * (a scaled orthogonal matrix), where power iteration stalls.
 *
 * @example
 * ```ts
 * import { spectralNorm } from "./linalg.ts";
 * spectralNorm(new Float64Array([3, 0, 0, -4]), 2, 2); // 4
 * spectralNorm(new Float64Array([1, 1, 1, 1]), 1, 4); // 2
 * ```
 */
export function spectralNorm(a: ArrayLike<number>, rows: number, cols: number): number {
  const fn = "spectralNorm";
  checkDim(fn, "rows", rows);
  checkDim(fn, "cols", cols);
  checkLength(fn, "a", a, rows * cols, `rows * cols (rows = ${rows}, cols = ${cols})`);
  checkFinite(fn, "a", a);
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.abs(a[i]);
    if (x > maxAbs) maxAbs = x;
  }
  if (maxAbs === 0) return 0;
  // b: `a` scaled to entries <= 1, as k×len with k = min(rows, cols) (transposed if tall), so that b bᵀ is the
  // Gram matrix of the smaller side.
  const inv = 1 / maxAbs;
  const tall = rows > cols;
  const k = tall ? cols : rows, len = tall ? rows : cols;
  const b = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) b[tall ? j * rows + i : i * cols + j] = a[i * cols + j] * inv;
  }
  const g = new Float64Array(k * k); // exactly symmetric: one triangle is computed and mirrored
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let t = 0; t < len; t++) sum += b[i * len + t] * b[j * len + t];
      g[i * k + j] = sum;
      g[j * k + i] = sum;
    }
  }
  const top = k === 1 ? g[0] : symmetricEigenvaluesUnchecked(g, k)[0];
  return maxAbs * Math.sqrt(top > 0 ? top : 0);
}

// ---------------------------------------------------------------------------------------------------------------------
// General eigenvalues

/** Iterations allowed per eigenvalue before `eigenvalues` gives up (exceptional shifts every 10). */
const MAX_QR_ITERATIONS = 60;

/**
 * The eigenvalues of the general real n×n matrix `a`, as real and imaginary parts: balancing (exact power-of-two
 * scaling), Householder reduction to upper Hessenberg form, then the Francis double-shift QR algorithm (EISPACK `hqr`,
 * Numerical Recipes). Complex eigenvalues come in conjugate pairs. Sorted by descending modulus, then descending real
 * part, then descending imaginary part (so each pair lists +im first). Throws if the iteration does not converge
 * within 60 iterations for some eigenvalue (practically never for finite input).
 *
 * @example
 * ```ts
 * import { eigenvalues } from "./linalg.ts";
 * eigenvalues(new Float64Array([0, -2, 2, 0]), 2); // re [0, 0], im [2, -2]
 * ```
 */
export function eigenvalues(a: ArrayLike<number>, n: number): { re: Float64Array; im: Float64Array } {
  const fn = "eigenvalues";
  checkDim(fn, "n", n);
  checkLength(fn, "a", a, n * n, `n * n (n = ${n})`);
  checkFinite(fn, "a", a);
  // 1-based (n+1)×(n+1) working copy, to follow the classic formulation index for index.
  const s = n + 1;
  const h = new Float64Array(s * s);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) h[(i + 1) * s + j + 1] = a[i * n + j];
  }
  balance(h, n);
  hessenberg(h, n);
  const wr = new Float64Array(n + 1), wi = new Float64Array(n + 1);
  hqr(h, n, wr, wi);

  const order = Array.from({ length: n }, (_, i) => i + 1);
  const mod = new Float64Array(n + 1);
  for (let i = 1; i <= n; i++) mod[i] = pythag(wr[i], wi[i]);
  order.sort((x, y) => mod[y] - mod[x] || wr[y] - wr[x] || wi[y] - wi[x]);
  const re = new Float64Array(n), im = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    re[i] = wr[order[i]];
    im[i] = wi[order[i]];
  }
  return { re, im };
}

/** Balances the 1-based matrix `h` in place by exact power-of-two similarity scaling (NR `balanc`, radix 2). */
function balance(h: Float64Array, n: number): void {
  const s = n + 1;
  let done = false;
  while (!done) {
    done = true;
    for (let i = 1; i <= n; i++) {
      let r = 0, c = 0;
      for (let j = 1; j <= n; j++) {
        if (j !== i) {
          c += Math.abs(h[j * s + i]);
          r += Math.abs(h[i * s + j]);
        }
      }
      if (c !== 0 && r !== 0) {
        let g = r / 2, f = 1;
        const sum = c + r;
        while (c < g) {
          f *= 2;
          c *= 4;
        }
        g = r * 2;
        while (c > g) {
          f /= 2;
          c /= 4;
        }
        if ((c + r) / f < 0.95 * sum) {
          done = false;
          g = 1 / f;
          for (let j = 1; j <= n; j++) h[i * s + j] *= g;
          for (let j = 1; j <= n; j++) h[j * s + i] *= f;
        }
      }
    }
  }
}

/** Reduces the 1-based matrix `h` in place to upper Hessenberg form by Householder similarity transforms. */
function hessenberg(h: Float64Array, n: number): void {
  const s = n + 1;
  const v = new Float64Array(n + 1);
  for (let k = 1; k <= n - 2; k++) {
    // Reflector for column k, rows k+1..n.
    let scale = 0;
    for (let i = k + 1; i <= n; i++) scale += Math.abs(h[i * s + k]);
    if (scale === 0) continue;
    let ss = 0;
    for (let i = k + 1; i <= n; i++) {
      v[i] = h[i * s + k] / scale;
      ss += v[i] * v[i];
    }
    const alpha = -withSign(Math.sqrt(ss), v[k + 1]);
    const hh = ss - v[k + 1] * alpha; // vᵀv / 2 after v[k+1] -= alpha
    v[k + 1] -= alpha;
    // Left: rows k+1..n of columns k..n.
    for (let j = k; j <= n; j++) {
      let dot = 0;
      for (let i = k + 1; i <= n; i++) dot += v[i] * h[i * s + j];
      const f = dot / hh;
      for (let i = k + 1; i <= n; i++) h[i * s + j] -= f * v[i];
    }
    // Right: columns k+1..n of all rows.
    for (let i = 1; i <= n; i++) {
      let dot = 0;
      for (let j = k + 1; j <= n; j++) dot += h[i * s + j] * v[j];
      const f = dot / hh;
      for (let j = k + 1; j <= n; j++) h[i * s + j] -= f * v[j];
    }
    h[(k + 1) * s + k] = scale * alpha;
    for (let i = k + 2; i <= n; i++) h[i * s + k] = 0;
  }
}

/** Francis double-shift QR on the 1-based upper Hessenberg `h` (destroyed); eigenvalues into wr, wi (NR `hqr`). */
function hqr(a: Float64Array, n: number, wr: Float64Array, wi: Float64Array): void {
  const s1 = n + 1;
  let anorm = 0;
  for (let i = 1; i <= n; i++) {
    for (let j = i > 1 ? i - 1 : 1; j <= n; j++) anorm += Math.abs(a[i * s1 + j]);
  }
  let nn = n, t = 0;
  let p = 0, q = 0, r = 0, x = 0, y = 0, z = 0, w = 0;
  while (nn >= 1) {
    let its = 0;
    let l: number;
    do {
      // Look for a single small subdiagonal element.
      for (l = nn; l >= 2; l--) {
        let s = Math.abs(a[(l - 1) * s1 + l - 1]) + Math.abs(a[l * s1 + l]);
        if (s === 0) s = anorm;
        if (Math.abs(a[l * s1 + l - 1]) + s === s) {
          a[l * s1 + l - 1] = 0;
          break;
        }
      }
      x = a[nn * s1 + nn];
      if (l === nn) { // one root found
        wr[nn] = x + t;
        wi[nn] = 0;
        nn--;
      } else {
        y = a[(nn - 1) * s1 + nn - 1];
        w = a[nn * s1 + nn - 1] * a[(nn - 1) * s1 + nn];
        if (l === nn - 1) { // two roots found
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) { // a real pair
            z = p + withSign(z, p);
            wr[nn - 1] = wr[nn] = x + z;
            if (z !== 0) wr[nn] = x - w / z;
            wi[nn - 1] = wi[nn] = 0;
          } else { // a complex pair
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn - 1] = -z;
            wi[nn] = z;
          }
          nn -= 2;
        } else { // no roots found yet: continue iterating
          if (its === MAX_QR_ITERATIONS) {
            throw new Error(
              `eigenvalues: the QR iteration did not converge within ${MAX_QR_ITERATIONS} iterations ` +
                `(${n - nn} of ${n} eigenvalues found)`,
            );
          }
          if (its > 0 && its % 10 === 0) { // exceptional shift
            t += x;
            for (let i = 1; i <= nn; i++) a[i * s1 + i] -= x;
            const s = Math.abs(a[nn * s1 + nn - 1]) + Math.abs(a[(nn - 1) * s1 + nn - 2]);
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          ++its;
          // Form the shift and look for two consecutive small subdiagonal elements.
          let m: number;
          for (m = nn - 2; m >= l; m--) {
            z = a[m * s1 + m];
            r = x - z;
            const s0 = y - z;
            p = (r * s0 - w) / a[(m + 1) * s1 + m] + a[m * s1 + m + 1];
            q = a[(m + 1) * s1 + m + 1] - z - r - s0;
            r = a[(m + 2) * s1 + m + 1];
            const s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m === l) break;
            const u = Math.abs(a[m * s1 + m - 1]) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) *
              (Math.abs(a[(m - 1) * s1 + m - 1]) + Math.abs(z) + Math.abs(a[(m + 1) * s1 + m + 1]));
            if (u + v === v) break;
          }
          for (let i = m + 2; i <= nn; i++) {
            a[i * s1 + i - 2] = 0;
            if (i !== m + 2) a[i * s1 + i - 3] = 0;
          }
          // Double QR step on rows l..nn and columns m..nn.
          for (let k = m; k <= nn - 1; k++) {
            if (k !== m) {
              p = a[k * s1 + k - 1];
              q = a[(k + 1) * s1 + k - 1];
              r = 0;
              if (k !== nn - 1) r = a[(k + 2) * s1 + k - 1];
              x = Math.abs(p) + Math.abs(q) + Math.abs(r);
              if (x !== 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            const s = withSign(Math.sqrt(p * p + q * q + r * r), p);
            if (s !== 0) {
              if (k === m) {
                if (l !== m) a[k * s1 + k - 1] = -a[k * s1 + k - 1];
              } else {
                a[k * s1 + k - 1] = -s * x;
              }
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              for (let j = k; j <= nn; j++) { // row modification
                p = a[k * s1 + j] + q * a[(k + 1) * s1 + j];
                if (k !== nn - 1) {
                  p += r * a[(k + 2) * s1 + j];
                  a[(k + 2) * s1 + j] -= p * z;
                }
                a[(k + 1) * s1 + j] -= p * y;
                a[k * s1 + j] -= p * x;
              }
              const mmin = nn < k + 3 ? nn : k + 3;
              for (let i = l; i <= mmin; i++) { // column modification
                p = x * a[i * s1 + k] + y * a[i * s1 + k + 1];
                if (k !== nn - 1) {
                  p += z * a[i * s1 + k + 2];
                  a[i * s1 + k + 2] -= p * r;
                }
                a[i * s1 + k + 1] -= p * q;
                a[i * s1 + k] -= p;
              }
            }
          }
        }
      }
    } while (l < nn - 1);
  }
}

/**
 * The spectral radius max |λ| of the general real n×n matrix `a` (its largest eigenvalue modulus).
 *
 * @example
 * ```ts
 * import { spectralRadius } from "./linalg.ts";
 * spectralRadius(new Float64Array([0, -2, 2, 0]), 2); // 2 (eigenvalues ±2i)
 * spectralRadius(new Float64Array([0.5, 100, 0, -0.9]), 2); // 0.9
 * ```
 */
export function spectralRadius(a: ArrayLike<number>, n: number): number {
  const { re, im } = eigenvalues(a, n);
  let rho = 0;
  for (let i = 0; i < n; i++) {
    const m = pythag(re[i], im[i]);
    if (m > rho) rho = m;
  }
  return rho;
}

/**
 * A copy of the n×n matrix `a` scaled so that its spectral radius is `rho` (up to rounding): `a · (rho / ρ(a))`.
 * Throws a `RangeError` if `rho` is negative or not finite, or if `a` has spectral radius 0 (nilpotent), which no
 * scaling can change.
 *
 * @example
 * ```ts
 * import { scaleToSpectralRadius, spectralRadius } from "./linalg.ts";
 * const w = scaleToSpectralRadius(new Float64Array([1, 2, 3, 4]), 2, 0.9);
 * spectralRadius(w, 2); // 0.9 (to within rounding)
 * ```
 */
export function scaleToSpectralRadius(a: ArrayLike<number>, n: number, rho: number): Float64Array {
  const fn = "scaleToSpectralRadius";
  if (typeof rho !== "number" || !Number.isFinite(rho) || rho < 0) {
    throw new RangeError(`${fn}: rho must be a finite number >= 0, got ${rho}`);
  }
  const current = spectralRadius(a, n); // checks n and a
  if (current === 0) {
    throw new RangeError(`${fn}: a has spectral radius 0 (it is nilpotent), so no scaling gives rho = ${rho}`);
  }
  const out = new Float64Array(n * n);
  if (rho === 0) return out; // (all +0, not the -0 that negative entries times 0 would give)
  const f = rho / current;
  for (let i = 0; i < out.length; i++) out[i] = a[i] * f;
  return out;
}
