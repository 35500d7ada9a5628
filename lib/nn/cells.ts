/**
 * The cell types a recurrent layer can use, each described once: its number of gate blocks (the pre-activation width
 * is gates·H per row, PyTorch's layout), whether it carries a cell state beside h, and one time step forward and
 * backward (row by row, so backends may split the batch rows). The reference time loops (`recurrence.ts`), the
 * layer and the model read this table; a new cell is one file with its forward beside its backward, registered here
 * (or by `registerCell` from anywhere below the backends). Fast kernels (wasm, WebGPU) implement the cells they name.
 *
 * Registered here: "lstm" (the seed's cell, `lstm.ts`), "rnn" (`rnn.ts`), "gru" (PyTorch's nn.GRU, `gru.ts`: its
 * recurrent part is kept apart, `splitHidden`), and, on first use through `resolveCell`, the LSTM with Greff et al.'s
 * variants and peepholes (`lstm_variants.ts`: extra parameters `rnn.peephole_l{k}`). The 1997 block network
 * (`lstm_1997.ts`) is a whole network, not a cell of this table.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { lstmCellBackward, lstmCellForward } from "./lstm.ts";
import { rnnCellBackward, rnnCellForward } from "./rnn.ts";
import { gruCellBackward, gruCellForward } from "./gru.ts";
import {
  LSTM_VARIANTS,
  type LstmVariant,
  lstmVariantCellBackward,
  lstmVariantCellForward,
  type LstmVariantName,
} from "./lstm_variants.ts";

/**
 * What a step of a cell may need beyond gates and states, passed by the time loops (one object per call, its fields
 * pointed at the step's views; nothing is allocated per step).
 */
export interface CellStepExtras {
  /**
   * Cells with `splitHidden` (GRU): this step's (B, G·H) hidden part W_hh h_prev + b_hh, kept apart from the input
   * part in `gates`; holds its gradient after backward.
   */
  hidden: Arr | null;
  /** The layer's extra parameters (`extraPerUnit`·H, e.g. the peepholes [p_i | p_f | p_o]), or null. */
  extra: Arr | null;
  /** Their gradient (accumulated by backward), or null. */
  dExtra: Arr | null;
}

