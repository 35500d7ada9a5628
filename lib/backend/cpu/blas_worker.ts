/**
 * The worker thread of a BLAS kernel set with `threading: "workers"` (see `blas_kernels.ts`): it instantiates the wasm
 * kernels on the shared memory, loads the BLAS library (the same one: this process has it loaded already), and runs
 * `blasRows` on the row ranges it is sent, with its own single OpenBLAS thread. Between commands it sleeps in
 * `Atomics.wait`.
 *
 * @module
 */

import { workerData } from "node:worker_threads";
import { loadBlas } from "./blas.ts";
import { BLAS_CMD, BLAS_CTL, blasRows } from "./blas_kernels.ts";
import { instantiate } from "./wasm_kernels.ts";

const { memory, control } = workerData as { memory: WebAssembly.Memory; control: number };
const x = instantiate(memory);
const ctl = new Int32Array(memory.buffer, control, BLAS_CTL.WORDS);
const { blas } = loadBlas();
if (blas === null) throw new Error("blas worker: the BLAS library does not load in this thread");
const base = blas.address(new Uint8Array(memory.buffer, 0, 1));
const u = (i: number) => ctl[BLAS_CTL.ARGS + i] >>> 0; // byte offsets may exceed 2^31

Atomics.store(ctl, BLAS_CTL.READY, 1);
let seen = Atomics.load(ctl, BLAS_CTL.SEQ);
for (;;) {
  Atomics.wait(ctl, BLAS_CTL.SEQ, seen);
  seen = Atomics.load(ctl, BLAS_CTL.SEQ);
  const fn = ctl[BLAS_CTL.FN];
  if (fn === BLAS_CMD.STOP) break;
  try {
    const a = Array.from({ length: BLAS_CTL.WORDS - BLAS_CTL.ARGS }, (_, i) => u(i));
    if (fn === BLAS_CMD.GEMM) {
      const [m0, m1, transA, N, K, pa, lda, pb, ldb, beta, pc, ldc] = a;
      blasRows.gemm(blas, base, m0, m1, transA === 1, N, K, pa, lda, pb, ldb, beta, pc, ldc);
    } else if (fn === BLAS_CMD.FORWARD) {
      const [b0, b1, lstm, T, B, H, gates, h, c, wT] = a;
      blasRows.forward(blas, x, base, b0, b1, lstm === 1, T, B, H, gates, h, c, wT);
    } else {
      const [b0, b1, lstm, T, B, H, gates, h, c, w, dhSeq, dh, dc, truncate, dhNorm, dcNorm] = a;
      blasRows.backward(
        blas,
        x,
        memory,
        base,
        b0,
        b1,
        lstm === 1,
        T,
        B,
        H,
        gates,
        h,
        c,
        w,
        dhSeq,
        dh,
        dc,
        truncate,
        dhNorm,
        dcNorm,
      );
    }
  } catch (e) {
    ctl[BLAS_CTL.ERROR] = 1;
    console.error("blas kernel worker:", e);
  }
  Atomics.store(ctl, BLAS_CTL.DONE, seen);
  Atomics.notify(ctl, BLAS_CTL.DONE);
}
