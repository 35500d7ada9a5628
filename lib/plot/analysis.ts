/**
 * From result rows to what the figures show: gradient-norm profiles combined over seeds, the measured decay (or
 * growth) rate per step against Pascanu's bound, and success rates with Wilson intervals over seeds.
 *
 * @module
 */

import type { FlowRow, SummaryRow } from "./data.ts";
import { FLOAT32_MAX, FLOAT32_MIN_NORMAL, linearFit, log10, median, pow10, quantile, wilson } from "./stats.ts";

/**
 * A readable name for a model variant: "rnn-rho0.9" → "RNN ρ=0.9", "lstm-fb1" → "LSTM b_f=1", "lstm-40" →
 * "LSTM-40", "rnn" → "RNN", "gru" → "GRU", "lstm-CIFG" → "LSTM-CIFG"; other names are kept.
 *
 * @example
 * ```ts
 * import { seriesLabel } from "./analysis.ts";
 * seriesLabel("rnn-rho1.1"); // "RNN ρ=1.1"
 * seriesLabel("lstm"); // "LSTM"
 * ```
 */
export function seriesLabel(variant: string): string {
  let m = /^(rnn|irnn)-rho(-?[\d.]+)$/.exec(variant);
  if (m) return `${m[1].toUpperCase()} ρ=${m[2]}`;
  m = /^lstm-fb(-?[\d.]+)$/.exec(variant);
  if (m) return `LSTM b_f=${m[1]}`;
  m = /^(lstm|rnn|irnn|gru)(-.*)?$/.exec(variant);
  if (m) return m[1].toUpperCase() + (m[2] ?? "");
  return variant === "" ? "(default)" : variant;
}

/**
 * Sorts series labels for legends: RNNs first (by ρ), then IRNNs, then LSTMs (by forget bias), then the rest
 * alphabetically.
 *
 * @example
 * ```ts
 * import { sortSeries } from "./analysis.ts";
 * sortSeries(["LSTM b_f=1", "RNN ρ=1.5", "RNN ρ=0.5"]); // ["RNN ρ=0.5", "RNN ρ=1.5", "LSTM b_f=1"]
 * ```
 */
export function sortSeries(labels: Iterable<string>): string[] {
  const rank = (s: string) => (s.startsWith("RNN") ? 0 : s.startsWith("IRNN") ? 1 : s.startsWith("LSTM") ? 2 : 3);
  const num = (s: string) => {
    const m = /=(-?[\d.]+)/.exec(s);
    return m ? Number(m[1]) : -Infinity;
  };
  return [...new Set(labels)].sort((a, b) => rank(a) - rank(b) || num(a) - num(b) || a.localeCompare(b));
}

// RNNs from blue (vanishing, small ρ) through purple (ρ = 1) to red (exploding); LSTMs in greens.
const RNN_COLORS = ["#74a9cf", "#0570b0", "#6a51a3", "#f16913", "#bd0026", "#67000d", "#9ecae1"];
// (beyond four LSTMs, e.g. Greff et al.'s variants: distinct hues, so that no two lines share a color)
const LSTM_COLORS = [
  "#41ab5d",
  "#006d2c",
  "#a1d99b",
  "#00441b",
  "#1b9e77",
  "#66a61e",
  "#a6761d",
  "#e6ab02",
  "#7570b3",
  "#d95f02",
];
const OTHER_COLORS = ["#7f7f7f", "#bcbd22", "#17becf", "#e377c2", "#8c564b", "#ff7f0e", "#1f77b4"];

/**
 * A color per series, for a vega-lite scale (`domain` and `range`): RNNs in blue to red as ρ grows (vanishing
 * to exploding), LSTMs in greens, others in neutral colors.
 *
 * @example
 * ```ts
 * import { seriesColors } from "./analysis.ts";
 * const { domain, range } = seriesColors(["RNN ρ=0.5", "LSTM b_f=1"]);
 * ```
 */
