// The 1997 LSTM network (lstm_1997.ts), in float64: finite differences of the full gradient for every option, finite
// differences of the stop-gradient graph for the truncated rule, the forward-time traces equal to the truncated BPTT,
// the constant error carousel's factor of exactly 1 per step, the paper's weight counts, and the initialisation.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Rng } from "../rng.ts";
import { centralDifferences, maxRelativeError } from "./gradcheck.ts";
import {
  lstm1997Backward,
  lstm1997Bias,
  type Lstm1997Config,
  lstm1997Config,
  lstm1997Forward,
  type Lstm1997Frozen,
  lstm1997Init,
  type Lstm1997Params,
  lstm1997Params,
  Lstm1997Rtrl,
  lstm1997WeightCount,
  LSTM_1997_PAPER_NETS,
} from "./lstm_1997.ts";

const VERBOSE = process.env.LSTM1997_VERBOSE === "1";
const I = 3, C = 2, S = 3, K = 3, B = 2, T = 6;
const sizes = { inputSize: I, blocks: C, cellsPerBlock: S, outputSize: K };

/** The options under test, each a variation of HS97's "F" net. */
const VARIANTS: Record<string, Partial<Lstm1997Config>> = {
  "1997 F, gates biased (Exp 1)": {},
  "1997 F, all biased, 1 cell per block": { bias: lstm1997Bias("all"), cellsPerBlock: 1 },
  "1997 B, no output gate, g = σ, h = id, linear outputs (Exp 2a)": {
    recurrence: "none",
    outputFrom: "inputs+cells",
    outputGate: false,
    bias: lstm1997Bias("none"),
    g: "sigmoid",
    h: "identity",
    outputActivation: "identity",
  },
  "forget gate (2000), all biased": { forgetGate: true, bias: lstm1997Bias("all") },
  "forget gate + peepholes, no peephole error (2002)": { forgetGate: true, peepholes: true, bias: lstm1997Bias("all") },
  "forget gate + peepholes with error (modern)": {
    forgetGate: true,
    peepholes: true,
    peepholeError: true,
    bias: lstm1997Bias("b1"),
  },
  "peepholes without forget gate, cell recurrence, inputs+cells outputs, tanh": {
    peepholes: true,
    peepholeError: true,
    recurrence: "cells",
    outputFrom: "inputs+cells",
    g: "tanh",
    h: "tanh",
  },
  "forget gate, no output gate, peepholes, h = identity": {
    forgetGate: true,
    outputGate: false,
    peepholes: true,
    h: "identity",
    bias: lstm1997Bias("b1"),
  },
};

interface Problem {
  cfg: Lstm1997Config;
  p: Lstm1997Params;
  x: Float64Array;
  r: Float64Array; // (T, B, K): L = Σ r ⊙ y_k
}

function makeProblem(variant: Partial<Lstm1997Config>, placement: "last" | "every", seed: number): Problem {
  const cfg = lstm1997Config({ ...sizes, ...variant });
  const p = lstm1997Params(cfg), rng = new Rng(seed, 4);
  lstm1997Init(cfg, p, rng, { range: 0.7 });
  const x = rng.fillNormal(new Float64Array(T * B * I));
  const r = rng.fillNormal(new Float64Array(T * B * cfg.outputSize));
  if (placement === "last") r.fill(0, 0, (T - 1) * B * cfg.outputSize);
  return { cfg, p, x, r };
}

function lossOf(pr: Problem, frozen: Lstm1997Frozen | null): number {
  const yK = lstm1997Forward(pr.cfg, pr.p, T, B, pr.x, frozen).yK;
  let sum = 0;
  for (let i = 0; i < yK.length; i++) sum += yK[i] * pr.r[i];
  return sum;
}

const PARAMS = ["w", "b", "peep", "wOut", "bOut"] as const;

/** Compares analytic gradients with central differences of f; returns the largest relative error. */
function compare(label: string, pr: Problem, g: Lstm1997Params, f: () => number, dx: Float64Array | null): number {
  let worst = 0;
  const pairs: [string, Float64Array, Float64Array][] = PARAMS.map((k) => [k, g[k], pr.p[k]]);
  if (dx !== null) pairs.push(["x", dx, pr.x]);
  for (const [name, a, v] of pairs) {
    const n = centralDifferences(f, v, 1e-5);
    const { err, at } = maxRelativeError(a, n);
    worst = Math.max(worst, err);
    assert.ok(err < 1e-6, `${label}: ${name}[${at}] analytic ${a[at]} vs numeric ${n[at]} (rel err ${err})`);
  }
  // Real gradients, not zeros on both sides: every weight array that exists here must see some gradient.
  assert.ok(g.w.some((v) => Math.abs(v) > 1e-6), `${label}: w gradient is all ~0`);
  assert.ok(g.wOut.some((v) => Math.abs(v) > 1e-6), `${label}: wOut gradient is all ~0`);
  if (pr.cfg.peepholes) assert.ok(g.peep.some((v) => Math.abs(v) > 1e-6), `${label}: peep gradient is all ~0`);
  return worst;
}

