// The WebAssembly kernels against the reference kernels: every kernel, on shapes that are not multiples of the SIMD
// width or register tile, plus the accuracy of the float32 exp / sigmoid / tanh approximations.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../rng.ts";
import { exp, sigmoid, tanh } from "../../math.ts";
import type { Arr } from "../../arr.ts";
import { jsKernels } from "../../nn/js_kernels.ts";
import { wasmKernels } from "./wasm_kernels.ts";
import { lstmCellBackward, lstmCellForward } from "../../nn/lstm.ts";
import { rnnCellBackward, rnnCellForward } from "../../nn/rnn.ts";
import { gruCellBackward, gruCellForward } from "../../nn/gru.ts";

const ref = jsKernels("float64");
const wasm = wasmKernels();
const rng = new Rng(3);

/** The same random values in a float64 reference buffer and a float32 wasm buffer. */
function pair(n: number, scale = 1): [Float64Array, Float32Array] {
  const w = wasm.alloc(n) as Float32Array;
  for (let i = 0; i < n; i++) w[i] = scale * rng.normal();
  const r = ref.alloc(n) as Float64Array;
  r.set(w); // the float32 values, exactly
  return [r, w];
}

function assertClose(got: Arr, want: Arr, rtol: number, atol: number, what: string): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = atol + rtol * Math.abs(want[i]);
    if (!(Math.abs(got[i] - want[i]) <= tol)) assert.fail(`${what}[${i}]: wasm ${got[i]}, reference ${want[i]}`);
  }
}

describe("wasm kernels match the reference kernels", () => {
  it("gemm, plain and with A transposed, accumulate or not, on ragged shapes", () => {
    for (const M of [1, 3, 4, 5, 17]) {
      for (const N of [1, 3, 4, 15, 16, 17, 33]) {
        for (const K of [1, 2, 7, 64]) {
          for (const transA of [false, true]) {
            for (const accumulate of [false, true]) {
              const [ar, aw] = pair(M * K), [br, bw] = pair(K * (N + 2)), [cr, cw] = pair(M * (N + 1));
              const [ars, acs] = transA ? [1, M] : [K, 1];
              ref.gemm(M, N, K, ar, ars, acs, br, N + 2, cr, N + 1, accumulate);
              wasm.gemm(M, N, K, aw, ars, acs, bw, N + 2, cw, N + 1, accumulate);
              assertClose(
                cw,
                cr,
                1e-5,
                1e-5 * Math.sqrt(K),
                `gemm M=${M} N=${N} K=${K} tA=${transA} acc=${accumulate}`,
              );
            }
          }
        }
      }
    }
  });

  it("addColumnSums, fillRows, transpose", () => {
    for (const [M, N] of [[1, 1], [3, 5], [7, 16], [33, 19]]) {
      const [ar, aw] = pair(M * N), [or, ow] = pair(N);
      ref.addColumnSums(M, N, ar, N, or);
      wasm.addColumnSums(M, N, aw, N, ow);
      assertClose(ow, or, 1e-5, 1e-5, `addColumnSums ${M}x${N}`);
      const [b1r, b1w] = pair(N), [b2r, b2w] = pair(N), [cr, cw] = pair(M * N);
      ref.fillRows(M, N, cr, b1r, b2r);
      wasm.fillRows(M, N, cw, b1w, b2w);
      assertClose(cw, cr, 1e-7, 0, `fillRows ${M}x${N}`);
      ref.fillRows(M, N, cr, b1r, null);
      wasm.fillRows(M, N, cw, b1w, null);
      assertClose(cw, cr, 0, 0, `fillRows one bias ${M}x${N}`);
      const [tr, tw] = pair(M * N);
      ref.transpose(M, N, ar, tr);
      wasm.transpose(M, N, aw, tw);
      assertClose(tw, tr, 0, 0, `transpose ${M}x${N}`);
    }
  });

  for (const [B, H] of [[1, 1], [3, 5], [2, 8], [4, 37], [1, 130]]) {
    it(`LSTM cell forward and backward, B=${B} H=${H}, with and without dhIn and probes`, () => {
      for (const withExtras of [false, true]) {
        const [gr, gw] = pair(B * 4 * H, 2), [cpr, cpw] = pair(B * H);
        const [cr, cw] = pair(B * H), [hr, hw] = pair(B * H);
        lstmCellForward(B, H, gr, cpr, cr, hr);
        wasm.exports.lstmCellForward(0, B, H, gw.byteOffset, cpw.byteOffset, cw.byteOffset, hw.byteOffset);
        assertClose(gw, gr, 1e-6, 1e-7, "activated gates");
        assertClose(cw, cr, 1e-6, 1e-6, "c");
        assertClose(hw, hr, 1e-6, 1e-6, "h");
        gr.set(gw); // continue from identical activations
        cr.set(cw);
        const [dhr, dhw] = pair(B * H), [dcr, dcw] = pair(B * H), [inr, inw] = pair(B * H);
        const [nhr, nhw] = pair(B), [ncr, ncw] = pair(B);
        const x = withExtras;
        lstmCellBackward(B, H, gr, cpr, cr, dhr, x ? inr : null, dcr, x ? nhr : null, x ? ncr : null);
        const p = (a: Arr | null) => (a === null ? 0 : a.byteOffset);
        wasm.exports.lstmCellBackward(
          0,
          B,
          H,
          p(gw),
          p(cpw),
          p(cw),
          p(dhw),
          p(x ? inw : null),
          p(dcw),
          p(x ? nhw : null),
          p(x ? ncw : null),
        );
        assertClose(gw, gr, 1e-5, 1e-6, "gate gradients");
        assertClose(dhw, dhr, 1e-6, 1e-7, "dh");
        assertClose(dcw, dcr, 1e-5, 1e-6, "dc");
        if (withExtras) {
          assertClose(nhw, nhr, 1e-5, 1e-6, "dhNorm");
          assertClose(ncw, ncr, 1e-5, 1e-6, "dcNorm");
        }
      }
    });
    it(`RNN cell forward and backward, B=${B} H=${H}`, () => {
      const [pr, pw] = pair(B * H, 2), [hr, hw] = pair(B * H);
      rnnCellForward(B, H, pr, hr);
      wasm.exports.rnnCellForward(0, B, H, pw.byteOffset, hw.byteOffset);
      assertClose(hw, hr, 1e-6, 1e-7, "h");
      hr.set(hw);
      const [dhr, dhw] = pair(B * H), [inr, inw] = pair(B * H), [nr, nw] = pair(B);
      rnnCellBackward(B, H, pr, hr, dhr, inr, nr);
      wasm.exports.rnnCellBackward(
        0,
        B,
        H,
        pw.byteOffset,
        hw.byteOffset,
        dhw.byteOffset,
        inw.byteOffset,
        nw.byteOffset,
      );
      assertClose(pw, pr, 1e-6, 1e-7, "dpre");
      assertClose(nw, nr, 1e-5, 1e-6, "dhNorm");
    });
  }
});