export function seriesColors(labels: Iterable<string>): { domain: string[]; range: string[] } {
  const domain = sortSeries(labels);
  const isRnn = (s: string) => s.startsWith("RNN") || s.startsWith("IRNN");
  const nRnn = domain.filter(isRnn).length;
  let r = 0, l = 0, o = 0;
  const range = domain.map((s) => {
    if (isRnn(s)) {
      // up to five RNNs spread over the blue-to-red ramp; more take the extra shades
      const i = nRnn === 1 ? 1 : nRnn <= 5 ? Math.round((r++ * 4) / (nRnn - 1)) : r++;
      return RNN_COLORS[i % RNN_COLORS.length];
    }
    if (s.startsWith("LSTM")) return LSTM_COLORS[l++ % LSTM_COLORS.length];
    return OTHER_COLORS[o++ % OTHER_COLORS.length];
  });
  return { domain, range };
}

/**
 * The nominal sequence length of a gradient-flow row (the seqLen axis or task.params.T; else the batch's T, which
 * is longer for tasks that draw lengths).
 *
 * @example
 * ```ts
 * import { nominalT } from "./analysis.ts";
 * import type { FlowRow } from "./data.ts";
 * nominalT({ T: 110, seqLen: 100 } as FlowRow); // 100
 * ```
 */
export function nominalT(row: FlowRow): number {
  return typeof row.seqLen === "number" ? row.seqLen : row.T;
}

/** Which gradient: ‖∂L/∂h_t‖ ("dh") or the LSTM's ‖∂L/∂c_t‖ ("dc"). */
export type FlowQuantity = "dh" | "dc";

/** A gradient-norm profile point combined over the seeds (cells) of one series. */
export interface FlowPoint {
  series: string;
  variant: string;
  cell: "lstm" | "rnn";
  quantity: FlowQuantity;
  at: string;
  T: number;
  lag: number;
  /** Median over seeds of each seed's batch median (Infinity: overflowed; 0: underflowed in float32). */
  median: number;
  /** Median over seeds of each seed's batch first and third quartiles. */
  q25: number;
  q75: number;
  seeds: number;
  /** Median over seeds of λ₁ = ‖W_hh‖₂. */
  spectralNorm: number;
}

/** Options of `aggregateFlow`. */
export interface AggregateFlowOptions {
  quantity?: FlowQuantity;
  /** Keep only these measurements ("init", "end", a checkpoint); default: all. */
  at?: "init" | "end" | number | ((at: FlowRow["at"]) => boolean);
  /** Keep only these nominal lengths. */
  T?: number | number[];
}

/** The rows the `at` and `T` options keep (the quantity is checked by the caller). */
function flowRowFilter(opts: AggregateFlowOptions): (r: FlowRow) => boolean {
  const Ts = opts.T === undefined ? null : new Set(Array.isArray(opts.T) ? opts.T : [opts.T]);
  const at = opts.at;
  const atOk = at === undefined ? () => true : typeof at === "function" ? at : (a: FlowRow["at"]) => a === at;
  return (r) => atOk(r.at) && (Ts === null || Ts.has(nominalT(r)));
}

/** null in the JSON tables is a float32 value that was not finite: an overflow (the only way these norms get there). */
const asNumber = (x: number | null | undefined) => (x === null || x === undefined ? Infinity : x);

/**
 * Combines gradient-norm profiles over seeds. Each cell (one seed) was measured on its own batch of B sequences and
 * stored the batch's quartiles per lag; they are combined by taking, per lag, the median over seeds of each seed's
 * median, and the median over seeds of each seed's first and third quartiles. So the line is a typical seed's batch
 * median and the band is a typical seed's inter-quartile range over its batch (not quartiles of the pooled
 * sequences: the per-sequence norms are not stored). Medians are robust to the one seed whose norm overflowed or
 * underflowed, and commute with the log axis. A stored null (a non-finite float32) counts as +∞ (overflow).
 *
 * @example
 * ```ts
 * import { aggregateFlow } from "./analysis.ts";
 * import { loadResults } from "./data.ts";
 * const gf = loadResults("gradient-flow", { fallbackToQuick: true });
 * const points = gf ? aggregateFlow(gf.flow, { quantity: "dh", at: "init", T: 200 }) : [];
 * ```
 */
