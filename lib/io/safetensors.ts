/**
 * Reading and writing the safetensors format (https://github.com/huggingface/safetensors), the format of PyTorch
 * state dicts saved with `safetensors.torch.save_file`.
 *
 * A file is: an 8-byte little-endian unsigned length N; N bytes of UTF-8 JSON header
 * `{"__metadata__"?: {string: string}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}`, padded with
 * spaces so that N is a multiple of 8; then the data section, where each tensor occupies bytes [begin, end) in
 * row-major, little-endian order. The tensors tile the data section exactly: no gaps, no overlaps, nothing after.
 *
 * The core (`encodeSafetensors`, `decodeSafetensors`) works on bytes only, so it runs anywhere; the file helpers load
 * `node:fs` lazily, which both Deno and Bun provide.
 *
 * The encoder lays a file out exactly as the reference (Rust/Python) implementation does: tensors sorted by dtype
 * (F64 before F32) and then by name in UTF-8 byte order, whatever order they are given in; compact JSON; space
 * padding. For F32/F64 tensors with no metadata (or a single metadata entry) the bytes are identical to
 * `safetensors.torch.save_file`'s. With several metadata entries the reference writes them in hash-map order, which
 * varies from run to run; we write them in the order given.
 *
 * @module
 */

import { ldexp } from "../math.ts";

/** The element types that `encodeSafetensors` writes and `decodeSafetensors` returns. */
export type SafeDType = "F32" | "F64";

/** The element types that `decodeSafetensors` reads and converts to F32 (the conversion is exact). */
export type HalfDType = "F16" | "BF16";

/**
 * One tensor: its element type, shape and row-major data (`data.length` is the product of `shape`; `[]` is a scalar
 * with one element).
 *
 * @example
 * ```ts
 * import type { NamedTensor } from "./safetensors.ts";
 * const w: NamedTensor = { dtype: "F32", shape: [2, 3], data: new Float32Array(6) };
 * const s: NamedTensor = { dtype: "F64", shape: [], data: Float64Array.of(0.5) };
 * ```
 */
export interface NamedTensor {
  /** Element type: "F32" goes with a `Float32Array`, "F64" with a `Float64Array`. */
  dtype: SafeDType;
  /** Dimensions, outermost first. */
  shape: number[];
  /** Elements in row-major order. */
  data: Float32Array | Float64Array;
  /** Set by `decodeSafetensors` only when the file stored F16 or BF16 and the data was widened to F32. */
  sourceDType?: HalfDType;
}

/**
 * What `decodeSafetensors` returns: the tensors in file order (by data offset) and the `__metadata__` strings (an
 * empty object when the file has none).
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors, type SafetensorsContents } from "./safetensors.ts";
 * const got: SafetensorsContents = decodeSafetensors(encodeSafetensors({}));
 * console.log(got.tensors.size, got.metadata); // 0 {}
 * ```
 */
export interface SafetensorsContents {
  /** Tensors by name, in the order their data appears in the file. */
  tensors: Map<string, NamedTensor>;
  /** The header's `__metadata__` object. */
  metadata: Record<string, string>;
}

/** The reference implementation refuses headers over 100 MB; so do we, rather than allocate a huge string. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";
const WRITE_ORDER: Record<SafeDType, number> = { F64: 0, F32: 1 }; // the reference sorts by dtype, descending
const ITEM_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };
const READABLE = "F32, F64, F16, BF16";
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Serializes tensors (and optional string metadata) to safetensors bytes.
 *
 * Throws when a dtype is not "F32"/"F64", when the data array's type does not match the dtype, when a shape entry is
 * not a non-negative integer or the shape's product differs from `data.length`, when a name is `__metadata__` or a
 * string that is not valid Unicode (a lone surrogate), or when a metadata value is not a string.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors(
 *   { weight: { dtype: "F32", shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) } },
 *   { format: "pt" },
 * );
 * const { tensors, metadata } = decodeSafetensors(bytes);
 * console.log(tensors.get("weight")?.data, metadata.format); // Float32Array [1, 2, 3, 4] "pt"
 * ```
 */
