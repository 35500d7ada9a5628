/**
 * Stochastic gradient descent with optional momentum (heavy ball or Nesterov) and L2 weight decay, as
 * `torch.optim.SGD`:
 *
 *   g ← ∇ + λ·p
 *   b ← μ·b + (1 - τ)·g   (b ← g on the first step)
 *   g ← g + μ·b (Nesterov)  or  g ← b
 *   p ← p - η·g
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import type { SgdSpec } from "./spec.ts";
import { checkOption, type Optimizer, stateLike } from "./optimizer.ts";

/** Options of `SGD`. */
export interface SgdOptions {
  lr: number;
  /** μ, default 0 (plain SGD). */
  momentum?: number;
  /** τ, default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
  /** L2 penalty λ added to the gradient, default 0. */
  weightDecay?: number;
}

/**
 * SGD, optionally with momentum.
 *
 * @example
 * ```ts
 * import { SGD } from "./sgd.ts";
 * const p = new Float64Array([1]), g = new Float64Array([0.5]);
 * new SGD({ lr: 0.1 }).step(p, g); // p = [0.95]
 * ```
 */
export class SGD implements Optimizer {
  readonly name = "sgd";
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  #buf: Arr | null = null;
  #steps = 0;

  constructor(opts: SgdOptions) {
    this.lr = opts.lr;
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    checkOption("SGD", "lr", this.lr, this.lr > 0 && Number.isFinite(this.lr), "a finite number > 0");
    checkOption("SGD", "momentum", this.momentum, this.momentum >= 0 && this.momentum < 1, "a number in [0, 1)");
    checkOption("SGD", "dampening", this.dampening, this.dampening >= 0 && this.dampening <= 1, "a number in [0, 1]");
    checkOption("SGD", "weightDecay", this.weightDecay, this.weightDecay >= 0, "a number ≥ 0");
    checkOption(
      "SGD",
      "nesterov",
      this.nesterov,
      !this.nesterov || (this.momentum > 0 && this.dampening === 0),
      "false unless momentum > 0 and dampening = 0",
    );
  }

  /** The description of this optimizer (current learning rate). */
  get spec(): SgdSpec {
    const { lr, momentum, dampening, nesterov, weightDecay } = this;
    return { kind: "sgd", lr, momentum, dampening, nesterov, weightDecay };
  }

  get steps(): number {
    return this.#steps;
  }

  step(params: Arr, grads: Arr): void {
    const lr = this.lr, mu = this.momentum, wd = this.weightDecay, n = params.length;
    if (mu === 0) {
      for (let i = 0; i < n; i++) params[i] -= lr * (grads[i] + wd * params[i]);
    } else {
      const first = this.#buf === null;
      const buf = this.#buf = stateLike("SGD", this.#buf, params);
      const keep = 1 - this.dampening;
      for (let i = 0; i < n; i++) {
        const g = grads[i] + wd * params[i];
        const b = first ? g : mu * buf[i] + keep * g;
        buf[i] = b;
        params[i] -= lr * (this.nesterov ? g + mu * b : b);
      }
    }
    this.#steps++;
  }
}
