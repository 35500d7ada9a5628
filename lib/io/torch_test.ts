// PyTorch interchange (torch.ts), checked against PyTorch's own numbers: the fixtures in testdata/ were written by
// tools/torch_fixtures.py with torch 2.13 (see testdata/README.md). Each fixture's state dict is loaded into a Model,
// which must reproduce PyTorch's forward outputs and every gradient of the fixture loss
// (output * r).sum() + (h_n * rh).sum().
//
// The files testdata/ours_*.safetensors were written by this library (see OURS below) and checked in PyTorch with
//   /tmp/tv/bin/python tools/torch_fixtures.py check-ours lib/io/testdata/ours_lstm_i3_h5_l2_f32.state_dict.safetensors \
//     lib/io/testdata/lstm_i3_h5_l2_f32.io.safetensors
//   /tmp/tv/bin/python tools/torch_fixtures.py check-ours lib/io/testdata/ours_rnn_i3_h6_l2_f64.state_dict.safetensors \
//     lib/io/testdata/ours_rnn_i3_h6_l2_f64.io.safetensors
// The tests below rewrite them and demand the same bytes, so the output PyTorch accepted cannot drift unnoticed.
// To regenerate them after a deliberate change: LSTM_LAB_WRITE_OURS=1 deno test -A lib/io/torch_test.ts, then rerun
// the two commands above. LSTM_LAB_TORCH_REPORT=1 prints the measured errors against PyTorch.

import { cpuModel } from "../backend/cpu/model.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { CellType, DType, Kernels } from "../nn/kernels.ts";
import { loadBlas } from "../backend/cpu/blas.ts";
import { blasKernels } from "../backend/cpu/blas_kernels.ts";
import { type CpuBackendName, Model, type ModelConfig } from "../nn/model.ts";
import { Rng } from "../rng.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
  readSafetensorsFile,
  writeSafetensorsFile,
} from "./safetensors.ts";
import {
  batchFirstToTimeMajor,
  configFromStateDict,
  loadStateDict,
  loadTorchFile,
  modelFromTorchFile,
  saveTorchFile,
  stateDict,
  timeMajorToBatchFirst,
} from "./torch.ts";

const DIR = fileURLToPath(new URL("./testdata/", import.meta.url));
/** The nn.GRU fixtures of lib/nn/testdata (tools/torch_gru_fixtures.py, torch 1.13): the same x, h0, r, rh, loss. */
const NN_DIR = fileURLToPath(new URL("../nn/testdata/", import.meta.url));
const B = 3, T = 7;
const WRITE_OURS = process.env.LSTM_LAB_WRITE_OURS === "1";
const REPORT = process.env.LSTM_LAB_TORCH_REPORT === "1";

interface Fixture {
  name: string;
  cell: CellType;
  dtype: DType;
  I: number;
  H: number;
  L: number;
  /** Where the files are (default testdata/ beside this file). */
  dir?: string;
}

const FIXTURES: Fixture[] = [
  { name: "lstm_i3_h5_l2_f64", cell: "lstm", dtype: "float64", I: 3, H: 5, L: 2 },
  { name: "lstm_i3_h5_l2_f32", cell: "lstm", dtype: "float32", I: 3, H: 5, L: 2 },
  { name: "rnn_tanh_i3_h5_l2_f64", cell: "rnn", dtype: "float64", I: 3, H: 5, L: 2 },
  { name: "lstm_i2_h4_l1_f64", cell: "lstm", dtype: "float64", I: 2, H: 4, L: 1 },
  { name: "gru_i3_h5_l2_f64", cell: "gru", dtype: "float64", I: 3, H: 5, L: 2, dir: NN_DIR },
  { name: "gru_i3_h5_l2_f32", cell: "gru", dtype: "float32", I: 3, H: 5, L: 2, dir: NN_DIR },
  { name: "gru_i2_h4_l1_f64", cell: "gru", dtype: "float64", I: 2, H: 4, L: 1, dir: NN_DIR },
];

/** `list(nn.LSTM(3, 5, num_layers=2).state_dict().keys())` (the same for nn.RNN), printed by torch 2.13. */
const TORCH_KEYS_L2 = [
  "weight_ih_l0",
  "weight_hh_l0",
  "bias_ih_l0",
  "bias_hh_l0",
  "weight_ih_l1",
  "weight_hh_l1",
  "bias_ih_l1",
  "bias_hh_l1",
];

// ---- helpers --------------------------------------------------------------------------------------------------------

async function tensorsOf(file: string, dir = DIR): Promise<Map<string, NamedTensor>> {
  return (await readSafetensorsFile(join(dir, file))).tensors;
}

function get(m: Map<string, NamedTensor>, k: string): Float32Array | Float64Array {
  const t = m.get(k);
  assert.ok(t, `no tensor "${k}"`);
  return t.data;
}

