// The GRU (gru.ts): float64 finite-difference gradient checks of every parameter, the input and the initial states
// (1 and 2 layers, loss at the last step or at every step plus the final states, full and truncated BPTT, odd sizes),
// and PyTorch's nn.GRU fixtures (tools/torch_gru_fixtures.py): outputs, final states and every gradient.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { Rng } from "../rng.ts";
import { encodeSafetensors, type NamedTensor, readSafetensorsFile } from "../io/safetensors.ts";
import { batchFirstToTimeMajor, timeMajorToBatchFirst } from "../io/torch.ts";
import { readFileSync } from "node:fs";
import { centralDifferences, maxRelativeError } from "./gradcheck.ts";
import { gruBackward, gruCellBackward, gruCellForward, gruForward, type GruNet, gruNet } from "./gru.ts";

const I = 3, H = 5, B = 3, T = 7;

function randomNet(L: number, seed: number): GruNet {
  const rng = new Rng(seed, 3), net = gruNet(I, H, L);
  for (const p of net.layers) {
    for (const a of [p.weightIh, p.weightHh, p.biasIh, p.biasHh]) rng.fillUniform(a, -0.9, 0.9);
  }
  return net;
}

describe("GRU cell step", () => {
  it("matches the equations at a known point", () => {
    const gx = new Float64Array([0.1, 0.2, 0.3]), gh = new Float64Array([0.4, -0.5, 0.6]);
    const hPrev = new Float64Array([0.7]), h = new Float64Array(1);
    gruCellForward(1, 1, gx, gh, hPrev, h);
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    const r = s(0.5), z = s(-0.3), n = Math.tanh(0.3 + r * 0.6);
    assert.ok(Math.abs(h[0] - ((1 - z) * n + z * 0.7)) < 1e-15);
    assert.ok(Math.abs(gx[0] - r) < 1e-15 && Math.abs(gx[1] - z) < 1e-15 && Math.abs(gx[2] - n) < 1e-15);
  });

  it("backward equals central differences of h with respect to gx, gh and h_prev", () => {
    const rng = new Rng(5);
    const gx0 = rng.fillNormal(new Float64Array(6)), gh0 = rng.fillNormal(new Float64Array(6));
    const hPrev = rng.fillNormal(new Float64Array(2)), w = rng.fillNormal(new Float64Array(2));
    const f = () => {
      const h = new Float64Array(2);
      gruCellForward(1, 2, gx0.slice(), gh0.slice(), hPrev, h);
      return h[0] * w[0] + h[1] * w[1];
    };
    const gx = gx0.slice(), gh = gh0.slice(), h = new Float64Array(2);
    gruCellForward(1, 2, gx, gh, hPrev, h);
    const dh = w.slice();
    gruCellBackward(1, 2, gx, gh, hPrev, dh, null, null);
    for (const [name, a, v] of [["gx", gx, gx0], ["gh", gh, gh0]] as const) {
      const { err, at } = maxRelativeError(a, centralDifferences(f, v));
      assert.ok(err < 1e-8, `${name}[${at}] rel err ${err}`);
    }
    // The direct part of ∂L/∂h_prev is dh ⊙ z; the rest goes through gh (the caller's product with W_hh).
    const direct = centralDifferences(() => {
      const h = new Float64Array(2);
      gruCellForward(1, 2, gx0.slice(), gh0.slice(), hPrev, h); // gh held fixed: only the direct path
      return h[0] * w[0] + h[1] * w[1];
    }, hPrev);
    assert.ok(maxRelativeError(dh, direct).err < 1e-8);
  });
});

interface Problem {
  net: GruNet;
  x: Float64Array;
  h0: Float64Array;
  r: Float64Array; // (T, B, H): L = Σ r ⊙ y (+ Σ rh ⊙ h_n)
  rh: Float64Array | null;
}

