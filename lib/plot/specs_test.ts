/**
 * The spec builders and the analysis behind them, on synthetic rows with known answers: fields and log axes,
 * Pascanu's bound for the RNN rows only, zero (underflowed) and null (overflowed) norms kept off the log axes, decay
 * rates recovered from a known geometric profile, Wilson intervals, success statistics, and the reproduction mapping.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { aggregateFlow, decayRates, seriesLabel, successStats } from "./analysis.ts";
import type { CurveRow, FlowRow, SummaryRow } from "./data.ts";
import { flowRowsFromProbes } from "./data.ts";
import { EXPERIMENTS, reproductionRows, reproductionTableHtml } from "./reproduction.ts";
import {
  decayRateSpec,
  flowHeatmapSpec,
  gateStatsSpec,
  gradientFlowSpec,
  LOG_AXIS,
  sequencesToSuccessSpec,
  successRateSpec,
  tableSpec,
  trainingCurvesSpec,
  type VlSpec,
} from "./specs.ts";
import { linearFit, median, wilson } from "./stats.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** Geometric profiles: norm(k) = v0 · factor^k, with values below 1e-40 stored as 0 (float32 underflow). */
function flowRows(
  variant: string,
  cell: "rnn" | "lstm",
  factor: number,
  T: number,
  seeds: number[],
  extra: Partial<FlowRow> = {},
): FlowRow[] {
  const rows: FlowRow[] = [];
  for (const seed of seeds) {
    let v = 0.05 * (1 + 0.01 * seed);
    for (let lag = 0; lag < T; lag++) {
      const stored = v < 1e-40 ? 0 : v > 3e38 ? null : v;
      const row: FlowRow = {
        hash: `${variant}-${T}-${seed}`,
        label: `${variant} seqLen=${T} seed=${seed}`,
        variant,
        seed,
        seqLen: T,
        cell,
        at: "init",
        T,
        lag,
        dhQ25: stored === null ? null : stored * 0.5,
        dhMedian: stored,
        dhQ75: stored === null ? null : stored * 2,
        spectralNorm: 0.9,
        ...extra,
      };
      if (cell === "lstm") {
        row.dcQ25 = stored === null ? null : stored * 0.4;
        row.dcMedian = stored;
        row.dcQ75 = stored === null ? null : stored * 3;
      } else row.spectralRadius = 0.5;
      rows.push(row);
      v *= factor;
    }
  }
  return rows;
}

const RNN = flowRows("rnn-rho0.5", "rnn", 0.5, 200, [0, 1, 2]); // underflows after ~128 lags
const LSTM = flowRows("lstm-fb1", "lstm", 0.9, 200, [0, 1, 2], { forgetBias: 1, spectralNorm: 1.7 });
const BIG = flowRows("rnn-rho1.5", "rnn", 2, 200, [0, 1, 2], { spectralNorm: 2.7 }); // overflows after ~130 lags

function layers(spec: VlSpec): Any[] {
  const s = spec as Any;
  return s.layer ?? s.spec?.layer ?? [];
}
function values(spec: VlSpec): Any[] {
  return (spec as Any).data.values;
}
function subtitle(spec: VlSpec): string {
  return ((spec as Any).title.subtitle as string[]).join(" ");
}