function bits(a: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function fixtureModel(
  f: Fixture,
  backend: CpuBackendName,
  extra: Partial<ModelConfig> = {},
  kernels?: Kernels,
): Model {
  const config: ModelConfig = {
    cell: f.cell,
    inputSize: f.I,
    hiddenSize: f.H,
    numLayers: f.L,
    readout: "none",
    dtype: f.dtype,
    backend,
    seed: 99,
    ...extra,
  };
  return kernels === undefined ? cpuModel(config) : new Model(config, kernels);
}

interface Tolerance {
  /** Bound on |got - want| / max(floor, |want|). */
  bound: number;
  floor: number;
}

/** Forward tolerances (relative, absolute below 1): float64 1e-12, float32 1e-5. */
const FORWARD: Record<DType, Tolerance> = {
  float64: { bound: 1e-12, floor: 1 },
  float32: { bound: 1e-5, floor: 1 },
};
/** Gradient tolerances: float64 1e-10 (relative, absolute below 1); float32 1e-4 relative, absolute below 0.01. */
const GRADIENT: Record<DType, Tolerance> = {
  float64: { bound: 1e-10, floor: 1 },
  float32: { bound: 1e-4, floor: 1e-2 },
};

interface ErrorStat {
  maxAbs: number;
  maxScaled: number;
}

/** Compares element-wise; fails naming the tensor and the worst element. Returns the errors for the report. */
function compare(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance): ErrorStat {
  assert.equal(got.length, want.length, `${what}: length`);
  let maxAbs = 0, maxScaled = 0, worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    assert.ok(Number.isFinite(d), `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
    const s = d / Math.max(tol.floor, Math.abs(want[i]));
    if (s > maxScaled) [maxScaled, worst] = [s, i];
    maxAbs = Math.max(maxAbs, d);
  }
  assert.ok(
    maxScaled <= tol.bound,
    `${what}: error ${maxScaled.toExponential(2)} > ${tol.bound} at [${worst}]: got ${got[worst]}, PyTorch ${
      want[worst]
    }`,
  );
  return { maxAbs, maxScaled };
}

function concat(parts: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function sameParams(a: Model, b: Model): void {
  assert.deepEqual(a.parameters.map((p) => p.name), b.parameters.map((p) => p.name));
  for (const p of a.parameters) assert.deepEqual(bits(b.parameter(p.name).value), bits(p.value), p.name);
}

function withTmpDir<R>(fn: (dir: string) => Promise<R>): Promise<R> {
  const dir = mkdtempSync(join(tmpdir(), "lstm-lab-torch-"));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

// ---- against PyTorch: forward outputs and every gradient ----------------------------------------------------------

async function checkAgainstTorch(f: Fixture, backend: CpuBackendName, kernels?: Kernels): Promise<void> {
  const sd = await tensorsOf(`${f.name}.state_dict.safetensors`, f.dir);
  const io = await tensorsOf(`${f.name}.io.safetensors`, f.dir);
  const model = fixtureModel(f, backend, {}, kernels);
  try {
    const result = loadStateDict(model, sd);
    assert.equal(result.layout, "bare");
    assert.deepEqual(result.loaded.sort(), [...sd.keys()].sort());
    const { I, H, dtype } = f, lstm = f.cell === "lstm";
    const errors: Record<string, ErrorStat> = {};

    const x = batchFirstToTimeMajor(get(io, "x"), B, T, I);
    const y = model.forward(x, T, B, { h0: get(io, "h0"), c0: lstm ? get(io, "c0") : undefined });
    errors.output = compare("output", timeMajorToBatchFirst(y, T, B, H), get(io, "output"), FORWARD[dtype]);
    const hN = model.finalHidden(), cN = model.finalCell();
    errors.h_n = compare("h_n", hN, get(io, "h_n"), FORWARD[dtype]);
    if (lstm) errors.c_n = compare("c_n", cN, get(io, "c_n"), FORWARD[dtype]);

    // The fixture loss, from our outputs: confirms what r and rh weigh.
    const r = get(io, "r"), rh = get(io, "rh"), yBatchFirst = timeMajorToBatchFirst(y, T, B, H);
    let loss = 0;
    for (let i = 0; i < r.length; i++) loss += yBatchFirst[i] * r[i];
    for (let i = 0; i < rh.length; i++) loss += hN[i] * rh[i];
    errors.loss = compare("loss", [loss], get(io, "loss"), FORWARD[dtype]);

    model.zeroGrad();
    const g = model.backward(batchFirstToTimeMajor(r, B, T, H), {
      dhN: rh,
      dcN: lstm ? new Float64Array(rh.length) : undefined,
      inputGrad: true,
    });
    errors["grad.x"] = compare("grad.x", timeMajorToBatchFirst(g.dx!, T, B, I), get(io, "grad.x"), GRADIENT[dtype]);
    errors["grad.h0"] = compare("grad.h0", concat(g.dh0), get(io, "grad.h0"), GRADIENT[dtype]);
    if (lstm) errors["grad.c0"] = compare("grad.c0", concat(g.dc0!), get(io, "grad.c0"), GRADIENT[dtype]);
    for (const k of sd.keys()) {
      errors[`grad.${k}`] = compare(
        `grad.${k}`,
        model.parameter(`rnn.${k}`).grad,
        get(io, `grad.${k}`),
        GRADIENT[dtype],
      );
    }
    if (REPORT) report(`${f.name} (${model.kernels.name} kernels)`, errors);
  } finally {
    model.dispose();
  }
}

function report(title: string, errors: Record<string, ErrorStat>): void {
  const fwd = ["output", "h_n", "c_n", "loss", "y"].filter((k) => k in errors);
  const grads = Object.keys(errors).filter((k) => k.startsWith("grad."));
  const line = (keys: string[]) => {
    const abs = Math.max(...keys.map((k) => errors[k].maxAbs)), rel = Math.max(...keys.map((k) => errors[k].maxScaled));
    return `max |Δ| ${abs.toExponential(2)}, max scaled ${rel.toExponential(2)}`;
  };
  console.log(`${title}: forward (${fwd.join(", ")}) ${line(fwd)}`);
  if (grads.length > 0) console.log(`${title}: gradients (${grads.length}) ${line(grads)}`);
  for (const k of Object.keys(errors)) {
    console.log(`    ${k}: |Δ| ${errors[k].maxAbs.toExponential(2)}, scaled ${errors[k].maxScaled.toExponential(2)}`);
  }
}

for (const f of FIXTURES) {
  const backends: CpuBackendName[] = f.dtype === "float32" ? ["cpu", "js"] : ["js"];
  for (const backend of backends) {
    test(`${f.name} (${backend}): forward and all gradients match PyTorch`, () => checkAgainstTorch(f, backend));
  }
  // The BLAS kernels, every product in BLAS however small (skipped, saying why, where no BLAS library loads).
  const noBlas = loadBlas().blas === null;
  test(
    `${f.name} (blas kernels${
      noBlas ? ", SKIPPED: no BLAS library loads" : ""
    }): forward and all gradients match PyTorch`,
    { skip: noBlas && loadBlas().reason },
    () => checkAgainstTorch(f, "cpu", blasKernels(f.dtype, { minMacs: 0 })),
  );
}

for (const backend of ["cpu", "js"] as const) {
  test(`net_lstm_linear_f32 (${backend}): the prefixed Net state dict gives PyTorch's y`, async () => {
    const sd = await tensorsOf("net_lstm_linear_f32.state_dict.safetensors");
    const io = await tensorsOf("net_lstm_linear_f32.io.safetensors");
    const model = cpuModel({ cell: "lstm", inputSize: 2, hiddenSize: 4, outputSize: 1, readout: "last", backend });
    try {
      const result = loadStateDict(model, sd);
      assert.equal(result.layout, "prefixed");
      assert.equal(result.loaded.length, 6);
      const y = model.forward(batchFirstToTimeMajor(get(io, "x"), B, T, 2), T, B);
      const errors = { y: compare("y", y, get(io, "y"), FORWARD.float32) };
      if (REPORT) report(`net_lstm_linear_f32 (${model.kernels.name} kernels)`, errors);
    } finally {
      model.dispose();
    }
  });
}