/** The loss of steps [s, e) run from state hs (L, B, H): Σ r ⊙ y over those steps, plus rh ⊙ h_T if e = T. */
function chunkLoss(p: Problem, hs: Float64Array, s: number, e: number): number {
  const L = p.net.layers.length, tape = gruForward(p.net, e - s, B, p.x.subarray(s * B * I, e * B * I), hs);
  const out = tape.h[L - 1];
  let sum = 0;
  for (let i = 0; i < (e - s) * B * H; i++) sum += out[B * H + i] * p.r[s * B * H + i];
  if (e === T && p.rh !== null) {
    for (let l = 0; l < L; l++) {
      for (let i = 0; i < B * H; i++) sum += tape.h[l][(e - s) * B * H + i] * p.rh[l * B * H + i];
    }
  }
  return sum;
}

function check(L: number, placement: "last" | "every", truncate: number, seed = 1) {
  const rng = new Rng(seed, 9);
  const net = randomNet(L, seed);
  const x = rng.fillNormal(new Float64Array(T * B * I));
  const h0 = rng.fillNormal(new Float64Array(L * B * H), 0, 0.5);
  const r = rng.fillNormal(new Float64Array(T * B * H));
  if (placement === "last") r.fill(0, 0, (T - 1) * B * H);
  const rh = placement === "every" ? rng.fillNormal(new Float64Array(L * B * H)) : null;
  const p: Problem = { net, x, h0, r, rh };

  const dhNorm = new Float64Array(L * T * B);
  const g = gruBackward(net, gruForward(net, T, B, x, h0), r, rh, { truncate, dhNorm });

  // Detached boundary states of truncated BPTT, from the unperturbed net.
  const bounds = new Map<number, Float64Array>();
  for (let s = truncate; truncate > 0 && s < T; s += truncate) {
    const tape = gruForward(net, s, B, x.subarray(0, s * B * I), h0);
    const hs = new Float64Array(L * B * H);
    for (let l = 0; l < L; l++) hs.set(tape.h[l].subarray(s * B * H), l * B * H);
    bounds.set(s, hs);
  }
  const f = () => {
    if (truncate === 0) return chunkLoss(p, h0, 0, T);
    let sum = 0;
    for (let s = 0; s < T; s += truncate) {
      sum += chunkLoss(p, s === 0 ? h0 : bounds.get(s)!, s, Math.min(T, s + truncate));
    }
    return sum;
  };
  const label = `L=${L} ${placement} ${truncate ? `truncated k=${truncate}` : "full"}`;
  const pairs: [string, Float64Array, Float64Array][] = [["x", g.dx, x], ["h0", g.dh0, h0]];
  net.layers.forEach((q, l) => {
    const d = g.layers[l];
    pairs.push([`weight_ih_l${l}`, d.weightIh, q.weightIh], [`weight_hh_l${l}`, d.weightHh, q.weightHh]);
    pairs.push([`bias_ih_l${l}`, d.biasIh, q.biasIh], [`bias_hh_l${l}`, d.biasHh, q.biasHh]);
  });
  let worst = 0;
  for (const [name, a, v] of pairs) {
    const n = centralDifferences(f, v, 1e-5);
    const { err, at } = maxRelativeError(a, n);
    worst = Math.max(worst, err);
    assert.ok(err < 1e-6, `${label}: ${name}[${at}] analytic ${a[at]} vs numeric ${n[at]} (rel err ${err})`);
    const cutOff = truncate > 0 && placement === "last" && name === "h0";
    if (!cutOff) assert.ok(a.some((v) => Math.abs(v) > 1e-6), `${label}: ${name} gradient is all ~0`);
  }
  // Probes: the last step's ‖∂L/∂h_T‖ of the top layer is the norm of what the loss puts there.
  for (let b = 0; b < B; b++) {
    let sq = 0;
    for (let j = 0; j < H; j++) {
      const v = r[((T - 1) * B + b) * H + j] + (rh === null ? 0 : rh[((L - 1) * B + b) * H + j]);
      sq += v * v;
    }
    assert.ok(Math.abs(dhNorm[((L - 1) * T + T - 1) * B + b] - Math.sqrt(sq)) < 1e-12);
  }
  assert.ok(dhNorm.every((v) => Number.isFinite(v) && v >= 0));
  return worst;
}

