/**
 * The cell types a recurrent layer can use, each described once: its number of gate blocks (the pre-activation width
 * is gates·H per row, PyTorch's layout), whether it carries a cell state beside h, and one time step forward and
 * backward (row by row, so backends may split the batch rows). The reference time loops (`recurrence.ts`), the
 * layer and the model read this table; a new cell is one file with its forward beside its backward, registered here
 * (or by `registerCell` from anywhere below the backends). Fast kernels (wasm, WebGPU) implement the cells they name.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { lstmCellBackward, lstmCellForward } from "./lstm.ts";
import { rnnCellBackward, rnnCellForward } from "./rnn.ts";

/** One cell type. Arrays are (B, ·) rows of one time step. */
export interface CellDefinition {
  /** Its name in configs and kernels ("lstm", "rnn"). */
  name: string;
  /** Gate blocks per hidden unit: LSTM 4 (i, f, g, o), tanh RNN 1. */
  gates: number;
  /** Whether it carries a cell state c beside h (LSTM). */
  cellState: boolean;
  /**
   * One step forward: `gates` (B, G·H) holds the pre-activations (input and recurrent products, biases) and is left
   * holding what backward needs (the activations); writes h (B, H) (and c). cPrev and c are null without a cell state.
   */
  forward(B: number, H: number, gates: Arr, hPrev: Arr, cPrev: Arr | null, h: Arr, c: Arr | null): void;
  /**
   * One step backward: on entry dh (B, H) is ∂L/∂h_t from the step after (`dhIn` (B, H) or null: from above, added
   * to it) and dc ∂L/∂c_t; leaves ∂L/∂pre-activations in `gates`, the total ∂L/∂h_t in dh (the caller carries it to
   * h_{t−1} through W_hh), ∂L/∂c_{t−1} in dc, and the norms ‖∂L/∂h_t‖, ‖∂L/∂c_t‖ per row in dhNorm, dcNorm (B).
   */
  backward(
    B: number,
    H: number,
    gates: Arr,
    hPrev: Arr,
    cPrev: Arr | null,
    h: Arr,
    c: Arr | null,
    dh: Arr,
    dhIn: Arr | null,
    dc: Arr,
    dhNorm: Arr | null,
    dcNorm: Arr | null,
  ): void;
}

const CELLS = new Map<string, CellDefinition>();

/**
 * Adds a cell type (its name must be new).
 *
 * @example
 * ```ts
 * import { registerCell } from "./cells.ts";
 * registerCell({
 *   name: "identity-demo", gates: 1, cellState: false,
 *   forward: (B, H, g, _hp, _cp, h) => h.set(g.subarray(0, B * H)),
 *   backward: (B, H, g, _hp, _cp, _h, _c, dh, dhIn) => {
 *     for (let j = 0; j < B * H; j++) g[j] = dh[j] += dhIn?.[j] ?? 0;
 *   },
 * });
 * ```
 */
export function registerCell(def: CellDefinition): void {
  if (CELLS.has(def.name)) throw new RangeError(`registerCell: a cell named "${def.name}" is already registered`);
  if (!(Number.isInteger(def.gates) && def.gates >= 1)) {
    throw new RangeError(`registerCell: ${def.name}: gates = ${def.gates}, expected a positive integer`);
  }
  CELLS.set(def.name, def);
}

/** The names of the registered cells. */
export function cellNames(): string[] {
  return [...CELLS.keys()];
}

/**
 * The definition of a cell type; throws, naming the registered ones, for an unknown name.
 *
 * @example
 * ```ts
 * import { cellDefinition } from "./cells.ts";
 * cellDefinition("lstm").gates; // 4
 * ```
 */
export function cellDefinition(name: string): CellDefinition {
  const def = CELLS.get(name);
  if (def === undefined) {
    throw new RangeError(
      `cell = ${JSON.stringify(name)}, expected ${cellNames().map((n) => JSON.stringify(n)).join(" or ")}`,
    );
  }
  return def;
}

registerCell({
  name: "lstm",
  gates: 4,
  cellState: true,
  forward: (B, H, gates, _hPrev, cPrev, h, c) => lstmCellForward(B, H, gates, cPrev!, c!, h),
  backward: (B, H, gates, _hPrev, cPrev, _h, c, dh, dhIn, dc, dhNorm, dcNorm) =>
    lstmCellBackward(B, H, gates, cPrev!, c!, dh, dhIn, dc, dhNorm, dcNorm),
});

registerCell({
  name: "rnn",
  gates: 1,
  cellState: false,
  forward: (B, H, gates, _hPrev, _cPrev, h) => rnnCellForward(B, H, gates, h),
  backward: (B, H, gates, _hPrev, _cPrev, h, _c, dh, dhIn, _dc, dhNorm) =>
    rnnCellBackward(B, H, gates, h, dh, dhIn, dhNorm),
});