/** One cell type. Arrays are (B, ·) rows of one time step. */
export interface CellDefinition {
  /** Its name in configs and kernels ("lstm", "rnn"). */
  name: string;
  /** Gate blocks per hidden unit: LSTM 4 (i, f, g, o), tanh RNN 1. */
  gates: number;
  /** Whether it carries a cell state c beside h (LSTM). */
  cellState: boolean;
  /**
   * GRU: the recurrent product W_hh h_prev + b_hh goes to its own buffer (`CellStepExtras.hidden`), because a gate
   * multiplies part of it; backward leaves its gradient there (the one W_hh and b_hh receive, and the one carried to
   * h_{t−1}), and leaves in dh the direct part of ∂L/∂h_{t−1}, to which the time loop adds d(hidden) · W_hh.
   */
  splitHidden?: boolean;
  /** Extra parameters per hidden unit and layer (peepholes: 3), a (extraPerUnit·H) vector `rnn.peephole_l{k}`. */
  extraPerUnit?: number;
  /**
   * One step forward: `gates` (B, G·H) holds the pre-activations (input and recurrent products, biases) and is left
   * holding what backward needs (the activations); writes h (B, H) (and c). cPrev and c are null without a cell state.
   */
  forward(
    B: number,
    H: number,
    gates: Arr,
    hPrev: Arr,
    cPrev: Arr | null,
    h: Arr,
    c: Arr | null,
    extras: CellStepExtras,
  ): void;
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
    extras: CellStepExtras,
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

/** The names of the registered cells (not the LSTM variants `resolveCell` registers, which are options of "lstm"). */
export function cellNames(): string[] {
  return [...CELLS.keys()].filter((n) => !n.includes("["));
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

registerCell({
  name: "gru",
  gates: 3,
  cellState: false,
  splitHidden: true,
  forward: (B, H, gates, hPrev, _cPrev, h, _c, ex) => gruCellForward(B, H, gates, ex.hidden!, hPrev, h),
  backward: (B, H, gates, hPrev, _cPrev, _h, _c, dh, dhIn, _dc, dhNorm, _dcNorm, ex) =>
    gruCellBackward(B, H, gates, ex.hidden!, hPrev, dh, dhIn, dhNorm),
});

/** The options of a cell in a model config: the LSTM's variant (Greff et al. 2017) and its peepholes. */
export interface CellOptions {
  /** LSTM only: one of Greff et al.'s variants (default "NP": the seed's cell, `lstm.ts`). FGR is reference-only. */
  variant?: LstmVariantName;
  /** LSTM only: diagonal peepholes (default: the variant's, i.e. true for Greff's variants, false for NP). */
  peepholes?: boolean;
}

/** The variants a model can run (FGR's gate-to-gate recurrence lives only in the reference `lstm_variants.ts`). */
export const MODEL_LSTM_VARIANTS: readonly LstmVariantName[] = [
  "NP",
  "vanilla",
  "NIG",
  "NFG",
  "NOG",
  "NIAF",
  "NOAF",
  "CIFG",
];

/**
 * Checks a cell's options (`where` prefixes the messages, e.g. "model"): they exist for the LSTM only, the variant is
 * one a model runs, peepholes is a boolean. Throws a RangeError naming the field, the value and what is allowed.
 *
 * @example
 * ```ts
 * import { checkCellOptions } from "./cells.ts";
 * checkCellOptions("lstm", { variant: "CIFG" }, "model"); // fine
 * ```
 */
export function checkCellOptions(cell: string, opts: CellOptions, where: string): void {
  const { variant, peepholes } = opts;
  if (variant === undefined && peepholes === undefined) return;
  if (cell !== "lstm") {
    const field = variant !== undefined ? "variant" : "peepholes";
    throw new RangeError(
      `${where}.${field} = ${JSON.stringify(opts[field])}: only the "lstm" cell has options, but cell = ${
        JSON.stringify(cell)
      }`,
    );
  }
  if (variant !== undefined && !MODEL_LSTM_VARIANTS.includes(variant)) {
    const fgr = (variant as string) === "FGR"
      ? " (FGR's gate-to-gate recurrence is only in the reference lib/nn/lstm_variants.ts, not in a model)"
      : "";
    throw new RangeError(
      `${where}.variant = ${JSON.stringify(variant)}, expected one of ${
        MODEL_LSTM_VARIANTS.map((v) => JSON.stringify(v)).join(", ")
      }${fgr}`,
    );
  }
  if (peepholes !== undefined && typeof peepholes !== "boolean") {
    throw new RangeError(`${where}.peepholes = ${JSON.stringify(peepholes)}, expected true or false`);
  }
}

/**
 * The registered name of a cell with its options, registering it on first use: "lstm" with no options (or NP without
 * peepholes) is the seed's cell of `lstm.ts` itself; another variant is `lstm[<variant>,peepholes=<bool>]`, whose
 * steps are `lstm_variants.ts`'s. Kernels receive this name.
 *
 * @example
 * ```ts
 * import { resolveCell } from "./cells.ts";
 * resolveCell("lstm", {}); // "lstm"
 * resolveCell("lstm", { variant: "CIFG" }); // "lstm[CIFG,peepholes=true]"
 * ```
 */
export function resolveCell(cell: string, opts: CellOptions = {}): string {
  checkCellOptions(cell, opts, "Model");
  if (cell !== "lstm") return cell;
  const name = opts.variant ?? "NP";
  const v: LstmVariant = { ...LSTM_VARIANTS[name], peepholes: opts.peepholes ?? LSTM_VARIANTS[name].peepholes };
  if (name === "NP" && !v.peepholes) return "lstm";
  const key = `lstm[${name},peepholes=${v.peepholes}]`;
  if (!CELLS.has(key)) registerLstmVariant(key, v);
  return key;
}

function registerLstmVariant(name: string, v: LstmVariant): void {
  registerCell({
    name,
    gates: 4,
    cellState: true,
    extraPerUnit: v.peepholes ? 3 : 0,
    forward: (B, H, gates, _hPrev, cPrev, h, c, ex) => lstmVariantCellForward(v, B, H, gates, cPrev!, c!, h, ex.extra),
    backward: (B, H, gates, _hPrev, cPrev, _h, c, dh, dhIn, dc, dhNorm, dcNorm, ex) =>
      lstmVariantCellBackward(v, B, H, gates, cPrev!, c!, dh, dhIn, dc, null, ex.extra, ex.dExtra, dhNorm, dcNorm),
  });
}
