/**
 * Backend selection: "auto" follows what this runtime actually has (in CI under Deno, lavapipe: WebGPU; under Bun:
 * the CPU), "webgpu" fails with a message that says what is missing, unknown names are rejected with the choices.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { resolveBackend } from "./select.ts";
import { webGpuStatus, WebGpuUnavailableError } from "./webgpu/device.ts";

describe("resolveBackend", () => {
  it("cpu is always the CPU", async () => {
    assert.equal((await resolveBackend("cpu")).backend, "cpu");
  });

  it("auto picks WebGPU exactly when an adapter exists, and says why", async () => {
    const gpu = await webGpuStatus();
    const r = await resolveBackend("auto");
    assert.equal(r.backend, gpu.status === "ok" ? "webgpu" : "cpu");
    assert.ok(r.reason.length > 0 && r.reason.includes(gpu.reason), r.reason);
    if ("Bun" in globalThis) assert.equal(r.backend, "cpu"); // Bun has no WebGPU
  });

  it("webgpu resolves where an adapter exists and otherwise throws what is missing", async () => {
    const gpu = await webGpuStatus();
    if (gpu.status === "ok") {
      assert.equal((await resolveBackend("webgpu")).backend, "webgpu");
    } else {
      await assert.rejects(resolveBackend("webgpu"), (e: Error) => {
        assert.ok(e instanceof WebGpuUnavailableError);
        assert.match(e.message, "Bun" in globalThis ? /Bun has no WebGPU.*Deno/ : /WebGPU/);
        return true;
      });
    }
  });

  it("rejects an unknown backend, naming the field, the value and the choices", async () => {
    await assert.rejects(resolveBackend("cuda"), /backend: "cuda" is not a backend; expected one of cpu, webgpu, auto/);
  });
});