describe("lstm-1997: full gradient == central differences (float64)", () => {
  for (const [name, variant] of Object.entries(VARIANTS)) {
    for (const placement of ["last", "every"] as const) {
      it(`${name}, loss at ${placement} step(s)`, () => {
        const pr = makeProblem(variant, placement, 1);
        const tape = lstm1997Forward(pr.cfg, pr.p, T, B, pr.x);
        const g = lstm1997Backward(pr.cfg, pr.p, tape, pr.r, "full");
        // Without peephole error, the full gradient is that of the graph whose peephole sources are recorded values.
        const frozen: Lstm1997Frozen | null = pr.cfg.peepholes && !pr.cfg.peepholeError
          ? { tape, what: "peepholes" }
          : null;
        const worst = compare(`${name} ${placement} full`, pr, g, () => lossOf(pr, frozen), g.dx);
        if (VERBOSE) console.log(`max rel err ${worst.toExponential(2)}`);
      });
    }
  }
});

describe("lstm-1997: truncated rule == central differences of the stop-gradient graph; traces == truncated BPTT", () => {
  for (const [name, variant] of Object.entries(VARIANTS)) {
    for (const placement of ["last", "every"] as const) {
      it(`${name}, loss at ${placement} step(s)`, () => {
        const pr = makeProblem(variant, placement, 2);
        const tape = lstm1997Forward(pr.cfg, pr.p, T, B, pr.x);
        const g = lstm1997Backward(pr.cfg, pr.p, tape, pr.r, "truncated");
        assert.equal(g.dx, null);
        const worst = compare(`${name} ${placement} truncated`, pr, g, () => lossOf(pr, { tape, what: "all" }), null);

        // The same gradient forward in time, with the traces.
        const acc = lstm1997Params(pr.cfg), net = new Lstm1997Rtrl(pr.cfg, pr.p, B);
        net.reset();
        for (let t = 0; t < T; t++) {
          const rt = pr.r.subarray(t * B * K, (t + 1) * B * K);
          const scored = rt.some((v) => v !== 0);
          net.step(pr.x.subarray(t * B * I, (t + 1) * B * I), scored ? (_y, dy) => dy.set(rt) : null, acc);
          // Same forward as the tape, bit for bit.
          assert.deepEqual(net.outputs, tape.yK.subarray(t * B * K, (t + 1) * B * K));
        }
        let worstTrace = 0;
        for (const k of PARAMS) {
          const { err, at } = maxRelativeError(acc[k], g[k]);
          worstTrace = Math.max(worstTrace, err);
          assert.ok(err < 1e-12, `${name}: traces vs truncated BPTT ${k}[${at}]: ${acc[k][at]} vs ${g[k][at]}`);
        }
        if (VERBOSE) {
          console.log(`max rel err ${worst.toExponential(2)}; traces vs BPTT ${worstTrace.toExponential(2)}`);
        }
      });
    }
  }

  it("the truncated rule differs from the full gradient (the cut is real)", () => {
    const pr = makeProblem({}, "last", 3);
    const tape = lstm1997Forward(pr.cfg, pr.p, T, B, pr.x);
    const full = lstm1997Backward(pr.cfg, pr.p, tape, pr.r, "full");
    const trunc = lstm1997Backward(pr.cfg, pr.p, tape, pr.r, "truncated");
    assert.ok(maxRelativeError(full.w, trunc.w).err > 1e-3);
    assert.deepEqual(full.wOut, trunc.wOut); // the output weights see the same error either way
  });

  it("without hidden recurrence (HS97's B topology of Exp 2a) nothing is cut: truncated == full, bit for bit", () => {
    const pr = makeProblem(VARIANTS["1997 B, no output gate, g = σ, h = id, linear outputs (Exp 2a)"], "every", 4);
    const tape = lstm1997Forward(pr.cfg, pr.p, T, B, pr.x);
    const full = lstm1997Backward(pr.cfg, pr.p, tape, pr.r, "full");
    const trunc = lstm1997Backward(pr.cfg, pr.p, tape, pr.r, "truncated");
    for (const k of PARAMS) assert.deepEqual(trunc[k], full[k], k);
  });

  it("the traces' memory does not depend on the sequence length: 2·C·S·(I + R + 1) values in 1997", () => {
    const cfg = LSTM_1997_PAPER_NETS["exp1-3x2"].config;
    const net = new Lstm1997Rtrl(cfg, lstm1997Params(cfg), 1);
    assert.equal(net.traceSize, 2 * 6 * (7 + 12 + 1));
  });
});

