/**
 * RMSProp (Tieleman & Hinton 2012), as `torch.optim.RMSprop`:
 *
 *   g ← ∇ + λ·p
 *   v ← α·v + (1 - α)·g²
 *   d ← √v + ε, or √(v - m²) + ε with m ← α·m + (1 - α)·g when centered
 *   b ← μ·b + g/d and p ← p - η·b  (momentum μ > 0),  or  p ← p - η·g/d
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import type { RmsPropSpec } from "./spec.ts";
import { checkOption, type Optimizer, stateLike } from "./optimizer.ts";

/** Options of `RMSProp`. */
export interface RmsPropOptions {
  lr: number;
  /** Smoothing α, default 0.99. */
  alpha?: number;
  /** ε, default 1e-8. */
  eps?: number;
  /** Momentum μ, default 0. */
  momentum?: number;
  /** Normalise by the estimated variance instead of the second moment, default false. */
  centered?: boolean;
  /** L2 penalty λ, default 0. */
  weightDecay?: number;
}

/**
 * RMSProp.
 *
 * @example
 * ```ts
 * import { RMSProp } from "./rmsprop.ts";
 * const p = new Float64Array([1]), g = new Float64Array([0.5]);
 * new RMSProp({ lr: 1e-3 }).step(p, g); // p = 1 - 1e-3 · 0.5 / (√(0.01 · 0.25) + 1e-8)
 * ```
 */
export class RMSProp implements Optimizer {
  readonly name = "rmsprop";
  lr: number;
  readonly alpha: number;
  readonly eps: number;
  readonly momentum: number;
  readonly centered: boolean;
  readonly weightDecay: number;
  #v: Arr | null = null;
  #mean: Arr | null = null;
  #buf: Arr | null = null;
  #steps = 0;

  constructor(opts: RmsPropOptions) {
    this.lr = opts.lr;
    this.alpha = opts.alpha ?? 0.99;
    this.eps = opts.eps ?? 1e-8;
    this.momentum = opts.momentum ?? 0;
    this.centered = opts.centered ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    checkOption("RMSProp", "lr", this.lr, this.lr > 0 && Number.isFinite(this.lr), "a finite number > 0");
    checkOption("RMSProp", "alpha", this.alpha, this.alpha >= 0 && this.alpha < 1, "a number in [0, 1)");
    checkOption("RMSProp", "eps", this.eps, this.eps >= 0, "a number ≥ 0");
    checkOption("RMSProp", "momentum", this.momentum, this.momentum >= 0 && this.momentum < 1, "a number in [0, 1)");
    checkOption("RMSProp", "weightDecay", this.weightDecay, this.weightDecay >= 0, "a number ≥ 0");
  }

  /** The description of this optimizer (current learning rate). */
  get spec(): RmsPropSpec {
    const { lr, alpha, eps, momentum, centered, weightDecay } = this;
    return { kind: "rmsprop", lr, alpha, eps, momentum, centered, weightDecay };
  }

  get steps(): number {
    return this.#steps;
  }

  step(params: Arr, grads: Arr): void {
    const v = this.#v = stateLike("RMSProp", this.#v, params);
    const mean = this.centered ? (this.#mean = stateLike("RMSProp", this.#mean, params)) : null;
    const buf = this.momentum > 0 ? (this.#buf = stateLike("RMSProp", this.#buf, params)) : null;
    const lr = this.lr, a = this.alpha, eps = this.eps, mu = this.momentum, wd = this.weightDecay;
    for (let i = 0, n = params.length; i < n; i++) {
      const g = grads[i] + wd * params[i];
      v[i] = a * v[i] + (1 - a) * g * g;
      let avg: number;
      if (mean !== null) {
        mean[i] = a * mean[i] + (1 - a) * g;
        avg = Math.sqrt(v[i] - mean[i] * mean[i]) + eps;
      } else {
        avg = Math.sqrt(v[i]) + eps;
      }
      if (buf !== null) {
        buf[i] = mu * buf[i] + g / avg;
        params[i] -= lr * buf[i];
      } else {
        params[i] -= lr * g / avg;
      }
    }
    this.#steps++;
  }
}
