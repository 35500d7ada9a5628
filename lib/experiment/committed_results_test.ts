/**
 * The committed results are reproducible from this code: a few cheap cells of each kind (gradient flow at
 * initialisation, training to a stopping rule, the RNN and the LSTM, several tasks) are rerun from the configuration
 * stored in their result file, and every number they recorded must come out bit for bit the same (the JSON is
 * compared, wall time aside). Under Deno and under Bun: the cells were computed under Deno.
 *
 * When a change to the library moves these numbers on purpose, the committed results are stale: rerun the affected
 * experiments (`deno task experiment experiments/<file>` after removing their cells/) rather than editing this test.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../plot/data.ts";
import { cellProblem } from "./results.ts";
import { runCell } from "./run_cell.ts";

/** Cells rerun here, by experiment and label (each under ~3 s). */
const CELLS: [string, string][] = [
  ["gradient-flow", "rnn-rho0.9 seqLen=100 seed=0"],
  ["gradient-flow", "lstm-fb1 seqLen=200 seed=3"],
  ["gradient-flow-cells", "gru seqLen=100 seed=0"],
  ["gradient-flow-cells", "lstm-NFG seqLen=100 seed=3"],
  ["adding-learnability", "rnn seqLen=11 seed=0"],
  ["latch", "lstm seqLen=100 seed=3"],
  ["long-lag", "rnn task.params.p=4 seed=4"],
  ["embedded-reber", "rnn-15 seed=1"],
  ["long-lag-distractors", "adam task.params.q=50 task.params.p=50 seed=0"],
];

function committedCell(experiment: string, label: string): Record<string, unknown> {
  const dir = join(REPO_ROOT, "results", experiment);
  const rows = readFileSync(join(dir, "summary.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const row = rows.find((r) => r.label === label);
  assert.ok(row !== undefined, `results/${experiment}: no cell labelled "${label}"`);
  return JSON.parse(readFileSync(join(dir, "cells", `${row.hash}.json`), "utf8"));
}

describe("committed results rerun to the same bits", () => {
  for (const [experiment, label] of CELLS) {
    it(`${experiment}: ${label}`, { timeout: 60_000 }, async () => {
      const committed = committedCell(experiment, label);
      const rerun = (await runCell(committed.config as Parameters<typeof runCell>[0])) as unknown as Record<
        string,
        unknown
      >;
      const fields = Object.keys(rerun).filter((k) => k !== "wallMs");
      assert.ok(fields.includes("gradientFlow") && fields.includes("status"));
      for (const k of fields) {
        assert.equal(JSON.stringify(rerun[k]), JSON.stringify(committed[k]), `${experiment} "${label}": ${k} differs`);
      }
    });
  }
});

describe("committed cell files are valid", () => {
  it("every one parses, has this schema version and the hash of its configuration as its name", () => {
    // A run over results/<name>/ would move an invalid one aside and compute it again (see results.ts).
    const root = join(REPO_ROOT, "results");
    let n = 0;
    for (const experiment of readdirSync(root)) {
      let files: string[];
      try {
        files = readdirSync(join(root, experiment, "cells")).filter((f) => /^[0-9a-f]{16}\.json$/.test(f));
      } catch {
        continue;
      }
      for (const f of files) {
        const problem = cellProblem(readFileSync(join(root, experiment, "cells", f), "utf8"), f.slice(0, 16));
        assert.equal(problem, null, `results/${experiment}/cells/${f}: ${problem}`);
        n++;
      }
    }
    assert.ok(n > 0);
  });
});
