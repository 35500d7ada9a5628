// Finite-difference gradient checks in float64 for every parameter, the inputs and the initial states:
// every cell (LSTM, RNN, GRU) and every LSTM option a model runs (Greff et al.'s variants, peepholes on and off),
// 1 and 2 layers, full and truncated BPTT, every loss and placement, odd sizes (I = 3, H = 5, B = 3).
import { cpuModel } from "../backend/cpu/model.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../rng.ts";
import { lossAndGradient, type LossKind } from "./loss.ts";
import { Model, type ReadoutPlacement } from "./model.ts";
import type { CellType } from "./layer.ts";
import { cellDefinition, type CellOptions, MODEL_LSTM_VARIANTS } from "./cells.ts";
import { maxRelativeError } from "./gradcheck.ts";
import process from "node:process";

/** LSTM_LAB_GRADCHECK_REPORT=1 prints each case's largest relative error (for reports). */
const REPORT = process.env.LSTM_LAB_GRADCHECK_REPORT === "1";

const I = 3, H = 5, B = 3, T = 7, EPS = 1e-6;

type Placement = "last" | "every" | "masked" | "none";

interface Case {
  cell: CellType;
  options?: CellOptions;
  layers: number;
  placement: Placement;
  loss: LossKind;
  truncate: number;
}

/** Everything one loss evaluation depends on; the model's parameters are perturbed in place. */
interface Problem {
  model: Model;
  x: Float64Array; // (T, B, I)
  h0: Float64Array; // (L, B, H)
  c0: Float64Array | null;
  target: Float64Array; // per scored row: values (R, O) or class indices (R)
  mask: Uint8Array | null; // (R)
  O: number;
  // For readout "none": L = Σ y ⊙ r + Σ h_n ⊙ rh + Σ c_n ⊙ rc (like the PyTorch fixtures).
  r: Float64Array | null;
  rh: Float64Array | null;
  rc: Float64Array | null;
}

function makeProblem(c: Case, seed: number): Problem {
  const rng = new Rng(seed, 7);
  const readout: ReadoutPlacement = c.placement === "last" ? "last" : c.placement === "none" ? "none" : "every";
  const O = c.loss === "cross-entropy" ? 4 : 2;
  const model = cpuModel({
    cell: c.cell,
    ...c.options,
    inputSize: I,
    hiddenSize: H,
    numLayers: c.layers,
    outputSize: O,
    readout,
    dtype: "float64",
    backend: "js",
    seed,
    // Larger than default weights so gradients flow through every step, and nonzero forget bias to test it.
    init: { recurrentWeights: "orthogonal", gain: 1.2, forgetBias: 0.5 },
  });
  const L = c.layers, R = readout === "last" ? B : T * B;
  const x = rng.fillNormal(new Float64Array(T * B * I));
  const h0 = rng.fillNormal(new Float64Array(L * B * H), 0, 0.5);
  const state = cellDefinition(c.cell).cellState;
  const c0 = state ? rng.fillNormal(new Float64Array(L * B * H), 0, 0.5) : null;
  let target: Float64Array;
  if (c.loss === "cross-entropy") target = Float64Array.from({ length: R }, () => rng.int(O));
  else if (c.loss === "bce") target = Float64Array.from({ length: R * O }, () => rng.uniform());
  else target = rng.fillNormal(new Float64Array(R * O));
  let mask: Uint8Array | null = null;
  if (c.placement === "masked") {
    mask = Uint8Array.from({ length: R }, () => (rng.uniform() < 0.4 ? 1 : 0));
    mask[R - 1] = 1; // at least one scored row
  }
  const none = readout === "none";
  return {
    model,
    x,
    h0,
    c0,
    target,
    mask,
    O,
    r: none ? rng.fillNormal(new Float64Array(T * B * H)) : null,
    rh: none ? rng.fillNormal(new Float64Array(L * B * H)) : null,
    rc: none && state ? rng.fillNormal(new Float64Array(L * B * H)) : null,
  };
}

/**
 * The loss of steps [s, e) of the sequence, run from the given initial states, as a share of the whole loss
 * (the mean's denominator is the whole sequence's count of scored rows). With s = 0, e = T it is the loss.
 */