describe("GRU gradient check (float64, central differences)", () => {
  for (const L of [1, 2]) {
    for (const truncate of [0, 3]) {
      for (const placement of ["last", "every"] as const) {
        it(`L=${L} ${truncate ? `truncated k=${truncate}` : "full"}, loss at ${placement} step(s)`, () => {
          const worst = check(L, placement, truncate);
          if (process.env.GRU_FIXTURE_VERBOSE === "1") console.log(`max rel err ${worst.toExponential(2)}`);
        });
      }
    }
  }

  it("with the update gate saturated open (z → 1) the error is carried back with a factor → 1 per step", () => {
    const net = randomNet(1, 3);
    net.layers[0].biasIh.fill(30, H, 2 * H); // b_iz: z = σ(30 + …) ≈ 1 - 1e-13
    const rng = new Rng(3, 2), T = 50;
    const x = rng.fillNormal(new Float64Array(T * B * I));
    const dy = new Float64Array(T * B * H);
    rng.fillNormal(dy.subarray((T - 1) * B * H)); // loss at the last step only
    const norms = new Float64Array(T * B);
    gruBackward(net, gruForward(net, T, B, x, null), dy, null, { dhNorm: norms });
    for (let b = 0; b < B; b++) {
      const factor = Math.pow(norms[b] / norms[(T - 1) * B + b], 1 / (T - 1));
      assert.ok(Math.abs(factor - 1) < 1e-10, `row ${b}: per-step factor ${factor}`);
    }
  });

  it("truncation cuts the gradient: the probe of the step before a chunk boundary only sees its own chunk", () => {
    const net = randomNet(1, 2), rng = new Rng(2, 1);
    const x = rng.fillNormal(new Float64Array(T * B * I));
    const dy = new Float64Array(T * B * H);
    dy.fill(1, (T - 1) * B * H); // loss at the last step only
    const norms = new Float64Array(T * B);
    gruBackward(net, gruForward(net, T, B, x, null), dy, null, { truncate: 3, dhNorm: norms });
    // Chunks [0,3) [3,6) [6,7): the loss at t = 6 reaches step 6 only.
    for (let t = 0; t < T - 1; t++) for (let b = 0; b < B; b++) assert.equal(norms[t * B + b], 0);
    assert.ok(norms[(T - 1) * B] > 0);
  });
});

const DIR = new URL("./testdata/", import.meta.url);

