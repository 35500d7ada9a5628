/**
 * Reading results: merged tables from a full run, the same rows rebuilt from cells/ for a run not merged yet
 * ("partial"), the quick-run fallback only when asked, "not run" as null — and the SVG renderer on real rows.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runExperiment } from "../experiment/runner.ts";
import { loadResults } from "./data.ts";
import { renderSvg, writeSvg } from "./render.ts";
import { gradientFlowSpec, successRateSpec, trainingCurvesSpec } from "./specs.ts";
import { successStats } from "./analysis.ts";
import { readFileSync } from "node:fs";

const experiment = {
  name: "latch",
  description: "data test",
  task: { name: "latch", params: { T: 20 } },
  model: { cell: "lstm", hiddenSize: 4 },
  training: { optimizer: { name: "adam", lr: 1e-2 }, batchSize: 8, maxSequences: 800, logEvery: 10 },
  measure: { testSequences: 32, gradientFlow: { at: ["init", "end"], batchSize: 4 } },
  sweep: { variants: { lstm: {}, rnn: { model: { cell: "rnn" } } }, axes: { seqLen: [10, 20], seed: [0] } },
  quick: {},
};

describe("loadResults", () => {
  it("reads merged tables, rebuilds the same rows from cells/, and falls back to quick runs only when asked", async () => {
    const root = mkdtempSync(join(tmpdir(), "lstm-lab-plot-data-"));
    try {
      await runExperiment(experiment, { outDir: join(root, "latch"), workers: 1, progress: "none" });
      const full = loadResults("latch", { root })!;
      assert.equal(full.profile, "full");
      assert.equal(full.state, "complete");
      assert.equal(full.merged, true);
      assert.deepEqual([full.finished, full.expected, full.summary.length], [4, 4, 4]);
      assert.ok(full.curves.length > 0);
      assert.ok(full.flow.length > 0);
      assert.ok(full.flow.every((f) => f.seqLen === 10 || f.seqLen === 20), "the nominal length is joined in");

      // the same folder before merging: cells only
      cpSync(join(root, "latch", "cells"), join(root, "partial", "cells"), { recursive: true });
      const partial = loadResults("partial", { root })!;
      assert.equal(partial.state, "partial");
      assert.equal(partial.merged, false);
      assert.equal(partial.expected, null);
      const key = (r: { hash: unknown; lag?: unknown; step?: unknown; at?: unknown }) =>
        `${r.hash} ${r.at ?? ""} ${r.lag ?? r.step ?? ""}`;
      assert.deepEqual(partial.summary.map((r) => r.hash).sort(), full.summary.map((r) => r.hash).sort());
      assert.deepEqual(partial.flow.map(key).sort(), full.flow.map(key).sort());
      assert.deepEqual(partial.curves.map(key).sort(), full.curves.map(key).sort());
      const med = (rows: typeof full.flow) => rows.map((r) => `${key(r)} ${r.dhMedian} ${r.dcMedian}`).sort();
      assert.deepEqual(med(partial.flow), med(full.flow));

      // quick runs: only when asked
      rmSync(join(root, "partial"), { recursive: true });
      cpSync(join(root, "latch"), join(root, "_runs", "copy-quick"), { recursive: true });
      assert.equal(loadResults("copy", { root }), null, "not run");
      assert.equal(loadResults("copy", { root, fallbackToQuick: true })!.profile, "quick");
      assert.equal(loadResults("latch", { root, fallbackToQuick: true })!.profile, "full", "full preferred");
      assert.equal(loadResults("copy", { root, flow: false })?.flow.length ?? 0, 0);

      // render real rows to SVG, with no vega warning
      const warnings: string[] = [];
      const svg = await renderSvg(gradientFlowSpec(full.flow, { quantity: "both", at: "all" }), { warnings });
      assert.deepEqual(warnings, []);
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /class="mark-area role-mark/);
      assert.match(svg, /class="mark-line role-mark/);
      const curves = await renderSvg(trainingCurvesSpec(full.curves, full.summary), { strict: true });
      assert.match(curves, /class="mark-rule role-mark/, "the baseline rule");
      const path = await writeSvg(successRateSpec(successStats(full.summary)), join(root, "fig", "s.svg"));
      assert.match(readFileSync(path, "utf8"), /^<svg[\s\S]*mark-symbol role-mark[\s\S]*<\/svg>\n$/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("renderSvg", () => {
  it("produces an SVG with the expected marks", async () => {
    const svg = await renderSvg({
      data: { values: [{ x: 1, y: 1e-3 }, { x: 2, y: 1e-9 }, { x: 3, y: 1e-20 }] },
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "y", type: "quantitative", scale: { type: "log" } },
      },
    }, { strict: true });
    assert.ok(svg.startsWith("<svg"));
    assert.ok(svg.trimEnd().endsWith("</svg>"));
    assert.match(svg, /class="mark-line role-mark/);
    assert.equal((svg.match(/aria-roledescription="point"/g) ?? []).length, 3, "three point symbols");
    assert.match(svg, />1e-20</, "log axis labels");
  });

  it("reports vega-lite warnings, or throws on them when strict", async () => {
    const bad = { data: { values: [{ x: 1 }] }, mark: "point", encoding: { x: { field: "x", type: "nope" } } };
    await assert.rejects(() => renderSvg(bad, { strict: true }));
  });
});
