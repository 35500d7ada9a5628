/**
 * The optimizers of a `WebGpuModel`, on the GPU: for each optimizer object, the state buffers its description asks
 * for (`OPTIMIZER_STATE` of lib/optim/spec.ts, one value per parameter each), its CPU-side counters (steps, Adam's
 * β powers, kept as running products as the CPU rule keeps them), and its recorded update program (gradient norm,
 * clip factor, then the update rule of kernels/optimizer.ts). The rule is read from `optimizer.spec`: no class tests.
 *
 * @module
 */

import type { Optimizer } from "../../optim/optimizer.ts";
import { OPTIMIZER_STATE, type OptimizerKind } from "../../optim/spec.ts";
import { ceilDiv, type Gpu, Program, Uniforms } from "./gpu.ts";
import { optimizerKernel } from "./kernels/optimizer.ts";
import { NORM_FINAL, NORM_MAX_GROUPS, NORM_PARTIAL, NORM_WG } from "./kernels/reduce.ts";

/** GPU-side state of one optimizer object on one model. */
export interface GpuOptimizerState {
  kind: OptimizerKind;
  buffers: GPUBuffer[];
  steps: number;
  beta1Pow: number;
  beta2Pow: number;
}

/** The counters of a state at some step, to set back when that step diverged. */
export interface OptimizerSnapshot {
  state: GpuOptimizerState;
  steps: number;
  beta1Pow: number;
  beta2Pow: number;
}

/** The model's buffers an update program reads and writes. */
export interface UpdateBuffers {
  params: GPUBuffer;
  grads: GPUBuffer;
  /** loss, norm, clip factor, divergence flag */
  stats: GPUBuffer;
  normPartial: GPUBuffer;
  /** Per-step uniforms of the norm kernel (clip threshold). */
  normUniforms: GPUBuffer;
}

/**
 * The optimizers of one model on the GPU.
 *
 * @example
 * ```ts
 * // Inside WebGpuModel: const s = optimizers.state(opt); optimizers.writeStep(opt, s, clipValue);
 * // optimizers.program(s).encode(encoder);
 * ```
 */
export class GpuOptimizers {
  /** The per-step uniforms of the update kernel. */
  readonly uniforms: GPUBuffer;
  readonly #gpu: Gpu;
  readonly #size: number;
  readonly #bufs: UpdateBuffers;
  readonly #byOptimizer = new WeakMap<Optimizer, GpuOptimizerState>();
  readonly #states: GpuOptimizerState[] = [];
  readonly #programs = new Map<GpuOptimizerState, Program>();

  constructor(gpu: Gpu, size: number, bufs: UpdateBuffers) {
    this.#gpu = gpu;
    this.#size = size;
    this.#bufs = bufs;
    this.uniforms = gpu.uniformBuffer(48, "optimizer uniforms");
  }

  /** The state of `opt` on this model (created, zeroed, on its first step). */
  state(opt: Optimizer): GpuOptimizerState {
    let s = this.#byOptimizer.get(opt);
    if (s !== undefined) return s;
    const kind: OptimizerKind = opt.spec.kind;
    const names = OPTIMIZER_STATE[kind];
    if (names === undefined) {
      throw new RangeError(
        `WebGpuModel: optimizer "${opt.name}" (kind "${kind}") is not supported on the GPU; use SGD, RMSProp or Adam/AdamW`,
      );
    }
    const buffers = names.map((name) => this.#gpu.buffer(this.#size, `${kind} ${name}`));
    s = { kind, buffers, steps: 0, beta1Pow: 1, beta2Pow: 1 };
    this.#byOptimizer.set(opt, s);
    this.#states.push(s);
    return s;
  }

  /** Steps applied with `opt` on this model. */
  steps(opt: Optimizer): number {
    return this.#byOptimizer.get(opt)?.steps ?? 0;
  }

  /** The counters of `s` now. */
  snapshot(s: GpuOptimizerState): OptimizerSnapshot {
    return { state: s, steps: s.steps, beta1Pow: s.beta1Pow, beta2Pow: s.beta2Pow };
  }

  /** Sets the counters back to a snapshot (a diverged step applied no update). */
  restore(snap: OptimizerSnapshot): void {
    snap.state.steps = snap.steps;
    snap.state.beta1Pow = snap.beta1Pow;
    snap.state.beta2Pow = snap.beta2Pow;
  }

  /** Writes the update kernel's uniforms for the next step of `opt` and advances its counters. */
  writeStep(opt: Optimizer, s: GpuOptimizerState, clipValue: number): void {
    const u = new Uniforms(), o = opt.spec, n = this.#size;
    switch (o.kind) {
      case "adam": {
        s.beta1Pow *= o.beta1;
        s.beta2Pow *= o.beta2;
        const stepSize = o.lr / (1 - s.beta1Pow), sqrtBc2 = Math.sqrt(1 - s.beta2Pow);
        const decay = o.decoupled ? 1 - o.lr * o.weightDecay : 1, l2 = o.decoupled ? 0 : o.weightDecay;
        u.u(n, 0).f(clipValue, stepSize, o.beta1, 1 - o.beta1, o.beta2, 1 - o.beta2, o.eps, l2, decay);
        u.f(sqrtBc2);
        break;
      }
      case "rmsprop":
        u.u(n, (o.centered ? 1 : 0) | (o.momentum > 0 ? 2 : 0));
        u.f(clipValue, o.lr, o.alpha, 1 - o.alpha, o.eps, o.momentum, o.weightDecay, 0, 0, 0);
        break;
      case "sgd":
        u.u(n, (s.steps === 0 ? 1 : 0) | (o.nesterov ? 2 : 0));
        u.f(clipValue, o.lr, o.momentum, 1 - o.dampening, o.weightDecay, 0, 0, 0, 0, 0);
        break;
    }
    s.steps++;
    this.#gpu.device.queue.writeBuffer(this.uniforms, 0, u.bytes());
  }

  /** The recorded update of `state`: gradient norm, clip factor, optimizer update (uniforms written per step). */
  program(state: GpuOptimizerState): Program {
    let p = this.#programs.get(state);
    if (p !== undefined) return p;
    const { params, grads, stats, normPartial, normUniforms } = this.#bufs, gpu = this.#gpu;
    p = new Program(gpu, `update ${state.kind}`);
    const P = this.#size, groups = Math.min(NORM_MAX_GROUPS, ceilDiv(P, NORM_WG));
    p.dispatch(gpu.kernel(NORM_PARTIAL), new Uniforms().u(P, groups, 0, 0), [grads, normPartial], [groups]);
    p.dispatch(gpu.kernel(NORM_FINAL), normUniforms, [normPartial, stats], [1]);
    const [s1, s2, s3] = [0, 1, 2].map((i) => state.buffers[i] ?? gpu.dummyRW);
    p.dispatch(gpu.kernel(optimizerKernel(state.kind)), this.uniforms, [params, grads, stats, s1, s2, s3], [
      ceilDiv(P, 256),
    ]);
    p.build();
    this.#programs.set(state, p);
    return p;
  }

  /** Frees the state buffers, programs and uniforms. */
  dispose(): void {
    for (const p of this.#programs.values()) p.destroy();
    for (const s of this.#states) for (const b of s.buffers) b.destroy();
    this.uniforms.destroy();
  }
}
