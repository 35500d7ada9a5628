// Model-level behaviour: gradient probes checked against ∂L/∂h_t computed another way, the float32 WebAssembly
// kernels against the float64 reference on whole models, gate statistics, and clear errors for bad input.
import { cpuModel } from "../backend/cpu/model.ts";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../rng.ts";
import { sigmoid } from "../math.ts";
import { mseLoss } from "./loss.ts";
import { Model, type ModelConfig } from "./model.ts";
import type { Arr } from "../arr.ts";

function close(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]))) {
      assert.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
    }
  }
}

describe("gradient probes", () => {
  // ∂L/∂h_t from the probe must equal the gradient on the initial state of the same model run on the suffix
  // t+1 .. T-1 from (h_t, c_t): L depends on h_t only through the steps after t. For the LSTM, the probe's
  // ∂L/∂c_t is the total derivative (through h_t = o_t ⊙ tanh(c_t) as well), i.e. dc0 + dh0 ⊙ o_t ⊙ (1 - tanh²c_t).
  for (const cell of ["lstm", "rnn"] as const) {
    it(`${cell}: ‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖) equal the initial-state gradients of suffix runs`, () => {
      const I = 2, H = 6, B = 3, T = 12;
      const cfg: ModelConfig = { cell, inputSize: I, hiddenSize: H, outputSize: 1, dtype: "float64", seed: 4 };
      const model = cpuModel({ ...cfg, init: { recurrentWeights: "orthogonal", gain: 1.1 } });
      const rng = new Rng(9);
      const x = rng.fillNormal(new Float64Array(T * B * I));
      const target = rng.fillNormal(new Float64Array(B));
      const y = model.forward(x, T, B);
      // Keep every step's state: h_t, c_t and o_t (the output gate) before backward overwrites the gates.
      const layer = model.layers[0];
      const hs = Float64Array.from(layer.h), cs = layer.c === null ? null : Float64Array.from(layer.c);
      const os = cell === "lstm" ? Array.from({ length: T }, (_, t) => Float64Array.from(layer.gatesAt(t))) : [];
      const dy = model.outputGrad();
      mseLoss(B, 1, y, target, null, dy);
      const probes = model.backward(dy, { probes: true });
      const dhNorm = Float64Array.from(probes.dhNorm![0]);
      const dcNorm = probes.dcNorm === null ? null : Float64Array.from(probes.dcNorm[0]);
      assert.ok(dhNorm.every((v) => v > 0), "probes recorded at every step");

      const suffix = cpuModel({ ...cfg }); // same shapes; copy the trained model's weights
      suffix.params.set(model.params);
      for (const t of [0, 3, T - 2]) {
        const BH = B * H, L = T - t - 1;
        const h0 = hs.subarray((t + 1) * BH, (t + 2) * BH), c0 = cs?.subarray((t + 1) * BH, (t + 2) * BH);
        const ys = suffix.forward(x.subarray((t + 1) * B * I), L, B, { h0, c0 });
        close(ys, y, 1e-12, 1e-12, `suffix from t=${t} reproduces the output`);
        const dys = suffix.outputGrad();
        mseLoss(B, 1, ys, target, null, dys);
        const g = suffix.backward(dys);
        for (let b = 0; b < B; b++) {
          const dh = g.dh0[0].subarray(b * H, (b + 1) * H);
          const norm = Math.sqrt(Array.from(dh).reduce((s, v) => s + v * v, 0));
          close([dhNorm[t * B + b]], [norm], 1e-10, 1e-14, `‖∂L/∂h_${t}‖ row ${b}`);
          if (cell === "lstm") {
            let sq = 0;
            for (let j = 0; j < H; j++) {
              const o = os[t][b * 4 * H + 3 * H + j], tc = Math.tanh(cs![(t + 1) * BH + b * H + j]);
              const total = g.dc0![0][b * H + j] + dh[j] * o * (1 - tc * tc);
              sq += total * total;
            }
            close([dcNorm![t * B + b]], [Math.sqrt(sq)], 1e-10, 1e-14, `‖∂L/∂c_${t}‖ row ${b}`);
          }
        }
      }
    });
  }

  it("cost nothing when not requested: no norms are written", () => {
    const model = cpuModel({ cell: "lstm", inputSize: 1, hiddenSize: 4, outputSize: 1 });
    const y = model.forward(new Float32Array(5).fill(1), 5, 1);
    const dy = model.outputGrad();
    mseLoss(1, 1, y, [0], null, dy);
    const res = model.backward(dy);
    assert.equal(res.dhNorm, null);
    assert.ok(model.layers[0].dhNorm.every((v) => v === 0));
  });
});

