/**
 * Kernel development harness, in the style of llm.c's dev/cuda: every numbered version of every WebGPU kernel is run
 * on the same inputs as its CPU reference (the TypeScript functions of lib/, reused, not copied), its maximum
 * relative error printed (max |gpu - cpu| / max |cpu|), then timed. The versions are numbered in kernel_versions.ts
 * (the losers kept there, the winners imported from ../kernels/, which ship in the model).
 *
 *   deno run -A lib/backend/webgpu/dev/bench_kernels.ts [--quick] [--only matmul,colsum,forward,backward,loss,update]
 *
 * Timing: the kernel's program is encoded `reps` times into one command buffer, submitted, and the wall time until
 * `onSubmittedWorkDone` divided by `reps` (reps chosen so a measurement lasts ≥ 150 ms, since Deno's completion
 * callbacks have ~10 ms granularity). Under lavapipe (CPU emulation) timings show relative costs on a CPU, not
 * what a GPU would do; `bench/gpu/` runs the model-level benchmark on a real GPU.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { gemmReference } from "../../../nn/gemm.ts";
import { jsKernels } from "../../../nn/js_kernels.ts";
import { recurrentBackward, recurrentForward } from "../../../nn/recurrence.ts";
import { lossAndGradient, type LossKind } from "../../../nn/loss.ts";
import { Adam } from "../../../optim/adam.ts";
import { clipGradNorm } from "../../../optim/clip.ts";
import type { Optimizer } from "../../../optim/optimizer.ts";
import { RMSProp } from "../../../optim/rmsprop.ts";
import { SGD } from "../../../optim/sgd.ts";
import { Rng } from "../../../rng.ts";
import type { CellType } from "../../../nn/kernels.ts";
import { requestWebGpuDevice } from "../device.ts";
import { ceilDiv, Gpu, type Kernel, Program, readBuffers, Uniforms } from "../gpu.ts";
import { lossKernel } from "../kernels/loss.ts";
import { type MatmulArgs, matmulUniforms } from "../kernels/matmul.ts";
import { optimizerKernel, type OptimizerKind } from "../kernels/optimizer.ts";
import { PROBE_NORMS, STEP_CUT, STEP_DHSEQ, STEP_FIRST, STEP_WG } from "../kernels/recurrence.ts";
import { NORM_FINAL, NORM_MAX_GROUPS, NORM_PARTIAL, NORM_WG } from "../kernels/reduce.ts";
import {
  backwardKernel,
  columnSumKernel,
  forwardKernel,
  matmulGroups,
  matmulKernel,
  type MatmulVersion,
  type RecurrenceVersion,
} from "./kernel_versions.ts";

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: { quick: { type: "boolean", default: false }, only: { type: "string" } },
});
const only = args.only?.split(",") ?? null;
const quick = args.quick ?? false;

const ctx = await requestWebGpuDevice();
const gpu = Gpu.of(ctx.device);
const device = ctx.device;
console.log(`WebGPU kernels on ${ctx.info.description}${ctx.info.isFallbackAdapter ? " (software adapter)" : ""}`);

// ------------------------------------------------------------------------------------------------ helpers

function upload(data: ArrayLike<number>): GPUBuffer {
  const b = gpu.buffer(data.length);
  if (data.length > 0) device.queue.writeBuffer(b, 0, Float32Array.from(data));
  return b;
}

async function read(b: GPUBuffer, n: number, offset = 0): Promise<Float32Array> {
  return (await readBuffers(gpu, [{ buffer: b, offset, count: n }]))[0];
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (!(e <= d)) d = e;
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-30);
}

/** ms per run of `encode` (see the module doc). */
async function time(encode: (enc: GPUCommandEncoder) => void, minMs = quick ? 60 : 150): Promise<number> {
  const once = async (reps: number) => {
    const t = performance.now();
    const enc = device.createCommandEncoder();
    for (let i = 0; i < reps; i++) encode(enc);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t;
  };
  await once(1); // warm-up (pipeline creation, first-use costs)
  let reps = 1, ms = await once(1);
  while (ms < minMs && reps < 4096) {
    reps = Math.min(4096, Math.max(reps * 2, Math.ceil(reps * minMs / Math.max(ms, 1))));
    ms = await once(reps);
  }
  return ms / reps;
}

