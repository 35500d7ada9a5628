/**
 * WebGPU device set-up: finds an adapter, requests a device with the adapter's own limits (storage buffer sizes,
 * workgroup sizes, invocations per workgroup) instead of WebGPU's small defaults, and reports what goes wrong in
 * words a user can act on:
 *
 * - under Bun (no `navigator.gpu`): Bun has no WebGPU; use Deno, or the CPU backend;
 * - no adapter: there is no GPU driver WebGPU can use; install one (Vulkan, Metal or D3D12), or on Linux Mesa's CPU
 *   emulation (`apt-get install mesa-vulkan-drivers`: lavapipe, slow but correct);
 * - a lost device (driver reset, out of memory, `destroy()`): the reason and message, on stderr and to `onLost`.
 *
 * @module
 */

/**
 * Thrown when WebGPU cannot be used here; the message says why and what to do.
 *
 * @example
 * ```ts
 * import { requestWebGpuDevice, WebGpuUnavailableError } from "./device.ts";
 * try {
 *   await requestWebGpuDevice();
 * } catch (e) {
 *   if (e instanceof WebGpuUnavailableError) console.log(e.message); // what to install, or to use Deno
 * }
 * ```
 */
export class WebGpuUnavailableError extends Error {
  /**
   * @example
   * ```ts
   * import { WebGpuUnavailableError } from "./device.ts";
   * const e = new WebGpuUnavailableError("no adapter");
   * e.name; // "WebGpuUnavailableError"
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "WebGpuUnavailableError";
  }
}

/** What the device was created from, for reports. */
export interface WebGpuDeviceInfo {
  /** The adapter's description (e.g. "NVIDIA H100", "llvmpipe (LLVM 15.0.6, 256 bits)"), or vendor/device ids. */
  description: string;
  vendor: string;
  architecture: string;
  /** True for software adapters (lavapipe, SwiftShader, WARP). */
  isFallbackAdapter: boolean;
}

/** A device with its adapter's limits, and what it runs on. */
export interface WebGpuContext {
  device: GPUDevice;
  info: WebGpuDeviceInfo;
  /** Resolves when the device is lost (with the reason), like `device.lost`. */
  lost: Promise<GPUDeviceLostInfo>;
}

/** Options of `requestWebGpuDevice`. */
export interface WebGpuDeviceOptions {
  /** Adapter preference (default "high-performance"). */
  powerPreference?: GPUPowerPreference;
  /** Called when the device is lost (besides a message on stderr, unless the loss was asked for by `destroy()`). */
  onLost?: (info: GPUDeviceLostInfo) => void;
}

/** The limits we take from the adapter (all it offers), beyond WebGPU's defaults. */
const LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxDynamicUniformBuffersPerPipelineLayout",
] as const;

/** The runtime, for messages. */
function runtimeName(): "bun" | "deno" | "other" {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Bun !== undefined ? "bun" : g.Deno !== undefined ? "deno" : "other";
}

/**
 * Whether this runtime exposes WebGPU at all (`navigator.gpu`); says nothing about adapters.
 *
 * @example
 * ```ts
 * import { hasWebGpuApi } from "./device.ts";
 * if (!hasWebGpuApi()) console.log("no WebGPU here (Bun?)");
 * ```
 */
export function hasWebGpuApi(): boolean {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  return nav !== undefined && nav.gpu !== undefined && nav.gpu !== null;
}

/** Why WebGPU is missing from this runtime, as the error to throw. */
function missingApiError(): WebGpuUnavailableError {
  if (runtimeName() === "bun") {
    return new WebGpuUnavailableError(
      "WebGPU: Bun has no WebGPU (navigator.gpu is undefined). Run under Deno (`deno run -A ...`), which has it " +
        "built in, or use the CPU backend (`cpuModel(...)`, `--backend cpu`).",
    );
  }
  return new WebGpuUnavailableError(
    "WebGPU: this runtime has no navigator.gpu. Run under Deno ≥ 2 (WebGPU built in), or use the CPU backend.",
  );
}

const NO_ADAPTER = "WebGPU: no adapter found (navigator.gpu.requestAdapter() returned null): there is no GPU driver " +
  "WebGPU can use. Install a GPU with Vulkan, Metal or D3D12 drivers, or, on Linux without a GPU, Mesa's CPU " +
  "emulation: `sudo apt-get install mesa-vulkan-drivers` (lavapipe; slow but correct). If the Vulkan loader " +
  "complains about XDG_RUNTIME_DIR, `export XDG_RUNTIME_DIR=/tmp`.";

