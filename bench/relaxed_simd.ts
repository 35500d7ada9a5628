/**
 * Relaxed SIMD experiment (issue 11): the wasm GEMM with `f32x4.relaxed_madd` (fused multiply-add where the engine
 * and CPU fuse it) against the shipped kernels, on the shapes of a layer's products. It rewrites the GEMM tiles of
 * `lib/backend/cpu/wasm/assembly/kernels.ts` (c = c + a·b → c = relaxed_madd(a, b, c)), builds that variant into a
 * temporary folder with the project's compiler flags plus `--enable relaxed-simd`, and times both in this runtime,
 * with a checksum of the results (equal checksums: the engine did not fuse).
 *
 *   deno run -A bench/relaxed_simd.ts      |      bun run bench/relaxed_simd.ts
 *
 * Found (bench/README.md): V8 (Deno) fuses and is faster; JavaScriptCore (Bun) does not fuse, so the two runtimes
 * would give different bits: the shipped kernels keep plain multiply and add.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ASC_FLAGS } from "../tools/build_wasm.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = readFileSync(join(root, "lib/backend/cpu/wasm/assembly/kernels.ts"), "utf8");
const [gemmPart, rest] = source.split("// Vector elementary");
const relaxedSource = gemmPart.replace(
  /(c\w*) = f32x4\.add\(\1, f32x4\.mul\(([^,]+), ([^)]+\)?)\)\);/g,
  "$1 = f32x4.relaxed_madd($2, $3, $1);",
) + "// Vector elementary" + rest;
const fused = (relaxedSource.match(/relaxed_madd/g) ?? []).length;

const dir = mkdtempSync(join(tmpdir(), "lstm-lab-relaxed-"));
try {
  writeFileSync(join(dir, "kernels.ts"), relaxedSource);
  const asc = join(root, "node_modules/assemblyscript/bin/asc.js");
  const flags = [...ASC_FLAGS, "--enable", "relaxed-simd"];
  execFileSync("node", [asc, join(dir, "kernels.ts"), ...flags, "--outFile", join(dir, "kernels.wasm")]);
  const bytesOf = (path: string) => new Uint8Array(readFileSync(path));
  const variants: [string, Uint8Array<ArrayBuffer>][] = [
    ["shipped (mul + add)", bytesOf(join(root, "lib/backend/cpu/wasm/kernels.wasm"))],
    [`relaxed_madd (${fused} sites)`, bytesOf(join(dir, "kernels.wasm"))],
  ];
  // (M, N, K, A transposed): the per-step product of the medium LSTM, its dW_hh, the wide LSTM's per-step product.
  const shapes: [number, number, number, boolean][] = [[32, 512, 128, false], [512, 128, 6400, true], [
    64,
    1024,
    256,
    false,
  ]];
  for (const [name, bytes] of variants) {
    const memory = new WebAssembly.Memory({ initial: 2000, maximum: 65536, shared: true });
    const abort = () => {
      throw new Error("abort");
    };
    let x: { gemm(...a: number[]): void };
    try {
      x = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory, abort } }).exports as typeof x;
    } catch (e) {
      console.log(`${name}: does not load here: ${(e as Error).message}`);
      continue;
    }
    const out: string[] = [];
    let checksum = 0;
    for (const [M, N, K, tA] of shapes) {
      const a = 64, b = a + 4 * M * K + 64, c = b + 4 * K * N + 64, f = new Float32Array(memory.buffer);
      for (let i = 0; i < M * K; i++) f[a / 4 + i] = Math.sin(i);
      for (let i = 0; i < K * N; i++) f[b / 4 + i] = Math.cos(i);
      const [ars, acs] = tA ? [1, M] : [K, 1];
      const run = () => x.gemm(0, M, N, K, a, ars, acs, b, N, c, N, 0);
      run();
      let best = Infinity;
      for (let r = 0; r < 5; r++) {
        let n = 0;
        const t = performance.now();
        while (performance.now() - t < 100) (run(), n++);
        best = Math.min(best, (performance.now() - t) / n);
      }
      for (let i = 0; i < M * N; i++) checksum += f[c / 4 + i];
      out.push(`${M}×${N}×${K}${tA ? " (Aᵀ)" : ""} ${(2 * M * N * K / best / 1e6).toFixed(1)} GFLOP/s`);
    }
    console.log(`${name}: ${out.join("; ")}; checksum ${checksum}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