describe("float32 WebAssembly kernels agree with the float64 reference on whole models", () => {
  const cases: [string, Partial<ModelConfig>, number][] = [
    ["LSTM, 2 layers, readout every step", { cell: "lstm", numLayers: 2, readout: "every" }, 0],
    ["LSTM, truncated BPTT", { cell: "lstm", readout: "every" }, 4],
    ["RNN, 2 layers, last step", { cell: "rnn", numLayers: 2, readout: "last" }, 0],
    ["RNN, H = 37 (ragged SIMD)", { cell: "rnn", hiddenSize: 37, readout: "every" }, 0],
  ];
  for (const [name, over, truncate] of cases) {
    for (const threads of [1, 2]) {
      it(`${name}, ${threads} thread(s): outputs, every gradient and the probes`, async () => {
        const base = { inputSize: 3, hiddenSize: 13, outputSize: 2, seed: 5, ...over } as ModelConfig;
        const f64 = cpuModel({ ...base, dtype: "float64" });
        const f32 = cpuModel({ ...base, dtype: "float32", threads });
        f32.params.set(f64.params);
        f64.params.set(f32.params); // both now hold the same float32-representable weights
        if (threads > 1) await new Promise((r) => setTimeout(r, 150)); // the worker starts asynchronously
        const T = 23, B = 9, rng = new Rng(2);
        const x = rng.fillNormal(new Float32Array(T * B * 3));
        const run = (m: Model) => {
          const y = m.forward(x, T, B);
          const target = new Float64Array(y.length).fill(0.3);
          const dy = m.outputGrad();
          const loss = mseLoss(m.outputRows(), 2, y, target, null, dy);
          m.zeroGrad();
          const res = m.backward(dy, { probes: true, truncate, inputGrad: true });
          return {
            y: Float64Array.from(y),
            loss,
            grads: Float64Array.from(m.grads),
            dx: Float64Array.from(res.dx!),
            dh: Float64Array.from(res.dhNorm![0]),
          };
        };
        const a = run(f32), b = run(f64);
        close(a.y, b.y, 1e-4, 1e-5, "outputs");
        close([a.loss], [b.loss], 1e-4, 0, "loss");
        const scale = Math.max(...b.grads.map(Math.abs));
        close(a.grads, b.grads, 1e-3, 1e-4 * scale, "parameter gradients");
        close(a.dx, b.dx, 1e-3, 1e-4 * Math.max(...b.dx.map(Math.abs)), "input gradients");
        close(a.dh, b.dh, 1e-3, 1e-6, "probes");
        f32.dispose();
      });
    }
  }
});

describe("gate statistics", () => {
  it("report mean gate activations per step; a forget bias shows up in the forget gate", () => {
    const model = cpuModel({
      cell: "lstm",
      inputSize: 1,
      hiddenSize: 8,
      outputSize: 1,
      dtype: "float64",
      init: { inputWeights: "uniform", recurrentWeights: "identity", gain: 0, bias: "zeros", forgetBias: 2 },
    });
    model.forward(new Float64Array(6 * 2), 6, 2); // zero input and zero recurrent weights: pre-activations = biases
    const s = model.gateStats();
    for (let t = 0; t < 6; t++) {
      close([s.forget[t]], [sigmoid(2)], 1e-12, 0, "forget gate = σ(2)");
      close([s.input[t], s.output[t]], [0.5, 0.5], 1e-12, 0, "input and output gates = σ(0)");
    }
  });
});