// ---- state dict round trips and PyTorch's exact bytes ---------------------------------------------------------------

for (const f of FIXTURES) {
  test(`${f.name}: stateDict(only "rnn") has PyTorch's keys in its order and save_file's exact bytes`, async () => {
    const file = `${f.name}.state_dict.safetensors`;
    const model = fixtureModel(f, "js"), dir = f.dir ?? DIR;
    await loadTorchFile(model, join(dir, file));
    const sd = stateDict(model, { only: "rnn" });
    const want = f.L === 2 ? TORCH_KEYS_L2 : TORCH_KEYS_L2.slice(0, 4);
    assert.deepEqual([...sd.keys()], want);
    assert.deepEqual([...sd.keys()].sort(), [...(await tensorsOf(file, dir)).keys()].sort());
    assert.deepEqual(encodeSafetensors(sd), new Uint8Array(readFileSync(join(dir, file))));
  });
}

test("net_lstm_linear_f32: stateDict (prefixed) reproduces PyTorch's Net file byte for byte", async () => {
  const file = "net_lstm_linear_f32.state_dict.safetensors";
  const model = await modelFromTorchFile(join(DIR, file), { backend: "js" });
  assert.deepEqual([...stateDict(model).keys()], [
    "rnn.weight_ih_l0",
    "rnn.weight_hh_l0",
    "rnn.bias_ih_l0",
    "rnn.bias_hh_l0",
    "readout.weight",
    "readout.bias",
  ]);
  assert.deepEqual(encodeSafetensors(stateDict(model)), new Uint8Array(readFileSync(join(DIR, file))));
});