interface Row {
  kernel: string;
  version: string;
  shape: string;
  err: number;
  ms: number;
  note?: string;
}
const rows: Row[] = [];
function report(r: Row): void {
  rows.push(r);
  const ok = r.err <= 1e-4 ? "ok" : "FAIL";
  console.log(
    `${r.kernel.padEnd(9)} ${r.version.padEnd(22)} ${r.shape.padEnd(34)} err ${r.err.toExponential(1)} ${
      ok.padEnd(4)
    } ` +
      `${r.ms.toFixed(3).padStart(9)} ms${r.note ? `  ${r.note}` : ""}`,
  );
}
const want = (k: string) => only === null || only.includes(k);

// ------------------------------------------------------------------------------------------------ matmul

if (want("matmul")) {
  const rng = new Rng(1);
  // [label, M, N, K, A transposed?, B transposed?]: the products of a layer (T·B = 3200: T = 100, B = 32; H = 128)
  const cases: [string, number, number, number, boolean, boolean][] = quick
    ? [["odd sizes", 37, 130, 17, false, true], ["dW_hh-like", 512, 128, 800, true, false]]
    : [
      ["odd sizes, A·Bᵀ", 37, 130, 17, false, true],
      ["odd sizes, Aᵀ·B", 37, 130, 17, true, false],
      ["input proj x·W_ihᵀ (I=64)", 3200, 512, 64, false, true],
      ["dW_hh = dGᵀ·h", 512, 128, 3200, true, false],
      ["dx = dG·W_ih (I=64)", 3200, 64, 512, false, false],
    ];
  for (const [label, M, N, K, aT, bT] of cases) {
    const a = rng.fillNormal(new Float32Array(M * K)), b = rng.fillNormal(new Float32Array(K * N));
    const bias = rng.fillNormal(new Float32Array(N));
    // Reference: C = bias + op(A)·op(B) in float64
    const A = aT ? { rs: 1, cs: M } : { rs: K, cs: 1 }, Bl = bT ? { rs: 1, cs: K } : { rs: N, cs: 1 };
    const ref = new Float64Array(M * N);
    for (let m = 0; m < M; m++) ref.set(bias, m * N);
    gemmReference(M, N, K, Float64Array.from(a), A.rs, A.cs, Float64Array.from(b), 0, ref, N, true);
    // gemmReference reads B row-major (k, n) at b[k·ldb + n]: give it op(B) materialised
    if (bT) {
      const bt = new Float64Array(K * N);
      for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bt[k * N + n] = b[n * K + k];
      for (let m = 0; m < M; m++) ref.set(bias, m * N);
      gemmReference(M, N, K, Float64Array.from(a), A.rs, A.cs, bt, N, ref, N, true);
    } else {
      for (let m = 0; m < M; m++) ref.set(bias, m * N);
      gemmReference(M, N, K, Float64Array.from(a), A.rs, A.cs, Float64Array.from(b), N, ref, N, true);
    }
    const ga = upload(a), gb = upload(b), gbias = upload(bias), gc = gpu.buffer(M * N);
    for (const v of [1, 2, 3] as MatmulVersion[]) {
      const mm: MatmulArgs = { M, N, K, a: A, b: Bl, c: { ld: N }, accumulate: false, bias: [0] };
      const p = new Program(gpu, "mm").dispatch(gpu.kernel(matmulKernel(v)), matmulUniforms(mm), [ga, gb, gbias, gc], [
        ...matmulGroups(v, M, N),
      ]).build();
      const enc = device.createCommandEncoder();
      p.encode(enc);
      device.queue.submit([enc.finish()]);
      const err = relErr(await read(gc, M * N), ref);
      const ms = await time((e) => p.encode(e));
      const gflops = 2 * M * N * K / ms / 1e6;
      report({
        kernel: "matmul",
        version: `${v} ${["", "naive", "tiled 16x16", "64x64, 4x4/thread"][v]}`,
        shape: `${label} ${M}x${N}x${K}`,
        err,
        ms,
        note: `${gflops.toFixed(2)} GFLOP/s`,
      });
      p.destroy();
    }
    for (const x of [ga, gb, gbias, gc]) x.destroy();
  }
}