export function encodeSafetensors(
  tensors: Record<string, NamedTensor> | Map<string, NamedTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const where = "encodeSafetensors";
  const utf8 = new TextEncoder();
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].map(([name, t]) => {
    checkName(where, name, "tensor name");
    if (t === null || typeof t !== "object") throw new TypeError(`${where}: tensor "${name}" is ${t}, not a tensor`);
    const { dtype, shape, data } = t;
    if (dtype !== "F32" && dtype !== "F64") {
      throw new TypeError(`${where}: tensor "${name}" has dtype ${JSON.stringify(dtype)}; allowed: "F32", "F64"`);
    }
    const want = dtype === "F32" ? Float32Array : Float64Array;
    if (!(data instanceof want)) {
      const got = data?.constructor?.name ?? String(data);
      throw new TypeError(
        `${where}: tensor "${name}" has dtype ${dtype} but its data is a ${got}; expected ${want.name}`,
      );
    }
    const count = shapeSize(where, `tensor "${name}" shape`, shape);
    if (count !== data.length) {
      throw new RangeError(
        `${where}: tensor "${name}" has shape [${
          shape.join(", ")
        }] (${count} elements) but ${data.length} data elements`,
      );
    }
    return { name, key: utf8.encode(name), dtype, shape, data };
  });
  entries.sort((a, b) => WRITE_ORDER[a.dtype] - WRITE_ORDER[b.dtype] || compareBytes(a.key, b.key));

  const parts: string[] = [];
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== "object") {
      throw new TypeError(`${where}: metadata must be an object of strings, got ${metadata}`);
    }
    const fields = Object.entries(metadata).map(([k, v]) => {
      checkName(where, k, "metadata key");
      if (typeof v !== "string") {
        throw new TypeError(`${where}: metadata "${k}" is a ${typeof v} (${String(v)}); only strings are allowed`);
      }
      checkName(where, v, `metadata "${k}" value`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"${METADATA_KEY}":{${fields.join(",")}}`);
  }
  let offset = 0;
  for (const e of entries) {
    const end = offset + e.data.byteLength;
    parts.push(
      `${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${
        e.shape.join(",")
      }],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = utf8.encode(`{${parts.join(",")}}`);
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 4294967296, true);
  view.setUint32(4, Math.floor(headerLength / 4294967296), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const { data } of entries) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    } else {
      for (let i = 0; i < data.length; i++) {
        if (data instanceof Float32Array) view.setFloat32(at + 4 * i, data[i], true);
        else view.setFloat64(at + 8 * i, data[i], true);
      }
    }
    at += data.byteLength;
  }
  return out;
}

