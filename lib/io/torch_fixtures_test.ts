// Checks that our safetensors decoder reads the files the real `safetensors` library wrote
// (tools/torch_fixtures.py; see testdata/README.md), and that our encoder writes them back byte for byte.
// The numeric comparison of these fixtures against our own LSTM/RNN lives with the PyTorch interchange code.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { decodeSafetensors, encodeSafetensors, type NamedTensor, readSafetensorsFile } from "./safetensors.ts";

const DIR = new URL("./testdata/", import.meta.url);
const B = 3, T = 7;

type Shapes = Record<string, number[]>;

interface RecurrentFixture {
  name: string;
  kind: "LSTM" | "RNN";
  dtype: "F32" | "F64";
  I: number;
  H: number;
  L: number;
}

const RECURRENT: RecurrentFixture[] = [
  { name: "lstm_i3_h5_l2_f64", kind: "LSTM", dtype: "F64", I: 3, H: 5, L: 2 },
  { name: "lstm_i3_h5_l2_f32", kind: "LSTM", dtype: "F32", I: 3, H: 5, L: 2 },
  { name: "rnn_tanh_i3_h5_l2_f64", kind: "RNN", dtype: "F64", I: 3, H: 5, L: 2 },
  { name: "lstm_i2_h4_l1_f64", kind: "LSTM", dtype: "F64", I: 2, H: 4, L: 1 },
];

/** PyTorch's parameter names and shapes for nn.LSTM / nn.RNN. */
function paramShapes({ kind, I, H, L }: RecurrentFixture): Shapes {
  const G = kind === "LSTM" ? 4 * H : H;
  const out: Shapes = {};
  for (let l = 0; l < L; l++) {
    out[`weight_ih_l${l}`] = [G, l === 0 ? I : H];
    out[`weight_hh_l${l}`] = [G, H];
    out[`bias_ih_l${l}`] = [G];
    out[`bias_hh_l${l}`] = [G];
  }
  return out;
}

function ioShapes(f: RecurrentFixture): Shapes {
  const { I, H, L } = f;
  const out: Shapes = {
    x: [B, T, I],
    h0: [L, B, H],
    output: [B, T, H],
    h_n: [L, B, H],
    r: [B, T, H],
    rh: [L, B, H],
    loss: [],
    "grad.x": [B, T, I],
    "grad.h0": [L, B, H],
  };
  if (f.kind === "LSTM") Object.assign(out, { c0: [L, B, H], c_n: [L, B, H], "grad.c0": [L, B, H] });
  for (const [k, s] of Object.entries(paramShapes(f))) out[`grad.${k}`] = s;
  return out;
}

function assertShapes(tensors: Map<string, NamedTensor>, want: Shapes, dtype: "F32" | "F64", file: string): void {
  assert.deepEqual([...tensors.keys()].sort(), Object.keys(want).sort(), `${file}: keys`);
  for (const [k, shape] of Object.entries(want)) {
    const t = tensors.get(k)!;
    assert.equal(t.dtype, dtype, `${file}: ${k} dtype`);
    assert.ok(t.data instanceof (dtype === "F32" ? Float32Array : Float64Array), `${file}: ${k} array type`);
    assert.equal(t.sourceDType, undefined);
    assert.deepEqual(t.shape, shape, `${file}: ${k} shape`);
    assert.equal(t.data.length, shape.reduce((p, d) => p * d, 1), `${file}: ${k} length`);
    for (const v of t.data) assert.ok(Number.isFinite(v), `${file}: ${k} has a non-finite value`);
  }
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** The file's bytes, and the bytes our encoder produces for what our decoder read from it. */
function reencode(file: string): { original: Uint8Array; ours: Uint8Array } {
  const original = new Uint8Array(readFileSync(new URL(file, DIR)));
  const { tensors, metadata } = decodeSafetensors(original);
  const hasMetadata = Object.keys(metadata).length > 0;
  return { original, ours: encodeSafetensors(tensors, hasMetadata ? metadata : undefined) };
}

for (const f of RECURRENT) {
  test(`${f.name}: state_dict has PyTorch's ${f.kind} parameter names, shapes and dtype`, async () => {
    const file = `${f.name}.state_dict.safetensors`;
    const { tensors, metadata } = await readSafetensorsFile(new URL(file, DIR));
    assertShapes(tensors, paramShapes(f), f.dtype, file);
    assert.deepEqual(metadata, {});
  });

  test(`${f.name}: io has inputs, outputs, loss weights and every gradient, and loss matches its definition`, async () => {
    const file = `${f.name}.io.safetensors`;
    const { tensors } = await readSafetensorsFile(new URL(file, DIR));
    assertShapes(tensors, ioShapes(f), f.dtype, file);
    const get = (k: string) => tensors.get(k)!.data;
    // loss = (output * r).sum() + (h_n * rh).sum(): a numeric check that the decoder put every value in its place.
    const loss = dot(get("output"), get("r")) + dot(get("h_n"), get("rh"));
    assert.ok(Math.abs(loss - get("loss")[0]) <= (f.dtype === "F64" ? 1e-12 : 1e-4) * (1 + Math.abs(loss)));
    // h_n of the last layer is output at the last time step (batch_first).
    const out = get("output"), hn = get("h_n");
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < f.H; j++) {
        assert.equal(hn[((f.L - 1) * B + b) * f.H + j], out[(b * T + T - 1) * f.H + j]);
      }
    }
    for (const k of ["h0", "grad.x", "grad.h0", "grad.weight_hh_l0"]) {
      assert.ok(get(k).some((v) => v !== 0), `${file}: ${k} is all zeros`);
    }
  });
}