// ------------------------------------------------------------------------------------------------ column sums

if (want("colsum")) {
  const rng = new Rng(2);
  for (const [M, N] of quick ? [[300, 37]] : [[17, 130], [3200, 512]]) {
    const a = rng.fillNormal(new Float32Array(M * N));
    const ref = new Float64Array(N);
    jsKernels("float64").addColumnSums(M, N, Float64Array.from(a), N, ref);
    const ga = upload(a), out = gpu.buffer(2 * N);
    for (const v of [1, 2] as const) {
      const p = new Program(gpu, "colsum").dispatch(
        gpu.kernel(columnSumKernel(v)),
        new Uniforms().u(M, N, N, 0, 0, N, 0, 0),
        [ga, out],
        [ceilDiv(N, 64)],
      ).build();
      const enc = device.createCommandEncoder();
      p.encode(enc);
      device.queue.submit([enc.finish()]);
      const got = await read(out, 2 * N);
      const err = Math.max(relErr(got.subarray(0, N), ref), relErr(got.subarray(N), ref));
      report({
        kernel: "colsum",
        version: `${v} ${v === 1 ? "thread per column" : "64 cols x 4 lanes"}`,
        shape: `${M}x${N}`,
        err,
        ms: await time((e) => p.encode(e)),
      });
      p.destroy();
    }
    ga.destroy();
    out.destroy();
  }
}

// ------------------------------------------------------------------------------------------------ recurrences

interface RecCase {
  name: string;
  B: number;
  H: number;
  T: number;
}
const REC: RecCase[] = quick ? [{ name: "tiny", B: 1, H: 8, T: 20 }, { name: "odd", B: 3, H: 37, T: 9 }] : [
  { name: "tiny", B: 1, H: 8, T: 100 },
  { name: "odd", B: 3, H: 37, T: 17 },
  { name: "small", B: 16, H: 32, T: 50 },
  { name: "medium", B: 32, H: 128, T: 20 },
];
const recVersions: { v: RecurrenceVersion; label: string }[] = [
  { v: 1, label: "1 matmul + cell (2/step)" },
  { v: 2, label: "2 fused, 1 row/thread" },
  { v: 3, label: "3 fused, 4 rows/thread" },
  { v: 4, label: "4 persistent, 1 dispatch" },
];

/** Random layer state for a recurrence: pre-activations, initial states, W_hh (G·H, H) and its transpose. */
function recInputs(cell: CellType, c: RecCase, seed: number) {
  const rng = new Rng(seed), G = cell === "lstm" ? 4 : 1, GH = G * c.H, BH = c.B * c.H;
  const gates = rng.fillNormal(new Float64Array(c.T * c.B * GH), 0, 0.5);
  const h = new Float64Array((c.T + 1) * BH), cc = new Float64Array((c.T + 1) * BH);
  rng.fillNormal(h.subarray(0, BH), 0, 0.5);
  rng.fillNormal(cc.subarray(0, BH), 0, 0.5);
  const w = rng.fillNormal(new Float64Array(GH * c.H), 0, 1 / Math.sqrt(c.H));
  const wT = new Float64Array(c.H * GH);
  jsKernels("float64").transpose(GH, c.H, w, wT);
  return { G, GH, BH, gates, h, c: cc, w, wT };
}

