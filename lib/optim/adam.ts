/**
 * Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as `torch.optim.Adam` / `torch.optim.AdamW`:
 *
 *   g ← ∇ + λ·p              (Adam's L2 penalty)      or   p ← p·(1 - η·λ)   (AdamW's decoupled decay)
 *   m ← β₁·m + (1 - β₁)·g
 *   v ← β₂·v + (1 - β₂)·g²
 *   p ← p - (η / (1 - β₁ᵗ)) · m / (√v / √(1 - β₂ᵗ) + ε)
 *
 * β₁ᵗ and β₂ᵗ are kept as running products (not Math.pow, whose last bit differs between engines).
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import type { AdamSpec } from "./spec.ts";
import { checkOption, type Optimizer, stateLike } from "./optimizer.ts";

/** Options of `Adam`. */
export interface AdamOptions {
  lr: number;
  /** (β₁, β₂), default (0.9, 0.999). */
  betas?: [number, number];
  /** ε, default 1e-8. */
  eps?: number;
  /** λ, default 0 (Adam) or 0.01 (AdamW). */
  weightDecay?: number;
  /** Decoupled weight decay (AdamW), default false. */
  decoupled?: boolean;
}

/**
 * Adam; `new Adam({ ..., decoupled: true })` is AdamW.
 *
 * @example
 * ```ts
 * import { Adam } from "./adam.ts";
 * const p = new Float64Array([1]), g = new Float64Array([0.5]);
 * new Adam({ lr: 0.1 }).step(p, g); // the first step moves each weight by ≈ lr: p ≈ [0.9]
 * ```
 */
export class Adam implements Optimizer {
  readonly name: string;
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  #m: Arr | null = null;
  #v: Arr | null = null;
  #beta1Pow = 1;
  #beta2Pow = 1;
  #steps = 0;

  constructor(opts: AdamOptions) {
    this.lr = opts.lr;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.decoupled = opts.decoupled ?? false;
    this.weightDecay = opts.weightDecay ?? (this.decoupled ? 0.01 : 0);
    this.name = this.decoupled ? "adamw" : "adam";
    const who = this.decoupled ? "AdamW" : "Adam";
    checkOption(who, "lr", this.lr, this.lr > 0 && Number.isFinite(this.lr), "a finite number > 0");
    checkOption(who, "betas[0]", this.beta1, this.beta1 >= 0 && this.beta1 < 1, "a number in [0, 1)");
    checkOption(who, "betas[1]", this.beta2, this.beta2 >= 0 && this.beta2 < 1, "a number in [0, 1)");
    checkOption(who, "eps", this.eps, this.eps >= 0, "a number ≥ 0");
    checkOption(who, "weightDecay", this.weightDecay, this.weightDecay >= 0, "a number ≥ 0");
  }

  /** The description of this optimizer (current learning rate). */
  get spec(): AdamSpec {
    const { lr, beta1, beta2, eps, weightDecay, decoupled } = this;
    return { kind: "adam", lr, beta1, beta2, eps, weightDecay, decoupled };
  }

  get steps(): number {
    return this.#steps;
  }

  step(params: Arr, grads: Arr): void {
    const m = this.#m = stateLike(this.name, this.#m, params);
    const v = this.#v = stateLike(this.name, this.#v, params);
    this.#beta1Pow *= this.beta1;
    this.#beta2Pow *= this.beta2;
    const lr = this.lr, b1 = this.beta1, b2 = this.beta2, eps = this.eps, wd = this.weightDecay;
    const stepSize = lr / (1 - this.#beta1Pow);
    const sqrtBc2 = Math.sqrt(1 - this.#beta2Pow);
    const decay = this.decoupled ? 1 - lr * wd : 1;
    const l2 = this.decoupled ? 0 : wd;
    for (let i = 0, n = params.length; i < n; i++) {
      const p = params[i] * decay;
      const g = grads[i] + l2 * p;
      const mi = b1 * m[i] + (1 - b1) * g;
      const vi = b2 * v[i] + (1 - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] = p - stepSize * mi / (Math.sqrt(vi) / sqrtBc2 + eps);
    }
    this.#steps++;
  }
}