test("F64 state dict into a float32 model: converted (PyTorch's f32 fixture holds the same weights)", async () => {
  const model = fixtureModel(FIXTURES[1], "js");
  loadStateDict(model, await tensorsOf("lstm_i3_h5_l2_f64.state_dict.safetensors"));
  const sd = stateDict(model, { only: "rnn" });
  assert.equal(sd.get("weight_ih_l0")!.dtype, "F32");
  const file = readFileSync(join(DIR, "lstm_i3_h5_l2_f32.state_dict.safetensors"));
  assert.deepEqual(encodeSafetensors(sd), new Uint8Array(file));
  // and widened back to F64 it is the f64 fixture again (those weights came from float32)
  const file64 = readFileSync(join(DIR, "lstm_i3_h5_l2_f64.state_dict.safetensors"));
  assert.deepEqual(encodeSafetensors(stateDict(model, { only: "rnn", dtype: "F64" })), new Uint8Array(file64));
});

const ROUND_TRIP: ModelConfig[] = [
  { cell: "lstm", inputSize: 3, hiddenSize: 5, numLayers: 2, outputSize: 2, readout: "every", dtype: "float32" },
  { cell: "rnn", inputSize: 4, hiddenSize: 3, numLayers: 3, outputSize: 1, readout: "last", dtype: "float64" },
  { cell: "lstm", inputSize: 1, hiddenSize: 2, numLayers: 1, readout: "none", dtype: "float64" },
];

for (const config of ROUND_TRIP) {
  const label = `${config.cell} L=${config.numLayers} readout ${config.readout} ${config.dtype}`;
  test(`round trip (${label}): stateDict → encode → decode → loadStateDict gives identical parameters`, () => {
    const a = cpuModel({ ...config, seed: 1, backend: "js" });
    for (const only of [undefined, "rnn"] as const) {
      const b = cpuModel({ ...config, seed: 2, backend: "js" });
      const before = new Float64Array(b.params);
      const decoded = decodeSafetensors(encodeSafetensors(stateDict(a, { only }))).tensors;
      const result = loadStateDict(b, decoded);
      assert.equal(result.layout, only === "rnn" ? "bare" : "prefixed");
      for (const p of a.parameters) {
        const q = b.parameter(p.name);
        if (only === "rnn" && p.layer < 0) {
          assert.deepEqual(new Float64Array(q.value), before.subarray(q.offset, q.offset + q.size), `${p.name} kept`);
        } else {
          assert.deepEqual(bits(q.value), bits(p.value), p.name);
        }
      }
    }
    // Through the other dtype: F64 holds float32 exactly; F32 rounds float64 (Math.fround).
    const other = config.dtype === "float32" ? "F64" : "F32";
    const c = cpuModel({ ...config, seed: 3, backend: "js" });
    const sd = stateDict(a, { dtype: other });
    for (const t of sd.values()) assert.equal(t.dtype, other);
    loadStateDict(c, decodeSafetensors(encodeSafetensors(sd)).tensors);
    const want = other === "F64" ? a.params : a.params.map(Math.fround);
    assert.deepEqual(bits(c.params), bits(want));
  });
}

test("stateDict returns copies with PyTorch shapes", () => {
  const model = cpuModel({ cell: "lstm", inputSize: 3, hiddenSize: 5, numLayers: 2, outputSize: 2, backend: "js" });
  const sd = stateDict(model);
  assert.deepEqual(
    [...sd].map(([k, t]) => [k, t.shape]),
    [
      ["rnn.weight_ih_l0", [20, 3]],
      ["rnn.weight_hh_l0", [20, 5]],
      ["rnn.bias_ih_l0", [20]],
      ["rnn.bias_hh_l0", [20]],
      ["rnn.weight_ih_l1", [20, 5]],
      ["rnn.weight_hh_l1", [20, 5]],
      ["rnn.bias_ih_l1", [20]],
      ["rnn.bias_hh_l1", [20]],
      ["readout.weight", [2, 5]],
      ["readout.bias", [2]],
    ],
  );
  const w = sd.get("rnn.weight_ih_l0")!;
  assert.ok(w.data instanceof Float32Array && w.dtype === "F32");
  const was = model.parameter("rnn.weight_ih_l0").value[0];
  w.data[0] = 1234;
  w.shape[0] = 1;
  assert.equal(model.parameter("rnn.weight_ih_l0").value[0], was);
  assert.deepEqual(model.parameter("rnn.weight_ih_l0").shape, [20, 3]);
  assert.throws(() => stateDict(model, { only: "readout" as "rnn" }), /only = "readout", expected "rnn"/);
  assert.throws(() => stateDict(model, { dtype: "F16" as "F32" }), /dtype = "F16", expected "F32" or "F64"/);
});

// ---- files written by us, accepted by PyTorch -------------------------------------------------------------------------