describe("wasm GRU kernels match the reference (lib/nn/gru.ts)", () => {
  for (const [B, H] of [[1, 1], [3, 5], [4, 8], [5, 13]]) {
    it(`GRU cell forward and backward, B=${B} H=${H}, with and without dhIn and probes`, () => {
      for (const withExtras of [false, true]) {
        const [xr, xw] = pair(B * 3 * H, 2), [ghr, ghw] = pair(B * 3 * H, 2), [hpr, hpw] = pair(B * H);
        const [hr, hw] = pair(B * H);
        gruCellForward(B, H, xr, ghr, hpr, hr);
        wasm.exports.gruCellForward(0, B, H, xw.byteOffset, ghw.byteOffset, hpw.byteOffset, hw.byteOffset);
        assertClose(xw, xr, 1e-6, 1e-7, "activations");
        assertClose(hw, hr, 1e-6, 1e-7, "h");
        xr.set(xw); // continue from identical activations
        const [dhr, dhw] = pair(B * H), [inr, inw] = pair(B * H), [nr, nw] = pair(B);
        gruCellBackward(B, H, xr, ghr, hpr, dhr, withExtras ? inr : null, withExtras ? nr : null);
        wasm.exports.gruCellBackward(
          0,
          B,
          H,
          xw.byteOffset,
          ghw.byteOffset,
          hpw.byteOffset,
          dhw.byteOffset,
          withExtras ? inw.byteOffset : 0,
          withExtras ? nw.byteOffset : 0,
        );
        assertClose(xw, xr, 1e-5, 1e-6, "d(gx)");
        assertClose(ghw, ghr, 1e-5, 1e-6, "d(gh)");
        assertClose(dhw, dhr, 1e-6, 1e-7, "dh");
        if (withExtras) assertClose(nw, nr, 1e-5, 1e-6, "dhNorm");
      }
    });
  }
});

