// The BLAS kernels (matrix products in the machine's BLAS through FFI) against the float64 reference kernels: every
// kernel on ragged shapes, the time loops, whole models in float32 and float64, a finite-difference gradient check
// in float64, and same-seed-same-bits reruns. Every product is sent to BLAS here (minMacs: 0), however small.
// Without a BLAS library these tests are skipped, and say why. The PyTorch fixtures run on these kernels in
// lib/io/torch_test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../rng.ts";
import type { Arr, CellType, DType, Kernels } from "../../nn/kernels.ts";
import { Model, type ModelConfig } from "../../nn/model.ts";
import { mseLoss } from "../../nn/loss.ts";
import { loadBlas } from "./blas.ts";
import { BLAS_MIN_MACS, type BlasKernels, blasKernels } from "./blas_kernels.ts";
import { cpuKernels } from "./cpu_kernels.ts";
import { cpuModel } from "./model.ts";
import { jsKernels } from "../../nn/js_kernels.ts";

const { blas, reason } = loadBlas();
const skip = blas === null ? `no BLAS: ${reason}` : false;
if (skip) console.warn(`blas_kernels_test: SKIPPED, ${skip}`);
const title = (name: string) => (skip ? `${name} (SKIPPED: no BLAS library loads)` : name);

const ref = jsKernels("float64");

