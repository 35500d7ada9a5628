/**
 * The readback log of a `WebGpuModel`: one GPU buffer that submitted training steps copy their results into (stats,
 * then outputs and probes when asked), read back with one `mapAsync` for every step submitted since the last read
 * (each readback costs ≥ ~10 ms in Deno, whatever its size). The buffer grows on the GPU, keeping what is there.
 *
 * @module
 */

import { type Gpu, readBuffers } from "./gpu.ts";

const COPY_DST_SRC = 0x8 | 0x4;

/**
 * Regions reserved by submitted steps, each described by `E` (what the step wrote where), read back together.
 *
 * @example
 * ```ts
 * // const log = new ReadbackLog<{ at: number }>(gpu);
 * // const at = log.reserve(encoder, 4); encoder.copyBufferToBuffer(stats, 0, log.buffer, at * 4, 16); log.push({ at });
 * // const { values, entries } = await log.read();
 * ```
 */
export class ReadbackLog<E> {
  readonly #gpu: Gpu;
  #buffer: GPUBuffer;
  #used = 0; // floats
  #entries: E[] = [];

  constructor(gpu: Gpu) {
    this.#gpu = gpu;
    this.#buffer = gpu.device.createBuffer({ label: "readback log", size: 4096, usage: COPY_DST_SRC });
  }

  /** The buffer to copy into (valid for the encoder that reserved room in it). */
  get buffer(): GPUBuffer {
    return this.#buffer;
  }

  /** Entries pushed and not yet read. */
  get pending(): number {
    return this.#entries.length;
  }

  /** Room for `n` floats; returns their float offset (growing the buffer on the GPU within `enc`, if needed). */
  reserve(enc: GPUCommandEncoder, n: number): number {
    const at = this.#used;
    if ((at + n) * 4 > this.#buffer.size) {
      const bigger = this.#gpu.device.createBuffer({
        label: "readback log",
        size: Math.max(2 * this.#buffer.size, (at + n) * 4 + 4096),
        usage: COPY_DST_SRC,
      });
      if (at > 0) enc.copyBufferToBuffer(this.#buffer, 0, bigger, 0, at * 4);
      const old = this.#buffer;
      this.#buffer = bigger;
      queueMicrotask(() => old.destroy()); // after this encoder's submit
    }
    this.#used = at + n;
    return at;
  }

  /** Records what a submitted step wrote. */
  push(entry: E): void {
    this.#entries.push(entry);
  }

  /** Reads back everything written since the last read (one `mapAsync`), with the entries that describe it. */
  async read(): Promise<{ values: Float32Array; entries: E[] }> {
    const entries = this.#entries, used = this.#used;
    this.#entries = [];
    this.#used = 0;
    if (entries.length === 0) return { values: new Float32Array(0), entries };
    const [values] = await readBuffers(this.#gpu, [{ buffer: this.#buffer, offset: 0, count: used }]);
    return { values, entries };
  }

  dispose(): void {
    this.#buffer.destroy();
  }
}