describe("wasm GRU time loops match the reference, on one thread and on two, bit-identically across thread counts", () => {
  const two = wasmKernels({ threads: 2 });
  for (const [T, B, H, truncate] of [[1, 1, 5, 0], [17, 3, 5, 0], [9, 12, 37, 4], [6, 64, 130, 0]]) {
    it(`gru T=${T} B=${B} H=${H}${truncate ? ` truncate=${truncate}` : ""}`, async () => {
      const GH = 3 * H;
      const [gr, gw] = pair(T * B * GH), [xr, xw] = pair(T * B * GH), [hr, hw] = pair((T + 1) * B * H);
      const [wtr, wtw] = pair(H * GH, 1 / Math.sqrt(H)), [wr, ww] = pair(GH * H, 1 / Math.sqrt(H));
      const copy = (a: Float32Array) => {
        const b = two.alloc(a.length) as Float32Array;
        b.set(a);
        return b;
      };
      const g2 = copy(gw), x2 = copy(xw), h2 = copy(hw), wt2 = copy(wtw), w2 = copy(ww);
      if (two.threads > 1) await new Promise((r) => setTimeout(r, 200)); // let the worker start
      const ex = (hidden: Arr) => ({ hidden, extra: null, dExtra: null });
      ref.recurrentForward("gru", T, B, H, gr, hr, null, wtr, ex(xr));
      wasm.recurrentForward("gru", T, B, H, gw, hw, null, wtw, ex(xw));
      two.recurrentForward("gru", T, B, H, g2, h2, null, wt2, ex(x2));
      assertClose(hw, hr, 1e-4, 1e-5, "h");
      assert.deepEqual(h2, hw, "h: 2 threads = 1 thread, bit for bit");
      gr.set(gw); // continue from identical activations and hidden parts
      xr.set(xw);
      const [dsr, dsw] = pair(T * B * H), [dhr, dhw] = pair(B * H), [dcr, dcw] = pair(B * H);
      const [nhr, nhw] = pair(T * B);
      const ds2 = copy(dsw), dh2 = copy(dhw), dc2 = copy(dcw), nh2 = copy(nhw);
      ref.recurrentBackward("gru", T, B, H, gr, hr, null, wr, dsr, dhr, dcr, truncate, nhr, null, ex(xr));
      wasm.recurrentBackward("gru", T, B, H, gw, hw, null, ww, dsw, dhw, dcw, truncate, nhw, null, ex(xw));
      two.recurrentBackward("gru", T, B, H, g2, h2, null, w2, ds2, dh2, dc2, truncate, nh2, null, ex(x2));
      assertClose(gw, gr, 1e-3, 1e-5, "d(gx)");
      assertClose(xw, xr, 1e-3, 1e-5, "d(gh)");
      assertClose(dhw, dhr, 1e-3, 1e-5, "dh0");
      assertClose(nhw, nhr, 1e-3, 1e-5, "dhNorm");
      assert.deepEqual(g2, gw, "d(gx): 2 threads = 1 thread, bit for bit");
      assert.deepEqual(x2, xw, "d(gh): 2 threads = 1 thread, bit for bit");
      assert.deepEqual(nh2, nhw, "dhNorm: 2 threads = 1 thread, bit for bit");
    });
  }
  it("refuses the GRU without its hidden parts", () => {
    const g = wasm.alloc(3), h = wasm.alloc(2), w = wasm.alloc(3);
    assert.throws(() => wasm.recurrentForward("gru", 1, 1, 1, g, h, null, w), /cell "gru" needs extras\.hidden/);
  });
  it("releases its worker", () => two.dispose());
});