function chunkLoss(p: Problem, loss: LossKind, h0: Float64Array, c0: Float64Array | null, s: number, e: number) {
  const m = p.model, cfg = m.config, R = cfg.readout === "last" ? B : T * B;
  const y = m.forward(p.x.subarray(s * B * I, e * B * I), e - s, B, { h0, c0: c0 ?? undefined });
  if (cfg.readout === "none") {
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += y[i] * p.r![s * B * H + i];
    if (e === T) {
      const hn = m.finalHidden();
      for (let i = 0; i < hn.length; i++) sum += hn[i] * p.rh![i];
      if (p.rc !== null) {
        const cn = m.finalCell();
        for (let i = 0; i < cn.length; i++) sum += cn[i] * p.rc[i];
      }
    }
    return sum;
  }
  if (cfg.readout === "last") {
    return e === T ? lossAndGradient(loss, B, p.O, y, p.target, p.mask, null) : 0;
  }
  // Every step: score rows [s·B, e·B) with the whole sequence's normalisation.
  const perRow = loss === "cross-entropy" ? 1 : p.O;
  const rows = (e - s) * B;
  const mask = p.mask === null ? null : p.mask.subarray(s * B, e * B);
  const nChunk = mask === null ? rows : mask.reduce((a, v) => a + v, 0);
  const nAll = p.mask === null ? R : p.mask.reduce((a, v) => a + v, 0);
  if (nChunk === 0) return 0;
  const tgt = p.target.subarray(s * B * perRow, e * B * perRow);
  return lossAndGradient(loss, rows, p.O, y, tgt, mask, null) * nChunk / nAll;
}

/** Boundary states (h, c per layer) at each chunk start, from the unperturbed problem: they are detached. */
function boundaryStates(p: Problem, k: number): Map<number, [Float64Array, Float64Array | null]> {
  const states = new Map<number, [Float64Array, Float64Array | null]>();
  for (let s = k; k > 0 && s < T; s += k) {
    p.model.forward(p.x.subarray(0, s * B * I), s, B, { h0: p.h0, c0: p.c0 ?? undefined });
    states.set(s, [p.model.finalHidden(), p.c0 === null ? null : p.model.finalCell()]);
  }
  return states;
}

/** Truncated-BPTT loss: chunks [0, k), [k, 2k), ... each run from its detached boundary state. */
function truncatedLoss(
  p: Problem,
  loss: LossKind,
  k: number,
  bounds: Map<number, [Float64Array, Float64Array | null]>,
) {
  if (k === 0) return chunkLoss(p, loss, p.h0, p.c0, 0, T);
  let sum = 0;
  for (let s = 0; s < T; s += k) {
    const [hs, cs] = s === 0 ? [p.h0, p.c0] : bounds.get(s)!;
    sum += chunkLoss(p, loss, hs, cs, s, Math.min(s + k, T));
  }
  return sum;
}

function analytic(p: Problem, c: Case) {
  const m = p.model, R = m.outputRows(T, B);
  m.zeroGrad();
  const y = m.forward(p.x, T, B, { h0: p.h0, c0: p.c0 ?? undefined });
  const dy = m.outputGrad();
  if (c.placement === "none") dy.set(p.r!);
  else lossAndGradient(c.loss, R, p.O, y, p.target, p.mask, dy);
  const res = m.backward(dy, {
    truncate: c.truncate,
    inputGrad: true,
    dhN: p.rh ?? undefined,
    dcN: p.rc ?? undefined,
  });
  const flat = (arrs: Float64Array[] | null) => {
    if (arrs === null) return null;
    const out = new Float64Array(arrs.reduce((n, a) => n + a.length, 0));
    let o = 0;
    for (const a of arrs) (out.set(a, o), o += a.length);
    return out;
  };
  return {
    params: Float64Array.from(m.grads),
    x: Float64Array.from(res.dx!),
    h0: flat(res.dh0 as Float64Array[])!,
    c0: flat(res.dc0 as Float64Array[] | null),
  };
}

