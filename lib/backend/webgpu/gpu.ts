/**
 * The thin layer between the kernels (WGSL) and the model: compiled kernels with explicit bind group layouts, buffers,
 * and *programs* — a recorded list of dispatches, buffer clears and copies, whose uniforms (sizes, offsets, strides,
 * the time step) are written once when the program is built. A training step replays a few programs into one command
 * encoder; nothing is allocated and no uniform is written per time step.
 *
 * Binding convention of every kernel: binding 0 is its uniform block (one 256-byte-aligned slot of the program's
 * uniform arena, or, for the per-time-step kernels, a dynamic-offset slot per step), bindings 1.. are storage buffers,
 * `read` or `rw`, in the order the kernel declares them.
 *
 * @module
 */

/** How a kernel binds one buffer. */
export type BindingKind = "uniform" | "uniform-dynamic" | "read" | "rw";

/** A kernel: WGSL source, entry point, and the kinds of its bindings 0, 1, ... */
export interface KernelSpec {
  /** Unique name (pipeline cache key together with the code). */
  name: string;
  code: string;
  entry?: string;
  bindings: BindingKind[];
}

/** A compiled kernel. */
export interface Kernel {
  spec: KernelSpec;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/**
 * Usage of the storage buffers the model allocates.
 *
 * @example
 * ```ts
 * import { STORAGE } from "./gpu.ts";
 * (STORAGE & 0x80) !== 0; // true: usable as a storage binding
 * ```
 */
export const STORAGE = 0x80 | 0x8 | 0x4; // STORAGE | COPY_DST | COPY_SRC (GPUBufferUsage values; Bun has no enum)

const instances = new WeakMap<GPUDevice, Gpu>();

/**
 * A device plus caches of compiled kernels.
 *
 * @example
 * ```ts
 * import { Gpu } from "./gpu.ts";
 * import { requestWebGpuDevice } from "./device.ts";
 * const gpu = Gpu.of((await requestWebGpuDevice()).device);
 * const buf = gpu.buffer(16); // 16 float32, zero-filled
 * ```
 */
export class Gpu {
  readonly device: GPUDevice;
  /** Uniform slot size: the device's minimum dynamic offset alignment, at least 256 bytes (portable). */
  readonly slot: number;
  readonly #kernels = new Map<string, Kernel>();
  readonly #compiling: Promise<void>[] = [];
  #failure: Error | null = null;
  #dummy: GPUBuffer | null = null;
  #dummyRW: GPUBuffer | null = null;

  /**
   * @example
   * ```ts
   * import { Gpu } from "./gpu.ts";
   * import { requestWebGpuDevice } from "./device.ts";
   * const gpu = new Gpu((await requestWebGpuDevice()).device);
   * const buf = gpu.buffer(16); // 16 float32, zero-filled
   * ```
   */
  constructor(device: GPUDevice) {
    if (instances.has(device)) throw new Error("Gpu: use Gpu.of(device) to share one per device");
    this.device = device;
    this.slot = Math.max(256, device.limits.minUniformBufferOffsetAlignment);
    instances.set(device, this);
  }

  /**
   * The one `Gpu` of a device (created on first use), so models on the same device share compiled kernels.
   *
   * @example
   * ```ts
   * import { Gpu } from "./gpu.ts";
   * import { requestWebGpuDevice } from "./device.ts";
   * const { device } = await requestWebGpuDevice();
   * Gpu.of(device) === Gpu.of(device); // true
   * ```
   */
  static of(device: GPUDevice): Gpu {
    return instances.get(device) ?? new Gpu(device);
  }

