/**
 * The unit of data a model trains on: one minibatch of sequences, time-major, with its targets.
 *
 * @module
 */

/**
 * One minibatch, time-major.
 * - x (T, B, I);
 * - target: per output row, values (R, O) for MSE/BCE or class indices (R) for cross-entropy, where R is B for a
 *   readout at the last step and T·B for a readout at every step (row t·B + b);
 * - mask (R), optional: 1 where a row carries loss (variable-length sequences, the copy task's last 10 steps).
 */
export interface Batch {
  x: ArrayLike<number>;
  T: number;
  B: number;
  target: ArrayLike<number>;
  mask?: ArrayLike<number> | null;
}