/**
 * Parses safetensors bytes. F32 and F64 tensors come back as `Float32Array`/`Float64Array` copies (aligned, independent
 * of `bytes`, bit-exact); F16 and BF16 tensors are widened exactly to `Float32Array`, reported as dtype "F32" with
 * `sourceDType` set to the stored type.
 *
 * Throws an Error naming the tensor or header field, the value found and what is allowed when: the header length
 * exceeds the file; the header is not UTF-8 JSON, not an object, or repeats a key; an entry lacks a valid `dtype`,
 * `shape` or `data_offsets`; a dtype is not F32/F64/F16/BF16; the offsets are out of range, overlap, leave gaps or do
 * not cover the data section exactly; or a tensor's byte length differs from its shape's size times the item size.
 * Unknown fields inside a tensor entry are ignored, as the reference implementation does.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors({ bias: { dtype: "F64", shape: [3], data: Float64Array.of(0.1, 0.2, 0.3) } });
 * const bias = decodeSafetensors(bytes).tensors.get("bias");
 * console.log(bias?.dtype, bias?.shape, bias?.data); // "F64" [3] Float64Array [0.1, 0.2, 0.3]
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsContents {
  const where = "decodeSafetensors";
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${where}: expected a Uint8Array, got ${bytes}`);
  if (bytes.length < 8) {
    throw new Error(`${where}: file is ${bytes.length} bytes, shorter than the 8-byte header length field`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 4294967296;
  if (headerLength > bytes.length - 8) {
    throw new Error(
      `${where}: header length field is ${headerLength} but only ${bytes.length - 8} bytes follow it in the file`,
    );
  }
  if (headerLength > MAX_HEADER_BYTES) {
    throw new Error(`${where}: header length field is ${headerLength}; at most ${MAX_HEADER_BYTES} is allowed`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new Error(`${where}: header (${headerLength} bytes) is not valid UTF-8`);
  }
  const header = parseJson(text, where);
  if (!(header instanceof Map)) {
    throw new Error(`${where}: header must be a JSON object, got ${describe(header)}`);
  }

  const metadata: Record<string, string> = {};
  const raw = header.get(METADATA_KEY);
  if (raw instanceof Map) {
    for (const [k, v] of raw) {
      if (typeof v !== "string") {
        throw new Error(`${where}: header field ${METADATA_KEY}.${k} is ${describe(v)}; only strings are allowed`);
      }
      Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  } else if (raw !== undefined && raw !== null) {
    throw new Error(`${where}: header field ${METADATA_KEY} is ${describe(raw)}; expected an object of strings`);
  }

  interface Entry {
    name: string;
    dtype: string;
    shape: number[];
    begin: number;
    end: number;
  }
  const entries: Entry[] = [];
  for (const [name, value] of header) {
    if (name === METADATA_KEY) continue;
    const what = `tensor ${JSON.stringify(name)}`;
    if (!(value instanceof Map)) {
      throw new Error(`${where}: ${what} is ${describe(value)}; expected an object with dtype, shape, data_offsets`);
    }
    const dtype = value.get("dtype");
    if (typeof dtype !== "string") throw new Error(`${where}: ${what} dtype is ${describe(dtype)}; expected a string`);
    if (!(dtype in ITEM_BYTES)) throw new Error(`${where}: ${what} has dtype "${dtype}"; supported: ${READABLE}`);
    const shape = value.get("shape");
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new Error(`${where}: ${what} shape is ${describe(shape)}; expected an array of non-negative integers`);
    }
    const offsets = value.get("data_offsets");
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      throw new Error(
        `${where}: ${what} data_offsets is ${describe(offsets)}; expected [begin, end] of non-negative integers`,
      );
    }
    const [begin, end] = offsets as number[];
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  for (const e of entries) {
    if (e.end < e.begin) {
      throw new Error(`${where}: tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] end before they begin`);
    }
    if (e.end > dataLength) {
      throw new Error(
        `${where}: tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] reach past the data section ` +
          `(${dataLength} bytes)`,
      );
    }
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous = "";
  for (const e of entries) {
    if (e.begin !== cursor) {
      const after = previous ? `where tensor "${previous}" ends` : "the start of the data section";
      const kind = e.begin < cursor ? "overlaps the previous tensor" : "leaves a gap";
      throw new Error(
        `${where}: tensor "${e.name}" data_offsets [${e.begin}, ${e.end}] ${kind}; it must begin at ${cursor}, ${after}`,
      );
    }
    const items = e.shape.reduce((p, d) => p * d, 1);
    const size = ITEM_BYTES[e.dtype];
    if (items * size !== e.end - e.begin) {
      throw new Error(
        `${where}: tensor "${e.name}" shape [${e.shape.join(", ")}] of ${e.dtype} needs ${items} × ${size} = ` +
          `${items * size} bytes, but data_offsets [${e.begin}, ${e.end}] span ${e.end - e.begin}`,
      );
    }
    cursor = e.end;
    previous = e.name;
  }
  if (cursor !== dataLength) {
    throw new Error(
      `${where}: data section is ${dataLength} bytes but the tensors cover only ${cursor}; trailing bytes are not allowed`,
    );
  }

  const tensors = new Map<string, NamedTensor>();
  for (const e of entries) {
    const src = bytes.subarray(dataStart + e.begin, dataStart + e.end);
    const shape = [...e.shape];
    if (e.dtype === "F32") tensors.set(e.name, { dtype: "F32", shape, data: readFloats(src, 4) as Float32Array });
    else if (e.dtype === "F64") tensors.set(e.name, { dtype: "F64", shape, data: readFloats(src, 8) as Float64Array });
    else {
      const data = e.dtype === "F16" ? widenF16(src) : widenBF16(src);
      tensors.set(e.name, { dtype: "F32", shape, data, sourceDType: e.dtype as HalfDType });
    }
  }
  return { tensors, metadata };
}

/**
 * Reads and decodes a safetensors file (see `decodeSafetensors`). Uses `node:fs`, loaded on first call.
 *
 * @example
 * ```ts
 * import { readSafetensorsFile } from "./safetensors.ts";
 * const { tensors } = await readSafetensorsFile("lib/io/testdata/lstm_i3_h5_l2_f32.state_dict.safetensors");
 * console.log(tensors.get("weight_ih_l0")?.shape); // [20, 3]
 * ```
 */
export async function readSafetensorsFile(path: string | URL): Promise<SafetensorsContents> {
  const { readFile } = await import("node:fs/promises");
  return decodeSafetensors(await readFile(path));
}

/**
 * Encodes tensors (see `encodeSafetensors`) and writes them to a file, replacing it if it exists. Uses `node:fs`,
 * loaded on first call.
 *
 * @example
 * ```ts
 * import { writeSafetensorsFile } from "./safetensors.ts";
 * await writeSafetensorsFile("/tmp/w.safetensors", { w: { dtype: "F32", shape: [1], data: Float32Array.of(1) } });
 * ```
 */
export async function writeSafetensorsFile(
  path: string | URL,
  tensors: Record<string, NamedTensor> | Map<string, NamedTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata);
  const { writeFile } = await import("node:fs/promises");
  await writeFile(path, bytes);
}