describe("lstm-1997: the constant error carousel", () => {
  it("under its own (truncated) rule carries the error back with a factor of exactly 1 per step", () => {
    const T = 100, B = 2;
    const net = LSTM_1997_PAPER_NETS["exp4"];
    const p = lstm1997Params(net.config), rng = new Rng(7);
    lstm1997Init(net.config, p, rng, net.init);
    const x = rng.fillNormal(new Float64Array(T * B * 2));
    const dyK = new Float64Array(T * B);
    dyK[(T - 1) * B] = 1;
    dyK[(T - 1) * B + 1] = -0.5; // error at the last step only
    const tape = lstm1997Forward(net.config, p, T, B, x);
    const dsNorm = new Float64Array(T * B), dhNorm = new Float64Array(T * B);
    lstm1997Backward(net.config, p, tape, dyK, "truncated", { dsNorm, dhNorm });
    for (let b = 0; b < B; b++) {
      assert.ok(dsNorm[(T - 1) * B + b] > 0);
      for (let t = 0; t < T - 1; t++) {
        assert.equal(
          dsNorm[t * B + b],
          dsNorm[(t + 1) * B + b],
          `row ${b}: ‖∂L/∂s‖ changes between t = ${t} and ${t + 1}`,
        );
        assert.equal(dhNorm[t * B + b], 0); // the rule puts no error on the cells' outputs before the last step
      }
    }
    // The full gradient of the same network does not keep the norm: error also leaks through the recurrent weights.
    const fullS = new Float64Array(T * B);
    lstm1997Backward(net.config, p, tape, dyK, "full", { dsNorm: fullS });
    const factor = Math.pow(fullS[0] / fullS[(T - 1) * B], 1 / (T - 1));
    assert.ok(Math.abs(factor - 1) > 1e-6);
    if (VERBOSE) {
      console.log(`truncated: ‖∂L/∂s_t‖ = ${dsNorm[0]} at every t; full: geometric-mean factor ${factor}`);
    }
  });

  it("with a forget gate the per-step factor is y_φ(t)", () => {
    const cfg = lstm1997Config({ inputSize: 2, blocks: 1, cellsPerBlock: 1, outputSize: 1, forgetGate: true });
    const p = lstm1997Params(cfg), rng = new Rng(8), T = 20;
    lstm1997Init(cfg, p, rng, { range: 0.5, forgetGateBias: [2] });
    const x = rng.fillNormal(new Float64Array(T * 2));
    const dyK = new Float64Array(T);
    dyK[T - 1] = 1;
    const tape = lstm1997Forward(cfg, p, T, 1, x);
    const dsNorm = new Float64Array(T);
    lstm1997Backward(cfg, p, tape, dyK, "truncated", { dsNorm });
    const U = 4, offPhi = 3; // [cell | in | out | φ]
    for (let t = 1; t < T; t++) {
      const phi = tape.y[(t + 1) * U + offPhi]; // y_φ(t) of step t (index t + 1 in the tape)
      assert.ok(Math.abs(dsNorm[t - 1] / dsNorm[t] - phi) < 1e-14, `t = ${t}`);
    }
  });
});