describe("probes", () => {
  it("sum squares in float64: a gradient of 1e-30 has a norm, not 0 (a float32 square would underflow)", () => {
    const B = 2, H = 9;
    const gates = wasm.alloc(B * 4 * H).fill(0.5), cPrev = wasm.alloc(B * H), c = wasm.alloc(B * H);
    const dh = wasm.alloc(B * H).fill(1e-30), dc = wasm.alloc(B * H), nh = wasm.alloc(B), nc = wasm.alloc(B);
    wasm.exports.lstmCellBackward(
      0,
      B,
      H,
      gates.byteOffset,
      cPrev.byteOffset,
      c.byteOffset,
      dh.byteOffset,
      0,
      dc.byteOffset,
      nh.byteOffset,
      nc.byteOffset,
    );
    assertClose(nh, [3e-30, 3e-30] as unknown as Arr, 1e-6, 0, "‖dh‖ = 1e-30 · √9");
    assert.ok(nc[0] > 0);
    const pre = wasm.alloc(B * H), h = wasm.alloc(B * H), dr = wasm.alloc(B * H).fill(1e-30), nr = wasm.alloc(B);
    wasm.exports.rnnCellBackward(0, B, H, pre.byteOffset, h.byteOffset, dr.byteOffset, 0, nr.byteOffset);
    assertClose(nr, [3e-30, 3e-30] as unknown as Arr, 1e-6, 0, "RNN ‖dh‖");
  });
});

describe("wasm time loops match the reference, on one thread and on two, bit-identically across thread counts", () => {
  const two = wasmKernels({ threads: 2 });
  for (const cell of ["lstm", "rnn"] as const) {
    for (const [T, B, H, truncate] of [[1, 1, 5, 0], [17, 3, 5, 0], [9, 12, 37, 4], [6, 64, 130, 0]]) {
      it(`${cell} T=${T} B=${B} H=${H}${truncate ? ` truncate=${truncate}` : ""}`, async () => {
        const G = cell === "lstm" ? 4 : 1, GH = G * H;
        const [gr, gw] = pair(T * B * GH), [hr, hw] = pair((T + 1) * B * H), [cr, cw] = pair((T + 1) * B * H);
        const [wtr, wtw] = pair(H * GH, 1 / Math.sqrt(H)), [wr, ww] = pair(GH * H, 1 / Math.sqrt(H));
        const c2 = cell === "lstm";
        // The second kernel set has its own memory: copy the same inputs there.
        const copy = (a: Float32Array) => {
          const b = two.alloc(a.length) as Float32Array;
          b.set(a);
          return b;
        };
        const g2 = copy(gw), h2 = copy(hw), cc2 = copy(cw), wt2 = copy(wtw), w2 = copy(ww);
        if (two.threads > 1) await new Promise((r) => setTimeout(r, 200)); // let the worker start
        ref.recurrentForward(cell, T, B, H, gr, hr, c2 ? cr : null, wtr);
        wasm.recurrentForward(cell, T, B, H, gw, hw, c2 ? cw : null, wtw);
        two.recurrentForward(cell, T, B, H, g2, h2, c2 ? cc2 : null, wt2);
        assertClose(hw, hr, 1e-4, 1e-5, "h");
        if (c2) assertClose(cw, cr, 1e-4, 1e-5, "c");
        assert.deepEqual(h2, hw, "h: 2 threads = 1 thread, bit for bit");
        gr.set(gw); // continue from identical activations
        const [dsr, dsw] = pair(T * B * H), [dhr, dhw] = pair(B * H), [dcr, dcw] = pair(B * H);
        const [nhr, nhw] = pair(T * B), [ncr, ncw] = pair(T * B);
        const ds2 = copy(dsw), dh2 = copy(dhw), dc2 = copy(dcw), nh2 = copy(nhw), nc2 = copy(ncw);
        ref.recurrentBackward(cell, T, B, H, gr, hr, c2 ? cr : null, wr, dsr, dhr, dcr, truncate, nhr, c2 ? ncr : null);
        wasm.recurrentBackward(
          cell,
          T,
          B,
          H,
          gw,
          hw,
          c2 ? cw : null,
          ww,
          dsw,
          dhw,
          dcw,
          truncate,
          nhw,
          c2 ? ncw : null,
        );
        two.recurrentBackward(
          cell,
          T,
          B,
          H,
          g2,
          h2,
          c2 ? cc2 : null,
          w2,
          ds2,
          dh2,
          dc2,
          truncate,
          nh2,
          c2 ? nc2 : null,
        );
        assertClose(gw, gr, 1e-3, 1e-5, "dG");
        assertClose(dhw, dhr, 1e-3, 1e-5, "dh0");
        assertClose(nhw, nhr, 1e-3, 1e-5, "dhNorm");
        if (c2) assertClose(ncw, ncr, 1e-3, 1e-5, "dcNorm");
        assert.deepEqual(g2, gw, "dG: 2 threads = 1 thread, bit for bit");
        assert.deepEqual(nh2, nhw, "dhNorm: 2 threads = 1 thread, bit for bit");
      });
    }
  }
  it("releases its worker", () => two.dispose());
});