const OURS_LSTM = "ours_lstm_i3_h5_l2_f32.state_dict.safetensors";
const OURS_RNN = "ours_rnn_i3_h6_l2_f64";
const OURS_RNN_CONFIG: ModelConfig = {
  cell: "rnn",
  inputSize: 3,
  hiddenSize: 6,
  numLayers: 2,
  outputSize: 2,
  readout: "last",
  dtype: "float64",
  backend: "js",
  seed: 12,
};

/** Our file for the lstm_i3_h5_l2_f32 fixture's LSTM: saveTorchFile(only "rnn") of the model loaded from it. */
async function writeOursLstm(dir: string): Promise<void> {
  const model = fixtureModel(FIXTURES[1], "js");
  await loadTorchFile(model, join(DIR, "lstm_i3_h5_l2_f32.state_dict.safetensors"));
  await saveTorchFile(model, join(dir, OURS_LSTM), { only: "rnn" });
}

/**
 * A freshly initialised (seeded) 2-layer tanh RNN with a readout at the last step, saved whole (prefixed keys), and
 * an io file with our outputs on seeded inputs, batch-first as check-ours reads them: x (B, T, I), h0 (L, B, H),
 * output (B, T, H) and h_n (L, B, H) of the RNN, y (B, O) of the readout.
 */
async function writeOursRnn(dir: string): Promise<void> {
  const c = OURS_RNN_CONFIG, I = c.inputSize, H = c.hiddenSize, L = c.numLayers!, O = c.outputSize!;
  const model = cpuModel(c);
  const rng = new Rng(13);
  const x = rng.fillNormal(new Float64Array(B * T * I));
  const h0 = rng.fillNormal(new Float64Array(L * B * H), 0, 0.5);
  const y = new Float64Array(model.forward(batchFirstToTimeMajor(x, B, T, I), T, B, { h0 }));
  const rnn = cpuModel({ ...c, readout: "none", seed: 0 });
  loadStateDict(rnn, stateDict(model, { only: "rnn" }));
  const output = timeMajorToBatchFirst(rnn.forward(batchFirstToTimeMajor(x, B, T, I), T, B, { h0 }), T, B, H);
  const hN = rnn.finalHidden();
  assert.deepEqual(hN, model.finalHidden());
  await saveTorchFile(model, join(dir, `${OURS_RNN}.state_dict.safetensors`));
  await writeSafetensorsFile(join(dir, `${OURS_RNN}.io.safetensors`), {
    x: { dtype: "F64", shape: [B, T, I], data: x },
    h0: { dtype: "F64", shape: [L, B, H], data: h0 },
    output: { dtype: "F64", shape: [B, T, H], data: output },
    h_n: { dtype: "F64", shape: [L, B, H], data: hN },
    y: { dtype: "F64", shape: [B, O], data: y },
  });
}

if (WRITE_OURS) {
  test("(LSTM_LAB_WRITE_OURS) rewrite testdata/ours_*.safetensors", async () => {
    await writeOursLstm(DIR);
    await writeOursRnn(DIR);
  });
}

test(`${OURS_LSTM}: saveTorchFile reproduces the file PyTorch accepted, byte for byte`, () =>
  withTmpDir(async (dir) => {
    await writeOursLstm(dir);
    assert.deepEqual(readFileSync(join(dir, OURS_LSTM)), readFileSync(join(DIR, OURS_LSTM)));
    // Apart from the metadata, it is PyTorch's own state dict file.
    const ours = await readSafetensorsFile(join(DIR, OURS_LSTM));
    assert.deepEqual(ours.metadata, {
      format: "pt",
      cell: "lstm",
      inputSize: "3",
      hiddenSize: "5",
      numLayers: "2",
      outputSize: "0",
      readout: "none",
    });
    assert.deepEqual(
      encodeSafetensors(ours.tensors),
      new Uint8Array(readFileSync(join(DIR, "lstm_i3_h5_l2_f32.state_dict.safetensors"))),
    );
  }));

test(`${OURS_RNN}: our RNN file and its io file are reproduced byte for byte`, () =>
  withTmpDir(async (dir) => {
    await writeOursRnn(dir);
    for (const suffix of [".state_dict.safetensors", ".io.safetensors"]) {
      const file = OURS_RNN + suffix;
      assert.deepEqual(readFileSync(join(dir, file)), readFileSync(join(DIR, file)), file);
    }
  }));

test(`modelFromTorchFile rebuilds ${OURS_RNN} from its metadata and reproduces y exactly`, async () => {
  const model = await modelFromTorchFile(join(DIR, `${OURS_RNN}.state_dict.safetensors`), { backend: "js" });
  const { seed: _s, backend: _b, ...want } = OURS_RNN_CONFIG;
  const { seed: _s2, backend: _b2, init: _i, threads: _t, kernels: _k, ...got } = model.config;
  assert.deepEqual(got, want);
  sameParams(model, cpuModel(OURS_RNN_CONFIG));
  const io = await tensorsOf(`${OURS_RNN}.io.safetensors`);
  const y = model.forward(batchFirstToTimeMajor(get(io, "x"), B, T, 3), T, B, { h0: get(io, "h0") });
  assert.deepEqual(bits(new Float64Array(y)), bits(get(io, "y")));
});