function check(c: Case, seed = 1) {
  const p = makeProblem(c, seed);
  const g = analytic(p, c);
  const bounds = boundaryStates(p, c.truncate);
  const f = () => truncatedLoss(p, c.loss, c.truncate, bounds);
  // The loss without a readout (a sum of T·B·H terms y ⊙ r, plus h_n, c_n terms; |L| ~ 10) carries more rounding
  // noise (ε·|L|/h) than the 1e-9 floor of the comparison allows, so its steps are 10× larger (the truncation error
  // h²·f'''/6 stays far below).
  const eps = c.placement === "none" ? 10 * EPS : EPS;
  const numeric = (v: Float64Array) => {
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const old = v[i];
      v[i] = old + eps;
      const up = f();
      v[i] = old - eps;
      const down = f();
      v[i] = old;
      out[i] = (up - down) / (2 * eps);
    }
    return out;
  };
  const params = p.model.params as Float64Array;
  const results: [string, Float64Array, Float64Array][] = [
    ["params", g.params, numeric(params)],
    ["x", g.x, numeric(p.x)],
    ["h0", g.h0, numeric(p.h0)],
  ];
  if (p.c0 !== null) results.push(["c0", g.c0!, numeric(p.c0)]);
  if (REPORT) {
    const worst = Math.max(...results.map(([, a, n]) => maxRelativeError(a, n).err));
    console.log(`gradcheck ${JSON.stringify(c)} max rel err ${worst.toExponential(2)}`);
  }
  for (const [name, a, n] of results) {
    const { err, at } = maxRelativeError(a, n);
    let where = `${name}[${at}]`;
    if (name === "params" && at >= 0) {
      const q = p.model.parameters.find((q) => at >= q.offset && at < q.offset + q.size)!;
      where = `${q.name}[${at - q.offset}]`;
    }
    assert.ok(err < 1e-6, `${JSON.stringify(c)}: ${where} analytic ${a[at]} vs numeric ${n[at]} (rel err ${err})`);
    // The check must see real gradients, not zeros on both sides (the initial state is cut off from a last-step
    // loss by truncation, so its gradient is rightly zero there; the comparison above still checks that).
    const cutOff = c.truncate > 0 && c.placement === "last" && (name === "h0" || name === "c0");
    if (!cutOff) assert.ok(a.some((v) => Math.abs(v) > 1e-6), `${JSON.stringify(c)}: ${name} gradient is all ~0`);
  }
}

/** Every cell with every option a model runs: the cells, each Greff variant (with its peepholes), and both switches. */
const CELLS: { cell: CellType; options?: CellOptions; label: string }[] = [
  { cell: "lstm", label: "lstm" },
  { cell: "rnn", label: "rnn" },
  { cell: "gru", label: "gru" },
  ...MODEL_LSTM_VARIANTS.filter((v) => v !== "NP").map((variant) => ({
    cell: "lstm",
    options: { variant },
    label: `lstm ${variant} (peepholes)`,
  })),
  { cell: "lstm", options: { variant: "NP", peepholes: true }, label: "lstm NP + peepholes" },
  { cell: "lstm", options: { variant: "CIFG", peepholes: false }, label: "lstm CIFG without peepholes" },
  { cell: "lstm", options: { variant: "NFG", peepholes: false }, label: "lstm NFG without peepholes" },
];
// The seed's cell, the RNN and GRU get every case; each LSTM option a subset that still covers 1 and 2 layers, full
// and truncated BPTT and every placement (the options change the cell's step only, which every case runs through).
const FULL = new Set(["lstm", "rnn", "gru"]);

describe("gradient check (float64, central differences)", () => {
  for (const { cell, options, label } of CELLS) {
    const full = FULL.has(label);
    for (const layers of [1, 2]) {
      for (const truncate of [0, 3]) {
        for (const placement of ["last", "every", "masked"] as const) {
          for (const loss of full ? ["mse", "cross-entropy", "bce"] as const : ["mse"] as const) {
            const c: Case = { cell, options, layers, placement, loss, truncate };
            it(`${label} L=${layers} ${truncate ? `truncated k=${truncate}` : "full"} ${placement} ${loss}`, () => {
              check(c);
            });
          }
        }
        it(`${label} L=${layers} ${truncate ? `truncated k=${truncate}` : "full"}, no readout, loss on y, h_n, c_n`, () => {
          check({ cell, options, layers, placement: "none", loss: "mse", truncate });
        });
      }
    }
  }
});
