// The variant LSTM cell of Greff et al. 2017 (lstm_variants.ts): the default (NP) is lstm.ts's cell bit for bit, and
// float64 finite-difference gradient checks of every variant (weights, peepholes, gate recurrence, input, states).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Rng } from "../rng.ts";
import { centralDifferences, maxRelativeError } from "./gradcheck.ts";
import { lstmCellBackward, lstmCellForward } from "./lstm.ts";
import {
  LSTM_VARIANTS,
  type LstmVariant,
  lstmVariantBackward,
  lstmVariantCellBackward,
  lstmVariantCellForward,
  lstmVariantForward,
  type LstmVariantName,
  lstmVariantNet,
  validateLstmVariant,
} from "./lstm_variants.ts";

const VERBOSE = process.env.LSTM_VARIANTS_VERBOSE === "1";

describe("variant LSTM cell: the default is lstm.ts's cell, bit for bit", () => {
  for (const dtype of ["float64", "float32"] as const) {
    it(`forward and backward, ${dtype}, with and without dhIn`, () => {
      const Arr = dtype === "float64" ? Float64Array : Float32Array;
      const B = 3, H = 5, rng = new Rng(11);
      const pre = rng.fillNormal(new Arr(B * 4 * H), 0, 2), cPrev = rng.fillNormal(new Arr(B * H));
      const dh0 = rng.fillNormal(new Arr(B * H)), dc0 = rng.fillNormal(new Arr(B * H));
      const dhIn = rng.fillNormal(new Arr(B * H));
      for (const withIn of [false, true]) {
        const run = (ours: boolean) => {
          const gates = pre.slice(), c = new Arr(B * H), h = new Arr(B * H);
          const dh = dh0.slice(), dc = dc0.slice(), nh = new Arr(B), nc = new Arr(B);
          if (ours) lstmVariantCellForward(LSTM_VARIANTS.NP, B, H, gates, cPrev, c, h, null);
          else lstmCellForward(B, H, gates, cPrev, c, h);
          const fwd = [gates.slice(), c.slice(), h.slice()];
          const din = withIn ? dhIn : null;
          if (ours) {
            lstmVariantCellBackward(LSTM_VARIANTS.NP, B, H, gates, cPrev, c, dh, din, dc, null, null, null, nh, nc);
          } else lstmCellBackward(B, H, gates, cPrev, c, dh, din, dc, nh, nc);
          return [...fwd, gates, dh, dc, nh, nc];
        };
        const a = run(true), b = run(false);
        for (let k = 0; k < a.length; k++) assert.deepEqual(a[k], b[k], `buffer ${k}`);
      }
    });
  }
});

const I = 3, H = 5, B = 2, T = 6;

function check(v: LstmVariant, placement: "last" | "every", seed: number): number {
  const rng = new Rng(seed, 5), net = lstmVariantNet(I, H);
  for (const a of [net.weightIh, net.weightHh, net.bias, net.peep, net.weightGg]) rng.fillUniform(a, -0.8, 0.8);
  const x = rng.fillNormal(new Float64Array(T * B * I));
  const h0 = rng.fillNormal(new Float64Array(B * H), 0, 0.5), c0 = rng.fillNormal(new Float64Array(B * H), 0, 0.5);
  const r = rng.fillNormal(new Float64Array(T * B * H));
  if (placement === "last") r.fill(0, 0, (T - 1) * B * H);
  const rh = rng.fillNormal(new Float64Array(B * H)), rc = rng.fillNormal(new Float64Array(B * H));
  const f = () => {
    const tape = lstmVariantForward(v, net, T, B, x, h0, c0);
    let sum = 0;
    for (let i = 0; i < T * B * H; i++) sum += tape.h[B * H + i] * r[i];
    for (let i = 0; i < B * H; i++) sum += tape.h[T * B * H + i] * rh[i] + tape.c[T * B * H + i] * rc[i];
    return sum;
  };
  const dhNorm = new Float64Array(T * B), dcNorm = new Float64Array(T * B);
  const g = lstmVariantBackward(v, net, lstmVariantForward(v, net, T, B, x, h0, c0), r, rh, rc, dhNorm, dcNorm);
  const pairs: [string, Float64Array, Float64Array][] = [
    ["weightIh", g.weightIh, net.weightIh],
    ["weightHh", g.weightHh, net.weightHh],
    ["bias", g.bias, net.bias],
    ["peep", g.peep, net.peep],
    ["weightGg", g.weightGg, net.weightGg],
    ["x", g.dx, x],
    ["h0", g.dh0, h0],
    ["c0", g.dc0, c0],
  ];
  let worst = 0;
  for (const [name, a, p] of pairs) {
    const n = centralDifferences(f, p, 1e-5);
    const { err, at } = maxRelativeError(a, n);
    worst = Math.max(worst, err);
    assert.ok(err < 1e-6, `${name}[${at}] analytic ${a[at]} vs numeric ${n[at]} (rel err ${err})`);
  }
  // Real gradients where the variant has the parameters; exact zeros where it has not.
  assert.ok(g.weightHh.some((u) => Math.abs(u) > 1e-6));
  assert.equal(g.peep.some((u) => u !== 0), v.peepholes);
  assert.equal(g.weightGg.some((u) => u !== 0), v.fullGateRecurrence);
  // Probe: at the last step ‖∂L/∂h_T‖ is the norm of what the loss puts there.
  for (let b = 0; b < B; b++) {
    let sq = 0;
    for (let j = 0; j < H; j++) sq += (r[((T - 1) * B + b) * H + j] + rh[b * H + j]) ** 2;
    assert.ok(Math.abs(dhNorm[(T - 1) * B + b] - Math.sqrt(sq)) < 1e-12);
  }
  return worst;
}

describe("variant LSTM: BPTT == central differences (float64)", () => {
  const cases: [string, LstmVariant][] = Object.entries(LSTM_VARIANTS) as [LstmVariantName, LstmVariant][];
  cases.push(
    ["CIFG without peepholes", { ...LSTM_VARIANTS.CIFG, peepholes: false }],
    ["FGR without peepholes", { ...LSTM_VARIANTS.FGR, peepholes: false }],
    ["FGR + CIFG + NOAF", { ...LSTM_VARIANTS.FGR, coupled: true, outputActivation: false }],
    ["FGR + NIG + NOG", { ...LSTM_VARIANTS.FGR, inputGate: false, outputGate: false }],
  );
  for (const [name, v] of cases) {
    for (const placement of ["last", "every"] as const) {
      it(`${name}, loss at ${placement} step(s) and on the final states`, () => {
        const worst = check(v, placement, 1);
        if (VERBOSE) console.log(`max rel err ${worst.toExponential(2)}`);
      });
    }
  }

  it("refuses contradictory variants, naming the field", () => {
    assert.throws(() => validateLstmVariant({ ...LSTM_VARIANTS.CIFG, forgetGate: false }), /needs forgetGate: true/);
    assert.throws(() => validateLstmVariant({ ...LSTM_VARIANTS.NP, peepholes: 1 as never }), /peepholes must be/);
  });
});
