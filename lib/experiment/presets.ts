/**
 * Reusable pieces of experiment files.
 *
 * @module
 */

/**
 * The modern minibatch setup the reproductions run beside each paper's online setup: Adam (lr 3e-3), 32 sequences
 * per step, gradient-norm clipping at 1, a log point every 50 steps; `training` overrides any of it.
 *
 * @example
 * ```ts
 * import { adamVariant } from "./presets.ts";
 * const variants = { "hs97-online": {}, "adam": adamVariant(32, { maxSequences: 300_000 }) };
 * ```
 */
export function adamVariant(hiddenSize: number, training: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: { hiddenSize },
    training: { optimizer: { name: "adam", lr: 3e-3 }, batchSize: 32, clipNorm: 1, logEvery: 50, ...training },
  };
}