test("modelFromTorchFile infers an nn.LSTM / nn.GRU / nn.RNN from PyTorch's keys and shapes (no metadata)", async () => {
  for (const f of FIXTURES) {
    const file = join(f.dir ?? DIR, `${f.name}.state_dict.safetensors`);
    assert.deepEqual((await readSafetensorsFile(file)).metadata, {});
    const model = await modelFromTorchFile(file, { backend: "js" });
    const c = model.config;
    assert.deepEqual([c.cell, c.inputSize, c.hiddenSize, c.numLayers, c.readout, c.dtype], [
      f.cell,
      f.I,
      f.H,
      f.L,
      "none",
      f.dtype,
    ]);
    const io = await tensorsOf(`${f.name}.io.safetensors`, f.dir);
    const lstm = f.cell === "lstm";
    const y = model.forward(batchFirstToTimeMajor(get(io, "x"), B, T, f.I), T, B, {
      h0: get(io, "h0"),
      c0: lstm ? get(io, "c0") : undefined,
    });
    compare(`${f.name} output`, timeMajorToBatchFirst(y, T, B, f.H), get(io, "output"), FORWARD[f.dtype]);
  }
  // A prefixed Net file without metadata: the readout's size comes from readout.weight, its placement is "last".
  const net = await modelFromTorchFile(join(DIR, "net_lstm_linear_f32.state_dict.safetensors"), { backend: "js" });
  assert.equal(net.config.readout, "last");
  assert.equal(net.config.outputSize, 1);
  const io = await tensorsOf("net_lstm_linear_f32.io.safetensors");
  compare("net y", net.forward(batchFirstToTimeMajor(get(io, "x"), B, T, 2), T, B), get(io, "y"), FORWARD.float32);
  // overrides win, and the tensors are converted
  const f64 = await modelFromTorchFile(join(DIR, "lstm_i3_h5_l2_f32.state_dict.safetensors"), { dtype: "float64" });
  assert.equal(f64.config.dtype, "float64");
  assert.equal(f64.kernels.dtype, "float64");
  f64.dispose();
});

test("configFromStateDict: metadata wins over inference; unsupported modules are named", async () => {
  const { tensors } = await readSafetensorsFile(join(DIR, "lstm_i2_h4_l1_f64.state_dict.safetensors"));
  assert.deepEqual(configFromStateDict(tensors), {
    cell: "lstm",
    inputSize: 2,
    hiddenSize: 4,
    numLayers: 1,
    outputSize: 0,
    readout: "none",
    dtype: "float64",
  });
  const net = (await readSafetensorsFile(join(DIR, "net_lstm_linear_f32.state_dict.safetensors"))).tensors;
  assert.equal(configFromStateDict(net, { readout: "every" }).readout, "every");
  assert.throws(() => configFromStateDict(net, { numLayers: "two" }), /metadata numLayers = "two", expected a non/);
  assert.throws(
    () => configFromStateDict(net, { cell: "lru" }),
    /metadata cell = "lru", expected "lstm", "rnn" or "gru"/,
  );
  // Metadata that contradicts the tensors (a 2 KB file claiming 30000 layers would stall model construction).
  assert.throws(
    () => configFromStateDict(tensors, { numLayers: "30000" }),
    /metadata numLayers = "30000", but the tensors say 1 \(keys .*\); the file is inconsistent/,
  );
  assert.throws(
    () => configFromStateDict(tensors, { hiddenSize: "4096" }),
    /metadata hiddenSize = "4096", but the tensors say 4/,
  );
  assert.throws(
    () => configFromStateDict(tensors, { cell: "rnn" }),
    /metadata cell = "rnn", but the tensors say "lstm"/,
  );
  assert.throws(
    () => configFromStateDict(net, { outputSize: "7" }),
    /metadata outputSize = "7", but the tensors say 1/,
  );
  const t = (shape: number[]): NamedTensor => ({
    dtype: "F32",
    shape,
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  });
  const gru = new Map([["weight_ih_l0", t([15, 2])], ["weight_hh_l0", t([15, 5])]]);
  assert.equal(configFromStateDict(gru).cell, "gru"); // 3H rows: an nn.GRU
  const odd = new Map([["weight_ih_l0", t([10, 2])], ["weight_hh_l0", t([10, 5])]]);
  assert.throws(() => configFromStateDict(odd), /2·H rows .*expected 4H rows \(an nn\.LSTM\), 3H \(an nn\.GRU\)/);
  const bi = new Map([["weight_ih_l0", t([20, 2])], ["weight_hh_l0", t([20, 5])], [
    "weight_ih_l0_reverse",
    t([20, 2]),
  ]]);
  assert.throws(() => configFromStateDict(bi), /"weight_ih_l0_reverse" is from a bidirectional module/);
  assert.throws(() => configFromStateDict(new Map([["w", t([1])]])), /no key looks like an nn\.LSTM\/nn\.RNN/);
});

