/**
 * An optimizer described once: its kind, its hyper-parameters and the layout of its state. The CPU update rules
 * (sgd.ts, rmsprop.ts, adam.ts) and the GPU's (lib/backend/webgpu/kernels/optimizer.ts) both read this description;
 * `Optimizer.spec` gives it for an optimizer object.
 *
 * @module
 */

/** SGD with optional momentum (PyTorch's `torch.optim.SGD`). */
export interface SgdSpec {
  kind: "sgd";
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

/** RMSProp (PyTorch's `torch.optim.RMSprop`). */
export interface RmsPropSpec {
  kind: "rmsprop";
  lr: number;
  alpha: number;
  eps: number;
  momentum: number;
  centered: boolean;
  weightDecay: number;
}

/** Adam, or AdamW when `decoupled` (PyTorch's `torch.optim.Adam` / `AdamW`). */
export interface AdamSpec {
  kind: "adam";
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
}

/**
 * What an optimizer is, for any backend.
 *
 * @example
 * ```ts
 * import { type OptimizerSpec, OPTIMIZER_STATE } from "./spec.ts";
 * const spec: OptimizerSpec = { kind: "adam", lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false };
 * OPTIMIZER_STATE[spec.kind].length; // 2 buffers shaped like the parameters
 * ```
 */
export type OptimizerSpec = SgdSpec | RmsPropSpec | AdamSpec;

/** The kinds of optimizer. */
export type OptimizerKind = OptimizerSpec["kind"];

/**
 * The state each kind keeps besides its step counter: buffers of one value per parameter, in this order (the GPU
 * allocates exactly these). Adam also keeps β₁ᵗ and β₂ᵗ as scalars.
 */
export const OPTIMIZER_STATE: { readonly [K in OptimizerKind]: readonly string[] } = {
  sgd: ["momentum_buffer"],
  rmsprop: ["square_avg", "grad_avg", "momentum_buffer"],
  adam: ["exp_avg", "exp_avg_sq"],
};