function persistentWg(B: number, H: number): number {
  const lim = device.limits;
  return Math.max(32, Math.min(1024, lim.maxComputeInvocationsPerWorkgroup, ceilDiv(B * H, 32) * 32));
}

if (want("forward")) {
  for (const cell of ["lstm", "rnn"] as CellType[]) {
    for (const c of REC) {
      const inp = recInputs(cell, c, 3), { GH, BH } = inp, { B, H, T } = c;
      const gRef = Float64Array.from(inp.gates), hRef = Float64Array.from(inp.h), cRef = Float64Array.from(inp.c);
      recurrentForward(cell, T, B, H, gRef, hRef, cell === "lstm" ? cRef : null, inp.wT);
      for (const { v, label } of recVersions) {
        const gates = upload(inp.gates), h = upload(inp.h), cb = cell === "lstm" ? upload(inp.c) : gpu.dummyRW;
        const wT = upload(inp.wT);
        const p = new Program(gpu, "fwd");
        const steps = Array.from({ length: T }, (_, t) => new Uniforms().u(B, H, t, 0));
        if (v === 4) {
          p.dispatch(gpu.kernel(forwardKernel(cell, 4, { wg: persistentWg(B, H) })), new Uniforms().u(B, H, T, 0), [
            wT,
            gates,
            h,
            cb,
          ], [1]);
        } else if (v === 1) {
          const mm = gpu.kernel(matmulKernel(3, true)), k = gpu.kernel(forwardKernel(cell, 1));
          for (let t = 0; t < T; t++) {
            const u = matmulUniforms({
              M: B,
              N: GH,
              K: H,
              a: { off: t * BH, rs: H, cs: 1 },
              b: { rs: GH, cs: 1 },
              c: { off: t * B * GH, ld: GH },
              accumulate: true,
            });
            p.steps(mm, [u], [h, wT, wT, gates], matmulGroups(3, B, GH));
            p.steps(k, [steps[t]], [gates, h, cb], [ceilDiv(BH, 64)]);
          }
        } else {
          const R = v === 2 ? 1 : B >= 4 ? 4 : B >= 2 ? 2 : 1;
          p.steps(gpu.kernel(forwardKernel(cell, v, { rows: R })), steps, [wT, gates, h, cb], [
            ceilDiv(H, STEP_WG),
            ceilDiv(B, R),
          ]);
        }
        p.build();
        const enc = device.createCommandEncoder();
        p.encode(enc);
        device.queue.submit([enc.finish()]);
        const [gg, hh] = await readBuffers(gpu, [{ buffer: gates, offset: 0, count: T * B * GH }, {
          buffer: h,
          offset: 0,
          count: (T + 1) * BH,
        }]);
        // The RNN's gates are scratch after forward (its backward reads h): only the LSTM's activations are compared.
        let err = Math.max(cell === "lstm" ? relErr(gg, gRef) : 0, relErr(hh, hRef));
        if (cell === "lstm") err = Math.max(err, relErr(await read(cb, (T + 1) * BH), cRef));
        const ms = await time((e) => p.encode(e));
        report({
          kernel: `fwd ${cell}`,
          version: label,
          shape: `${c.name} B=${B} H=${H} T=${T}`,
          err,
          ms,
          note: `${(ms / T * 1000).toFixed(1)} µs/step, ${p.dispatches} dispatches`,
        });
        p.destroy();
        for (const x of [gates, h, wT]) x.destroy();
        if (cell === "lstm") cb.destroy();
      }
    }
  }
}

