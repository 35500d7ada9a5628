/**
 * The TensorFlow.js 4.22 WebGPU peer: the same tfjs model as peers/tfjs.ts (a `tf.sequential` LSTM or simpleRNN +
 * dense, Adam, MSE, `trainOnBatch`), on `@tensorflow/tfjs-backend-webgpu` 4.22, in the same process as our WebGPU
 * model. Its forward pass reads back with `await data()` (tfjs-webgpu's `dataSync` needs `OffscreenCanvas`, which
 * Deno does not have).
 *
 * Where tfjs comes from, in order:
 * 1. `LSTM_LAB_TFJS_UMD_DIR`: a folder with tfjs's browser bundles `tf.min.js` (from @tensorflow/tfjs/dist) and
 *    `tf-backend-webgpu.min.js` (from @tensorflow/tfjs-backend-webgpu/dist) — 1.8 MB in all, for a machine without
 *    node_modules (bench/gpu/prepare.sh copies them; they load in Deno given a `require` for tfjs's Node detection);
 * 2. node_modules: `@tensorflow/tfjs`, and `@tensorflow/tfjs-backend-webgpu` (a devDependency when present in
 *    package.json) or, failing that, the file in `LSTM_LAB_TFJS_WEBGPU` (its `dist/tf-backend-webgpu.node.js`, e.g.
 *    from a separate `npm install`; its own copy of @tensorflow/tfjs-core is fine: tfjs keeps its engine and kernel
 *    registry in a global).
 * When none loads, the peer is listed as unavailable with the reason.
 *
 * @module
 */

import type * as TF from "@tensorflow/tfjs";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { type LoadedPeers, tfjsPeer } from "./tfjs.ts";

const PACKAGE = "@tensorflow/tfjs-backend-webgpu";

/**
 * Loads tfjs with its WebGPU backend; the peer, or why it is unavailable.
 *
 * @example
 * ```ts
 * import { loadTfjsWebGpuPeer } from "./tfjs_webgpu.ts";
 * const { peers, unavailable } = await loadTfjsWebGpuPeer();
 * ```
 */
export async function loadTfjsWebGpuPeer(): Promise<LoadedPeers> {
  const name = "tfjs-webgpu";
  if ((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu === undefined) {
    return { peers: [], unavailable: [{ name, reason: "no navigator.gpu in this runtime (Bun has no WebGPU)" }] };
  }
  const umd = process.env.LSTM_LAB_TFJS_UMD_DIR;
  if (umd !== undefined && umd !== "") return await fromBundles(name, umd);
  let tf: typeof TF;
  try {
    tf = await import("@tensorflow/tfjs");
  } catch (e) {
    return { peers: [], unavailable: [{ name, reason: `@tensorflow/tfjs does not load: ${(e as Error).message}` }] };
  }
  const tried: string[] = [];
  let loaded = false;
  const warn = console.warn; // "Platform node has already been set" when it brings its own tfjs-core copy
  console.warn = (...a: unknown[]) => {
    if (!/Platform .* has already been set/.test(a.map(String).join(" "))) warn(...a);
  };
  for (const spec of [PACKAGE, process.env.LSTM_LAB_TFJS_WEBGPU]) {
    if (spec === undefined || spec === "") continue;
    try {
      // A variable specifier: not resolved (nor type-checked) unless this runs.
      const url = spec === PACKAGE ? spec : pathToFileURL(spec).href;
      await import(url);
      loaded = true;
      break;
    } catch (e) {
      tried.push(`${spec}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  console.warn = warn;
  if (!loaded) {
    const reason = `${PACKAGE} 4.22.0 is not installed (add it to package.json devDependencies and run deno install, ` +
      `or set LSTM_LAB_TFJS_WEBGPU to its dist/tf-backend-webgpu.node.js); tried ${tried.join("; ")}`;
    return { peers: [], unavailable: [{ name, reason }] };
  }
  if (!(await tf.setBackend("webgpu"))) {
    return { peers: [], unavailable: [{ name, reason: "tf.setBackend('webgpu') failed (no adapter?)" }] };
  }
  const info = { version: tf.version.tfjs, backend: tf.getBackend() };
  return { peers: [tfjsPeer(tf, "webgpu", info)], unavailable: [] };
}

/** tfjs and its WebGPU backend from their browser bundles (see the module doc). */
async function fromBundles(name: string, dir: string): Promise<LoadedPeers> {
  const files = ["tf.min.js", "tf-backend-webgpu.min.js"].map((f) => join(dir, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    return { peers: [], unavailable: [{ name, reason: `LSTM_LAB_TFJS_UMD_DIR: missing ${missing.join(", ")}` }] };
  }
  const g = globalThis as { require?: unknown; tf?: typeof TF };
  g.require ??= createRequire(import.meta.url); // tfjs's Node platform detection calls require
  try {
    for (const f of files) await import(pathToFileURL(f).href);
  } catch (e) {
    return { peers: [], unavailable: [{ name, reason: `the tfjs bundles do not load: ${(e as Error).message}` }] };
  }
  const tf = g.tf!;
  if (!(await tf.setBackend("webgpu"))) {
    return { peers: [], unavailable: [{ name, reason: "tf.setBackend('webgpu') failed (no adapter?)" }] };
  }
  return {
    peers: [tfjsPeer(tf, "webgpu", { version: tf.version.tfjs, backend: tf.getBackend(), from: dir })],
    unavailable: [],
  };
}
