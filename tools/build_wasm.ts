/**
 * Builds the WebAssembly SIMD kernels from their AssemblyScript source:
 *   lib/backend/cpu/wasm/assembly/kernels.ts  →  lib/backend/cpu/wasm/kernels.wasm
 *
 * Usage: `deno task build:wasm` (needs `deno install` for the pinned AssemblyScript compiler).
 * `--check` rebuilds into a temporary file and fails if it differs from the committed binary, so CI proves that the
 * binary in the repository is the one its source makes.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = join(root, "lib/backend/cpu/wasm/assembly/kernels.ts");
const target = join(root, "lib/backend/cpu/wasm/kernels.wasm");
const asc = join(root, "node_modules/assemblyscript/bin/asc.js");

/** The compiler flags; the memory is imported (shared, so worker threads can share it) and grows on demand. */
export const ASC_FLAGS = [
  "--enable",
  "simd",
  "--enable",
  "threads",
  "--importMemory",
  "--sharedMemory",
  "--initialMemory",
  "1",
  "--maximumMemory",
  "65536",
  "--runtime",
  "stub",
  "--noAssert",
  "--optimizeLevel",
  "3",
  "--shrinkLevel",
  "0",
];

function build(out: string): void {
  execFileSync("node", [asc, source, ...ASC_FLAGS, "--outFile", out], { stdio: "inherit" });
}

if (import.meta.main) {
  if (process.argv.includes("--check")) {
    const dir = mkdtempSync(join(tmpdir(), "lstm-lab-wasm-"));
    try {
      const out = join(dir, "kernels.wasm");
      build(out);
      const fresh = readFileSync(out), committed = readFileSync(target);
      if (!fresh.equals(committed)) {
        console.error(
          `build_wasm --check: ${target} differs from a fresh build of ${source}; run deno task build:wasm`,
        );
        process.exit(1);
      }
      console.log(`build_wasm --check: ${target} matches its source (${committed.length} bytes)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    build(target);
    console.log(`built ${target} (${readFileSync(target).length} bytes)`);
  }
}
