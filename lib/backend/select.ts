/**
 * Choosing a backend by name: "cpu", "webgpu", or "auto" (WebGPU when this runtime has it and an adapter exists,
 * the CPU otherwise). Resolved once, before any cell is expanded, so that results are keyed and recorded by the
 * backend that actually ran them, never by "auto".
 *
 * @module
 */

import type { BackendName } from "../nn/trainable.ts";
import { webGpuStatus, WebGpuUnavailableError } from "./webgpu/device.ts";

export type { BackendName };

/** What a user may ask for: a backend, or "auto". */
export type BackendChoice = BackendName | "auto";

/** The choices `resolveBackend` accepts. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ["cpu", "webgpu", "auto"];

/**
 * The backend to run on, and why. "cpu" is always available; "webgpu" throws a `WebGpuUnavailableError` that says
 * what is missing (Bun has no WebGPU; no adapter: install GPU drivers or Mesa's lavapipe); "auto" gives "webgpu"
 * when an adapter exists and "cpu" otherwise, with the reason. Anything else throws an error naming `backend`, the
 * value and the allowed choices.
 *
 * @example
 * ```ts
 * import { resolveBackend } from "./select.ts";
 * const { backend, reason } = await resolveBackend("auto");
 * console.log(`running on ${backend} (${reason})`); // e.g. "running on cpu (no WebGPU in Bun)"
 * ```
 */
export async function resolveBackend(choice: string): Promise<{ backend: BackendName; reason: string }> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new Error(
      `backend: ${JSON.stringify(choice)} is not a backend; expected one of ${BACKEND_CHOICES.join(", ")}`,
    );
  }
  if (choice === "cpu") return { backend: "cpu", reason: "asked for" };
  const gpu = await webGpuStatus();
  if (gpu.status === "ok") return { backend: "webgpu", reason: `WebGPU adapter: ${gpu.reason}` };
  if (choice === "auto") return { backend: "cpu", reason: gpu.reason };
  throw new WebGpuUnavailableError(
    gpu.status === "no-api" && gpu.reason.includes("Bun")
      ? "WebGPU: Bun has no WebGPU (navigator.gpu is undefined). Run under Deno, which has it built in, or use the " +
        'CPU backend (backend "cpu", or "auto" to take WebGPU only where it exists).'
      : gpu.reason,
  );
}