// ---- errors ---------------------------------------------------------------------------------------------------------

async function lstmDict(): Promise<Map<string, NamedTensor>> {
  return await tensorsOf("lstm_i3_h5_l2_f32.state_dict.safetensors");
}

function lstmModel(extra: Partial<ModelConfig> = {}): Model {
  return fixtureModel(FIXTURES[1], "js", extra);
}

test("loadStateDict: a wrong shape names the key, the shape found and the shape expected; nothing is changed", async () => {
  const model = lstmModel({ inputSize: 4 });
  const before = new Float32Array(model.params);
  assert.throws(() => loadStateDict(model, new Map()), /no key looks like .*; got an empty state dict/);
  const sd = await lstmDict();
  assert.throws(
    () => loadStateDict(model, sd),
    /"weight_ih_l0" has shape \[20, 3\], expected \[20, 4\] = \(4·hiddenSize, inputSize\)/,
  );
  assert.deepEqual(model.params, before);
  const net = await tensorsOf("net_lstm_linear_f32.state_dict.safetensors");
  const wide = cpuModel({ cell: "lstm", inputSize: 2, hiddenSize: 4, outputSize: 3, backend: "js" });
  assert.throws(() => loadStateDict(wide, net), /"readout\.weight" has shape \[1, 4\], expected \[3, 4\]/);
  assert.throws(() => loadStateDict(wide, net, { strict: false }), /"readout\.bias" has shape \[1\], expected \[3\]/);
  const bad = new Map(await lstmDict());
  bad.set("bias_ih_l0", { dtype: "F32", shape: [20], data: new Float32Array(19) });
  assert.throws(() => loadStateDict(lstmModel(), bad), /"bias_ih_l0" has shape \[20\] \(20 values\) but 19 data/);
});

test("loadStateDict: missing and unexpected keys are errors with strict, reported without", async () => {
  const sd = await lstmDict();
  sd.delete("bias_hh_l1");
  const model = lstmModel();
  const before = new Float32Array(model.params);
  assert.throws(() => loadStateDict(model, sd), /missing key\(s\): "bias_hh_l1"/);
  assert.deepEqual(model.params, before);
  const result = loadStateDict(model, sd, { strict: false });
  assert.deepEqual(result.missing, ["bias_hh_l1"]);
  assert.equal(result.loaded.length, 7);
  assert.deepEqual(model.parameter("rnn.bias_hh_l1").value, before.subarray(before.length - 20));
  assert.deepEqual(model.parameter("rnn.bias_ih_l1").value, sd.get("bias_ih_l1")!.data);

  const three = await lstmDict();
  three.set("weight_ih_l2", { dtype: "F32", shape: [20, 5], data: new Float32Array(100) });
  three.set("extra", { dtype: "F32", shape: [1], data: new Float32Array(1) });
  assert.throws(
    () => loadStateDict(lstmModel(), three),
    (e: Error) =>
      /unexpected key\(s\): "weight_ih_l2", "extra"/.test(e.message) &&
      /the state dict has 3 layer\(s\), the model 2/.test(e.message),
  );
  assert.deepEqual(loadStateDict(lstmModel(), three, { strict: false }).unexpected, ["weight_ih_l2", "extra"]);

  // The readout keys of a prefixed dict are unexpected in a model without readout.
  const net = await tensorsOf("net_lstm_linear_f32.state_dict.safetensors");
  const bare = cpuModel({ cell: "lstm", inputSize: 2, hiddenSize: 4, readout: "none", backend: "js" });
  assert.throws(() => loadStateDict(bare, net), /unexpected key\(s\): "readout\.bias", "readout\.weight"/);
  // A bare dict leaves the readout alone; a prefixed dict without readout keys misses them.
  const withReadout = cpuModel({ cell: "lstm", inputSize: 3, hiddenSize: 5, numLayers: 2, outputSize: 2 });
  const readout = new Float32Array(withReadout.parameter("readout.weight").value);
  assert.equal(loadStateDict(withReadout, await lstmDict()).layout, "bare");
  assert.deepEqual(withReadout.parameter("readout.weight").value, readout);
  const prefixed = new Map([...(await lstmDict())].map(([k, t]) => [`rnn.${k}`, t]));
  assert.throws(() => loadStateDict(withReadout, prefixed), /missing key\(s\): "readout\.weight", "readout\.bias"/);
  withReadout.dispose();
  // Mixed layouts are refused.
  const mixed = new Map([...prefixed, ...(await lstmDict())]);
  assert.throws(() => loadStateDict(lstmModel(), mixed), /mixes bare nn\.LSTM\/nn\.RNN keys .* and prefixed keys/);
});