describe("lstm-1997: the paper's networks", () => {
  it("have the weight counts of HS97 Table 10 (264, 276, 10504, 364-6064, 102, 93, 156, 308)", () => {
    const got: Record<string, number> = {};
    for (const [name, net] of Object.entries(LSTM_1997_PAPER_NETS)) {
      got[name] = lstm1997WeightCount(net.config);
      assert.equal(got[name], net.paperWeights, name);
    }
    assert.deepEqual(
      Object.values(LSTM_1997_PAPER_NETS).map((n) => n.paperWeights),
      [264, 276, 10504, 364, 664, 1264, 3064, 6064, 102, 93, 93, 156, 308],
    );
    if (VERBOSE) console.log(JSON.stringify(got));
  });

  it("count the later papers' nets too (from secondary notes: Gers 2000 CERG 424, Gers 2002 timing net 17)", () => {
    const cerg = lstm1997Config({
      inputSize: 7,
      blocks: 4,
      cellsPerBlock: 2,
      outputSize: 7,
      forgetGate: true,
      recurrence: "cells",
      outputFrom: "inputs+cells",
      bias: { cell: false, inputGate: true, outputGate: true, forgetGate: true, output: true },
    });
    assert.equal(lstm1997WeightCount(cerg), 424);
    const timing = lstm1997Config({
      inputSize: 1,
      blocks: 1,
      cellsPerBlock: 1,
      outputSize: 1,
      forgetGate: true,
      peepholes: true,
      recurrence: "cells",
      bias: lstm1997Bias("all"),
      g: "identity",
      h: "identity",
    });
    assert.equal(lstm1997WeightCount(timing), 17);
  });

  it("initialise U[-r, r] with the per-block gate biases (Exp 3: -1, -3, -5 and -2, -4, -6)", () => {
    const net = LSTM_1997_PAPER_NETS["exp3"], p = lstm1997Params(net.config);
    lstm1997Init(net.config, p, new Rng(1), net.init);
    const CS = 3; // units [cells 0-2 | input gates 3-5 | output gates 6-8]
    assert.deepEqual([...p.b.subarray(CS, CS + 3)], [-1, -3, -5]);
    assert.deepEqual([...p.b.subarray(CS + 3, CS + 6)], [-2, -4, -6]);
    for (const a of [p.w, p.b.subarray(0, CS), p.wOut]) assert.ok(a.every((v) => Math.abs(v) <= 0.1 && v !== 0));
    assert.equal(p.bOut[0], 0); // Exp 3's output unit is unbiased
  });

  it("reject bad configurations and initialisations with the field, the value and what is allowed", () => {
    assert.throws(() => lstm1997Config({ ...sizes, blocks: 0 }), /blocks must be a positive integer, got 0/);
    assert.throws(
      () => lstm1997Config({ ...sizes, g: "relu" as never }),
      /g must be one of sigmoid, sym1, sym2, tanh, identity, got "relu"/,
    );
    const cfg = lstm1997Config(sizes), p = lstm1997Params(cfg);
    assert.throws(() => lstm1997Init(cfg, p, new Rng(0), { range: 0.1, inputGateBias: [1] }), /one per block/);
    assert.throws(() => lstm1997Init(cfg, p, new Rng(0), { range: 0.1, forgetGateBias: [1, 2] }), /no such gates/);
    const none = lstm1997Config({ ...sizes, bias: lstm1997Bias("none") });
    assert.throws(() => lstm1997Init(none, lstm1997Params(none), new Rng(0), { range: 0.1, outputGateBias: [1, 2] }));
  });
});

describe("lstm-1997: learns with its own rule", () => {
  it("HS97 Exp 2a at p = 10 (the 2a net: one cell, input gate only, B topology; α = 1, per-sequence updates)", () => {
    // Sequences (y, a_1, …, a_{p-1}, y) and (x, a_1, …, a_{p-1}, x), one-hot over p + 1 symbols, the next symbol
    // predicted at every step: only the last prediction needs the first symbol, p steps back.
    const p = 10, n = p + 1, X = p - 1, Y = p;
    const cfg = lstm1997Config({ ...LSTM_1997_PAPER_NETS.exp2a.config, inputSize: n, outputSize: n });
    const prm = lstm1997Params(cfg), rng = new Rng(0);
    lstm1997Init(cfg, prm, rng, LSTM_1997_PAPER_NETS.exp2a.init);
    const net = new Lstm1997Rtrl(cfg, prm, 1), g = lstm1997Params(cfg), x = new Float64Array(n);
    let inARow = 0, solvedAt = -1;
    for (let s = 1; s <= 20000 && solvedAt < 0; s++) {
      const first = rng.int(2) === 0 ? X : Y;
      const seq = [first, ...Array.from({ length: p - 1 }, (_, i) => i), first];
      net.reset();
      for (const k of PARAMS) g[k].fill(0);
      let maxErr = 0;
      for (let t = 0; t < p; t++) {
        x.fill(0);
        x[seq[t]] = 1;
        net.step(x, (y, dy) => {
          for (let k = 0; k < n; k++) {
            dy[k] = y[k] - (k === seq[t + 1] ? 1 : 0); // L = ½ Σ (y - target)²
            maxErr = Math.max(maxErr, Math.abs(dy[k]));
          }
        }, g);
      }
      for (const k of PARAMS) for (let i = 0; i < g[k].length; i++) prm[k][i] -= g[k][i];
      inARow = maxErr < 0.25 ? inARow + 1 : 0; // HS97's criterion: max |error| < 0.25 …
      if (inARow === 1000) solvedAt = s; // … here for 1000 sequences in a row
    }
    if (VERBOSE) console.log(`solved after ${solvedAt} sequences`);
    assert.ok(solvedAt > 1000, `not solved within 20000 sequences`);
  });
});
