import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  eigenvalues,
  matmul,
  orthogonal,
  qr,
  scaleToSpectralRadius,
  spectralNorm,
  spectralRadius,
  symmetricEigenvalues,
  transpose,
} from "./linalg.ts";
import { Rng } from "./rng.ts";

// ---------------------------------------------------------------------------------------------------------------------
// Helpers

function gaussian(rng: Rng, m: number, n: number, std = 1): Float64Array {
  return rng.fillNormal(new Float64Array(m * n), 0, std);
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function identity(n: number): Float64Array {
  const e = new Float64Array(n * n);
  for (let i = 0; i < n; i++) e[i * n + i] = 1;
  return e;
}

/** max |QᵀQ - I| for the m×n matrix q (columns orthonormal). */
function columnOrthogonalityError(q: Float64Array, m: number, n: number): number {
  return maxAbsDiff(matmul(transpose(q, m, n), q, n, m, n), identity(n));
}

/** max |QQᵀ - I| for the m×n matrix q (rows orthonormal). */
function rowOrthogonalityError(q: Float64Array, m: number, n: number): number {
  return maxAbsDiff(matmul(q, transpose(q, m, n), m, n, m), identity(m));
}

function assertClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} (tolerance ${tol})`);
}

/** A reference for symmetric matrices: cyclic Jacobi rotations until the off-diagonal part vanishes (ascending). */
function jacobiEigenvalues(a: Float64Array, n: number): number[] {
  const w = Float64Array.from(a);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += w[p * n + q] * w[p * n + q];
    if (off < 1e-30 * maxAbs(w) ** 2) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = w[p * n + q];
        if (apq === 0) continue;
        const theta = (w[q * n + q] - w[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) { // columns p, q
          const akp = w[k * n + p], akq = w[k * n + q];
          w[k * n + p] = c * akp - s * akq;
          w[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) { // rows p, q
          const apk = w[p * n + k], aqk = w[q * n + k];
          w[p * n + k] = c * apk - s * aqk;
          w[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => w[i * n + i]).sort((x, y) => x - y);
}

/** The determinant by LU decomposition with partial pivoting. */
function determinant(a: Float64Array, n: number): number {
  const w = Float64Array.from(a);
  let det = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(w[i * n + k]) > Math.abs(w[p * n + k])) p = i;
    if (p !== k) {
      for (let j = 0; j < n; j++) [w[k * n + j], w[p * n + j]] = [w[p * n + j], w[k * n + j]];
      det = -det;
    }
    det *= w[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const f = w[i * n + k] / w[k * n + k];
      for (let j = k; j < n; j++) w[i * n + j] -= f * w[k * n + j];
    }
  }
  return det;
}

function randomSymmetric(rng: Rng, n: number): Float64Array {
  const g = gaussian(rng, n, n);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = (g[i * n + j] + g[j * n + i]) / 2;
  return s;
}

function trace(a: Float64Array, n: number): number {
  let t = 0;
  for (let i = 0; i < n; i++) t += a[i * n + i];
  return t;
}

/** Greedily pairs expected roots with computed eigenvalues; returns the largest distance. */
function matchRoots(expected: [number, number][], re: Float64Array, im: Float64Array): number {
  const used = new Set<number>();
  let worst = 0;
  for (const [er, ei] of expected) {
    let best = -1, bestD = Infinity;
    for (let i = 0; i < re.length; i++) {
      if (used.has(i)) continue;
      const d = Math.sqrt((re[i] - er) ** 2 + (im[i] - ei) ** 2);
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    used.add(best);
    worst = Math.max(worst, bestD);
  }
  return worst;
}

/** mulberry32 uniform in [-1, 1): a generator local to the golden checksums so they never change with Rng. */
function uniformMatrix(seed: number, len: number): Float64Array {
  let a = seed | 0;
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) {
    let t = (a = (a + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2147483648 - 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------

describe("linalg: argument checks", () => {
  const a6 = new Float64Array(6);
  it("rejects non-positive or non-integer sizes, naming the parameter and value", () => {
    assert.throws(() => transpose(a6, 0, 6), {
      name: "RangeError",
      message: /transpose: m must be a positive integer, got 0/,
    });
    assert.throws(() => transpose(a6, 2, 3.5), {
      name: "RangeError",
      message: /n must be a positive integer, got 3.5/,
    });
    assert.throws(() => matmul(a6, a6, 2, -3, 2), {
      name: "RangeError",
      message: /matmul: k must be a positive integer, got -3/,
    });
    assert.throws(() => qr(a6, 3, NaN), { name: "RangeError", message: /qr: n must be a positive integer, got NaN/ });
    assert.throws(() => orthogonal(0, 3, new Rng(1)), {
      name: "RangeError",
      message: /orthogonal: rows must be a positive integer, got 0/,
    });
    assert.throws(() => spectralNorm(a6, 2, 0), {
      name: "RangeError",
      message: /spectralNorm: cols must be a positive integer, got 0/,
    });
    assert.throws(() => eigenvalues(a6, 0), {
      name: "RangeError",
      message: /eigenvalues: n must be a positive integer, got 0/,
    });
  });

  it("rejects arrays whose length does not match the sizes", () => {
    assert.throws(() => transpose(a6, 2, 4), {
      name: "RangeError",
      message: /a.length must be m \* n \(m = 2, n = 4\) = 8, got 6/,
    });
    assert.throws(() => matmul(a6, a6, 2, 3, 3), {
      name: "RangeError",
      message: /matmul: b.length must be k \* n .* = 9, got 6/,
    });
    assert.throws(() => qr(a6, 4, 2), { name: "RangeError", message: /qr: a.length must be m \* n .* = 8, got 6/ });
    assert.throws(() => eigenvalues(a6, 2), {
      name: "RangeError",
      message: /eigenvalues: a.length must be n \* n \(n = 2\) = 4, got 6/,
    });
    assert.throws(() => spectralRadius(a6, 3), {
      name: "RangeError",
      message: /a.length must be n \* n \(n = 3\) = 9, got 6/,
    });
    assert.throws(() => symmetricEigenvalues(a6, 3), { name: "RangeError", message: /= 9, got 6/ });
    assert.throws(() => scaleToSpectralRadius(a6, 2, 1), { name: "RangeError", message: /= 4, got 6/ });
  });

  it("rejects non-finite entries, non-symmetric input to symmetricEigenvalues, and bad rho", () => {
    assert.throws(() => eigenvalues([1, 2, NaN, 4], 2), {
      name: "RangeError",
      message: /eigenvalues: a\[2\] must be finite, got NaN/,
    });
    assert.throws(() => spectralNorm([1, Infinity], 1, 2), {
      name: "RangeError",
      message: /a\[1\] must be finite, got Infinity/,
    });
    assert.throws(() => symmetricEigenvalues([1, 2, 3, 4], 2), {
      name: "RangeError",
      message: /a must be symmetric, but a\[1, 0\] = 3 and a\[0, 1\] = 2/,
    });
    const w = [0.5, 0.1, 0.2, 0.3];
    assert.throws(() => scaleToSpectralRadius(w, 2, -0.5), {
      name: "RangeError",
      message: /rho must be a finite number >= 0, got -0.5/,
    });
    assert.throws(() => scaleToSpectralRadius(w, 2, NaN), { name: "RangeError", message: /rho must be .* got NaN/ });
    assert.throws(() => scaleToSpectralRadius(w, 2, Infinity), {
      name: "RangeError",
      message: /rho must be .* got Infinity/,
    });
    assert.throws(() => scaleToSpectralRadius([0, 1, 0, 0], 2, 0.9), {
      name: "RangeError",
      message: /spectral radius 0/,
    });
    assert.throws(() => scaleToSpectralRadius([0, 0, 0, 0], 2, 0.9), {
      name: "RangeError",
      message: /spectral radius 0/,
    });
  });
});

describe("linalg: transpose and matmul", () => {
  it("computes small known products", () => {
    assert.deepEqual(transpose([1, 2, 3, 4, 5, 6], 2, 3), new Float64Array([1, 4, 2, 5, 3, 6]));
    assert.deepEqual(matmul([1, 2, 3, 4], [5, 6, 7, 8], 2, 2, 2), new Float64Array([19, 22, 43, 50]));
    assert.deepEqual(matmul([1, 2, 3], [4, 5, 6], 1, 3, 1), new Float64Array([32]));
    assert.deepEqual(matmul([1, 2, 3], [4, 5, 6], 3, 1, 3), new Float64Array([4, 5, 6, 8, 10, 12, 12, 15, 18]));
  });

  it("satisfies (AB)ᵀ = BᵀAᵀ and AI = A", () => {
    const rng = new Rng(11);
    const a = gaussian(rng, 4, 7), b = gaussian(rng, 7, 3);
    const abT = transpose(matmul(a, b, 4, 7, 3), 4, 3);
    assert.ok(maxAbsDiff(abT, matmul(transpose(b, 7, 3), transpose(a, 4, 7), 3, 7, 4)) < 1e-14);
    assert.deepEqual(matmul(a, identity(7), 4, 7, 7), a);
    assert.deepEqual(transpose(transpose(a, 4, 7), 7, 4), a);
  });
});

describe("linalg: qr", () => {
  const shapes: [number, number][] = [[6, 4], [4, 6], [5, 5], [1, 3], [3, 1], [1, 1], [40, 40], [60, 17]];
  for (const [m, n] of shapes) {
    it(`reconstructs a ${m}×${n} matrix with orthonormal Q and upper-triangular R`, () => {
      const a = gaussian(new Rng(m * 100 + n), m, n);
      const p = Math.min(m, n);
      const { q, r } = qr(a, m, n);
      assert.equal(q.length, m * p);
      assert.equal(r.length, p * n);
      assert.ok(columnOrthogonalityError(q, m, p) < 1e-13, "QᵀQ = I");
      for (let i = 0; i < p; i++) for (let j = 0; j < Math.min(i, n); j++) assert.equal(r[i * n + j], 0);
      assert.ok(maxAbsDiff(matmul(q, r, m, p, n), a) < 1e-13 * Math.max(1, maxAbs(a)), "QR = A");
    });
  }

  it("handles rank-deficient input (zero and repeated columns)", () => {
    const a = new Float64Array([1, 0, 1, 2, 2, 0, 2, 4, 3, 0, 3, 6]); // 3×4: columns 0, 2 equal, column 1 zero
    const { q, r } = qr(a, 3, 4);
    assert.ok(columnOrthogonalityError(q, 3, 3) < 1e-14);
    assert.ok(maxAbsDiff(matmul(q, r, 3, 3, 4), a) < 1e-14);
    const z = qr(new Float64Array(6), 3, 2);
    assert.deepEqual(z.r, new Float64Array(4));
    assert.ok(columnOrthogonalityError(z.q, 3, 2) === 0);
  });
});

describe("linalg: orthogonal", () => {
  const shapes: [number, number][] = [[8, 8], [12, 5], [5, 12], [1, 1], [1, 6], [6, 1], [100, 100], [64, 256]];
  for (const [rows, cols] of shapes) {
    it(`makes a ${rows}×${cols} (semi-)orthogonal matrix`, () => {
      const w = orthogonal(rows, cols, new Rng(rows + 7 * cols));
      assert.equal(w.length, rows * cols);
      const err = rows >= cols ? columnOrthogonalityError(w, rows, cols) : rowOrthogonalityError(w, rows, cols);
      assert.ok(err < 1e-12, `orthogonality error ${err}`);
    });
  }

  it("is deterministic: the same seed gives identical bits, another seed differs", () => {
    const a = orthogonal(9, 4, new Rng(123)), b = orthogonal(9, 4, new Rng(123));
    assert.deepEqual(new Uint8Array(a.buffer), new Uint8Array(b.buffer));
    assert.notDeepEqual(a, orthogonal(9, 4, new Rng(124)));
  });

  it("follows torch.nn.init.orthogonal_: Q of the Gaussian draw with columns signed by diag(R)", () => {
    for (const [rows, cols] of [[7, 4], [4, 7], [6, 6]]) {
      const g = gaussian(new Rng(5), rows, cols);
      const wide = rows < cols, m = Math.max(rows, cols), n = Math.min(rows, cols);
      const { q, r } = qr(wide ? transpose(g, rows, cols) : g, m, n);
      for (let j = 0; j < n; j++) {
        if (r[j * n + j] < 0) { for (let i = 0; i < m; i++) q[i * n + j] *= -1; }
      }
      const expected = wide ? transpose(q, m, n) : q;
      assert.deepEqual(orthogonal(rows, cols, new Rng(5)), expected);
      // and W is its own Q factor once R's diagonal is made positive (|r_jj| = 1): the Haar normalisation
      const w = orthogonal(rows, cols, new Rng(5));
      const f = qr(wide ? transpose(w, rows, cols) : w, m, n);
      for (let j = 0; j < n; j++) {
        assertClose(Math.abs(f.r[j * n + j]), 1, 1e-13, "|r_jj| = 1");
        if (f.r[j * n + j] < 0) { for (let i = 0; i < m; i++) f.q[i * n + j] *= -1; }
      }
      assert.ok(maxAbsDiff(wide ? transpose(f.q, m, n) : f.q, w) < 1e-13, "sign-normalised Q = W");
    }
  });

  it("draws from the generator in order (rows*cols normals)", () => {
    const rng = new Rng(77);
    orthogonal(5, 3, rng);
    const next = rng.normal();
    const ref = new Rng(77);
    for (let i = 0; i < 15; i++) ref.normal();
    assert.equal(next, ref.normal());
  });
});

describe("linalg: symmetricEigenvalues and spectralNorm", () => {
  it("finds the eigenvalues of small symmetric matrices", () => {
    const e = symmetricEigenvalues([2, 1, 1, 2], 2);
    assertClose(e[0], 3, 1e-15, "λ1");
    assertClose(e[1], 1, 1e-15, "λ2");
    assert.deepEqual(symmetricEigenvalues([-4.5], 1), new Float64Array([-4.5]));
    const c = symmetricEigenvalues(identity(6).map((x) => 2.5 * x), 6);
    assert.ok(maxAbsDiff(c, new Float64Array(6).fill(2.5)) < 1e-15, "repeated eigenvalues");
  });

  it("agrees with Jacobi on random symmetric matrices", () => {
    const rng = new Rng(3);
    for (const n of [2, 5, 30]) {
      const s = randomSymmetric(rng, n);
      const ours = Array.from(symmetricEigenvalues(s, n)).reverse();
      const ref = jacobiEigenvalues(s, n);
      assert.ok(maxAbsDiff(ours, ref) < 1e-12 * maxAbs(ref), `n = ${n}`);
    }
  });

  it("gives the spectral norm of diagonal and known matrices", () => {
    assertClose(spectralNorm([3, 0, 0, 0, -7, 0, 0, 0, 2], 3, 3), 7, 1e-14, "diag(3, -7, 2)");
    assertClose(spectralNorm([3, 0, 0, -4], 2, 2), 4, 1e-15, "diag(3, -4)");
    assertClose(spectralNorm([1, 2, 3, 4], 2, 2), Math.sqrt(15 + Math.sqrt(221)), 1e-14, "[[1, 2], [3, 4]]");
    assertClose(spectralNorm([1, 1, 1, 1], 1, 4), 2, 1e-15, "row vector");
    assertClose(spectralNorm([3, 4], 2, 1), 5, 1e-15, "column vector");
    assert.equal(spectralNorm(new Float64Array(12), 3, 4), 0);
    assertClose(spectralNorm([1e200, 0, 0, 1e199], 2, 2), 1e200, 1e186, "no overflow");
    assertClose(spectralNorm([1e-200, 0, 0, 2e-200], 2, 2), 2e-200, 1e-214, "no underflow");
    // rank one: u vᵀ has norm |u| |v|
    const u = [1, -2, 2], v = [3, 4];
    const uv = u.flatMap((ui) => v.map((vj) => ui * vj));
    assertClose(spectralNorm(uv, 3, 2), 15, 1e-13, "rank one");
    assertClose(spectralNorm(Float32Array.from([0.5, 0, 0, 0.25]), 2, 2), 0.5, 0, "Float32Array input");
  });

  it("is exact for scaled orthogonal matrices, where all singular values are equal", () => {
    for (const [rows, cols, scale] of [[50, 50, 2.5], [30, 10, 0.3], [10, 30, 1.7], [128, 128, 1]] as const) {
      const w = orthogonal(rows, cols, new Rng(rows * cols)).map((x) => x * scale);
      assertClose(spectralNorm(w, rows, cols), scale, 1e-12 * scale, `${rows}×${cols} × ${scale}`);
    }
  });

  it("resolves nearly repeated top singular values (U diag(5, 5, 5 - 1e-9, ...) Vᵀ)", () => {
    const n = 12;
    const u = orthogonal(n, n, new Rng(8)), v = orthogonal(n, n, new Rng(9));
    const d = new Float64Array(n * n);
    const sv = [5, 5, 5 - 1e-9, 4.9, 3, 2, 1, 0.5, 0.1, 0.01, 0, 0];
    for (let i = 0; i < n; i++) d[i * n + i] = sv[i];
    const a = matmul(matmul(u, d, n, n, n), transpose(v, n, n), n, n, n);
    assertClose(spectralNorm(a, n, n), 5, 1e-13, "σ1");
  });

  it("matches the square root of the largest Jacobi eigenvalue of AᵀA on random rectangular matrices", () => {
    const rng = new Rng(21);
    for (const [m, n] of [[20, 13], [13, 20], [64, 16]]) {
      const a = gaussian(rng, m, n);
      const ata = matmul(transpose(a, m, n), a, n, m, n);
      const ref = Math.sqrt(jacobiEigenvalues(ata, n)[n - 1]);
      assertClose(spectralNorm(a, m, n), ref, 1e-12 * ref, `${m}×${n}`);
    }
  });
});

describe("linalg: eigenvalues", () => {
  it("returns the diagonal of triangular matrices", () => {
    const diag = [5, -3, 2.5, 0.1, -7, 1];
    const n = diag.length;
    const rng = new Rng(4);
    const upper = new Float64Array(n * n), lower = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) upper[i * n + j] = lower[i * n + j] = diag[i];
        else if (j > i) upper[i * n + j] = rng.normal();
        else lower[i * n + j] = rng.normal();
      }
    }
    const sorted = [...diag].sort((x, y) => Math.abs(y) - Math.abs(x));
    for (const [name, m, tol] of [["upper", upper, 1e-14], ["lower", lower, 1e-12]] as const) {
      const { re, im } = eigenvalues(m, n);
      assert.ok(maxAbsDiff(re, sorted) < tol, `${name}: ${re}`);
      assert.ok(maxAbs(im) === 0, `${name}: real eigenvalues`);
    }
  });

  it("gives r e^{±iθ} for a 2×2 rotation scaled by r", () => {
    for (const [r, theta] of [[0.8, 0.7], [1.3, 2.9], [2, Math.PI / 2]]) {
      const c = r * Math.cos(theta), s = r * Math.sin(theta);
      const { re, im } = eigenvalues([c, -s, s, c], 2);
      assertClose(re[0], c, 1e-15, "re");
      assertClose(re[1], c, 1e-15, "re");
      assertClose(im[0], s, 1e-15, "+im first");
      assertClose(im[1], -s, 1e-15, "conjugate");
      assertClose(spectralRadius([c, -s, s, c], 2), r, 1e-15, "spectral radius");
    }
  });

  it("finds the roots of a polynomial from its companion matrix, complex ones included", () => {
    const roots: [number, number][] = [[3, 0], [-2, 0], [0.5, 0], [1, 2], [1, -2], [-0.3, 0.7], [-0.3, -0.7], [
      -1.5,
      0,
    ]];
    // Multiply out prod (x - root), keeping complex pairs together as real quadratics.
    let poly = [1]; // coefficients, highest degree first
    const mul = (p: number[], f: number[]) => {
      const out = new Array(p.length + f.length - 1).fill(0);
      for (let i = 0; i < p.length; i++) for (let j = 0; j < f.length; j++) out[i + j] += p[i] * f[j];
      return out;
    };
    for (const [re, im] of roots) {
      if (im === 0) poly = mul(poly, [1, -re]);
      else if (im > 0) poly = mul(poly, [1, -2 * re, re * re + im * im]);
    }
    const n = roots.length;
    const comp = new Float64Array(n * n);
    for (let j = 0; j < n; j++) comp[j] = -poly[j + 1];
    for (let i = 1; i < n; i++) comp[i * n + i - 1] = 1;
    const { re, im } = eigenvalues(comp, n);
    assert.ok(matchRoots(roots, re, im) < 1e-10, `eigenvalues ${re} ${im}`);
    assertClose(spectralRadius(comp, n), 3, 1e-12, "spectral radius");
  });

  it("handles defective and trivial matrices", () => {
    const j = eigenvalues([2, 1, 0, 2], 2); // Jordan block
    assert.ok(maxAbsDiff(j.re, [2, 2]) < 1e-15 && maxAbs(j.im) === 0);
    assert.deepEqual(eigenvalues([-3.5], 1), { re: new Float64Array([-3.5]), im: new Float64Array([0]) });
    assert.deepEqual(eigenvalues(new Float64Array(9), 3), { re: new Float64Array(3), im: new Float64Array(3) });
    assert.equal(spectralRadius(new Float64Array(9), 3), 0);
    const perm = eigenvalues([0, 0, 1, 1, 0, 0, 0, 1, 0], 3); // cyclic permutation: the cube roots of unity
    assert.ok(matchRoots([[1, 0], [-0.5, Math.sqrt(3) / 2], [-0.5, -Math.sqrt(3) / 2]], perm.re, perm.im) < 1e-14);
  });

  it("on random symmetric matrices: real, sum = trace, product = determinant, and equal to Jacobi's", () => {
    const rng = new Rng(31);
    for (const n of [3, 8, 25]) {
      const s = randomSymmetric(rng, n);
      const { re, im } = eigenvalues(s, n);
      assert.ok(maxAbs(im) === 0, `n = ${n}: all real`);
      assertClose(re.reduce((x, y) => x + y, 0), trace(s, n), 1e-12 * n, `n = ${n}: trace`);
      const det = determinant(s, n);
      const prod = re.reduce((x, y) => x * y, 1);
      assertClose(prod, det, 1e-10 * Math.abs(det), `n = ${n}: determinant`);
      const ref = jacobiEigenvalues(s, n);
      assert.ok(maxAbsDiff(Array.from(re).sort((x, y) => x - y), ref) < 1e-12 * maxAbs(ref), `n = ${n}: Jacobi`);
    }
  });

  it("on a 100×100 Gaussian matrix: sum = trace, conjugate pairs, exact rescaling", () => {
    const n = 100;
    const w = gaussian(new Rng(100), n, n);
    const { re, im } = eigenvalues(w, n);
    assertClose(re.reduce((x, y) => x + y, 0), trace(w, n), 1e-10 * n, "Σ re λ = trace");
    assertClose(im.reduce((x, y) => x + y, 0), 0, 1e-10 * n, "Σ im λ = 0");
    for (let i = 0; i < n; i++) {
      if (im[i] > 0) {
        assert.equal(re[i + 1], re[i], "conjugate pairs are adjacent");
        assert.equal(im[i + 1], -im[i], "conjugate pairs are adjacent");
      }
    }
    for (let i = 1; i < n; i++) assert.ok(Math.hypot(re[i], im[i]) <= Math.hypot(re[i - 1], im[i - 1]) * (1 + 1e-15));
    for (const rho of [0.95, 1, 1.5]) {
      const scaled = scaleToSpectralRadius(w, n, rho);
      assertClose(spectralRadius(scaled, n), rho, 1e-10 * rho, `spectral radius ${rho}`);
    }
    assert.deepEqual(scaleToSpectralRadius(w, n, 0), new Float64Array(n * n));
  });

  it("gives spectral radius ≈ 1 for a 200×200 matrix with N(0, 1/n) entries (circular law)", () => {
    const n = 200;
    const rho = spectralRadius(gaussian(new Rng(200), n, n, 1 / Math.sqrt(n)), n);
    assert.ok(rho > 0.9 && rho < 1.15, `spectral radius ${rho}`);
  });
});

describe("linalg: determinism across engines", () => {
  // FNV-1a over result bits for fixed inputs; the same in Deno and Bun (basic operations and Math.sqrt only).
  function checksum(arrays: ArrayLike<number>[]): string {
    const f64 = new Float64Array(1);
    const u8 = new Uint8Array(f64.buffer);
    let h = 0x811c9dc5;
    for (const a of arrays) {
      for (let i = 0; i < a.length; i++) {
        f64[0] = a[i];
        for (let k = 0; k < 8; k++) h = Math.imul(h ^ u8[k], 0x01000193);
      }
    }
    return (h >>> 0).toString(16).padStart(8, "0");
  }

  it("qr, eigenvalues, symmetricEigenvalues and spectralNorm give fixed bits", () => {
    const a = uniformMatrix(1, 30 * 20);
    const { q, r } = qr(a, 30, 20);
    const sq = uniformMatrix(2, 40 * 40);
    const { re, im } = eigenvalues(sq, 40);
    const sym = matmul(transpose(a, 30, 20), a, 20, 30, 20);
    const got = checksum([q, r, re, im, symmetricEigenvalues(sym, 20), [spectralNorm(a, 30, 20)]]);
    assert.equal(got, "98c58ae4");
  });
});