export function aggregateFlow(rows: readonly FlowRow[], opts: AggregateFlowOptions = {}): FlowPoint[] {
  const quantity = opts.quantity ?? "dh";
  const keep = flowRowFilter(opts);
  const groups = new Map<string, FlowRow[]>();
  for (const r of rows) {
    if (!keep(r)) continue;
    const T = nominalT(r);
    if (quantity === "dc" && r.dcMedian === undefined) continue;
    const key = `${r.variant}\u0000${r.at}\u0000${T}\u0000${r.lag}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, g = []);
    g.push(r);
  }
  const out: FlowPoint[] = [];
  for (const g of groups.values()) {
    const r0 = g[0];
    const pick = (r: FlowRow, q: "Q25" | "Median" | "Q75") => asNumber(r[`${quantity}${q}`] as number | null);
    out.push({
      series: seriesLabel(r0.variant),
      variant: r0.variant,
      cell: r0.cell,
      quantity,
      at: String(r0.at),
      T: nominalT(r0),
      lag: r0.lag,
      median: median(g.map((r) => pick(r, "Median"))),
      q25: median(g.map((r) => pick(r, "Q25"))),
      q75: median(g.map((r) => pick(r, "Q75"))),
      seeds: g.length,
      spectralNorm: median(g.map((r) => r.spectralNorm)),
    });
  }
  return out.sort((a, b) =>
    a.variant.localeCompare(b.variant) || a.at.localeCompare(b.at) || a.T - b.T || a.lag - b.lag
  );
}

/** The measured per-step rate of one series at one length, against Pascanu's bound. */
export interface DecayRate {
  series: string;
  variant: string;
  cell: "lstm" | "rnn";
  quantity: FlowQuantity;
  at: string;
  T: number;
  /** Median over seeds of the fitted slope of log10 ‖∂L/∂h_t‖ against the lag (decades per step; < 0: vanishing). */
  slope: number;
  /** 10^slope: the factor the norm is multiplied by per step back in time. */
  factor: number;
  /** Smallest and largest slope over seeds. */
  slopeMin: number;
  slopeMax: number;
  /** Median over seeds of the fit's R². */
  r2: number;
  /** Median number of lags fitted. */
  points: number;
  seeds: number;
  /** λ₁ = ‖W_hh‖₂ (median over seeds) and Pascanu's per-step bound λ₁·γ (γ = 1 for tanh), in decades: log10(λ₁). */
  lambda1: number;
  boundSlope: number;
  /** The RNN's spectral radius (median over seeds) or the LSTM's forget bias, when known. */
  rho?: number;
  forgetBias?: number;
}

/** Options of `decayRates`. */
export interface DecayOptions extends AggregateFlowOptions {
  /** First lag fitted (default 1: lag 0 carries the readout's own gradient). */
  minLag?: number;
}

/**
 * Fits, per cell, a least-squares line to log10 of the batch-median gradient norm against the lag, over the lags
 * from `minLag` on where the norm is a normal float32 (between 1.2e-38 and 3.4e38: zeros from underflow,
 * subnormals, which keep few digits, and overflows are left out), then takes the median slope over seeds. A slope
 * s means the norm is multiplied by 10^s per step back in time. Pascanu et al.'s bound for a tanh RNN is
 * ‖∂h_T/∂h_t‖ ≤ (λ₁γ)^(T−t) with γ = 1, so `boundSlope` = log10(λ₁); a measured slope below it is what the bound
 * allows, and λ₁ < 1 guarantees vanishing.
 *
 * @example
 * ```ts
 * import { decayRates } from "./analysis.ts";
 * import { loadResults } from "./data.ts";
 * const gf = loadResults("gradient-flow", { fallbackToQuick: true });
 * for (const d of gf ? decayRates(gf.flow, { at: "init" }) : []) {
 *   console.log(d.series, d.T, d.factor.toFixed(3), "per step; bound", d.lambda1.toFixed(3));
 * }
 * ```
 */
export function decayRates(rows: readonly FlowRow[], opts: DecayOptions = {}): DecayRate[] {
  const quantity = opts.quantity ?? "dh", minLag = opts.minLag ?? 1;
  const keep = flowRowFilter(opts);
  // per cell (hash, at): its profile
  const cells = new Map<string, FlowRow[]>();
  for (const r of rows) {
    if (!keep(r)) continue;
    if (quantity === "dc" && r.dcMedian === undefined) continue;
    const key = `${r.hash}\u0000${r.at}`;
    let c = cells.get(key);
    if (c === undefined) cells.set(key, c = []);
    c.push(r);
  }
  const fits = new Map<string, { rows: FlowRow[]; slope: number[]; r2: number[]; n: number[] }>();
  for (const c of cells.values()) {
    const x: number[] = [], y: number[] = [];
    for (const r of c) {
      const v = r[`${quantity}Median`] as number | null;
      if (r.lag < minLag || v === null || !(v >= FLOAT32_MIN_NORMAL && v <= FLOAT32_MAX)) continue;
      x.push(r.lag);
      y.push(log10(v));
    }
    const fit = linearFit(x, y);
    const r0 = c[0];
    const key = `${r0.variant}\u0000${r0.at}\u0000${nominalT(r0)}`;
    let f = fits.get(key);
    if (f === undefined) fits.set(key, f = { rows: [], slope: [], r2: [], n: [] });
    f.rows.push(r0);
    if (Number.isFinite(fit.slope)) {
      f.slope.push(fit.slope);
      f.r2.push(fit.r2);
      f.n.push(fit.n);
    }
  }
  const out: DecayRate[] = [];
  for (const f of fits.values()) {
    const r0 = f.rows[0];
    const slope = median(f.slope);
    const lambda1 = median(f.rows.map((r) => r.spectralNorm));
    const d: DecayRate = {
      series: seriesLabel(r0.variant),
      variant: r0.variant,
      cell: r0.cell,
      quantity,
      at: String(r0.at),
      T: nominalT(r0),
      slope,
      factor: Number.isFinite(slope) ? pow10(slope) : NaN,
      slopeMin: f.slope.length ? Math.min(...f.slope) : NaN,
      slopeMax: f.slope.length ? Math.max(...f.slope) : NaN,
      r2: median(f.r2),
      points: median(f.n),
      seeds: f.rows.length,
      lambda1,
      boundSlope: log10(lambda1),
    };
    const rho = median(f.rows.map((r) => (typeof r.spectralRadius === "number" ? r.spectralRadius : NaN)));
    if (Number.isFinite(rho)) d.rho = rho;
    if (typeof r0.forgetBias === "number") d.forgetBias = r0.forgetBias;
    out.push(d);
  }
  const order = sortSeries(out.map((d) => d.series));
  return out.sort((a, b) => order.indexOf(a.series) - order.indexOf(b.series) || a.T - b.T);
}

/** Success statistics of one model at one value of the length axis, over seeds. */
export interface SuccessStat {
  series: string;
  variant: string;
  /** The length axis value (T, p or q), or null for experiments without one. */
  x: number | null;
  /** Cells (seeds). */
  n: number;
  successes: number;
  /** successes / n, and its 95% Wilson interval. */
  rate: number;
  lo: number;
  hi: number;
  /** Training sequences to success of the successful seeds: median and quartiles (null when none succeeded). */
  medianSequences: number | null;
  q25Sequences: number | null;
  q75Sequences: number | null;
  /** The training budget (largest over the cells). */
  budget: number | null;
  /** Median test accuracy over the seeds (null without a test set). */
  testAccuracy: number | null;
  /** How success was judged. */
  criterion: "solved" | "beats-baseline";
}

/** The columns that can serve as a learnability chart's x axis, in order of preference. */
export const LENGTH_AXES: readonly string[] = ["task.params.T", "task.params.q", "task.params.p"];

/**
 * The summary column that varies with the time lag in a sweep (task.params.T, else q, else p), or null when no
 * such column takes more than one value.
 *
 * @example
 * ```ts
 * import { lengthAxis } from "./analysis.ts";
 * lengthAxis([{ "task.params.T": 50 }, { "task.params.T": 100 }]); // "task.params.T"
 * lengthAxis([{ "task.params.variant": "6a" }]); // null
 * ```
 */
export function lengthAxis(summary: readonly SummaryRow[]): string | null {
  for (const col of LENGTH_AXES) {
    const vals = new Set(summary.map((s) => s[col]).filter((v) => typeof v === "number"));
    if (vals.size > 1) return col;
  }
  return null;
}

/**
 * Whether a cell succeeded: its stopping rule was met ("solved"), or, for runs trained to the budget without a
 * stopping rule (stop kind "never", as in the Arjovsky et al. reproductions), its test loss is below the task's
 * trivial baseline ("beats the baseline", the papers' criterion there).
 *
 * @example
 * ```ts
 * import { cellSucceeded } from "./analysis.ts";
 * cellSucceeded({ status: "solved" }); // true
 * cellSucceeded({ status: "trained", "training.stop.kind": "never", testLoss: 0.1, baselineLoss: 0.17 }); // true
 * ```
 */
export function cellSucceeded(row: SummaryRow): boolean {
  if (successCriterion(row) === "beats-baseline") {
    return typeof row.testLoss === "number" && typeof row.baselineLoss === "number" &&
      row.testLoss < row.baselineLoss;
  }
  return row.status === "solved";
}

/**
 * How `cellSucceeded` judges a row: "beats-baseline" for runs without a stopping rule, else "solved".
 *
 * @example
 * ```ts
 * import { successCriterion } from "./analysis.ts";
 * successCriterion({ "training.stop.kind": "never" }); // "beats-baseline"
 * ```
 */
export function successCriterion(row: SummaryRow): "solved" | "beats-baseline" {
  return row["training.stop.kind"] === "never" ? "beats-baseline" : "solved";
}

/**
 * Success rate (with a 95% Wilson interval over seeds) and sequences to success per model and length. `x` names
 * the length column (default: `lengthAxis(summary)`); null groups by model only.
 *
 * @example
 * ```ts
 * import { successStats } from "./analysis.ts";
 * import { loadResults } from "./data.ts";
 * const r = loadResults("adding-learnability", { fallbackToQuick: true, flow: false, curves: false });
 * for (const s of r ? successStats(r.summary) : []) console.log(s.series, s.x, `${s.successes}/${s.n}`);
 * ```
 */
export function successStats(summary: readonly SummaryRow[], opts: { x?: string | null } = {}): SuccessStat[] {
  const xCol = opts.x === undefined ? lengthAxis(summary) : opts.x;
  const groups = new Map<string, SummaryRow[]>();
  for (const s of summary) {
    if (s.status === "measured") continue;
    const key = `${s.variant}\u0000${xCol === null ? "" : s[xCol]}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, g = []);
    g.push(s);
  }
  const out: SuccessStat[] = [];
  for (const g of groups.values()) {
    const s0 = g[0];
    const ok = g.filter(cellSucceeded);
    const seqs = ok.map((s) => s.sequencesToSuccess).filter((v): v is number => typeof v === "number");
    const w = wilson(ok.length, g.length);
    const budgets = g.map((s) => s["training.maxSequences"]).filter((v): v is number => typeof v === "number");
    const acc = g.map((s) => s.testAccuracy).filter((v): v is number => typeof v === "number");
    out.push({
      series: seriesLabel(String(s0.variant)),
      variant: String(s0.variant),
      x: xCol === null ? null : (typeof s0[xCol] === "number" ? s0[xCol] as number : null),
      n: g.length,
      successes: ok.length,
      rate: w.rate,
      lo: w.lo,
      hi: w.hi,
      medianSequences: seqs.length ? median(seqs) : null,
      q25Sequences: seqs.length ? quantile(seqs, 0.25) : null,
      q75Sequences: seqs.length ? quantile(seqs, 0.75) : null,
      budget: budgets.length ? Math.max(...budgets) : null,
      testAccuracy: acc.length ? median(acc) : null,
      criterion: successCriterion(s0),
    });
  }
  const order = sortSeries(out.map((s) => s.series));
  return out.sort((a, b) => order.indexOf(a.series) - order.indexOf(b.series) || (a.x ?? 0) - (b.x ?? 0));
}

/**
 * Human-readable name of a length column: "task.params.T" → "T", "task.params.p" → "p".
 *
 * @example
 * ```ts
 * import { axisName } from "./analysis.ts";
 * axisName("task.params.q"); // "q"
 * ```
 */
export function axisName(col: string | null): string {
  if (col === null) return "";
  return col.replace(/^task\.params\./, "");
}
