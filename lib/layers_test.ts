// The layering: every import of a non-test module points down (or stays in its layer), and no two modules import
// each other through a cycle. The layer order is written once, in tools/layers.ts.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { importCycles, KNOWN_UPWARD, layerGraph, layerOf, scanImports, upwardImports } from "../tools/layers.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const edges = scanImports(ROOT);

test("the scan finds the imports (a broken scanner would pass every check below)", () => {
  assert.ok(edges.length > 300, `only ${edges.length} imports found`);
  assert.ok(edges.some((e) => e.from === "lib/nn/model.ts" && e.to === "lib/nn/layer.ts"));
  assert.ok(edges.some((e) => e.from === "lib/experiment/run_cell.ts" && e.to === "lib/train.ts"));
});

test("the layer table orders the folders as the brief does: basics → nn → backends → training → experiment → plot", () => {
  const rank = (p: string) => layerOf(p)!.rank;
  assert.ok(rank("lib/arr.ts") < rank("lib/optim/adam.ts"));
  assert.ok(rank("lib/optim/adam.ts") < rank("lib/nn/model.ts"));
  assert.ok(rank("lib/nn/model.ts") < rank("lib/backend/cpu/wasm_kernels.ts"));
  assert.equal(rank("lib/backend/cpu/wasm_kernels.ts"), rank("lib/backend/webgpu/model.ts")); // siblings
  assert.ok(rank("lib/backend/webgpu/model.ts") < rank("lib/train.ts"));
  assert.ok(rank("lib/train.ts") < rank("lib/experiment/run_cell.ts"));
  assert.ok(rank("lib/experiment/run_cell.ts") < rank("lib/plot/report.ts"));
  assert.ok(rank("lib/plot/report.ts") < rank("experiments/latch.ts"));
});

test("no import runs up a layer or sideways between sibling layers (except the known ones, which only shrink)", () => {
  const key = (from: string, to: string) => `${from} -> ${to}`;
  const known = new Set(KNOWN_UPWARD.map((k) => key(k.from, k.to)));
  const bad = upwardImports(edges);
  const unexpected = bad.filter((b) => !known.has(key(b.edge.from, b.edge.to))).map((b) =>
    `${key(b.edge.from, b.edge.to)}: ${b.why}`
  );
  assert.deepEqual(unexpected, [], "upward imports (move the imported code down, or the importer up)");
  const found = new Set(bad.map((b) => key(b.edge.from, b.edge.to)));
  const stale = [...known].filter((k) => !found.has(k));
  assert.deepEqual(stale, [], "KNOWN_UPWARD entries that no longer occur: remove them from tools/layers.ts");
});

test("a module that imports a higher layer is caught", () => {
  const bad = upwardImports([{ from: "lib/nn/model.ts", to: "lib/backend/cpu/cpu_kernels.ts", test: false }]);
  assert.equal(bad.length, 1);
  assert.match(bad[0].why, /nn \(rank 2\) imports backend\/cpu \(rank 4\)/);
  const sideways = upwardImports([{
    from: "lib/backend/webgpu/model.ts",
    to: "lib/backend/cpu/model.ts",
    test: false,
  }]);
  assert.equal(sideways.length, 1);
  assert.equal(upwardImports([{ from: "lib/nn/model_test.ts", to: "lib/backend/cpu/model.ts", test: true }]).length, 0);
});

test("no import cycles between modules", () => {
  assert.deepEqual(importCycles(edges), []);
  assert.equal(
    importCycles([{ from: "a.ts", to: "b.ts", test: false }, { from: "b.ts", to: "a.ts", test: false }]).length,
    1,
  );
});

test("the README's architecture section shows the current layer graph", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const m = readme.match(/<!-- layers:begin -->\s*```text\n([\s\S]*?)\n```\s*<!-- layers:end -->/);
  assert.ok(m !== null, "README.md: no ```text block between <!-- layers:begin --> and <!-- layers:end -->");
  assert.equal(m[1], layerGraph(edges), "README.md is stale: paste the output of `deno run -A tools/layers.ts`");
});
