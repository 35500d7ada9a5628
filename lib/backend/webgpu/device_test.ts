// Device set-up: the adapter's limits are requested (not WebGPU's small defaults), and where WebGPU cannot run the
// error says what to do — under Bun: Bun has no WebGPU, use Deno or the CPU backend; without an adapter: install a
// driver, or Mesa's CPU emulation. This file runs everywhere (it is how Bun's message is tested).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { requestWebGpuDevice, WebGpuUnavailableError } from "./device.ts";
import { WebGpuModel } from "./model.ts";
import { gpuAvailability } from "./testing.ts";

describe("WebGPU device set-up", () => {
  if (gpuAvailability.status === "ok") {
    it("requests the adapter's limits", async () => {
      const adapter = (await navigator.gpu.requestAdapter())!;
      const { device, info } = await requestWebGpuDevice();
      try {
        assert.ok(info.description.length > 0);
        for (const k of ["maxStorageBufferBindingSize", "maxComputeInvocationsPerWorkgroup"] as const) {
          assert.equal(device.limits[k], adapter.limits[k], k);
        }
      } finally {
        device.destroy();
      }
    });
    it("without an adapter, says how to get one", async () => {
      const gpu = navigator.gpu as unknown as Record<string, unknown>;
      Object.defineProperty(gpu, "requestAdapter", { value: () => Promise.resolve(null), configurable: true });
      try {
        await assert.rejects(requestWebGpuDevice(), /no adapter.*Vulkan, Metal or D3D12.*mesa-vulkan-drivers/s);
      } finally {
        delete gpu.requestAdapter; // the prototype's method again
      }
      assert.notEqual(await navigator.gpu.requestAdapter(), null);
    });
  } else {
    it(`says why there is no WebGPU here and what to do (${gpuAvailability.status})`, async () => {
      const want = "Bun" in globalThis
        ? /Bun has no WebGPU.*Deno.*CPU backend/s
        : gpuAvailability.status === "no-adapter"
        ? /no adapter.*Vulkan, Metal or D3D12.*mesa-vulkan-drivers/s
        : /no navigator\.gpu/;
      await assert.rejects(
        requestWebGpuDevice(),
        (e: Error) => e instanceof WebGpuUnavailableError && want.test(e.message),
      );
      await assert.rejects(
        WebGpuModel.create({ cell: "lstm", inputSize: 1, hiddenSize: 2, outputSize: 1 }),
        (e: Error) => want.test(e.message),
      );
    });
  }
});

describe("cells WebGPU lacks are refused before any device is asked for", () => {
  it("GRU, Greff's variants and peepholes: not on WebGPU, with the way to run them", async () => {
    await assert.rejects(
      WebGpuModel.create({ cell: "gru", inputSize: 1, hiddenSize: 2, outputSize: 1 }),
      /cell = "gru" is not on WebGPU: its WGSL kernels are not written .*backend "cpu" or "js"/,
    );
    await assert.rejects(
      WebGpuModel.create({ cell: "lstm", variant: "CIFG", inputSize: 1, hiddenSize: 2, outputSize: 1 }),
      /variant = "CIFG" is not on WebGPU: the GPU kernels implement the seed's LSTM cell only/,
    );
    await assert.rejects(
      WebGpuModel.create({ cell: "lstm", peepholes: true, inputSize: 1, hiddenSize: 2, outputSize: 1 }),
      /peepholes = true is not on WebGPU/,
    );
  });
});