  /** Compiles (once) and returns a kernel; compilation errors are thrown with the kernel's name. */
  kernel(spec: KernelSpec): Kernel {
    const key = `${spec.name}\n${spec.code}`;
    const hit = this.#kernels.get(key);
    if (hit !== undefined) return hit;
    const d = this.device;
    d.pushErrorScope("validation");
    const module = d.createShaderModule({ label: spec.name, code: spec.code });
    const layout = d.createBindGroupLayout({
      label: spec.name,
      entries: spec.bindings.map((kind, binding) => ({
        binding,
        visibility: 4, // GPUShaderStage.COMPUTE
        buffer: kind === "uniform" || kind === "uniform-dynamic"
          ? { type: "uniform" as const, hasDynamicOffset: kind === "uniform-dynamic" }
          : { type: kind === "read" ? "read-only-storage" as const : "storage" as const },
      })),
    });
    const pipeline = d.createComputePipeline({
      label: spec.name,
      layout: d.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: spec.entry ?? "main" },
    });
    // Errors surface asynchronously: kept, and thrown by `check()` (every readback calls it).
    this.#compiling.push(
      d.popErrorScope().then((err) => {
        if (err !== null && this.#failure === null) {
          this.#failure = new Error(`WebGPU kernel ${spec.name} failed to compile: ${err.message}`);
        }
      }),
    );
    const k = { spec, pipeline, layout };
    this.#kernels.set(key, k);
    return k;
  }

  /** Throws the first kernel compilation error, if any (waits for the pending checks). */
  async check(): Promise<void> {
    if (this.#compiling.length > 0) await Promise.all(this.#compiling.splice(0));
    if (this.#failure !== null) throw this.#failure;
  }

  /** A zero-filled float32 storage buffer of n elements (at least one, so empty tensors still bind). */
  buffer(n: number, label?: string): GPUBuffer {
    const size = Math.max(1, n) * 4, lim = this.device.limits;
    const max = Math.min(lim.maxBufferSize, lim.maxStorageBufferBindingSize);
    if (size > max) {
      throw new RangeError(
        `WebGPU: buffer "${label ?? ""}" needs ${size} bytes, over this device's limit of ${max} ` +
          "(maxStorageBufferBindingSize / maxBufferSize): use a smaller T·B or hidden size",
      );
    }
    return this.device.createBuffer({ label, size, usage: STORAGE });
  }

  /** A 16-byte buffer bound to read-only bindings unused in a configuration. */
  get dummy(): GPUBuffer {
    return this.#dummy ??= this.buffer(4, "dummy");
  }

  /**
   * Another one for unused read-write bindings: WebGPU forbids one buffer bound both read-only and writable in a
   * dispatch.
   */
  get dummyRW(): GPUBuffer {
    return this.#dummyRW ??= this.buffer(4, "dummy rw");
  }

  /** A uniform buffer of `bytes` bytes, written with `queue.writeBuffer` (per-call values: learning rate, ...). */
  uniformBuffer(bytes: number, label?: string): GPUBuffer {
    return this.device.createBuffer({ label, size: Math.max(16, bytes), usage: 0x40 | 0x8 }); // UNIFORM | COPY_DST
  }
}

/**
 * A uniform block under construction: u32 and f32 fields in declaration order (WGSL scalars, 4 bytes each).
 *
 * @example
 * ```ts
 * import { Uniforms } from "./gpu.ts";
 * const bytes = new Uniforms().u(3, 4).f(0.5).bytes(); // struct { a: u32, b: u32, c: f32 }, padded to 16 bytes
 * ```
 */
export class Uniforms {
  readonly #u32: number[] = [];
  readonly #isFloat: boolean[] = [];
  /** Appends u32 fields. */
  u(...values: number[]): this {
    for (const v of values) {
      if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new RangeError(`uniform u32: ${v}`);
      this.#u32.push(v);
      this.#isFloat.push(false);
    }
    return this;
  }
  /** Appends f32 fields. */
  f(...values: number[]): this {
    for (const v of values) {
      this.#u32.push(v);
      this.#isFloat.push(true);
    }
    return this;
  }
  /** The bytes, padded to a multiple of 16. */
  bytes(): ArrayBuffer {
    const n = Math.max(4, (this.#u32.length + 3) & ~3);
    const buf = new ArrayBuffer(n * 4), u = new Uint32Array(buf), f = new Float32Array(buf);
    this.#u32.forEach((v, i) => this.#isFloat[i] ? (f[i] = v) : (u[i] = v));
    return buf;
  }
}

type Op =
  | {
    kind: "dispatch";
    kernel: Kernel;
    /** Uniform data (into the arena), or a caller-owned uniform buffer. */
    uniform: ArrayBuffer | GPUBuffer;
    /** Dynamic-offset kernels: one uniform block per dispatch, replayed in order. */
    steps?: ArrayBuffer[];
    buffers: GPUBuffer[];
    groups: [number, number, number];
  }
  | { kind: "clear"; buffer: GPUBuffer; offset: number; size: number }
  | { kind: "copy"; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number };

type BuiltOp =
  | { kind: "dispatch"; pipeline: GPUComputePipeline; group: GPUBindGroup; groups: [number, number, number] }
  | {
    kind: "steps";
    pipeline: GPUComputePipeline;
    group: GPUBindGroup;
    offsets: number[];
    groups: [number, number, number];
  }
  | Extract<Op, { kind: "clear" | "copy" }>;

/**
 * A recorded sequence of GPU work with its uniforms already on the device; `encode` replays it into an encoder.
 *
 * @example
 * ```ts
 * import { Gpu, Program } from "./gpu.ts";
 * import { requestWebGpuDevice } from "./device.ts";
 * const gpu = new Gpu((await requestWebGpuDevice()).device);
 * const buf = gpu.buffer(4);
 * const p = new Program(gpu, "zero").clear(buf).build();
 * const enc = gpu.device.createCommandEncoder();
 * p.encode(enc);
 * gpu.device.queue.submit([enc.finish()]);
 * ```
 */
export class Program {
  readonly #gpu: Gpu;
  readonly #label: string;
  readonly #ops: Op[] = [];
  #built: BuiltOp[] | null = null;
  #arena: GPUBuffer | null = null;

  constructor(gpu: Gpu, label: string) {
    this.#gpu = gpu;
    this.#label = label;
  }

  /** Number of dispatches (per-step kernels count once per step). */
  get dispatches(): number {
    return this.#ops.reduce((n, op) => n + (op.kind === "dispatch" ? op.steps?.length ?? 1 : 0), 0);
  }

  /** Records one dispatch. `buffers` bind to bindings 1, 2, ... */
  dispatch(kernel: Kernel, uniform: Uniforms | GPUBuffer, buffers: GPUBuffer[], groups: number[]): this {
    this.#check(kernel, buffers, false);
    this.#ops.push({
      kind: "dispatch",
      kernel,
      uniform: uniform instanceof Uniforms ? uniform.bytes() : uniform,
      buffers,
      groups: [groups[0] ?? 1, groups[1] ?? 1, groups[2] ?? 1],
    });
    return this;
  }

  /** Records one dispatch per uniform block in `steps` (one bind group, a dynamic offset per step). */
  steps(kernel: Kernel, steps: Uniforms[], buffers: GPUBuffer[], groups: number[]): this {
    this.#check(kernel, buffers, true);
    if (steps.length === 0) return this;
    this.#ops.push({
      kind: "dispatch",
      kernel,
      uniform: steps[0].bytes(),
      steps: steps.map((s) => s.bytes()),
      buffers,
      groups: [groups[0] ?? 1, groups[1] ?? 1, groups[2] ?? 1],
    });
    return this;
  }

  /** Records a clear to zero of `size` bytes at `offset` (default: the whole buffer). */
  clear(buffer: GPUBuffer, offset = 0, size = buffer.size - offset): this {
    if (size > 0) this.#ops.push({ kind: "clear", buffer, offset, size });
    return this;
  }

  /** Records a buffer-to-buffer copy (byte offsets and size, multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): this {
    if (size > 0) this.#ops.push({ kind: "copy", src, srcOffset, dst, dstOffset, size });
    return this;
  }

  #check(kernel: Kernel, buffers: GPUBuffer[], dynamic: boolean): void {
    const b = kernel.spec.bindings;
    if (buffers.length !== b.length - 1) {
      throw new Error(`${this.#label}: ${kernel.spec.name} takes ${b.length - 1} buffers, got ${buffers.length}`);
    }
    if ((b[0] === "uniform-dynamic") !== dynamic) {
      throw new Error(
        `${this.#label}: ${kernel.spec.name}: ${dynamic ? "steps" : "dispatch"} needs a kernel whose ` +
          `binding 0 is ${dynamic ? "uniform-dynamic" : "uniform"}`,
      );
    }
  }

  /** Uploads the uniforms and creates the bind groups; the program can then be encoded any number of times. */
  build(): this {
    const gpu = this.#gpu, d = gpu.device, slot = gpu.slot;
    let slots = 0;
    for (const op of this.#ops) {
      if (op.kind === "dispatch" && op.uniform instanceof ArrayBuffer) slots += op.steps?.length ?? 1;
    }
    const arenaBytes = Math.max(1, slots) * slot;
    const data = new Uint8Array(arenaBytes);
    this.#arena?.destroy();
    const arena = this.#arena = d.createBuffer({
      label: `${this.#label} uniforms`,
      size: arenaBytes,
      usage: 0x40 | 0x8,
    });
    let next = 0;
    const built: BuiltOp[] = [];
    for (const op of this.#ops) {
      if (op.kind !== "dispatch") {
        built.push(op);
        continue;
      }
      const entries: GPUBindGroupEntry[] = op.buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } }));
      if (!(op.uniform instanceof ArrayBuffer)) {
        entries.unshift({ binding: 0, resource: { buffer: op.uniform } });
        const group = d.createBindGroup({ label: op.kernel.spec.name, layout: op.kernel.layout, entries });
        built.push({ kind: "dispatch", pipeline: op.kernel.pipeline, group, groups: op.groups });
        continue;
      }
      const blocks = op.steps ?? [op.uniform];
      const first = next, size = blocks[0].byteLength;
      for (const block of blocks) {
        if (block.byteLength > slot) throw new Error(`${op.kernel.spec.name}: uniform block over ${slot} bytes`);
        data.set(new Uint8Array(block), next * slot);
        next++;
      }
      entries.unshift({ binding: 0, resource: { buffer: arena, offset: op.steps ? 0 : first * slot, size } });
      const group = d.createBindGroup({ label: op.kernel.spec.name, layout: op.kernel.layout, entries });
      if (op.steps) {
        const offsets = blocks.map((_, i) => (first + i) * slot);
        built.push({ kind: "steps", pipeline: op.kernel.pipeline, group, offsets, groups: op.groups });
      } else {
        built.push({ kind: "dispatch", pipeline: op.kernel.pipeline, group, groups: op.groups });
      }
    }
    d.queue.writeBuffer(arena, 0, data);
    this.#built = built;
    return this;
  }

  /** Replays the program into `enc` (dispatches share compute passes; clears and copies end them). */
  encode(enc: GPUCommandEncoder): void {
    const ops = this.#built;
    if (ops === null) throw new Error(`${this.#label}: build() the program before encoding it`);
    let pass: GPUComputePassEncoder | null = null;
    let current: GPUComputePipeline | null = null;
    for (const op of ops) {
      if (op.kind === "clear" || op.kind === "copy") {
        if (pass !== null) (pass.end(), pass = null, current = null);
        if (op.kind === "clear") enc.clearBuffer(op.buffer, op.offset, op.size);
        else enc.copyBufferToBuffer(op.src, op.srcOffset, op.dst, op.dstOffset, op.size);
        continue;
      }
      pass ??= enc.beginComputePass();
      if (current !== op.pipeline) pass.setPipeline(current = op.pipeline);
      const [x, y, z] = op.groups;
      if (op.kind === "dispatch") {
        pass.setBindGroup(0, op.group);
        pass.dispatchWorkgroups(x, y, z);
      } else {
        for (const offset of op.offsets) {
          pass.setBindGroup(0, op.group, [offset]);
          pass.dispatchWorkgroups(x, y, z);
        }
      }
    }
    if (pass !== null) pass.end();
  }

  /** Frees the uniform arena. */
  destroy(): void {
    this.#arena?.destroy();
    this.#arena = null;
    this.#built = null;
  }
}