// ---------------------------------------------------------------------------------------------------------------------

function checkName(where: string, s: string, what: string): void {
  if (typeof s !== "string") throw new TypeError(`${where}: ${what} must be a string, got ${typeof s}`);
  if (what === "tensor name" && s === METADATA_KEY) {
    throw new Error(`${where}: "${METADATA_KEY}" is reserved for metadata and cannot name a tensor`);
  }
  if (LONE_SURROGATE.test(s)) {
    throw new Error(`${where}: ${what} ${JSON.stringify(s)} contains a lone surrogate, which UTF-8 cannot encode`);
  }
}

function isCount(x: unknown): boolean {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

function shapeSize(where: string, what: string, shape: unknown): number {
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new RangeError(`${where}: ${what} is ${describe(shape)}; expected an array of non-negative integers`);
  }
  return shape.reduce((p: number, d: number) => p * d, 1);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Copies little-endian floats out of a possibly unaligned byte range into a fresh typed array. */
function readFloats(src: Uint8Array, size: 4 | 8): Float32Array | Float64Array {
  const out = size === 4 ? new Float32Array(src.length / 4) : new Float64Array(src.length / 8);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(src);
  } else {
    const v = new DataView(src.buffer, src.byteOffset, src.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = size === 4 ? v.getFloat32(4 * i, true) : v.getFloat64(8 * i, true);
  }
  return out;
}

/** IEEE binary16 to binary32 (exact: every half value is a float value). */
function widenF16(src: Uint8Array): Float32Array {
  const out = new Float32Array(src.length / 2);
  for (let i = 0; i < out.length; i++) {
    const h = src[2 * i] | (src[2 * i + 1] << 8);
    const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    if (exp === 0) out[i] = ldexp(sign * frac, -24);
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = ldexp(sign * (1024 + frac), exp - 25);
  }
  return out;
}

/** bfloat16 to binary32: the stored 16 bits are the float's upper half (bit-exact, NaN payloads included). */
function widenBF16(src: Uint8Array): Float32Array {
  const bits = new Uint32Array(src.length / 2);
  for (let i = 0; i < bits.length; i++) bits[i] = ((src[2 * i] | (src[2 * i + 1] << 8)) << 16) >>> 0;
  return new Float32Array(bits.buffer);
}

function describe(v: unknown): string {
  if (v === undefined) return "missing";
  return toJson(v);
}

function toJson(v: unknown): string {
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(",")}}`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(",")}]`;
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

// ---------------------------------------------------------------------------------------------------------------------
// A strict JSON parser for the header. `JSON.parse` silently keeps the last of duplicate keys, and a header that names
// a tensor twice is malformed, so objects are parsed into Maps and a repeated key is an error.

type Json = null | boolean | number | string | Json[] | Map<string, Json>;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const MAX_DEPTH = 64;
const ESCAPES = new Map([['"', '"'], ["\\", "\\"], ["/", "/"], ["b", "\b"], ["f", "\f"], ["n", "\n"], ["r", "\r"], [
  "t",
  "\t",
]]);

function parseJson(text: string, where: string): Json {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`${where}: header is not valid JSON: ${why} at character ${i}`);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const string = (): string => {
    i++; // opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i++);
        return out;
      }
      if (c < 0x20) fail(`control character U+${c.toString(16).padStart(4, "0")} in a string`);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = ESCAPES.get(text[i + 1]);
      if (e !== undefined) {
        out += e;
        i += 2;
      } else if (text[i + 1] === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        fail(`bad escape ${JSON.stringify(text.slice(i, i + 6))}`);
      }
      start = i;
    }
  };
  const value = (depth: number, path: string): Json => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj = new Map<string, Json>();
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a string key");
        const at = i;
        const key = string();
        if (obj.has(key)) {
          const what = depth > 0 ? `key in ${path}` : key === METADATA_KEY ? "field" : "tensor name";
          throw new Error(
            `${where}: header repeats the ${what} ${JSON.stringify(key)} (character ${at}); names must be unique`,
          );
        }
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        obj.set(key, value(depth + 1, depth === 0 ? JSON.stringify(key) : `${path}.${key}`));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return obj;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr: Json[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1, `${path}[${arr.length}]`));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return arr;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) return fail(i >= text.length ? "unexpected end" : `unexpected ${JSON.stringify(c)}`);
    i += m[0].length;
    return Number(m[0]);
  };
  const v = value(0, "");
  ws();
  if (i < text.length) fail(`unexpected ${JSON.stringify(text[i])} after the header object`);
  return v;
}