test("net_lstm_linear_f32: state_dict has rnn.* and readout.* keys, io has x and y", async () => {
  const sd = await readSafetensorsFile(new URL("net_lstm_linear_f32.state_dict.safetensors", DIR));
  assertShapes(
    sd.tensors,
    {
      "rnn.weight_ih_l0": [16, 2],
      "rnn.weight_hh_l0": [16, 4],
      "rnn.bias_ih_l0": [16],
      "rnn.bias_hh_l0": [16],
      "readout.weight": [1, 4],
      "readout.bias": [1],
    },
    "F32",
    "net_lstm_linear_f32.state_dict.safetensors",
  );
  const io = await readSafetensorsFile(new URL("net_lstm_linear_f32.io.safetensors", DIR));
  assertShapes(io.tensors, { x: [B, T, 2], y: [B, 1] }, "F32", "net_lstm_linear_f32.io.safetensors");
});

test("dtypes.safetensors: F16 and BF16 written by PyTorch decode to exactly PyTorch's float32 values", async () => {
  const { tensors } = await readSafetensorsFile(new URL("dtypes.safetensors", DIR));
  const pairs = ["f16.special", "f16.random", "bf16.special", "bf16.random"];
  assert.deepEqual(
    [...tensors.keys()].sort(),
    [...pairs, ...pairs.map((p) => `${p}.as_f32`), "f16.scalar", "bf16.empty"].sort(),
  );
  for (const p of pairs) {
    const half = tensors.get(p)!, ref = tensors.get(`${p}.as_f32`)!;
    assert.equal(half.dtype, "F32");
    assert.equal(half.sourceDType, p.startsWith("bf16") ? "BF16" : "F16");
    assert.ok(half.data instanceof Float32Array);
    assert.equal(ref.sourceDType, undefined);
    assert.deepEqual(half.shape, ref.shape);
    assert.deepEqual(new Uint8Array(half.data.buffer), new Uint8Array(ref.data.buffer), p); // bit-exact, incl. -0
  }
  assert.deepEqual(tensors.get("f16.special")!.shape, [10]);
  assert.deepEqual(tensors.get("f16.random")!.shape, [2, 3, 4]);
  assert.deepEqual(tensors.get("bf16.random")!.shape, [5, 2]);
  const scalar = tensors.get("f16.scalar")!;
  assert.deepEqual([scalar.shape, scalar.sourceDType, [...scalar.data]], [[], "F16", [-0.5]]);
  const empty = tensors.get("bf16.empty")!;
  assert.deepEqual([empty.shape, empty.sourceDType, empty.data.length], [[0, 3], "BF16", 0]);
});

test("encoder_reference.safetensors: special values, scalars, empty tensors and unicode names decode", async () => {
  const { tensors } = await readSafetensorsFile(new URL("encoder_reference.safetensors", DIR));
  assert.deepEqual(
    [...tensors.keys()],
    // safetensors' own order: F64 first, then F32, each by name in UTF-8 byte order
    ["", "Beta", "empty.f64", "scalar.f64", "zeta", "alpha", "beta", "empty.f32", "layer.0.weight_ih_l0", "scalar.f32"]
      .concat(["é", "\uffff", "😀"]),
  );
  assert.deepEqual([...tensors.get("Beta")!.data], [NaN, Infinity, -Infinity, -0, 0, 5e-324]);
  assert.deepEqual([...tensors.get("beta")!.data], [NaN, Infinity, -Infinity, -0, Math.fround(1e-45)]);
  assert.deepEqual(tensors.get("scalar.f32")!.shape, []);
  assert.deepEqual([...tensors.get("scalar.f64")!.data], [-1 / 3]);
  assert.deepEqual(tensors.get("empty.f64")!.shape, [2, 0]);
  assert.deepEqual(tensors.get("layer.0.weight_ih_l0")!.shape, [3, 1, 2]);
});

test("our encoder reproduces every F32/F64 fixture byte for byte (same layout as safetensors.torch.save_file)", () => {
  const files = [
    "encoder_reference.safetensors",
    "net_lstm_linear_f32.state_dict.safetensors",
    "net_lstm_linear_f32.io.safetensors",
    ...RECURRENT.flatMap((f) => [`${f.name}.state_dict.safetensors`, `${f.name}.io.safetensors`]),
  ];
  for (const file of files) {
    const { original, ours } = reencode(file);
    assert.equal(ours.length, original.length, `${file}: length`);
    assert.ok(ours.every((b, i) => b === original[i]), `${file}: bytes differ`);
  }
});