describe("float32 elementary functions in the wasm kernels", () => {
  const n = 20001;
  const x = wasm.alloc(n) as Float32Array, out = wasm.alloc(n) as Float32Array;
  for (let i = 0; i < n; i++) x[i] = -30 + (60 * i) / (n - 1);
  const cases: [number, string, (v: number) => number, number][] = [
    [0, "exp", exp, 4e-7],
    [1, "sigmoid", sigmoid, 4e-7],
    [2, "tanh", tanh, 4e-7],
  ];
  for (const [op, name, f, rtol] of cases) {
    it(`${name}: relative error below ${rtol} on [-30, 30]`, () => {
      wasm.exports.elementwise(op, x.byteOffset, out.byteOffset, n);
      for (let i = 0; i < n; i++) {
        const want = f(x[i]);
        assert.ok(
          Math.abs(out[i] - want) <= rtol * Math.abs(want) + 1e-38,
          `${name}(${x[i]}) = ${out[i]}, want ${want}`,
        );
      }
    });
  }
  it("saturate without NaN at extreme arguments", () => {
    const ext = [-1e30, -200, -88, 88, 200, 1e30, 0, -0];
    x.set(ext);
    for (const op of [0, 1, 2]) {
      wasm.exports.elementwise(op, x.byteOffset, out.byteOffset, ext.length);
      for (let i = 0; i < ext.length; i++) assert.ok(!Number.isNaN(out[i]), `op ${op} at ${ext[i]}`);
    }
    wasm.exports.elementwise(2, x.byteOffset, out.byteOffset, ext.length);
    assert.deepEqual(Array.from(out.subarray(0, 6)), [-1, -1, -1, 1, 1, 1]);
  });
});

describe("wasm memory", () => {
  it("views stay valid while the memory grows, and freed blocks are reused", () => {
    const k = wasmKernels();
    const first = k.alloc(10).fill(7);
    const big = k.alloc(4_000_000); // grows the memory
    assert.equal(first[9], 7);
    big[big.length - 1] = 1;
    const used = k.usedBytes;
    k.free(big);
    assert.ok(k.usedBytes < used);
    const again = k.alloc(4_000_000);
    assert.equal(again.byteOffset, big.byteOffset, "the freed block is reused");
    assert.equal(again[again.length - 1], 0, "alloc returns zeros");
  });
  it("a buffer not in the kernel set's memory is refused with a clear error, not read at its offset", () => {
    const k = wasmKernels(), other = wasmKernels();
    const a = k.alloc(4).fill(1), b = k.alloc(4).fill(2), c = k.alloc(4);
    const control = Array.from(new Int32Array(k.memory.buffer, 0, 64)); // the first bytes: worker control blocks
    assert.throws(
      () => k.gemm(2, 2, 2, new Float32Array(4), 2, 1, b, 2, c, 2, false),
      /gemm: a is a Float32Array of 4 values that is not in this kernel set's memory/,
    );
    assert.throws(() => k.gemm(2, 2, 2, a, 2, 1, b, 2, other.alloc(4), 2, false), /gemm: c is a Float32Array/);
    assert.throws(
      () => k.fillRows(1, 4, c, new Float64Array(4) as unknown as Float32Array, null),
      /fillRows: bias1 is a Float64Array/,
    );
    assert.throws(
      () => k.recurrentForward("rnn", 1, 1, 1, a, new Float32Array(2), null, b),
      /recurrentForward: h is a Float32Array/,
    );
    assert.deepEqual(Array.from(new Int32Array(k.memory.buffer, 0, 64)), control, "nothing was written");
    // views of its own buffers (subarrays, views taken before the memory grew) are accepted
    k.alloc(4_000_000);
    k.gemm(2, 2, 2, a.subarray(0, 4), 2, 1, b, 2, c, 2, false);
    assert.deepEqual(Array.from(c), [4, 4, 4, 4]);
    k.dispose();
    other.dispose();
  });
});