/**
 * The adapter, or null when there is none (WebGPU present but no usable driver). Throws only when the runtime has
 * no WebGPU (Bun).
 *
 * @example
 * ```ts
 * import { findAdapter } from "./device.ts";
 * const adapter = await findAdapter();
 * console.log(adapter === null ? "no adapter" : adapter.info.description);
 * ```
 */
export async function findAdapter(
  powerPreference: GPUPowerPreference = "high-performance",
): Promise<GPUAdapter | null> {
  if (!hasWebGpuApi()) throw missingApiError();
  try {
    return await navigator.gpu.requestAdapter({ powerPreference });
  } catch {
    return null;
  }
}

/** Describes an adapter for reports. */
function describe(adapter: GPUAdapter): WebGpuDeviceInfo {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const fallback = (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ??
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  const description = info?.description || [info?.vendor, info?.device].filter((s) => s).join(" ") || "unknown";
  return {
    description,
    vendor: info?.vendor ?? "",
    architecture: info?.architecture ?? "",
    isFallbackAdapter: fallback,
  };
}

/**
 * Requests an adapter and a device with the adapter's limits (see the module doc). Throws a
 * `WebGpuUnavailableError` saying what to do when there is no WebGPU (Bun) or no adapter.
 *
 * @example
 * ```ts
 * import { requestWebGpuDevice } from "./device.ts";
 * const { device, info } = await requestWebGpuDevice();
 * console.log(info.description, device.limits.maxStorageBufferBindingSize);
 * device.destroy();
 * ```
 */
export async function requestWebGpuDevice(opts: WebGpuDeviceOptions = {}): Promise<WebGpuContext> {
  const adapter = await findAdapter(opts.powerPreference);
  if (adapter === null) throw new WebGpuUnavailableError(NO_ADAPTER);
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof v === "number") requiredLimits[name] = v;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch (e) {
    throw new WebGpuUnavailableError(`WebGPU: the adapter refused a device: ${(e as Error).message}`);
  }
  const info = describe(adapter);
  const lost = device.lost.then((li) => {
    if (li.reason !== "destroyed") {
      console.error(
        `WebGPU: device lost on ${info.description} (reason: ${li.reason ?? "unknown"}): ${li.message}. ` +
          "Its buffers are gone; create the model again (a driver reset or running out of GPU memory cause this).",
      );
    }
    opts.onLost?.(li);
    return li;
  });
  const seen = new Set<string>();
  device.addEventListener?.("uncapturederror", (ev: Event) => {
    const message = (ev as GPUUncapturedErrorEvent).error?.message ?? "unknown error";
    if (seen.has(message) || seen.size > 20) return; // each message once: a bad kernel fails on every dispatch
    seen.add(message);
    console.error(`WebGPU: error on ${info.description}: ${message}`);
  });
  return { device, info, lost };
}

/**
 * Whether tests and benchmarks can run here: "ok", or why not ("no-api": the runtime has no WebGPU, e.g. Bun;
 * "no-adapter": no driver). Never throws.
 *
 * @example
 * ```ts
 * import { webGpuStatus } from "./device.ts";
 * const s = await webGpuStatus();
 * if (s.status !== "ok") console.log(`skipped: ${s.reason}`);
 * ```
 */
export async function webGpuStatus(): Promise<{ status: "ok" | "no-api" | "no-adapter"; reason: string }> {
  if (!hasWebGpuApi()) {
    return {
      status: "no-api",
      reason: runtimeName() === "bun" ? "no WebGPU in Bun" : "this runtime has no navigator.gpu",
    };
  }
  const adapter = await findAdapter();
  if (adapter === null) return { status: "no-adapter", reason: NO_ADAPTER };
  return { status: "ok", reason: describe(adapter).description };
}

let shared: Promise<WebGpuContext> | null = null;

/**
 * One device per process (worker thread), created on first use and shared by the models built after it (they then
 * share compiled kernels); a lost device is replaced on the next call.
 *
 * @example
 * ```ts
 * import { sharedWebGpuDevice } from "./device.ts";
 * const ctx = await sharedWebGpuDevice(); // the same context on every call
 * ```
 */
export function sharedWebGpuDevice(): Promise<WebGpuContext> {
  shared ??= requestWebGpuDevice().then((ctx) => {
    ctx.lost.then(() => (shared = null));
    return ctx;
  }, (e) => {
    shared = null;
    throw e;
  });
  return shared;
}