describe("gradientFlowSpec", () => {
  const spec = gradientFlowSpec([...RNN, ...LSTM, ...BIG]);

  it("plots the norm against the lag on a log axis, a line and a band per model", () => {
    assert.match(String((spec as Any).$schema), /vega-lite\/v5/);
    const [band, line] = layers(spec);
    assert.equal(band.mark.type, "area");
    assert.equal(band.encoding.x.field, "lag");
    assert.equal(band.encoding.y.scale.type, "log");
    assert.equal(band.encoding.y2.field, "hi");
    assert.equal(line.mark.type, "line");
    assert.equal(line.encoding.y.field, "value");
    assert.equal(line.encoding.y.scale.type, "log");
    assert.equal(line.encoding.color.field, "series");
    const series = new Set(values(spec).map((d) => d.series));
    assert.deepEqual([...series].sort(), ["LSTM b_f=1", "RNN ρ=0.5", "RNN ρ=1.5"]);
  });

  it("draws Pascanu's bound (λ₁γ)^(T−t) from the lag-0 value for the RNN rows only", () => {
    const bound = values(spec).filter((d) => d.kind === "bound");
    assert.deepEqual([...new Set(bound.map((d) => d.series))].sort(), ["RNN ρ=0.5", "RNN ρ=1.5"]);
    const b = bound.filter((d) => d.series === "RNN ρ=0.5").sort((x, y) => x.lag - y.lag);
    const v0 = median([0.05, 0.0505, 0.051]);
    assert.ok(Math.abs(b[0].value / v0 - 1) < 1e-4, "anchored at the lag-0 median");
    const k = b[3].lag;
    assert.ok(Math.abs(b[3].value / (v0 * Math.pow(0.9, k)) - 1) < 1e-3, `λ₁^k at lag ${k}`);
    assert.ok(layers(spec).some((l) => l.mark.strokeDash !== undefined), "dashed bound layer");
  });

  it("keeps norms below float32's normal range (subnormal or 0) and overflowed (null) ones off the log axis", () => {
    for (const d of values(spec)) {
      if (d.kind === "bound") continue;
      assert.ok(d.value >= 1.1754943508222875e-38 && Number.isFinite(d.value), `value ${d.value} at lag ${d.lag}`);
      if (d.lo !== undefined && d.lo !== null) assert.ok(d.lo >= 1.1754943508222875e-38);
      if (d.hi !== undefined && d.hi !== null) assert.ok(Number.isFinite(d.hi));
    }
    const text = subtitle(spec);
    assert.match(text, /below float32's normal range \(1\.2e-38\) or to 0/);
    assert.match(text, /overflowed float32/);
  });

  it("puts the LSTM's ‖∂L/∂c_t‖ in a second panel with quantity 'both'", () => {
    const both = gradientFlowSpec([...RNN, ...LSTM], { quantity: "both" }) as Any;
    assert.equal(both.facet.field, "panel");
    const panels = new Set(values(both).map((d) => d.panel));
    assert.deepEqual([...panels], ["‖∂L/∂h_t‖", "‖∂L/∂c_t‖"]);
    const cSeries = new Set(values(both).filter((d) => d.panel === "‖∂L/∂c_t‖").map((d) => d.series));
    assert.deepEqual([...cSeries], ["LSTM b_f=1"], "only the LSTM has a cell state");
    assert.ok(!values(both).some((d) => d.kind === "bound" && d.panel === "‖∂L/∂c_t‖"));
  });

  it("facets over every length with T: 'all'", () => {
    const rows = [...RNN, ...flowRows("rnn-rho0.5", "rnn", 0.5, 50, [0])];
    const all = gradientFlowSpec(rows, { T: "all" }) as Any;
    assert.deepEqual([...new Set(values(all).map((d) => d.panel))], ["T = 50", "T = 200"]);
  });
});

describe("flowHeatmapSpec", () => {
  it("colors log10 norm over (T, t), with norms below float32's normal range clipped to −38 and counted", () => {
    const spec = flowHeatmapSpec([...RNN, ...flowRows("rnn-rho0.5", "rnn", 0.5, 20, [0, 1, 2])]) as Any;
    const [noData, cells] = spec.spec.layer;
    assert.equal(cells.mark.type, "rect");
    assert.equal(cells.encoding.color.field, "log10norm");
    assert.equal(cells.encoding.color.legend.type, "gradient"); // a colour legend
    assert.equal(spec.spec.encoding.y.field, "T");
    assert.equal(spec.spec.encoding.x.field, "t0");
    // t > T is drawn apart from the colour scale (gray, its own legend entry), for the shorter row only
    assert.equal(noData.encoding.fill.field, "nodata");
    const gaps = values(spec).filter((d) => d.nodata !== undefined);
    assert.deepEqual(gaps.map((d) => [d.series, d.T, d.t0, d.t1]), [["RNN ρ=0.5", 20, 20, 200]]);
    const v = values(spec).filter((d) => d.nodata === undefined).map((d) => d.log10norm);
    assert.ok(Math.min(...v) >= -38 && Math.min(...v) < -37, `clipped at float32's smallest normal: ${Math.min(...v)}`);
    assert.match(subtitle(spec), /below float32's normal range \(or 0\) drawn at −38/);
    const Ts = new Set(values(spec).map((d) => d.T));
    assert.deepEqual([...Ts].sort((a, b) => a - b), [20, 200]);
    assert.ok(values(spec).filter((d) => d.T === 200 && d.nodata === undefined).length <= 50, "long rows are binned");
  });
});

describe("decay rates", () => {
  it("recovers a known per-step factor, ignoring the underflowed tail", () => {
    const rates = decayRates([...RNN, ...LSTM]);
    const rnn = rates.find((d) => d.variant === "rnn-rho0.5")!;
    assert.ok(Math.abs(rnn.factor - 0.5) < 1e-9, `factor ${rnn.factor}`);
    assert.ok(Math.abs(rnn.lambda1 - 0.9) < 1e-12);
    assert.equal(rnn.seeds, 3);
    assert.ok(rnn.points < 130, "the zeros are not fitted");
    const lstm = rates.find((d) => d.variant === "lstm-fb1")!;
    assert.ok(Math.abs(lstm.factor - 0.9) < 1e-9);
    assert.equal(lstm.forgetBias, 1);
    const spec = decayRateSpec(rates) as Any;
    assert.equal(spec.layer.length, 3);
    assert.equal(spec.layer[1].data.values.length, 1, "a bound tick for the RNN only");
  });

  it("combines seeds by the median of each seed's quantiles", () => {
    const pts = aggregateFlow(RNN, { T: 200 }).filter((p) => p.lag === 0);
    assert.equal(pts.length, 1);
    assert.equal(pts[0].seeds, 3);
    assert.ok(Math.abs(pts[0].median - 0.0505) < 1e-12);
    assert.ok(Math.abs(pts[0].q75 - 0.101) < 1e-12);
  });

  it("turns probes into rows, lag 0 at each sequence's scored step", () => {
    const T = 3, B = 2;
    // (T, B): sequence 0 is scored at t = 2, sequence 1 (shorter) at t = 1
    const dh = new Float32Array([0.1, 0.2, 0.3, 0.4, 1, 9]);
    const rows = flowRowsFromProbes(dh, null, T, B, { variant: "rnn", cell: "rnn", lastStep: [2, 1] });
    assert.equal(rows.length, 3);
    assert.ok(Math.abs(rows[0].dhMedian! - (1 + 0.4) / 2) < 1e-6);
    assert.ok(Math.abs(rows[2].dhMedian! - 0.1) < 1e-6, "only sequence 0 has a step 2 before its scored one");
  });
});

describe("statistics", () => {
  it("Wilson intervals stay in [0, 1] and are not degenerate at 0/n and n/n", () => {
    const all = wilson(5, 5), none = wilson(0, 5), half = wilson(5, 10);
    assert.equal(all.hi, 1);
    assert.ok(Math.abs(all.lo - 0.5655) < 1e-3, String(all.lo));
    assert.equal(none.lo, 0);
    assert.ok(Math.abs(none.hi - 0.4345) < 1e-3);
    assert.ok(half.lo < 0.5 && half.hi > 0.5 && Math.abs(half.lo + half.hi - 1) < 1e-12);
  });

  it("fits lines and takes medians", () => {
    const f = linearFit([0, 1, 2, 3], [1, 3, 5, 7]);
    assert.ok(Math.abs(f.slope - 2) < 1e-12 && Math.abs(f.intercept - 1) < 1e-12 && f.r2 === 1);
    assert.equal(median([1, Infinity, 2, 3]), 2.5);
    assert.equal(median([1, Infinity]), 1, "an overflowed seed does not make the median infinite");
  });

  it("labels variants", () => {
    assert.equal(seriesLabel("rnn-rho0.9"), "RNN ρ=0.9");
    assert.equal(seriesLabel("lstm-fb0"), "LSTM b_f=0");
    assert.equal(seriesLabel("lstm-40"), "LSTM-40");
  });
});

/** Summary rows of a learnability sweep: the LSTM solves every T, the RNN only the short ones. */
function summary(): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const variant of ["lstm", "rnn"]) {
    for (const T of [10, 100, 1000]) {
      for (const seed of [0, 1, 2]) {
        const solved = variant === "lstm" || T === 10 || (T === 100 && seed === 0);
        rows.push({
          hash: `${variant}${T}${seed}`,
          variant,
          "task.params.T": T,
          seed,
          status: solved ? "solved" : "not-solved",
          sequencesToSuccess: solved ? 1000 * T + seed : null,
          "training.maxSequences": 2_000_000,
          "training.stop.kind": "accuracy",
          testAccuracy: solved ? 1 : 0.2,
          testWrong: solved ? 0 : 2000,
          testSequences: 2560,
          baselineLoss: 0.04,
        });
      }
    }
  }
  return rows;
}

