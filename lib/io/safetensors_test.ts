import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
  readSafetensorsFile,
  writeSafetensorsFile,
} from "./safetensors.ts";

// ---- helpers --------------------------------------------------------------------------------------------------------

/** Bytes of a typed array, for bit-exact comparisons (NaN payloads, -0). */
function bits(a: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function assertSameTensor(got: NamedTensor | undefined, want: NamedTensor, name: string): void {
  assert.ok(got, `missing tensor ${name}`);
  assert.equal(got.dtype, want.dtype, name);
  assert.deepEqual(got.shape, want.shape, name);
  assert.equal(got.data.constructor, want.data.constructor, name);
  assert.deepEqual(bits(got.data), bits(want.data), name);
}

/** A file from a raw header string and data bytes, padded like the reference implementation unless `pad` is false. */
function rawFile(header: string, data: ArrayLike<number> = [], pad = true): Uint8Array {
  let json = new TextEncoder().encode(header);
  if (pad) {
    const padded = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function headerOf(bytes: Uint8Array): string {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

const F32_SPECIALS = Float32Array.of(NaN, Infinity, -Infinity, -0, 0, 1.5, -3.25e-38, 1e-45, 3.4028234663852886e38);
const F64_SPECIALS = Float64Array.of(NaN, Infinity, -Infinity, -0, 0, Math.PI, -5e-324, Number.MAX_VALUE, 1e-300);

// ---- round trips ----------------------------------------------------------------------------------------------------

test("F32 and F64 round trip bit-exactly, including NaN payloads, infinities, -0 and subnormals", () => {
  const nanPayload = new Float32Array(new Uint32Array([0x7fc00001, 0xffa00000]).buffer); // quiet NaN with payload, -sNaN
  const nan64 = new Float64Array(new BigUint64Array([0x7ff8000000000123n, 0xfff0000000000001n]).buffer);
  const tensors: Record<string, NamedTensor> = {
    specials32: { dtype: "F32", shape: [3, 3], data: F32_SPECIALS },
    specials64: { dtype: "F64", shape: [9], data: F64_SPECIALS },
    nan32: { dtype: "F32", shape: [2], data: nanPayload },
    nan64: { dtype: "F64", shape: [2, 1], data: nan64 },
    big: { dtype: "F32", shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => i / 7 - 1) },
  };
  const got = decodeSafetensors(encodeSafetensors(tensors));
  assert.equal(got.tensors.size, 5);
  for (const [name, t] of Object.entries(tensors)) assertSameTensor(got.tensors.get(name), t, name);
  assert.deepEqual(got.metadata, {});
});

test("scalars (shape []) and empty tensors (a zero dimension) round trip", () => {
  const tensors = new Map<string, NamedTensor>([
    ["scalar32", { dtype: "F32", shape: [], data: Float32Array.of(-2.5) }],
    ["scalar64", { dtype: "F64", shape: [], data: Float64Array.of(1 / 3) }],
    ["empty32", { dtype: "F32", shape: [0], data: new Float32Array(0) }],
    ["empty64", { dtype: "F64", shape: [3, 0, 2], data: new Float64Array(0) }],
  ]);
  const bytes = encodeSafetensors(tensors);
  const got = decodeSafetensors(bytes);
  for (const [name, t] of tensors) assertSameTensor(got.tensors.get(name), t, name);
  assert.match(headerOf(bytes), /"scalar32":\{"dtype":"F32","shape":\[\],"data_offsets":\[\d+,\d+\]\}/);
});

test("an empty dict round trips; with no metadata the header is just {} padded to 8 bytes", () => {
  const bytes = encodeSafetensors({});
  assert.deepEqual([...bytes], [8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]);
  const got = decodeSafetensors(bytes);
  assert.equal(got.tensors.size, 0);
  assert.deepEqual(got.metadata, {});
});

test("metadata round trips, in the order given, with unicode and escapes; {} is written as an empty object", () => {
  const metadata = { format: "pt", "note é😀": 'quote " backslash \\ newline \n tab \t ctrl \u0001', __proto__x: "" };
  const got = decodeSafetensors(
    encodeSafetensors({ w: { dtype: "F32", shape: [1], data: Float32Array.of(1) } }, metadata),
  );
  assert.deepEqual(got.metadata, metadata);
  assert.deepEqual(Object.keys(got.metadata), Object.keys(metadata));
  assert.equal(headerOf(encodeSafetensors({}, {})).trimEnd(), '{"__metadata__":{}}');
  // A key named __proto__ stays an own property instead of changing the prototype.
  const proto = decodeSafetensors(rawFile('{"__metadata__":{"__proto__":"x"}}')).metadata;
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepEqual(Object.entries(proto), [["__proto__", "x"]]);
});

test("the layout matches the reference implementation: F64 before F32, then names in UTF-8 byte order", () => {
  const one32 = (): NamedTensor => ({ dtype: "F32", shape: [1], data: Float32Array.of(1) });
  const one64 = (): NamedTensor => ({ dtype: "F64", shape: [1], data: Float64Array.of(1) });
  // UTF-16 order would put "😀" (D83D...) before "\uffff"; UTF-8 order (F0... vs EF...) puts it after.
  const bytes = encodeSafetensors({
    "😀": one32(),
    "\uffff": one32(),
    b: one32(),
    a: one32(),
    z64: one64(),
    A: one64(),
  });
  const header = headerOf(bytes);
  assert.equal(
    header,
    '{"A":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"z64":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},' +
      '"a":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},"b":{"dtype":"F32","shape":[1],"data_offsets":[20,24]},' +
      '"\uffff":{"dtype":"F32","shape":[1],"data_offsets":[24,28]},"😀":{"dtype":"F32","shape":[1],"data_offsets":[28,32]}}' +
      " ".repeat(header.length - header.trimEnd().length),
  );
  assert.equal(new TextEncoder().encode(header).length % 8, 0);
  assert.deepEqual([...decodeSafetensors(bytes).tensors.keys()], ["A", "z64", "a", "b", "\uffff", "😀"]);
  // Names are escaped as JSON (control characters as \u00XX), like serde_json.
  assert.match(headerOf(encodeSafetensors({ "c\u001fd": one32() })), /^\{"c\\u001fd":/);
});

test("decoded data is copied into aligned arrays even when the data section is unaligned and the input is a view", () => {
  // A hand-made header of odd length (no padding) puts the data at an odd file offset.
  const file = rawFile(
    '{"x":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}',
    bits(Float64Array.of(1.25, -7)),
    false,
  );
  assert.notEqual((file.length - 16) % 8, 0);
  const backing = new Uint8Array(file.length + 3);
  backing.set(file, 3);
  const view = backing.subarray(3);
  const x = decodeSafetensors(view).tensors.get("x")!;
  assert.ok(x.data instanceof Float64Array);
  assert.deepEqual([...x.data], [1.25, -7]);
  assert.notEqual(x.data.buffer, backing.buffer); // a copy, not a view into the file
  backing.fill(0);
  assert.deepEqual([...x.data], [1.25, -7]);
});

test("decoding tolerates what the reference accepts: any key order, extra entry fields, leading whitespace", () => {
  const data = bits(Float32Array.of(1, 2));
  const got = decodeSafetensors(
    rawFile(
      ' \n{"b":{"shape":[1],"data_offsets":[4,8],"dtype":"F32","extra":[1,{"k":null}]},' +
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "e":{"dtype":"F64","shape":[0],"data_offsets":[8,8]}}',
      data,
    ),
  );
  assert.deepEqual([...got.tensors.keys()], ["a", "b", "e"]); // file (offset) order
  assert.deepEqual([...got.tensors.get("b")!.data], [2]);
  assert.equal(decodeSafetensors(rawFile('{"__metadata__":null}')).tensors.size, 0);
});

test("write and read files with the node:fs helpers", async () => {
  const dir = mkdtempSync(join(tmpdir(), "safetensors-test-"));
  try {
    const path = join(dir, "t.safetensors");
    const w: NamedTensor = { dtype: "F64", shape: [2, 2], data: Float64Array.of(1, -0, NaN, 4) };
    await writeSafetensorsFile(path, { w }, { step: "3" });
    const got = await readSafetensorsFile(path);
    assertSameTensor(got.tensors.get("w"), w, "w");
    assert.deepEqual(got.metadata, { step: "3" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- F16 / BF16 -----------------------------------------------------------------------------------------------------

/** Little-endian bytes of 16-bit words. */
function words(...w: number[]): Uint8Array {
  return new Uint8Array(Uint16Array.from(w).buffer);
}

test("F16 decodes to exact F32 values: normals, subnormals, extremes, ±0, ±Inf, NaN", () => {
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0400, 2 ** -14], // smallest normal
    [0x0001, 2 ** -24], // smallest subnormal
    [0x83ff, -1023 * 2 ** -24], // largest negative subnormal
    [0x0000, 0],
    [0x8000, -0],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
    [0x7e00, NaN],
  ];
  const bytes = rawFile(
    `{"h":{"dtype":"F16","shape":[${cases.length}],"data_offsets":[0,${2 * cases.length}]}}`,
    words(...cases.map((c) => c[0])),
  );
  const h = decodeSafetensors(bytes).tensors.get("h")!;
  assert.equal(h.dtype, "F32");
  assert.equal(h.sourceDType, "F16");
  assert.ok(h.data instanceof Float32Array);
  assert.deepEqual(h.shape, [cases.length]);
  cases.forEach(([w, want], i) =>
    assert.ok(Object.is(h.data[i], want), `0x${w.toString(16)}: ${h.data[i]} vs ${want}`)
  );
});

test("BF16 decodes to exact F32 values (the upper half of the float's bits)", () => {
  const cases: [number, number][] = [
    [0x3f80, 1],
    [0x4049, 3.140625],
    [0xc2f7, -123.5],
    [0x7f7f, 3.3895313892515355e38], // largest finite
    [0x0080, 2 ** -126], // smallest normal
    [0x0001, 2 ** -133], // smallest subnormal
    [0x8000, -0],
    [0x7f80, Infinity],
    [0xff80, -Infinity],
    [0x7fc0, NaN],
  ];
  const bytes = rawFile(
    `{"b":{"dtype":"BF16","shape":[2,5],"data_offsets":[0,${2 * cases.length}]}}`,
    words(...cases.map((c) => c[0])),
  );
  const b = decodeSafetensors(bytes).tensors.get("b")!;
  assert.equal(b.dtype, "F32");
  assert.equal(b.sourceDType, "BF16");
  assert.deepEqual(b.shape, [2, 5]);
  cases.forEach(([w, want], i) =>
    assert.ok(Object.is(b.data[i], want), `0x${w.toString(16)}: ${b.data[i]} vs ${want}`)
  );
  assert.equal(new Uint32Array(b.data.buffer)[9], 0x7fc00000); // NaN bits kept
});

// ---- malformed files ------------------------------------------------------------------------------------------------

const A4 = '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';

/** Asserts that decoding throws an Error whose message contains every fragment. */
function rejects(bytes: Uint8Array, ...fragments: string[]): void {
  assert.throws(
    () => decodeSafetensors(bytes),
    (e: unknown) => {
      assert.ok(e instanceof Error);
      for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" should mention ${JSON.stringify(f)}`);
      return true;
    },
  );
}

test("rejects files too short or whose header length exceeds the file", () => {
  rejects(new Uint8Array(5), "5 bytes", "8-byte");
  const f = rawFile(`{${A4}}`, [0, 0, 0, 0]);
  new DataView(f.buffer).setUint32(0, f.length, true);
  rejects(f, `header length field is ${f.length}`, `only ${f.length - 8} bytes`);
  const huge = rawFile("{}");
  new DataView(huge.buffer).setUint32(4, 1, true); // 2^32 + 8
  rejects(huge, "header length field is 4294967304");
});

test("rejects headers that are not UTF-8 JSON objects", () => {
  rejects(rawFile('{"a":'), "not valid JSON", "unexpected end");
  rejects(rawFile("{'a':1}"), "not valid JSON", "expected a string key");
  rejects(rawFile('{"a":{}} x'), "not valid JSON", "after the header object");
  rejects(rawFile('{"a\u0001":1}'), "not valid JSON", "control character");
  rejects(rawFile('{"\\x":1}'), "not valid JSON", "bad escape");
  rejects(rawFile("[1,2]"), "header must be a JSON object", "[1,2]");
  rejects(rawFile(""), "not valid JSON");
  const bad = rawFile("{}");
  bad[9] = 0xff; // '}' replaced by an invalid UTF-8 byte
  rejects(bad, "not valid UTF-8");
});

test("rejects duplicate tensor names and duplicate keys inside entries", () => {
  rejects(rawFile(`{${A4},${A4}}`, [0, 0, 0, 0]), 'repeats the tensor name "a"', "unique");
  rejects(
    rawFile('{"a":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]),
    'repeats the key in "a"',
    '"dtype"',
  );
  rejects(rawFile('{"__metadata__":{},"__metadata__":{}}'), 'repeats the field "__metadata__"');
});

test("rejects bad entries: missing or mistyped dtype, shape, data_offsets; bad metadata", () => {
  rejects(rawFile('{"a":[1]}'), 'tensor "a"', "[1]", "expected an object");
  rejects(rawFile('{"a":{"shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), 'tensor "a" dtype is missing');
  rejects(rawFile('{"a":{"dtype":"F32","data_offsets":[0,4]}}', [0, 0, 0, 0]), 'tensor "a" shape is missing');
  rejects(rawFile('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), "shape is [-1]");
  rejects(rawFile('{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', [0, 0, 0, 0]), "shape is [1.5]");
  rejects(rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}', [0, 0, 0, 0]), "data_offsets is [0]");
  rejects(
    rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}}', [0, 0, 0, 0]),
    "data_offsets is [0,18446744073709552000]",
    "non-negative integers",
  );
  rejects(rawFile('{"__metadata__":{"k":1}}'), "__metadata__.k is 1", "only strings");
  rejects(rawFile('{"__metadata__":["x"]}'), '__metadata__ is ["x"]', "object of strings");
});

test("rejects unsupported dtypes, naming the tensor, the dtype and the supported ones", () => {
  for (const dtype of ["I64", "I32", "U8", "BOOL", "F8_E4M3", "f32"]) {
    rejects(
      rawFile(`{"ids":{"dtype":"${dtype}","shape":[1],"data_offsets":[0,8]}}`, new Uint8Array(8)),
      'tensor "ids"',
      `"${dtype}"`,
      "F32, F64, F16, BF16",
    );
  }
});

test("rejects offsets that are reversed, out of range, overlapping, gapped, or that leave trailing bytes", () => {
  const f32 = (name: string, b: number, e: number, shape = "[1]") =>
    `"${name}":{"dtype":"F32","shape":${shape},"data_offsets":[${b},${e}]}`;
  rejects(rawFile(`{${f32("a", 4, 0)}}`, new Uint8Array(4)), 'tensor "a"', "[4, 0]", "end before");
  rejects(rawFile(`{${f32("a", 0, 8, "[2]")}}`, new Uint8Array(4)), 'tensor "a"', "[0, 8]", "past", "4 bytes");
  rejects(rawFile(`{${f32("a", 0, 4)},${f32("b", 0, 4)}}`, new Uint8Array(4)), 'tensor "b"', "overlaps", "begin at 4");
  rejects(rawFile(`{${f32("a", 0, 4)},${f32("b", 2, 6)}}`, new Uint8Array(6)), 'tensor "b"', "[2, 6]", "overlaps");
  rejects(rawFile(`{${f32("a", 4, 8)}}`, new Uint8Array(8)), 'tensor "a"', "gap", "begin at 0");
  rejects(rawFile(`{${f32("a", 0, 4)},${f32("b", 8, 12)}}`, new Uint8Array(12)), 'tensor "b"', "gap", '"a" ends');
  rejects(rawFile(`{${f32("a", 0, 4)}}`, new Uint8Array(8)), "8 bytes", "cover only 4", "trailing");
  rejects(rawFile("{}", new Uint8Array(1)), "1 bytes", "cover only 0");
});

test("rejects a shape whose size times the item size differs from the byte length", () => {
  rejects(
    rawFile('{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}', new Uint8Array(20)),
    'tensor "w"',
    "shape [2, 3]",
    "6 × 4 = 24 bytes",
    "span 20",
  );
  rejects(
    rawFile('{"s":{"dtype":"F64","shape":[],"data_offsets":[0,4]}}', new Uint8Array(4)),
    'tensor "s"',
    "1 × 8 = 8",
  );
  rejects(
    rawFile('{"h":{"dtype":"BF16","shape":[3],"data_offsets":[0,4]}}', new Uint8Array(4)),
    'tensor "h"',
    "3 × 2 = 6",
  );
});

// ---- encoder input checks -------------------------------------------------------------------------------------------

test("the encoder rejects bad input, naming the tensor and what is allowed", () => {
  const enc = (t: unknown, m?: unknown) => () =>
    encodeSafetensors(t as Record<string, NamedTensor>, m as Record<string, string>);
  assert.throws(enc({ a: { dtype: "F16", shape: [1], data: new Float32Array(1) } }), /tensor "a".*"F16".*"F32", "F64"/);
  assert.throws(enc({ a: { dtype: "F32", shape: [1], data: new Float64Array(1) } }), /"a".*Float64Array.*Float32Array/);
  assert.throws(enc({ a: { dtype: "F64", shape: [1], data: [1] } }), /"a".*Array.*Float64Array/);
  assert.throws(enc({ a: { dtype: "F32", shape: [2, 2], data: new Float32Array(3) } }), /"a".*\[2, 2\].*4 elements.*3/);
  assert.throws(enc({ a: { dtype: "F32", shape: [-1], data: new Float32Array(0) } }), /"a" shape.*\[-1\]/);
  assert.throws(enc({ a: { dtype: "F32", shape: [0.5], data: new Float32Array(0) } }), /"a" shape.*\[0\.5\]/);
  assert.throws(enc({ a: null }), /"a" is null/);
  assert.throws(enc({ __metadata__: { dtype: "F32", shape: [], data: new Float32Array(1) } }), /reserved/);
  assert.throws(enc({ "\ud800": { dtype: "F32", shape: [], data: new Float32Array(1) } }), /lone surrogate/);
  assert.throws(enc({}, { step: 3 }), /metadata "step".*number.*only strings/);
});
