/**
 * Helpers for the WebGPU tests: one device per test file, tests that skip visibly where there is no WebGPU (Bun: "no
 * WebGPU in Bun"; Deno without an adapter: the reason), and the relative error the parity tests bound.
 *
 * Relative error of a tensor a against a reference b: max_i |a_i - b_i| / max_i |b_i| (the largest error relative
 * to the tensor's scale; 1e-30 guards an all-zero reference). Elementwise relative errors would be dominated by
 * entries that are zero up to rounding.
 *
 * @module
 */

import { it } from "node:test";
import { requestWebGpuDevice, type WebGpuContext, webGpuStatus } from "./device.ts";

/**
 * Whether the tests can run here, and why not.
 *
 * @example
 * ```ts
 * import { gpuAvailability } from "./testing.ts";
 * if (gpuAvailability.status !== "ok") console.log(`GPU tests skipped: ${gpuAvailability.reason}`);
 * ```
 */
export const gpuAvailability: { status: "ok" | "no-api" | "no-adapter"; reason: string } = await webGpuStatus();

let context: Promise<WebGpuContext> | null = null;

/**
 * The test file's device (created on first use).
 *
 * @example
 * ```ts
 * import { testDevice } from "./testing.ts";
 * const ctx = await testDevice(); // pass as { device: ctx } to WebGpuModel.create
 * ```
 */
export function testDevice(): Promise<WebGpuContext> {
  return context ??= requestWebGpuDevice();
}

/**
 * A test that needs WebGPU: runs where there is an adapter, otherwise is reported as skipped with the reason in its
 * name (visible under both `deno test` and `bun test`).
 *
 * @example
 * ```ts
 * import { gpuTest } from "./testing.ts";
 * gpuTest("adds on the GPU", async () => {});
 * ```
 */
export function gpuTest(name: string, fn: () => Promise<void> | void): void {
  if (gpuAvailability.status === "ok") {
    it(name, fn);
  } else {
    const why = gpuAvailability.status === "no-api" && "Bun" in globalThis
      ? "no WebGPU in Bun"
      : gpuAvailability.status === "no-api"
      ? "no navigator.gpu in this runtime"
      : "no WebGPU adapter (apt-get install mesa-vulkan-drivers for a CPU one)";
    it(`${name} (skipped: ${why})`, { skip: why }, () => {});
  }
}

/**
 * max |a - b| / max |b| (see the module doc).
 *
 * @example
 * ```ts
 * import { relErr } from "./testing.ts";
 * relErr([1, 2.001], [1, 2]); // 0.0005
 * ```
 */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`relErr: lengths ${a.length} and ${b.length} differ`);
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (!(e <= d)) d = e; // NaN propagates
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-30);
}