describe("learnability specs", () => {
  it("success rate with Wilson intervals against T, on a log x axis", () => {
    const stats = successStats(summary());
    const rnn100 = stats.find((s) => s.variant === "rnn" && s.x === 100)!;
    assert.deepEqual([rnn100.successes, rnn100.n], [1, 3]);
    assert.equal(rnn100.medianSequences, 100_000);
    const spec = successRateSpec(stats, { xTitle: "T" }) as Any;
    const rule = spec.layer[0];
    assert.equal(rule.encoding.y.field, "lo");
    assert.equal(rule.encoding.y2.field, "hi");
    assert.equal(rule.encoding.x.scale.type, "log");
    assert.deepEqual(rule.encoding.y.scale.domain, [0, 1]);
    for (const d of spec.data.values) assert.ok(d.lo <= d.rate && d.rate <= d.hi);
  });

  it("sequences to success on log axes, unsolved seeds at their budget", () => {
    const spec = sequencesToSuccessSpec(summary(), { xTitle: "T" }) as Any;
    const points = spec.layer.at(-1);
    assert.equal(points.encoding.y.scale.type, "log");
    assert.equal(points.encoding.x.scale.type, "log");
    const unsolved = points.data.values.filter((d: Any) => d.outcome !== "solved");
    assert.equal(unsolved.length, 5);
    assert.ok(unsolved.every((d: Any) => d.sequences === 2_000_000));
  });

  it("training curves: loss (log) with the baseline rule, fraction correct, gradient norm (log)", () => {
    const curves: CurveRow[] = [];
    for (const s of summary().filter((r) => r["task.params.T"] === 1000)) {
      for (let step = 1; step <= 5; step++) {
        curves.push({
          hash: String(s.hash),
          label: "",
          variant: String(s.variant),
          seed: Number(s.seed),
          step,
          sequences: 32 * step,
          loss: step === 3 ? 0 : 0.04 / step,
          accuracy: 0.1 * step,
          gradNorm: 1,
        });
      }
    }
    const spec = trainingCurvesSpec(curves, summary()) as Any;
    assert.equal(spec.vconcat.length, 3);
    const [loss, acc, norm] = spec.vconcat;
    assert.equal(loss.layer[0].encoding.y.scale.type, "log");
    assert.equal(loss.layer[1].mark.type, "rule");
    assert.equal(loss.layer[1].data.values[0].baseline, 0.04);
    assert.equal(acc.encoding.y.field, "accuracy");
    assert.equal(norm.encoding.y.scale.type, "log");
    assert.ok(spec.data.values.every((d: Any) => d.loss === null || d.loss > 0), "a zero loss is left out");
    assert.match(subtitle(spec), /non-positive/);
  });

  it("gate statistics and tables", () => {
    const g = gateStatsSpec({ a: { input: [0.5], forget: [0.9], output: [0.4] } }) as Any;
    assert.equal(g.data.values.length, 3);
    const t = tableSpec([{ a: 1, b: null }]) as Any;
    assert.equal(t.hconcat.length, 2);
    assert.equal(t.data.values[0].b, "—");
  });
});