describe("bad input gets a clear error naming the field, the value and what is allowed", () => {
  it("config", () => {
    assert.throws(
      () => cpuModel({ cell: "lru" as "lstm", inputSize: 1, hiddenSize: 1, outputSize: 1 }),
      /cell = "lru", expected "lstm" or "rnn" or "gru"/,
    );
    assert.throws(
      () => cpuModel({ cell: "lstm", variant: "CIFG", inputSize: 1, hiddenSize: 1, outputSize: 1 }),
      /cpuModel: cell "lstm\[CIFG,peepholes=true\]" has no WebAssembly kernel .*use backend "js"/,
    );
    assert.throws(
      () =>
        cpuModel({ cell: "lstm", variant: "XYZ" as "NP", inputSize: 1, hiddenSize: 1, outputSize: 1, backend: "js" }),
      /Model\.variant = "XYZ", expected one of "NP", "vanilla", "NIG", "NFG", "NOG", "NIAF", "NOAF", "CIFG"$/,
    );
    assert.throws(
      () => cpuModel({ cell: "lstm", variant: "FGR", inputSize: 1, hiddenSize: 1, outputSize: 1, backend: "js" }),
      /Model\.variant = "FGR", .*only in the reference lib\/nn\/lstm_variants\.ts/,
    );
    assert.throws(
      () => cpuModel({ cell: "rnn", peepholes: true, inputSize: 1, hiddenSize: 1, outputSize: 1, backend: "js" }),
      /Model\.peepholes = true: only the "lstm" cell has options, but cell = "rnn"/,
    );
    assert.throws(
      () => cpuModel({ cell: "lstm", peepholes: 1 as unknown as boolean, inputSize: 1, hiddenSize: 1, outputSize: 1 }),
      /Model\.peepholes = 1, expected true or false/,
    );
    assert.throws(
      () => cpuModel({ cell: "lstm", inputSize: 0, hiddenSize: 1, outputSize: 1 }),
      /inputSize = 0, expected a positive integer/,
    );
    assert.throws(() => cpuModel({ cell: "lstm", inputSize: 1, hiddenSize: 2.5, outputSize: 1 }), /hiddenSize = 2.5/);
    assert.throws(() => cpuModel({ cell: "lstm", inputSize: 1, hiddenSize: 2 }), /outputSize = 0/);
    assert.throws(
      () =>
        cpuModel({
          cell: "rnn",
          inputSize: 1,
          hiddenSize: 2,
          outputSize: 1,
          init: { recurrentWeights: { spectralRadius: -1 } },
        }),
      /spectralRadius = -1/,
    );
  });
  it("forward and backward", () => {
    const m = cpuModel({ cell: "lstm", inputSize: 2, hiddenSize: 3, outputSize: 1, numLayers: 2 });
    assert.throws(() => m.forward(new Float32Array(5), 2, 1), /x has 5 values, expected T·B·I = 2·1·2 = 4/);
    assert.throws(
      () => m.forward(new Float32Array(4), 2, 1, { h0: new Float32Array(3) }),
      /h0 has 3 values, expected L·B·H = 6/,
    );
    assert.throws(() => m.backward(new Float32Array(1)), /call forward first/);
    m.forward(new Float32Array(4), 2, 1);
    assert.throws(() => m.backward(new Float32Array(2)), /dOutput has 2 values, expected 1/);
    assert.throws(() => m.backward(new Float32Array(1), { truncate: -1 }), /truncate = -1/);
  });
});