/** Waits until the kernel set's worker thread (if any) has started. */
async function workerUp(k: BlasKernels): Promise<void> {
  for (let i = 0; i < 600 && !k.workerReady; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(k.workerReady, "the worker thread did not start within 30 s");
}
const rng = new Rng(11);

/** Random values, in a reference float64 buffer and a buffer of `k` holding the same (k's dtype) values. */
function pair(k: Kernels, n: number, scale = 1): [Float64Array, Arr] {
  const a = k.alloc(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return [Float64Array.from(a), a];
}

function assertClose(got: Arr, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = atol + rtol * Math.abs(want[i]);
    if (!(Math.abs(got[i] - want[i]) <= tol)) assert.fail(`${what}[${i}]: blas ${got[i]}, reference ${want[i]}`);
  }
}

const TOL: Record<DType, number> = { float32: 2e-5, float64: 1e-12 };

for (const dtype of ["float32", "float64"] as const) {
  describe(title(`BLAS kernels (${dtype}) match the float64 reference`), { skip }, () => {
    const k = skip ? ref : blasKernels(dtype, { minMacs: 0 });
    const tol = TOL[dtype];

    it("reports where its products run", () => {
      assert.equal(k.name, "blas");
      assert.equal(k.dtype, dtype);
    });

    it("gemm, plain and with A transposed, accumulate or not, padded strides, ragged shapes", () => {
      for (const M of [1, 3, 17]) {
        for (const N of [1, 4, 33]) {
          for (const K of [0, 1, 7, 64]) {
            for (const transA of [false, true]) {
              for (const accumulate of [false, true]) {
                const [ar, a] = pair(k, M * K + 3), [br, b] = pair(k, K * (N + 2)), [cr, c] = pair(k, M * (N + 1));
                const [ars, acs] = transA ? [1, M] : [K, 1];
                ref.gemm(M, N, K, ar, ars, acs, br, N + 2, cr, N + 1, accumulate);
                k.gemm(M, N, K, a, ars, acs, b, N + 2, c, N + 1, accumulate);
                assertClose(
                  c,
                  cr,
                  tol,
                  tol * Math.sqrt(K + 1),
                  `gemm M=${M} N=${N} K=${K} tA=${transA} acc=${accumulate}`,
                );
              }
            }
          }
        }
      }
    });

    it("addColumnSums, fillRows (with and without a second bias), transpose", () => {
      for (const [M, N] of [[0, 3], [1, 1], [2, 5], [3, 16], [7, 19], [33, 8]]) {
        const [ar, a] = pair(k, M * N + 1), [or, o] = pair(k, N);
        ref.addColumnSums(M, N, ar, N, or);
        k.addColumnSums(M, N, a, N, o);
        assertClose(o, or, tol, tol * (M + 1), `addColumnSums M=${M} N=${N}`);
        const [b1r, b1] = pair(k, N), [b2r, b2] = pair(k, N);
        for (const second of M === 0 ? [] : [false, true]) { // (the reference writes row 0 even when M = 0)
          const [cr, c] = pair(k, M * N + 2);
          ref.fillRows(M, N, cr, b1r, second ? b2r : null);
          k.fillRows(M, N, c, b1, second ? b2 : null);
          assertClose(c, cr, tol, tol, `fillRows M=${M} N=${N} bias2=${second}`); // incl. the 2 values after C
        }
        const [tr, t] = [ref.alloc(M * N), k.alloc(M * N)];
        ref.transpose(M, N, ar, tr);
        k.transpose(M, N, a, t);
        assertClose(t, tr, 0, 0, `transpose M=${M} N=${N}`);
      }
    });

    it("gemm with a stride pattern BLAS cannot express (both strides > 1) falls back and still matches", () => {
      const M = 5, N = 6, K = 4;
      const [ar, a] = pair(k, 2 * M * K * 2), [br, b] = pair(k, K * N), [cr, c] = pair(k, M * N);
      ref.gemm(M, N, K, ar, 2 * K * 2, 2, br, N, cr, N, false);
      k.gemm(M, N, K, a, 2 * K * 2, 2, b, N, c, N, false);
      assertClose(c, cr, tol, tol, "strided gemm");
    });

    it("gemm: NaN in C is overwritten when not accumulating (beta = 0 ignores C)", () => {
      const [, a] = pair(k, 6 * 5), [, b] = pair(k, 5 * 7), c = k.alloc(6 * 7).fill(NaN);
      k.gemm(6, 7, 5, a, 5, 1, b, 7, c, 7, false);
      assert.ok(c.every(Number.isFinite));
    });

    for (const cell of ["lstm", "rnn"] as CellType[]) {
      for (const [T, B, H, truncate] of [[6, 3, 5, 0], [9, 4, 16, 4], [5, 1, 33, 0]]) {
        it(`${cell} time loops T=${T} B=${B} H=${H}${truncate ? ` truncate=${truncate}` : ""}, dhSeq and probes`, () => {
          const G = cell === "lstm" ? 4 : 1, GH = G * H, BH = B * H;
          const [gr, g] = pair(k, T * B * GH), [hr, h] = pair(k, (T + 1) * B * H, 0.5);
          const [cr, c] = cell === "lstm" ? pair(k, (T + 1) * B * H, 0.5) : [null, null];
          const [wr, w] = pair(k, GH * H, 0.3), [wtr, wt] = [ref.alloc(H * GH), k.alloc(H * GH)];
          ref.transpose(GH, H, wr, wtr);
          k.transpose(GH, H, w, wt);
          ref.recurrentForward(cell, T, B, H, gr, hr, cr, wtr);
          k.recurrentForward(cell, T, B, H, g, h, c, wt);
          assertClose(h, hr, 10 * tol, 10 * tol, "h");
          if (c !== null) assertClose(c, cr!, 10 * tol, 10 * tol, "c");
          assertClose(g, gr, 10 * tol, 10 * tol, "activated gates");
          const [sr, s] = pair(k, T * BH), [dhr, dh] = pair(k, BH), [dcr, dc] = pair(k, BH);
          const [nhr, nh] = [ref.alloc(T * B), k.alloc(T * B)], [ncr, nc] = [ref.alloc(T * B), k.alloc(T * B)];
          g.set(gr); // continue from identical activations, so the backward pass alone is compared
          ref.recurrentBackward(
            cell,
            T,
            B,
            H,
            gr,
            hr,
            cr,
            wr,
            sr,
            dhr,
            dcr,
            truncate,
            nhr,
            cell === "lstm" ? ncr : null,
          );
          k.recurrentBackward(cell, T, B, H, g, h, c, w, s, dh, dc, truncate, nh, cell === "lstm" ? nc : null);
          assertClose(g, gr, 100 * tol, 100 * tol, "dG");
          assertClose(dh, dhr, 100 * tol, 100 * tol, "dh0");
          if (cell === "lstm") assertClose(dc, dcr, 100 * tol, 100 * tol, "dc0");
          assertClose(nh, nhr, 100 * tol, 100 * tol, "probes ‖∂L/∂h‖");
        });
      }
    }
  });
}

describe(title("whole models on the BLAS kernels"), { skip }, () => {
  const cases: [string, Partial<ModelConfig>, number][] = [
    ["LSTM, 2 layers, readout every step", { cell: "lstm", numLayers: 2, readout: "every" }, 0],
    ["LSTM, truncated BPTT", { cell: "lstm", readout: "every" }, 4],
    ["RNN, 2 layers, last step", { cell: "rnn", numLayers: 2, readout: "last" }, 0],
    ["RNN, H = 37", { cell: "rnn", hiddenSize: 37, readout: "every" }, 0],
    ["GRU, 2 layers (time loops in wasm, products in BLAS)", { cell: "gru", numLayers: 2, readout: "every" }, 0],
  ];
  const base = { inputSize: 3, hiddenSize: 13, outputSize: 2, seed: 5 };
  const run = (m: Model, x: Float32Array, T: number, B: number, truncate: number) => {
    const y = m.forward(x, T, B);
    const dy = m.outputGrad();
    const loss = mseLoss(m.outputRows(), 2, y, new Float64Array(y.length).fill(0.3), null, dy);
    m.zeroGrad();
    const res = m.backward(dy, { probes: true, truncate, inputGrad: true });
    return {
      y: Float64Array.from(y),
      loss,
      grads: Float64Array.from(m.grads),
      dx: Float64Array.from(res.dx!),
      dh: Float64Array.from(res.dhNorm![0]),
    };
  };
  for (const [name, over, truncate] of cases) {
    for (const [dtype, threads] of [["float32", 1], ["float32", 2], ["float64", 1]] as const) {
      it(`${name}, ${dtype}, ${threads} thread(s): outputs, every gradient and the probes match the reference`, async () => {
        const config = { ...base, ...over } as ModelConfig;
        const want = new Model({ ...config, dtype: "float64", backend: "js" });
        // minMacs 0: every product in BLAS; with 2 threads, the worker takes half the rows of every call.
        const got = new Model({ ...config, dtype }, blasKernels(dtype, { minMacs: 0, threads, splitMacs: 0 }));
        await workerUp(got.kernels as BlasKernels);
        got.params.set(want.params);
        want.params.set(got.params); // the same (float32-representable, for float32) weights
        const T = 23, B = 9, x = new Rng(2).fillNormal(new Float32Array(T * B * 3));
        const a = run(got, x, T, B, truncate), b = run(want, x, T, B, truncate);
        const [r, s] = dtype === "float32" ? [1e-3, 1e-4] : [1e-11, 1e-12];
        assertClose(a.y, b.y, r / 10, s / 10, "outputs");
        assertClose([a.loss] as unknown as Arr, [b.loss], r / 10, 0, "loss");
        assertClose(a.grads, b.grads, r, s * Math.max(...b.grads.map(Math.abs)), "parameter gradients");
        assertClose(a.dx, b.dx, r, s * Math.max(...b.dx.map(Math.abs)), "input gradients");
        assertClose(a.dh, b.dh, r, s / 100, "probes");
        got.dispose();
      });
    }
  }

  for (const [threads, threading] of [[1, "workers"], [2, "workers"], [2, "openblas"]] as const) {
    it(`same seed, same bits on rerun (float32, ${threads} thread(s), ${threading}, default per-shape choice)`, async () => {
      // H = 64, B = 16: every product of this model is large enough to run in BLAS by default.
      const config: ModelConfig = { cell: "lstm", inputSize: 8, hiddenSize: 64, numLayers: 2, outputSize: 2, seed: 3 };
      assert.ok(16 * 4 * 64 * 64 >= BLAS_MIN_MACS);
      const T = 30, B = 16, x = new Rng(4).fillNormal(new Float32Array(T * B * 8));
      const once = async () => {
        const m = new Model(config, blasKernels("float32", { threads, threading }));
        try {
          await workerUp(m.kernels as BlasKernels); // split or not must not depend on timing (see workerReady)
          return run(m, x, T, B, 0);
        } finally {
          m.dispose();
        }
      };
      const a = await once(), b = await once();
      assert.deepEqual(a.y, b.y);
      assert.deepEqual(a.grads, b.grads);
      assert.deepEqual(a.dx, b.dx);
    });
  }
});

describe(title("gradient check on the BLAS kernels (float64, central differences)"), { skip }, () => {
  for (const cell of ["lstm", "rnn"] as const) {
    for (const truncate of [0, 3]) {
      it(`${cell}, 2 layers, readout every step, ${truncate ? `truncated k=${truncate}` : "full BPTT"}`, () => {
        const I = 3, H = 5, B = 3, T = 7, O = 2, eps = 1e-6;
        const model = new Model(
          { cell, inputSize: I, hiddenSize: H, numLayers: 2, outputSize: O, readout: "every", dtype: "float64" },
          blasKernels("float64", { minMacs: 0 }),
        );
        const r = new Rng(9), x = r.fillNormal(new Float64Array(T * B * I));
        const target = r.fillNormal(new Float64Array(T * B * O));
        const lossOf = () => {
          const y = model.forward(x, T, B);
          return mseLoss(T * B, O, y, target, null, model.outputGrad());
        };
        lossOf();
        model.zeroGrad();
        model.backward(model.outputGrad(), { truncate });
        const analytic = Float64Array.from(model.grads);
        assert.ok(analytic.some((v) => Math.abs(v) > 1e-6), "gradients are all ~0");
        if (truncate > 0) return assertTruncatedMatchesReference(model, analytic, truncate);
        const p = model.params;
        for (let i = 0; i < p.length; i++) {
          const v = p[i];
          p[i] = v + eps;
          const up = lossOf();
          p[i] = v - eps;
          const down = lossOf();
          p[i] = v;
          const numeric = (up - down) / (2 * eps);
          const err = Math.abs(numeric - analytic[i]) / Math.max(1e-3, Math.abs(numeric) + Math.abs(analytic[i]));
          assert.ok(err < 1e-6, `param ${i}: analytic ${analytic[i]}, numeric ${numeric} (rel err ${err})`);
        }
      });
    }
  }
});

/**
 * Truncated BPTT has no finite-difference counterpart; its gradients must equal the reference kernels' (which
 * lib/nn/gradcheck_test.ts checks against finite differences of the truncated graph) to float64 rounding.
 */
function assertTruncatedMatchesReference(model: Model, got: Float64Array, truncate: number): void {
  const c = model.config, T = 7, B = 3;
  const want = new Model({ ...c, backend: "js" });
  want.params.set(model.params);
  const r = new Rng(9), x = r.fillNormal(new Float64Array(T * B * c.inputSize));
  const target = r.fillNormal(new Float64Array(T * B * c.outputSize));
  const y = want.forward(x, T, B);
  mseLoss(T * B, c.outputSize, y, target, null, want.outputGrad());
  want.zeroGrad();
  want.backward(want.outputGrad(), { truncate });
  assertClose(got, want.grads, 1e-11, 1e-13, "truncated BPTT gradients");
}

describe(title("choosing the kernels"), { skip }, () => {
  it('kernels "auto" and "blas" give the BLAS kernels where a library loads; "wasm" stays the default', () => {
    for (const [choice, name] of [["auto", "blas"], ["blas", "blas"], ["wasm", "wasm"]] as const) {
      const k = cpuKernels("float32", { kernels: choice });
      assert.equal(k.name, name);
      k.dispose();
    }
    const cfg = { cell: "rnn", inputSize: 1, hiddenSize: 2, outputSize: 1 } as const;
    for (const [choice, name] of [[undefined, "wasm"], ["blas", "blas"], ["auto", "blas"]] as const) {
      const m = cpuModel({ ...cfg, kernels: choice });
      assert.equal(m.kernels.name, name, `cpuModel kernels: ${choice}`);
      m.dispose();
    }
    assert.equal(cpuKernels("float64", { kernels: "blas" }).name, "blas");
  });
});

describe("kernel choice: bad input names the field, the value and the choices", () => {
  it("Model config and cpuKernels", () => {
    assert.throws(
      () => new Model({ cell: "lstm", inputSize: 1, hiddenSize: 2, outputSize: 1, kernels: "mkl" as "blas" }),
      /kernels = "mkl", expected one of wasm, blas, auto/,
    );
    assert.throws(() => cpuKernels("float32", { kernels: "gpu" as "blas" }), /kernels: "gpu", expected one of/);
  });
});
