/**
 * The linear readout on top of the recurrent stack, y = h Wᵀ + b (PyTorch's `nn.Linear`: weight (O, H), bias (O)),
 * applied to R rows at once: the last step's B rows, or all T·B rows.
 *
 * @module
 */

import type { Arr, Kernels } from "./kernels.ts";

/** A linear layer's parameters (or their gradients), as views into a model's flat buffer. */
export interface LinearWeights {
  /** (O, H) */
  weight: Arr;
  /** (O) */
  bias: Arr;
}

/**
 * Linear layer bound to its parameter and gradient views.
 *
 * @example
 * ```ts
 * import { jsKernels } from "./js_kernels.ts";
 * import { Linear } from "./linear.ts";
 * const k = jsKernels("float64");
 * const w = { weight: k.alloc(2).fill(1), bias: k.alloc(1) };
 * const g = { weight: k.alloc(2), bias: k.alloc(1) };
 * const lin = new Linear(k, 2, 1, w, g);
 * const y = k.alloc(1);
 * lin.forward(1, new Float64Array([3, 4]), y); // y = [7]
 * ```
 */
export class Linear {
  readonly #k: Kernels;
  readonly #in: number;
  readonly #out: number;
  readonly #w: LinearWeights;
  readonly #grad: LinearWeights;
  readonly #weightT: Arr; // (H, O) transposed copy for contiguous rows

  constructor(k: Kernels, inFeatures: number, outFeatures: number, w: LinearWeights, grad: LinearWeights) {
    this.#k = k;
    this.#in = inFeatures;
    this.#out = outFeatures;
    this.#w = w;
    this.#grad = grad;
    this.#weightT = k.alloc(inFeatures * outFeatures);
  }

  /** y (R, O) = x (R, H) · Wᵀ + b. */
  forward(R: number, x: Arr, y: Arr): void {
    const k = this.#k, H = this.#in, O = this.#out;
    k.transpose(O, H, this.#w.weight, this.#weightT);
    k.fillRows(R, O, y, this.#w.bias, null);
    k.gemm(R, O, H, x, H, 1, this.#weightT, O, y, O, true);
  }

  /** dW += dyᵀ · x, db += Σ dy, and dx (R, H) = dy · W (overwritten) when dx is given. */
  backward(R: number, x: Arr, dy: Arr, dx: Arr | null): void {
    const k = this.#k, H = this.#in, O = this.#out;
    k.gemm(O, H, R, dy, 1, O, x, H, this.#grad.weight, H, true);
    k.addColumnSums(R, O, dy, O, this.#grad.bias);
    if (dx !== null) k.gemm(R, H, O, dy, O, 1, this.#w.weight, H, dx, H, false);
  }
}