async function loadFixture(name: string) {
  const sd = (await readSafetensorsFile(new URL(`${name}.state_dict.safetensors`, DIR))).tensors;
  const io = (await readSafetensorsFile(new URL(`${name}.io.safetensors`, DIR))).tensors;
  return { sd, io };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("GRU against PyTorch nn.GRU (fixtures from tools/torch_gru_fixtures.py)", () => {
  const fixtures = [
    { name: "gru_i3_h5_l2_f64", I: 3, H: 5, L: 2, tol: 1e-13 },
    { name: "gru_i2_h4_l1_f64", I: 2, H: 4, L: 1, tol: 1e-13 },
    { name: "gru_i3_h5_l2_f32", I: 3, H: 5, L: 2, tol: 5e-6 },
  ];
  for (const f of fixtures) {
    it(`${f.name}: output, h_n, loss and every gradient`, async () => {
      const { sd, io } = await loadFixture(f.name);
      const get = (m: typeof sd, k: string) => {
        const t = m.get(k);
        assert.ok(t !== undefined, `${f.name}: missing tensor ${k}`);
        return Float64Array.from(t.data);
      };
      const net = gruNet(f.I, f.H, f.L);
      net.layers.forEach((p, l) => {
        p.weightIh.set(get(sd, `weight_ih_l${l}`));
        p.weightHh.set(get(sd, `weight_hh_l${l}`));
        p.biasIh.set(get(sd, `bias_ih_l${l}`));
        p.biasHh.set(get(sd, `bias_hh_l${l}`));
      });
      // Computed in float64 from the fixture's values (for f32 fixtures: from the float32 values, widened).
      const x = batchFirstToTimeMajor(get(io, "x"), B, T, f.I), h0 = get(io, "h0");
      const tape = gruForward(net, T, B, x, h0);
      const BH = B * f.H;
      const out = timeMajorToBatchFirst(tape.h[f.L - 1].subarray(BH), T, B, f.H);
      const hN = new Float64Array(f.L * BH);
      for (let l = 0; l < f.L; l++) hN.set(tape.h[l].subarray(T * BH), l * BH);
      const errs: Record<string, number> = {};
      errs.output = maxAbsDiff(out, get(io, "output"));
      errs.h_n = maxAbsDiff(hN, get(io, "h_n"));
      const r = get(io, "r"), rh = get(io, "rh");
      let loss = 0;
      for (let i = 0; i < r.length; i++) loss += out[i] * r[i];
      for (let i = 0; i < rh.length; i++) loss += hN[i] * rh[i];
      errs.loss = Math.abs(loss - get(io, "loss")[0]) / Math.max(1, Math.abs(loss));
      const g = gruBackward(net, tape, batchFirstToTimeMajor(r, B, T, f.H), rh);
      errs["grad.x"] = maxAbsDiff(timeMajorToBatchFirst(g.dx, T, B, f.I), get(io, "grad.x"));
      errs["grad.h0"] = maxAbsDiff(g.dh0, get(io, "grad.h0"));
      g.layers.forEach((d, l) => {
        errs[`grad.weight_ih_l${l}`] = maxAbsDiff(d.weightIh, get(io, `grad.weight_ih_l${l}`));
        errs[`grad.weight_hh_l${l}`] = maxAbsDiff(d.weightHh, get(io, `grad.weight_hh_l${l}`));
        errs[`grad.bias_ih_l${l}`] = maxAbsDiff(d.biasIh, get(io, `grad.bias_ih_l${l}`));
        errs[`grad.bias_hh_l${l}`] = maxAbsDiff(d.biasHh, get(io, `grad.bias_hh_l${l}`));
      });
      for (const [k, e] of Object.entries(errs)) {
        assert.ok(e < f.tol, `${f.name}: ${k} max |ours - PyTorch| = ${e} > ${f.tol}`);
      }
      if (process.env.GRU_FIXTURE_VERBOSE === "1") console.log(f.name, JSON.stringify(errs)); // for reports
    });
  }
});

describe("GRU state dict in PyTorch's layout", () => {
  it("our parameters, written as a state dict, are byte for byte the file nn.GRU's state_dict() gave", async () => {
    for (const [name, I, H, L] of [["gru_i3_h5_l2_f64", 3, 5, 2], ["gru_i2_h4_l1_f64", 2, 4, 1]] as const) {
      const file = new URL(`${name}.state_dict.safetensors`, DIR);
      const { tensors } = await readSafetensorsFile(file);
      const net = gruNet(I, H, L);
      net.layers.forEach((p, l) => {
        p.weightIh.set(tensors.get(`weight_ih_l${l}`)!.data);
        p.weightHh.set(tensors.get(`weight_hh_l${l}`)!.data);
        p.biasIh.set(tensors.get(`bias_ih_l${l}`)!.data);
        p.biasHh.set(tensors.get(`bias_hh_l${l}`)!.data);
      });
      const out = new Map<string, NamedTensor>();
      net.layers.forEach((p, l) => {
        const In = l === 0 ? I : H;
        out.set(`weight_ih_l${l}`, { dtype: "F64", shape: [3 * H, In], data: p.weightIh });
        out.set(`weight_hh_l${l}`, { dtype: "F64", shape: [3 * H, H], data: p.weightHh });
        out.set(`bias_ih_l${l}`, { dtype: "F64", shape: [3 * H], data: p.biasIh });
        out.set(`bias_hh_l${l}`, { dtype: "F64", shape: [3 * H], data: p.biasHh });
      });
      assert.deepEqual(encodeSafetensors(out), new Uint8Array(readFileSync(file)), name);
    }
  });
});