test("loadStateDict: an nn.LSTM dict into an RNN model (4H rows vs H) says the cell types differ", async () => {
  const rnn = cpuModel({ cell: "rnn", inputSize: 3, hiddenSize: 5, numLayers: 2, readout: "none", backend: "js" });
  const sd = await lstmDict();
  assert.throws(
    () => loadStateDict(rnn, sd),
    /cell types differ: the state dict holds an LSTM \(nn\.LSTM: 4 gates, 4H rows\) \("weight_hh_l0" has shape \[20, 5\].*but the model's cell is "rnn"/,
  );
  const rnnDict = await tensorsOf("rnn_tanh_i3_h5_l2_f64.state_dict.safetensors");
  assert.throws(
    () => loadStateDict(lstmModel(), rnnDict),
    /cell types differ: the state dict holds a vanilla RNN \(nn\.RNN: H rows\).*but the model's cell is "lstm"/,
  );
  // Also when the hidden sizes differ as well (an LSTM with H = 5 has 20 rows, like an RNN with H = 20).
  const wide = cpuModel({ cell: "rnn", inputSize: 3, hiddenSize: 20, numLayers: 2, readout: "none", backend: "js" });
  assert.throws(() => loadStateDict(wide, sd), /cell types differ/);
  await assert.rejects(
    () => loadTorchFile(rnn, join(DIR, "lstm_i3_h5_l2_f64.state_dict.safetensors")),
    /cell types differ/,
  );
});

test("saveTorchFile / loadTorchFile: a file round trip, extra metadata, reserved keys refused", () =>
  withTmpDir(async (dir) => {
    const a = cpuModel({ cell: "lstm", inputSize: 2, hiddenSize: 3, outputSize: 2, readout: "every", seed: 4 });
    const path = join(dir, "a.safetensors");
    await saveTorchFile(a, path, { metadata: { note: "hello" } });
    const { metadata } = await readSafetensorsFile(path);
    assert.deepEqual(metadata, {
      format: "pt",
      cell: "lstm",
      inputSize: "2",
      hiddenSize: "3",
      numLayers: "1",
      outputSize: "2",
      readout: "every",
      note: "hello",
    });
    const b = cpuModel({ cell: "lstm", inputSize: 2, hiddenSize: 3, outputSize: 2, readout: "every", seed: 5 });
    assert.equal((await loadTorchFile(b, path)).layout, "prefixed");
    sameParams(a, b);
    const c = await modelFromTorchFile(path);
    assert.equal(c.config.readout, "every");
    sameParams(a, c);
    await assert.rejects(() => saveTorchFile(a, path, { metadata: { cell: "rnn" } }), /metadata "cell" is written/);
    // A file that does not fit the model is refused by modelFromTorchFile with loadStateDict's message.
    await assert.rejects(() => modelFromTorchFile(path, { hiddenSize: 4 }), /"rnn\.weight_hh_l0" has shape \[12, 3\]/);
    for (const m of [a, b, c]) m.dispose();
  }));

test("batchFirstToTimeMajor / timeMajorToBatchFirst: layouts, element types, inverse, length check", () => {
  // x[b][t][f] = 100 b + 10 t + f
  const Bn = 2, Tn = 3, F = 2, x = new Float32Array(Bn * Tn * F);
  for (let b = 0; b < Bn; b++) {
    for (let t = 0; t < Tn; t++) {
      for (let f = 0; f < F; f++) {
        x[(b * Tn + t) * F + f] = 100 * b + 10 * t + f;
      }
    }
  }
  const tm = batchFirstToTimeMajor(x, Bn, Tn, F);
  assert.ok(tm instanceof Float32Array);
  for (let t = 0; t < Tn; t++) {
    for (let b = 0; b < Bn; b++) {
      for (let f = 0; f < F; f++) {
        assert.equal(tm[(t * Bn + b) * F + f], 100 * b + 10 * t + f);
      }
    }
  }
  assert.deepEqual(timeMajorToBatchFirst(tm, Tn, Bn, F), x);
  const plain = batchFirstToTimeMajor([1, 2, 3, 4, 5, 6], 2, 3, 1);
  assert.ok(plain instanceof Float64Array);
  assert.deepEqual([...plain], [1, 4, 2, 5, 3, 6]);
  assert.ok(timeMajorToBatchFirst(new Float64Array(6), 3, 2, 1) instanceof Float64Array);
  assert.throws(() => batchFirstToTimeMajor(x, 2, 3, 3), /has 12 values, expected B·T·F = 2·3·3 = 18/);
  assert.throws(() => timeMajorToBatchFirst(x, 1.5, 2, 4), /T = 1.5, expected an integer/);
});