describe("reproduction mapping", () => {
  it("lists every published row as 'not run' without results", () => {
    for (const e of EXPERIMENTS.filter((x) => x.kind === "reproduction")) {
      const rows = reproductionRows(e.name, null);
      assert.equal(rows.length, e.experiment.published?.length ?? 0, e.name);
      assert.ok(rows.every((r) => r.status === "not run"));
    }
    assert.match(reproductionTableHtml(reproductionRows("latch", null)), /not run/);
  });

  it("maps cells to published rows by T and variant; the rest are 'ours only'", () => {
    const cells = summary().filter((s) => s["task.params.T"] !== 10).map((s) => ({ ...s, testSequences: 2560 }));
    const set = {
      name: "latch",
      dir: "",
      profile: "full" as const,
      state: "complete" as const,
      merged: true,
      finished: cells.length,
      expected: cells.length,
      mergedAt: null,
      summary: cells,
      curves: [],
      flow: [],
    };
    const rows = reproductionRows("latch", set);
    const t100 = rows.find((r) => r.published?.T === 100)!;
    assert.equal(t100.ours, "lstm");
    assert.equal(t100.success, "3/3 solved");
    assert.equal(t100.medianSequences, 100_001);
    assert.equal(t100.testWrong, "0/2560");
    const t1000 = rows.find((r) => r.published?.T === 1000)!;
    assert.equal(t1000.medianSequences, 1_000_001);
    const extra = rows.filter((r) => r.kind === "ours only");
    assert.deepEqual(extra.map((r) => r.ours), ["rnn, T = 100", "rnn, T = 1000"]);
    assert.equal(extra[0].success, "1/3 solved");
    assert.equal(extra[1].testWrong, "2000/2560");
  });
});

describe("log axes", () => {
  it("label powers of ten only, all as 10ⁿ (no '1e-10', '0.00001' or '10,000,000,000' on one axis)", async () => {
    const { renderSvg } = await import("./render.ts");
    const values = Array.from({ length: 30 }, (_, k) => ({ lag: k, value: Math.pow(10, 10 - k) }));
    const svg = await renderSvg({
      data: { values },
      mark: "line",
      encoding: {
        x: { field: "lag", type: "quantitative" },
        y: { field: "value", type: "quantitative", scale: { type: "log" }, axis: LOG_AXIS },
      },
    }, { strict: true });
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    const labels = texts.filter((t) => t.startsWith("10"));
    assert.ok(labels.includes("10⁻¹⁶") && labels.includes("10¹⁰") && labels.includes("10⁰"), labels.join(" "));
    for (const t of texts) assert.doesNotMatch(t, /1e-|0\.0000|10,000/);
  });
});