describe("state", () => {
  it("initial states are used and their gradients returned per layer", () => {
    const m = cpuModel({ cell: "lstm", inputSize: 1, hiddenSize: 2, numLayers: 2, readout: "none", dtype: "float64" });
    const x = new Float64Array(3);
    const y0 = Float64Array.from(m.forward(x, 3, 1));
    const y1 = Float64Array.from(m.forward(x, 3, 1, { h0: [1, 1, 1, 1], c0: [1, -1, 1, -1] }));
    assert.notDeepEqual(y0, y1);
    const res = m.backward(new Float64Array(6).fill(1));
    assert.equal(res.dh0.length, 2);
    assert.equal(res.dc0!.length, 2);
    assert.ok((res.dh0[1] as Arr).some((v) => v !== 0));
  });
});

describe("misuse gets a clear error", () => {
  const cfg: ModelConfig = { cell: "lstm", inputSize: 2, hiddenSize: 3, outputSize: 1, seed: 1 };
  it("a disposed model refuses to compute (no reads of released memory); dispose twice is harmless", () => {
    const m = cpuModel(cfg);
    const x = new Float32Array(4 * 2 * 2).fill(0.5);
    m.forward(x, 4, 2);
    m.dispose();
    m.dispose();
    assert.equal(m.disposed, true);
    assert.throws(() => m.forward(x, 4, 2), /^Error: Model\.forward: the model was disposed; build a new one$/);
    assert.throws(() => m.backward(null), /Model\.backward: the model was disposed/);
    assert.throws(() => m.reset(), /Model\.reset: the model was disposed/);
    assert.throws(() => m.zeroGrad(), /Model\.zeroGrad: the model was disposed/);
    assert.throws(() => m.finalHidden(), /Model\.finalHidden: the model was disposed/);
  });
  it("forward(null) and other non-arrays: a TypeError naming the argument and what is expected", () => {
    const m = cpuModel(cfg);
    try {
      for (const bad of [null, undefined, 3, "abc", { a: 1 }]) {
        assert.throws(
          () => m.forward(bad as unknown as number[], 4, 2),
          (e: Error) => e instanceof TypeError && /^forward: x is \w+, expected T·B·I numbers/.test(e.message),
          String(bad),
        );
      }
      assert.throws(
        () => m.forward(new Float32Array(16), 4, 2, { h0: null as unknown as number[] }),
        /^TypeError: forward: h0 is null, expected L·B·H numbers/,
      );
      m.forward(new Float32Array(16), 4, 2, null as unknown as undefined); // null options: the defaults
      assert.throws(() => m.backward(5 as unknown as null), /^TypeError: backward: dOutput is number/);
    } finally {
      m.dispose();
    }
  });
  it("init: a negative or non-finite gain, unknown keys and unknown schemes are refused before any weight is drawn", () => {
    const bad: [unknown, RegExp][] = [
      [{ gain: -1 }, /^RangeError: init\.gain = -1, expected a finite number ≥ 0$/],
      [{ gain: NaN }, /init\.gain = NaN, expected a finite number ≥ 0/],
      [{ forget: 1 }, /^RangeError: init\.forget: unknown key, expected one of inputWeights, recurrentWeights, gain/],
      [{ forgetBias: Infinity }, /init\.forgetBias = Infinity, expected a finite number/],
      [{ bias: "ones" }, /init\.bias = "ones", expected "uniform" or "zeros"/],
      [{ recurrentWeights: { spectralRadius: 1, kind: 2 } }, /init\.recurrentWeights\.kind: unknown key/],
      [{ recurrentWeights: { spectralRadius: -1 } }, /init\.recurrentWeights\.spectralRadius = -1, expected/],
      [null, /^RangeError: init = null, expected an object/],
    ];
    for (const [init, re] of bad) {
      assert.throws(() => cpuModel({ ...cfg, init: init as ModelConfig["init"] }), re, JSON.stringify(init));
    }
    cpuModel({ ...cfg, init: { recurrentWeights: "orthogonal", gain: 0.5, forgetBias: 1 } }).dispose();
  });
});