if (want("backward")) {
  for (const cell of ["lstm", "rnn"] as CellType[]) {
    for (const c of REC) {
      const inp = recInputs(cell, c, 4), { GH, BH } = inp, { B, H, T } = c, lstm = cell === "lstm";
      // activations from a forward pass, then gradients from above at every step, truncation every 3 steps
      recurrentForward(cell, T, B, H, inp.gates, inp.h, lstm ? inp.c : null, inp.wT);
      const rng = new Rng(5), truncate = 3;
      const dhSeq = rng.fillNormal(new Float64Array(T * BH)), dhInit = rng.fillNormal(new Float64Array(BH));
      const dcInit = rng.fillNormal(new Float64Array(BH));
      const gRef = Float64Array.from(inp.gates), dh = Float64Array.from(dhInit), dc = Float64Array.from(dcInit);
      const nh = new Float64Array(T * B), nc = new Float64Array(T * B);
      recurrentBackward(
        cell,
        T,
        B,
        H,
        gRef,
        inp.h,
        lstm ? inp.c : null,
        inp.w,
        dhSeq,
        dh,
        dc,
        truncate,
        nh,
        lstm ? nc : null,
      );
      for (const { v, label } of recVersions) {
        for (const probes of v === 1 ? [false] : [false, true]) {
          const gates = upload(inp.gates), h = upload(inp.h), cb = lstm ? upload(inp.c) : gpu.dummy;
          const w = upload(inp.w), seq = upload(dhSeq), init = upload(dhInit), dcb = upload(dcInit);
          const dh0 = gpu.buffer(BH);
          const chunks = ceilDiv(H, STEP_WG);
          const part = probes ? gpu.buffer(T * B * chunks * 4) : gpu.dummyRW;
          const sq = probes ? gpu.buffer(BH * 2) : gpu.dummyRW;
          const dhN = probes ? gpu.buffer(T * B) : gpu.dummyRW, dcN = probes ? gpu.buffer(T * B) : gpu.dummyRW;
          const p = new Program(gpu, "bwd");
          const flags = (t: number) =>
            (t === T - 1 ? STEP_FIRST : 0) | (t < T - 1 && (t + 1) % truncate === 0 ? STEP_CUT : 0) | STEP_DHSEQ;
          const blocks = Array.from(
            { length: T },
            (_, i) => new Uniforms().u(B, H, T - 1 - i, flags(T - 1 - i), chunks, 0, 0, 0),
          );
          const dh0Product = () =>
            matmulUniforms({
              M: B,
              N: H,
              K: GH,
              a: { rs: GH, cs: 1 },
              b: { rs: H, cs: 1 },
              c: { ld: H },
              accumulate: false,
            });
          if (v === 4) {
            p.dispatch(
              gpu.kernel(backwardKernel(cell, 4, { wg: persistentWg(B, H), probes })),
              new Uniforms().u(B, H, T, STEP_DHSEQ, truncate, 0, 0, 0),
              [w, gates, h, cb, seq, init, dcb, sq, dhN, dcN],
              [1],
            );
            p.dispatch(gpu.kernel(matmulKernel(3)), dh0Product(), [gates, w, w, dh0], matmulGroups(3, B, H));
          } else if (v === 1) {
            p.copy(init, 0, dh0, 0, BH * 4);
            const mm = gpu.kernel(matmulKernel(3, true)), k = gpu.kernel(backwardKernel(cell, 1));
            for (let i = 0; i < T; i++) {
              const t = T - 1 - i, cut = t > 0 && t % truncate === 0;
              p.steps(k, [blocks[i]], [gates, h, cb, seq, dh0, dcb], [ceilDiv(BH, 64)]);
              const u = matmulUniforms({
                M: B,
                N: H,
                K: cut ? 0 : GH,
                a: { off: t * B * GH, rs: GH, cs: 1 },
                b: { rs: H, cs: 1 },
                c: { ld: H },
                accumulate: false,
              });
              p.steps(mm, [u], [gates, w, w, dh0], matmulGroups(3, B, H));
            }
          } else {
            const R = v === 2 ? 1 : B >= 4 ? 4 : B >= 2 ? 2 : 1;
            p.steps(gpu.kernel(backwardKernel(cell, v, { rows: R, probes })), blocks, [
              w,
              gates,
              h,
              cb,
              seq,
              init,
              dcb,
              part,
            ], [chunks, ceilDiv(B, R)]);
            if (probes) {
              p.dispatch(gpu.kernel(PROBE_NORMS), new Uniforms().u(T * B, chunks, 0, 0), [part, dhN, dcN], [
                ceilDiv(T * B, 64),
              ]);
            }
            p.dispatch(gpu.kernel(matmulKernel(3)), dh0Product(), [gates, w, w, dh0], matmulGroups(3, B, H));
          }
          p.build();
          const enc = device.createCommandEncoder();
          p.encode(enc);
          device.queue.submit([enc.finish()]);
          let err = Math.max(relErr(await read(gates, T * B * GH), gRef), relErr(await read(dh0, BH), dh));
          if (lstm) err = Math.max(err, relErr(await read(dcb, BH), dc));
          if (probes) {
            err = Math.max(err, relErr(await read(dhN, T * B), nh));
            if (lstm) err = Math.max(err, relErr(await read(dcN, T * B), nc));
          }
          // Timing reruns on the gradients (values change, the work does not).
          const ms = await time((e) => p.encode(e));
          report({
            kernel: `bwd ${cell}`,
            version: `${label}${probes ? " +probes" : ""}`,
            shape: `${c.name} B=${B} H=${H} T=${T}`,
            err,
            ms,
            note: `${(ms / T * 1000).toFixed(1)} µs/step, ${p.dispatches} dispatches`,
          });
          p.destroy();
          for (const x of [gates, h, w, seq, init, dcb, dh0]) x.destroy();
          if (lstm) cb.destroy();
          if (probes) { for (const x of [part, sq, dhN, dcN]) x.destroy(); }
        }
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------ losses

if (want("loss")) {
  const rng = new Rng(6);
  for (const kind of ["mse", "cross-entropy", "bce"] as LossKind[]) {
    const R = quick ? 300 : 6400, O = kind === "mse" ? 1 : 9;
    const y = rng.fillNormal(new Float32Array(R * O));
    const target = kind === "cross-entropy"
      ? Float32Array.from({ length: R }, () => rng.int(O))
      : kind === "bce"
      ? Float32Array.from({ length: R * O }, () => rng.int(2))
      : rng.fillNormal(new Float32Array(R * O));
    const mask = Float32Array.from({ length: R }, (_, r) => (r % 5 === 0 ? 0 : 1));
    const dyRef = new Float64Array(R * O);
    const lossRef = lossAndGradient(kind, R, O, y, target, mask, dyRef);
    const N = mask.reduce((n, m) => n + m, 0);
    const gy = upload(y), gt = upload(target), gm = upload(mask), dy = gpu.buffer(R * O), stats = gpu.buffer(4);
    const u = gpu.uniformBuffer(32);
    device.queue.writeBuffer(
      u,
      0,
      new Uniforms().u(R, O, 1, N).f(kind === "cross-entropy" ? 1 / N : 1 / (N * O)).u(0, 0, 0).bytes(),
    );
    const p = new Program(gpu, "loss").dispatch(gpu.kernel(lossKernel(kind)), u, [gy, gt, gm, dy, stats], [1]).build();
    const enc = device.createCommandEncoder();
    p.encode(enc);
    device.queue.submit([enc.finish()]);
    const err = Math.max(relErr(await read(dy, R * O), dyRef), relErr(await read(stats, 1), [lossRef]));
    report({
      kernel: "loss",
      version: `1 ${kind}`,
      shape: `R=${R} O=${O}, masked`,
      err,
      ms: await time((e) => p.encode(e)),
    });
    p.destroy();
    for (const x of [gy, gt, gm, dy, stats, u]) x.destroy();
  }
}

// ------------------------------------------------------------------------------------------------ norm + optimizer

if (want("update")) {
  const rng = new Rng(7), P = quick ? 5000 : 330_000, clip = 1;
  const make: [OptimizerKind, () => Optimizer][] = [
    ["sgd", () => new SGD({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ["rmsprop", () => new RMSProp({ lr: 1e-3, centered: true, momentum: 0.5 })],
    ["adam", () => new Adam({ lr: 1e-3 })],
  ];
  for (const [kind, mk] of make) {
    const p0 = rng.fillNormal(new Float32Array(P)), g0 = rng.fillNormal(new Float32Array(P), 0, 0.01);
    // Reference: 3 steps of clipGradNorm + the optimizer on float64 copies
    const opt = mk(), pRef = Float64Array.from(p0);
    let normRef = 0;
    for (let s = 0; s < 3; s++) {
      const g = Float64Array.from(g0);
      normRef = clipGradNorm(g, clip);
      opt.step(pRef, g);
    }
    const params = upload(p0), grads = upload(g0), stats = gpu.buffer(4), partial = gpu.buffer(3 * NORM_MAX_GROUPS);
    const states = [0, 1, 2].map(() => gpu.buffer(P));
    const normU = gpu.uniformBuffer(16), optU = gpu.uniformBuffer(48);
    const groups = Math.min(NORM_MAX_GROUPS, ceilDiv(P, NORM_WG));
    device.queue.writeBuffer(normU, 0, new Uniforms().u(groups).f(clip).u(0, 0).bytes());
    const k: Kernel = gpu.kernel(optimizerKernel(kind));
    const p = new Program(gpu, "update")
      .dispatch(gpu.kernel(NORM_PARTIAL), new Uniforms().u(P, groups, 0, 0), [grads, partial], [groups])
      .dispatch(gpu.kernel(NORM_FINAL), normU, [partial, stats], [1])
      .dispatch(k, optU, [params, grads, stats, ...states], [ceilDiv(P, 256)])
      .build();
    // The per-step uniforms, as WebGpuModel writes them (β powers as running products).
    let b1p = 1, b2p = 1;
    for (let s = 0; s < 3; s++) {
      const u = new Uniforms();
      const o = mk() as Optimizer & Record<string, number>;
      if (kind === "adam") {
        const a = o as unknown as Adam;
        b1p *= a.beta1;
        b2p *= a.beta2;
        u.u(P, 0).f(0, a.lr / (1 - b1p), a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.eps, 0, 1, Math.sqrt(1 - b2p));
      } else if (kind === "rmsprop") {
        const r = o as unknown as RMSProp;
        u.u(P, 3).f(0, r.lr, r.alpha, 1 - r.alpha, r.eps, r.momentum, r.weightDecay, 0, 0, 0);
      } else {
        const g = o as unknown as SGD;
        u.u(P, (s === 0 ? 1 : 0) | 2).f(0, g.lr, g.momentum, 1 - g.dampening, g.weightDecay, 0, 0, 0, 0, 0);
      }
      device.queue.writeBuffer(optU, 0, u.bytes());
      const enc = device.createCommandEncoder();
      p.encode(enc);
      device.queue.submit([enc.finish()]);
    }
    const err = Math.max(relErr(await read(params, P), pRef), relErr(await read(stats, 1, 1), [normRef]));
    report({
      kernel: "update",
      version: `1 norm+clip+${kind}`,
      shape: `P=${P}`,
      err,
      ms: await time((e) => p.encode(e)),
      note: "3 steps validated",
    });
    p.destroy();
    for (const x of [params, grads, stats, partial, normU, optU, ...states]) x.destroy();
  }
}

const failed = rows.filter((r) => !(r.err <= 1e-4));
console.log(`\n${rows.length} kernel runs, ${failed.length} above 1e-4 relative error`);
device.destroy();
if (failed.length > 0) process.exit(1);