/**
 * Ceiling of a / b for positive integers.
 *
 * @example
 * ```ts
 * import { ceilDiv } from "./gpu.ts";
 * ceilDiv(130, 64); // 3 workgroups of 64 for 130 units
 * ```
 */
export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/**
 * Copies `regions` of GPU buffers into one staging buffer and maps it once (a single readback). Returns a copy of
 * each region as a Float32Array.
 *
 * @example
 * ```ts
 * import { Gpu, readBuffers } from "./gpu.ts";
 * import { requestWebGpuDevice } from "./device.ts";
 * const gpu = new Gpu((await requestWebGpuDevice()).device);
 * const buf = gpu.buffer(4);
 * const [values] = await readBuffers(gpu, [{ buffer: buf, offset: 0, count: 4 }]); // [0, 0, 0, 0]
 * ```
 */
export async function readBuffers(
  gpu: Gpu,
  regions: { buffer: GPUBuffer; offset: number; count: number }[],
  encoder?: GPUCommandEncoder,
): Promise<Float32Array[]> {
  const d = gpu.device;
  const total = regions.reduce((n, r) => n + r.count, 0);
  const staging = d.createBuffer({ size: Math.max(1, total) * 4, usage: 0x1 | 0x8 }); // MAP_READ | COPY_DST
  const enc = encoder ?? d.createCommandEncoder();
  let at = 0;
  for (const r of regions) {
    if (r.count > 0) enc.copyBufferToBuffer(r.buffer, r.offset * 4, staging, at * 4, r.count * 4);
    at += r.count;
  }
  d.queue.submit([enc.finish()]);
  await gpu.check();
  await staging.mapAsync(1); // GPUMapMode.READ
  const all = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  at = 0;
  return regions.map((r) => {
    const out = all.slice(at, at + r.count);
    at += r.count;
    return out;
  });
}
