/**
 * The run's answer: the factor per step, the 10⁶ lag and the verdict on profiles of known decay, the sparkline's
 * scale, and the text and figures of a real (tiny) run.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runExperiment } from "../experiment/runner.ts";
import { readFileSync } from "node:fs";
import { flowRowsFromProbes, REPO_ROOT } from "./data.ts";
import { answerText, flowSummary, printRunAnswer, runAnswer, sparkline, verdictOf } from "./summary.ts";

/** Probes of a norm that is multiplied by `factor` per step back in time, the same for every batch row. */
function geometric(variant: string, cell: "lstm" | "rnn", factor: number, T: number, B = 3) {
  const dh = new Float32Array(T * B), dc = new Float32Array(T * B);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) dh[t * B + b] = dc[t * B + b] = Math.pow(factor, T - 1 - t);
  }
  return flowRowsFromProbes(dh, cell === "lstm" ? dc : null, T, B, { variant, cell, spectralNorm: 1 });
}

describe("flowSummary", () => {
  it("measures the factor per step, the lag of a 10⁶ change and the verdict", () => {
    const rows = [
      ...geometric("rnn-rho0.5", "rnn", 0.5, 60),
      ...geometric("rnn-rho1", "rnn", 1.001, 60),
      ...geometric("lstm-fb1", "lstm", 1.5, 60),
    ];
    const s = flowSummary(rows);
    const get = (v: string, q: "dh" | "dc") => s.find((r) => r.variant === v && r.quantity === q)!;
    const vanish = get("rnn-rho0.5", "dh");
    assert.ok(Math.abs(vanish.factor - 0.5) < 1e-5, String(vanish.factor));
    // 0.5^k ≤ 1e-6 first at k = 20 (0.5^19 = 1.9e-6, 0.5^20 = 9.5e-7)
    assert.equal(vanish.lag1e6, 20);
    assert.equal(vanish.lagMeasured, true);
    assert.equal(vanish.verdict, "vanishes");
    const hold = get("rnn-rho1", "dh");
    assert.equal(hold.verdict, "holds");
    assert.equal(hold.lagMeasured, false); // extrapolated: 6 / log10(1.001) ≈ 13,822 steps
    assert.ok(Math.abs(hold.lag1e6! - 13822) < 5, String(hold.lag1e6));
    const grow = get("lstm-fb1", "dc");
    assert.equal(grow.verdict, "explodes");
    assert.equal(grow.lag1e6, 35); // 1.5^34 = 9.6e5, 1.5^35 = 1.4e6
    assert.equal(s.filter((r) => r.quantity === "dc").length, 1); // only the LSTM has ‖∂L/∂c_t‖
    assert.equal(vanish.sparkline.length, 24);
    assert.ok(vanish.sparkline.endsWith("▁▁▁") && grow.sparkline.endsWith("███"), vanish.sparkline + grow.sparkline);
  });
});

describe("sparkline and verdictOf", () => {
  it("draws on a fixed scale and clamps under/overflow to its ends", () => {
    assert.equal(sparkline([0, 1, 2, 3], 0, 3, 4), "▁▃▆█");
    assert.equal(sparkline([-Infinity, Infinity, NaN], -1, 1, 3), "▁█ ");
    assert.equal(sparkline([0, 0, 3, 3], 0, 3, 2), "▁█"); // bins are averaged
    assert.equal(verdictOf(0.98), "vanishes"); // 1000 steps: 10^-8.8
    assert.equal(verdictOf(1.02), "explodes"); // 1000 steps: 10^8.6
    assert.equal(verdictOf(0.999), "holds"); // 1000 steps: 10^-0.43
  });
});

describe("printRunAnswer", () => {
  it("prints the answer of a real run and writes its figures beside the tables", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lstm-lab-summary-"));
    try {
      const experiment = {
        name: "flow-tiny",
        description: "summary test",
        task: { name: "adding", params: { T: 12, variant: "arjovsky" } },
        model: { cell: "lstm", hiddenSize: 4 },
        measure: { gradientFlow: { at: ["init"], batchSize: 4 }, testSequences: 0 },
        sweep: {
          variants: {
            "rnn-rho0.5": { model: { cell: "rnn", init: { recurrentWeights: { spectralRadius: 0.5 } } } },
            lstm: {},
          },
          axes: { seed: [0] },
        },
        quick: {},
      };
      const out = join(dir, "flow-tiny");
      const s = await runExperiment(experiment, { outDir: out, workers: 1, progress: "none" });
      assert.ok(s.complete);
      const logged: string[] = [];
      const log = console.log;
      console.log = (...a: unknown[]) => logged.push(a.join(" "));
      let answer;
      try {
        answer = await printRunAnswer("flow-tiny", out);
      } finally {
        console.log = log;
      }
      assert.ok(answer !== null);
      assert.equal(answer.kind, "gradient-flow");
      assert.equal(answer.flow.find((r) => r.variant === "rnn-rho0.5")?.verdict, "vanishes");
      assert.deepEqual(answer.figures.map((f) => f.slice(out.length + 1)), [
        "figures/gradient_flow.svg",
        "figures/gradient_flow_heatmap.svg",
        "figures/gradient_decay.svg",
      ]);
      for (const f of answer.figures) assert.ok(existsSync(f), f);
      const text = logged.join("\n");
      assert.match(text, /RNN ρ=0\.5 .* vanishes/);
      assert.equal(text, answerText(answer));
      // --json: the same answer as one JSON line (non-finite numbers as strings)
      logged.length = 0;
      console.log = (...a: unknown[]) => logged.push(a.join(" "));
      try {
        await printRunAnswer("flow-tiny", out, { json: true, figures: false });
      } finally {
        console.log = log;
      }
      assert.equal(logged.length, 1);
      const json = JSON.parse(logged[0]).answer;
      assert.equal(json.experiment, "flow-tiny");
      assert.deepEqual(
        json.flow.map((
          r: { variant: string; quantity: string; verdict: string },
        ) => [r.variant, r.quantity, r.verdict]),
        answer.flow.map((r) => [r.variant, r.quantity, r.verdict]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("README", () => {
  it("shows the answer that the committed gradient-flow results give", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const block = /```text\n(── gradient-flow: what it measured[^`]*?)\n```/.exec(readme);
    assert.ok(block !== null, "README has the gradient-flow answer in a ```text block");
    const answer = runAnswer("gradient-flow", join(REPO_ROOT, "results", "gradient-flow"), "full");
    assert.equal(block[1], answerText(answer));
  });
});
