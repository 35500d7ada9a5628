/**
 * Vega-lite specs from result rows: gradient flow against the lag (with Pascanu's bound for the RNN and the LSTM's
 * cell-state gradient alongside), a heatmap of log10 gradient norm over (T, t), the measured per-step decay rate,
 * learnability (success rate with Wilson intervals, sequences to success), training curves, and the reproduction
 * table. Every builder returns a plain JSON object (a vega-lite v5 spec with its data inlined): render it with
 * `render.ts`, show it in a notebook with `display.ts`, or embed it in a page with vega-embed.
 *
 * Log axes and float32: gradient norms are stored from float32 computations, so a norm below 1.4e-45 is 0 and one
 * above 3.4e38 is Infinity (null in JSON). A log axis cannot show either: the builders leave such points out and
 * say how many in the chart's subtitle (the heatmap instead clips them to the float32 range and says so).
 *
 * @module
 */

import {
  aggregateFlow,
  axisName,
  cellSucceeded,
  type DecayRate,
  type FlowPoint,
  type FlowQuantity,
  lengthAxis,
  nominalT,
  seriesColors,
  seriesLabel,
  sortSeries,
  type SuccessStat,
} from "./analysis.ts";
import type { CurveRow, FlowRow, SummaryRow } from "./data.ts";
import { FLOAT32_MAX, FLOAT32_MIN_NORMAL, log10, median, pow10 } from "./stats.ts";

/** A vega-lite (v5) specification, as plain JSON. */
export type VlSpec = Record<string, unknown>;

/** The vega-lite schema the specs declare (and the Jupyter MIME type `application/vnd.vegalite.v5+json`). */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

const QUANTITY_TITLE: Record<FlowQuantity, string> = { dh: "‖∂L/∂h_t‖", dc: "‖∂L/∂c_t‖" };

const BASE_CONFIG = {
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: "#eee" },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: "#555", anchor: "start" },
  header: { labelFontSize: 12, titleFontSize: 12 },
};

const SUPERSCRIPTS: [string, string][] = [
  ["-", "⁻"],
  ["−", "⁻"],
  ..."0123456789".split("").map((d, i) => [d, "⁰¹²³⁴⁵⁶⁷⁸⁹"[i]] as [string, string]),
];

/**
 * A log axis labelled in one format, 10ⁿ with a superscript exponent, at the powers of ten only (vega's default mixes
 * "10,000,000,000", "0.00001" and "1e-10" on one axis); the other ticks stay, unlabelled.
 */
export const LOG_AXIS: Readonly<{ labelExpr: string }> = Object.freeze({
  labelExpr: (() => {
    const exponent = "round(log(datum.value) / LN10)";
    let text = `format(${exponent}, 'd')`;
    for (const [d, sup] of SUPERSCRIPTS) text = `replace(${text}, regexp('${d}', 'g'), '${sup}')`;
    return `datum.value > 0 && abs(log(datum.value) / LN10 - ${exponent}) < 1e-6 ? '10' + ${text} : ''`;
  })(),
});

function top(spec: VlSpec): VlSpec {
  return { $schema: VEGA_LITE_SCHEMA, ...spec, config: { ...BASE_CONFIG, ...(spec.config as object ?? {}) } };
}

/** Five significant digits: plenty for a plot, and it keeps inlined data small. */
function r5(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(5)) : x;
}

function plural(n: number, one: string, many = one + "s"): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The values of a numeric field, distinct and sorted. */
function distinct(values: Iterable<number>): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------- gradient flow

/** Options of `gradientFlowSpec`. */
export interface GradientFlowSpecOptions {
  /** Sequence length to show (default: the largest present); "all": one panel per length. */
  T?: number | "all";
  /** Which measurement: "init" (default when present), "end", or a checkpoint; "all": one panel per measurement. */
  at?: "init" | "end" | number | "all";
  /** ‖∂L/∂h_t‖ ("dh", default), the LSTM's ‖∂L/∂c_t‖ ("dc"), or both side by side ("both"). */
  quantity?: FlowQuantity | "both";
  /** Draw Pascanu's bound for the RNN series (default true). */
  bound?: boolean;
  /** Only these variants (default: all). */
  variants?: string[];
  /** Most points per line (the lag grid is thinned beyond it; default 300). */
  maxPoints?: number;
  title?: string;
  width?: number;
  height?: number;
}

/** One plotted row of the gradient-flow chart. */
interface FlowDatum {
  series: string;
  quantity: string;
  panel: string;
  lag: number;
  kind: "measured" | "bound";
  value: number;
  lo?: number | null;
  hi?: number | null;
}

/**
 * Splits aggregated points into plottable ones and counts of those a log axis cannot show truthfully: norms below
 * float32's normal range (1.2e-38: subnormal, where a product of gradients sticks at the smallest values instead of
 * decaying, or 0) and overflowed ones (∞). A band edge out of range is set to null: the band is left out there, the
 * line is kept.
 */
function plottable(points: FlowPoint[]) {
  let underflow = 0, overflow = 0, bandCut = 0;
  const keep: (Omit<FlowPoint, "q25" | "q75"> & { q25: number | null; q75: number | null })[] = [];
  for (const p of points) {
    if (p.median < FLOAT32_MIN_NORMAL) underflow++;
    else if (!Number.isFinite(p.median)) overflow++;
    else {
      const q25 = p.q25 >= FLOAT32_MIN_NORMAL ? p.q25 : null, q75 = Number.isFinite(p.q75) ? p.q75 : null;
      if (q25 === null || q75 === null) bandCut++;
      keep.push({ ...p, q25, q75 });
    }
  }
  return { keep, underflow, overflow, bandCut };
}

/** Keeps every lag up to 10, then every s-th so a line has at most about `maxPoints` points, and the last lag. */
function thinLags(maxLag: number, maxPoints: number): (lag: number) => boolean {
  const stride = Math.max(1, Math.ceil(maxLag / maxPoints));
  return (lag) => lag <= 10 || lag % stride === 0 || lag === maxLag;
}

/**
 * Gradient norm against the lag T − t on a log axis: one line per model (RNN by spectral radius ρ, LSTM by forget
 * bias), the median over seeds of each seed's batch median, with a band from the median over seeds of the batch
 * quartiles (see `aggregateFlow`). For each RNN, a dashed line shows Pascanu et al.'s bound
 * ‖∂L/∂h_t‖ ≤ ‖∂L/∂h_T‖·(λ₁γ)^(T−t), λ₁ = ‖W_hh‖₂ (median over seeds), γ = 1 for tanh, anchored at the measured
 * lag-0 value, and cut where it leaves the range of the data by more than a decade. With `quantity: "both"`
 * the LSTM's ‖∂L/∂c_t‖ is shown in a second panel. Norms that underflowed to 0 or overflowed in float32 are left out
 * and counted in the subtitle; a band edge at 0 is drawn at 1.4e-45 (float32's smallest positive value).
 *
 * @example
 * ```ts
 * import { gradientFlowSpec } from "./specs.ts";
 * import { loadResults } from "./data.ts";
 * const gf = loadResults("gradient-flow", { fallbackToQuick: true });
 * const spec = gradientFlowSpec(gf?.flow ?? [], { quantity: "both" }); // largest T, at initialisation
 * ```
 */
export function gradientFlowSpec(rows: readonly FlowRow[], opts: GradientFlowSpecOptions = {}): VlSpec {
  const wanted = opts.variants === undefined ? null : new Set(opts.variants);
  const src = wanted === null ? rows : rows.filter((r) => wanted.has(r.variant));
  const Ts = distinct(src.map(nominalT));
  const ats = [...new Set(src.map((r) => String(r.at)))];
  const T = opts.T ?? Ts.at(-1) ?? 0;
  const at = opts.at ?? (ats.includes("init") ? "init" : ats[0] ?? "init");
  const quantities: FlowQuantity[] = opts.quantity === "both" ? ["dh", "dc"] : [opts.quantity ?? "dh"];
  const atFilter = at === "all" ? undefined : (a: FlowRow["at"]) => String(a) === String(at);
  const maxPoints = opts.maxPoints ?? 300;

  const data: FlowDatum[] = [];
  let underflow = 0, overflow = 0, bandCut = 0, boundCut = 0;
  let seeds = 0;
  const hasDc = src.some((r) => r.dcMedian !== undefined);
  for (const quantity of quantities) {
    if (quantity === "dc" && !hasDc) continue;
    const points = aggregateFlow(src, { quantity, at: atFilter, T: T === "all" ? undefined : T });
    const p = plottable(points);
    underflow += p.underflow;
    overflow += p.overflow;
    bandCut += p.bandCut;
    // one panel per (length, measurement) when asked for all of them; the quantity is its own panel too
    const panelOf = (q: Pick<FlowPoint, "T" | "at">) =>
      [
        quantities.length > 1 ? QUANTITY_TITLE[quantity] : "",
        T === "all" ? `T = ${q.T}` : "",
        at === "all" ? `at ${q.at}` : "",
      ].filter((s) => s !== "").join(", ");
    const lagMax = new Map<string, number>(); // per line, the longest lag measured (also where it underflowed)
    for (const q of points) {
      const key = `${q.series}\u0000${q.T}\u0000${q.at}`;
      lagMax.set(key, Math.max(lagMax.get(key) ?? 0, q.lag));
    }
    const groups = new Map<string, (typeof p.keep)[number][]>();
    for (const q of p.keep) {
      const key = `${q.series}\u0000${q.T}\u0000${q.at}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, g = []);
      g.push(q);
    }
    for (const g of groups.values()) {
      const maxLag = Math.max(...g.map((q) => q.lag));
      const keepLag = thinLags(maxLag, maxPoints);
      for (const q of g) {
        seeds = Math.max(seeds, q.seeds);
        if (!keepLag(q.lag)) continue;
        data.push({
          series: q.series,
          quantity: QUANTITY_TITLE[quantity],
          panel: panelOf(q),
          lag: q.lag,
          kind: "measured",
          value: r5(q.median),
          lo: q.q25 === null ? null : r5(q.q25),
          hi: q.q75 === null ? null : r5(q.q75),
        });
      }
    }
    if (quantity === "dh" && (opts.bound ?? true)) {
      // Pascanu's bound per RNN series and panel: a straight line in log10 from the lag-0 value with slope log10 λ₁
      const measured = data.filter((d) => d.kind === "measured" && d.quantity === QUANTITY_TITLE.dh);
      const yMax = log10(Math.max(...measured.map((d) => d.hi ?? d.value))) + 1;
      const yMin = log10(Math.min(...measured.map((d) => d.lo ?? d.value))) - 1;
      for (const g of groups.values()) {
        const q0 = g.find((q) => q.lag === 0);
        if (q0 === undefined || q0.cell !== "rnn" || !(q0.spectralNorm > 0)) continue;
        const maxLag = lagMax.get(`${q0.series}\u0000${q0.T}\u0000${q0.at}`)!;
        const a = log10(q0.median), s = log10(q0.spectralNorm);
        let end = maxLag;
        if (s > 0 && a + s * maxLag > yMax) end = Math.max(1, Math.floor((yMax - a) / s));
        if (s < 0 && a + s * maxLag < yMin) end = Math.max(1, Math.floor((yMin - a) / s));
        if (end < maxLag) boundCut++;
        const steps = Math.min(end, 50);
        for (let i = 0; i <= steps; i++) {
          const lag = Math.round((i * end) / steps);
          data.push({
            series: q0.series,
            quantity: QUANTITY_TITLE.dh,
            panel: panelOf(q0),
            lag,
            kind: "bound",
            value: r5(pow10(a + s * lag)),
          });
        }
      }
    }
  }
  const series = sortSeries(data.map((d) => d.series));
  const colors = seriesColors(series);
  const multiPanel = data.some((d) => d.panel !== "");
  // the quantity was needed to place the bound; the chart itself splits panels by `panel` (smaller inlined data)
  const values = data.map(({ quantity: _q, panel, ...rest }) => (multiPanel ? { ...rest, panel } : rest));
  const atText = at === "all"
    ? ""
    : at === "init"
    ? "at initialisation"
    : at === "end"
    ? "after training"
    : `after ${at} sequences`;
  const parts = [T === "all" ? "" : `T = ${T}`, atText].filter((s) => s !== "");
  const title = opts.title ??
    `${quantities.map((q) => QUANTITY_TITLE[q]).join(" and ")} against the lag T − t${
      parts.length ? ` (${parts.join(", ")})` : ""
    }`;
  const subtitle = [
    `Line: median over ${
      plural(seeds, "seed")
    } of each seed's batch median; band: median over seeds of the batch quartiles.`,
  ];
  if (data.some((d) => d.kind === "bound")) {
    subtitle.push(
      `Dashed: Pascanu's bound ‖∂L/∂h_T‖·(λ₁γ)^(T−t), λ₁ = ‖W_hh‖₂, γ = 1 (tanh), from the lag-0 value${
        boundCut ? "; cut a decade beyond the data" : ""
      }.`,
    );
  }
  const dropped: string[] = [];
  if (underflow) {
    dropped.push(`${plural(underflow, "point")} whose norm fell below float32's normal range (1.2e-38) or to 0`);
  }
  if (overflow) dropped.push(`${plural(overflow, "point")} that overflowed float32 (∞)`);
  if (dropped.length) subtitle.push(`Left out (a log axis cannot show them): ${dropped.join("; ")}.`);
  if (bandCut) subtitle.push(`The band stops where a quartile left float32's normal range.`);
  const color = {
    field: "series",
    type: "nominal",
    title: "model",
    scale: colors,
    legend: { orient: "right", symbolType: "stroke", symbolOpacity: 1, symbolStrokeWidth: 2.5 },
  };
  const hasBound = data.some((d) => d.kind === "bound");
  const layer = [
    {
      transform: [{ filter: "datum.kind === 'measured' && isValid(datum.lo) && isValid(datum.hi)" }],
      mark: { type: "area", opacity: 0.15 },
      encoding: {
        x: { field: "lag", type: "quantitative", title: "lag T − t (steps before the loss)" },
        y: { field: "lo", type: "quantitative", scale: { type: "log" }, axis: LOG_AXIS, title: "gradient norm (log)" },
        y2: { field: "hi" },
        color,
      },
    },
    {
      transform: [{ filter: "datum.kind === 'measured'" }],
      mark: { type: "line", strokeWidth: 1.8 },
      encoding: {
        x: { field: "lag", type: "quantitative" },
        y: { field: "value", type: "quantitative", scale: { type: "log" }, axis: LOG_AXIS },
        color,
        tooltip: [
          { field: "series", title: "model" },
          { field: "lag", title: "lag" },
          { field: "value", title: "median", format: ".3e" },
          { field: "lo", title: "q25", format: ".3e" },
          { field: "hi", title: "q75", format: ".3e" },
        ],
      },
    },
    ...(hasBound
      ? [{
        transform: [{ filter: "datum.kind === 'bound'" }],
        mark: { type: "line", strokeDash: [5, 4], strokeWidth: 1.3, opacity: 0.9 },
        encoding: {
          x: { field: "lag", type: "quantitative" },
          y: { field: "value", type: "quantitative", scale: { type: "log" }, axis: LOG_AXIS },
          color,
          detail: { field: "series" },
        },
      }]
      : []),
  ];
  const width = opts.width ?? (multiPanel ? 340 : 520), height = opts.height ?? 300;
  if (!multiPanel) {
    return top({ title: { text: title, subtitle }, data: { values }, width, height, layer });
  }
  // panels: ‖∂L/∂h_t‖ before ‖∂L/∂c_t‖, shorter T first, "init" before checkpoints before "end"
  const atRank = (a: string) => (a === "init" ? -Infinity : a === "end" ? Infinity : Number(a));
  const panelKey = new Map<string, [number, number, number]>();
  for (const d of data) {
    if (panelKey.has(d.panel)) continue;
    const T = /T = (\d+)/.exec(d.panel), a = /at (\S+)$/.exec(d.panel);
    panelKey.set(d.panel, [d.quantity === QUANTITY_TITLE.dh ? 0 : 1, T ? Number(T[1]) : 0, a ? atRank(a[1]) : 0]);
  }
  const panels = [...panelKey.keys()].sort((p, q) => {
    const a = panelKey.get(p)!, b = panelKey.get(q)!;
    return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  });
  return top({
    title: { text: title, subtitle },
    data: { values },
    facet: { field: "panel", type: "nominal", title: null, sort: panels },
    columns: Math.min(panels.length, T === "all" ? 4 : 2),
    spec: { width, height, layer },
    resolve: { scale: { x: T === "all" ? "independent" : "shared", y: "shared" } },
  });
}

/** Options of `flowHeatmapSpec`. */
export interface FlowHeatmapOptions {
  quantity?: FlowQuantity;
  at?: "init" | "end" | number;
  variants?: string[];
  /** Most cells in the longest row (time steps are averaged in bins of one width for all rows; default 50). */
  maxBins?: number;
  /** Panels per row (default 2). */
  columns?: number;
  title?: string;
  width?: number;
}

/**
 * A heatmap of log10 gradient norm over (T, t): one row per sequence length T, the time step t on the x axis (the
 * loss is at t = T, the right end of each row), one panel per model. Values are the median over seeds of each
 * seed's batch median; time steps are averaged (in log10) over bins of equal width in every row (the longest row has
 * at most `maxBins` of them). Norms that underflowed to 0 are drawn
 * at log10 = −45 (float32's smallest positive value) and overflows at 38.5, so they keep their place in the map;
 * the subtitle says how many.
 *
 * @example
 * ```ts
 * import { flowHeatmapSpec } from "./specs.ts";
 * import { loadResults } from "./data.ts";
 * const gf = loadResults("gradient-flow", { fallbackToQuick: true });
 * const spec = flowHeatmapSpec(gf?.flow ?? [], { variants: ["rnn-rho0.9", "rnn-rho1.1", "lstm-fb1"] });
 * ```
 */
export function flowHeatmapSpec(rows: readonly FlowRow[], opts: FlowHeatmapOptions = {}): VlSpec {
  const quantity = opts.quantity ?? "dh";
  const wanted = opts.variants === undefined ? null : new Set(opts.variants);
  const src = wanted === null ? rows : rows.filter((r) => wanted.has(r.variant));
  const ats = [...new Set(src.map((r) => String(r.at)))];
  const at = opts.at ?? (ats.includes("init") ? "init" : ats[0]);
  const points = aggregateFlow(src, { quantity, at: (a) => String(a) === String(at) });
  const maxBins = opts.maxBins ?? 50;
  // one bin width for every row (steps of the longest row / maxBins), so cells line up across lengths
  const binWidth = Math.max(1, Math.ceil(Math.max(0, ...points.map((p) => p.T)) / maxBins));
  const LO = log10(FLOAT32_MIN_NORMAL), HI = log10(FLOAT32_MAX);
  let underflow = 0, overflow = 0;
  const bins = new Map<string, { series: string; T: number; t0: number; t1: number; sum: number; n: number }>();
  for (const p of points) {
    let v: number;
    if (p.median < FLOAT32_MIN_NORMAL) {
      v = LO;
      underflow++;
    } else if (!Number.isFinite(p.median)) {
      v = HI;
      overflow++;
    } else v = log10(p.median);
    const T = p.T, s = binWidth;
    const b = Math.floor(p.lag / s);
    const key = `${p.series}\u0000${T}\u0000${b}`;
    let c = bins.get(key);
    if (c === undefined) {
      // time steps t = T − lag (1-based: the loss is at t = T); bin b covers lags [b·s, (b+1)·s)
      bins.set(key, c = { series: p.series, T, t0: Math.max(0, T - (b + 1) * s), t1: T - b * s, sum: 0, n: 0 });
    }
    c.sum += v;
    c.n++;
  }
  const data = [...bins.values()].map((c) => ({
    series: c.series,
    T: c.T,
    t0: c.t0,
    t1: c.t1,
    // drawn a third of a bin wider (under the next cell) so that no anti-aliasing seam shows between cells
    t1d: c.t1 < c.T ? c.t1 + binWidth / 3 : c.t1,
    log10norm: r5(c.sum / c.n),
  }));
  const lag0 = points.filter((p) => p.lag === 0 && p.median > 0 && Number.isFinite(p.median));
  const mid = lag0.length ? median(lag0.map((p) => log10(p.median))) : 0;
  const series = sortSeries(data.map((d) => d.series));
  const Ts = distinct(data.map((d) => d.T));
  // t > T: no such step in a sequence of length T; drawn in gray with its own legend entry, apart from the colour
  // scale (whose middle, the lag-0 value, is near white)
  const tMax = Math.max(0, ...Ts);
  const noData = series.flatMap((sr) =>
    Ts.filter((T) => T < tMax && data.some((d) => d.series === sr && d.T === T)).map((T) => ({
      series: sr,
      T,
      t0: T,
      t1: tMax,
      nodata: "no data (t > T)",
    }))
  );
  const subtitle = [
    `Color: log10 of the median over seeds of each seed's batch-median ${
      QUANTITY_TITLE[quantity]
    }; the loss is at t = T.`,
    `White at ${
      mid.toFixed(1)
    } (the typical value at the loss step): blue has vanished, orange has grown; gray: no step t > T.`,
  ];
  const notes: string[] = [];
  if (underflow) notes.push(`${plural(underflow, "point")} below float32's normal range (or 0) drawn at −38`);
  if (overflow) notes.push(`${plural(overflow, "point")} that overflowed (∞) drawn at 38.5`);
  if (notes.length) subtitle.push(`Clipped to float32's range: ${notes.join("; ")}.`);
  const atText = at === "init" ? "at initialisation" : at === "end" ? "after training" : `after ${at} sequences`;
  const colorEnc = {
    field: "log10norm",
    type: "quantitative",
    title: ["log10 norm", "(10ⁿ: n)"],
    scale: { scheme: "blueorange", domainMid: r5(mid) },
    legend: { type: "gradient", orient: "right", gradientLength: 160, titleLimit: 200 },
  };
  return top({
    title: { text: opts.title ?? `log10 ${QUANTITY_TITLE[quantity]} over (T, t), ${atText}`, subtitle },
    data: { values: [...noData, ...data] },
    facet: { field: "series", type: "nominal", title: null, sort: series },
    columns: opts.columns ?? 2,
    spec: {
      width: opts.width ?? 320,
      height: Math.max(60, 22 * Ts.length),
      encoding: {
        x: { field: "t0", type: "quantitative", title: "time step t", scale: { nice: false } },
        x2: { field: "t1" },
        y: { field: "T", type: "ordinal", sort: "descending", title: "sequence length T", axis: { grid: false } },
      },
      layer: [{
        transform: [{ filter: "isValid(datum.nodata)" }],
        mark: { type: "rect", strokeWidth: 0 },
        encoding: {
          fill: {
            field: "nodata",
            type: "nominal",
            title: null,
            scale: { range: ["#d4d4d4"] },
            legend: { orient: "right", symbolType: "square", symbolSize: 140 },
          },
        },
      }, {
        transform: [{ filter: "!isValid(datum.nodata)" }],
        mark: { type: "rect", strokeWidth: 0 },
        encoding: {
          x2: { field: "t1d" },
          color: colorEnc,
          tooltip: [
            { field: "series", title: "model" },
            { field: "T" },
            { field: "t0", title: "t from" },
            { field: "t1", title: "t to" },
            { field: "log10norm", title: "log10 norm", format: ".2f" },
          ],
        },
      }],
    },
    resolve: { scale: { x: "shared" } },
  });
}

/** Options of `decayRateSpec`. */
export interface DecayRateSpecOptions {
  title?: string;
  width?: number;
}

/**
 * The measured per-step factor 10^slope of the gradient norm (a fit of log10 norm against the lag, see
 * `decayRates`) per model, one point per sequence length, beside Pascanu's per-step bound λ₁γ for the RNNs
 * (black tick) and the line 1 (below it the gradient vanishes exponentially with the lag, above it it grows).
 *
 * @example
 * ```ts
 * import { decayRateSpec } from "./specs.ts";
 * import { decayRates } from "./analysis.ts";
 * import { loadResults } from "./data.ts";
 * const gf = loadResults("gradient-flow", { fallbackToQuick: true });
 * const spec = decayRateSpec(decayRates(gf?.flow ?? [], { at: "init" }));
 * ```
 */
export function decayRateSpec(rates: readonly DecayRate[], opts: DecayRateSpecOptions = {}): VlSpec {
  const series = sortSeries(rates.map((d) => d.series));
  const data = rates.filter((d) => Number.isFinite(d.factor)).map((d) => ({
    series: d.series,
    T: d.T,
    factor: r5(d.factor),
    slope: r5(d.slope),
    lambda1: d.cell === "rnn" ? r5(d.lambda1) : null,
    seeds: d.seeds,
    r2: r5(d.r2),
  }));
  const bounds = series.map((s) => data.find((d) => d.series === s && d.lambda1 !== null)).filter((d) => d);
  return top({
    title: {
      text: opts.title ?? "Per-step factor of the gradient norm: measured against Pascanu's bound",
      subtitle: [
        "Point: 10^slope of a least-squares fit of log10 ‖∂L/∂h_t‖ against the lag (median over seeds), per length T.",
        "Black tick: λ₁γ = ‖W_hh‖₂ (γ = 1 for tanh), the bound on the RNN's factor; dashed: 1 (no decay, no growth).",
      ],
    },
    width: opts.width ?? 480,
    height: Math.max(120, 26 * series.length),
    layer: [
      {
        data: { values: [{ one: 1 }] },
        mark: { type: "rule", strokeDash: [4, 4], color: "#888" },
        encoding: { x: { field: "one", type: "quantitative" } },
      },
      {
        data: { values: bounds },
        mark: { type: "tick", color: "black", thickness: 2, size: 18 },
        encoding: {
          x: { field: "lambda1", type: "quantitative" },
          y: { field: "series", type: "nominal", sort: series },
          tooltip: [{ field: "series", title: "model" }, { field: "lambda1", title: "λ₁", format: ".3f" }],
        },
      },
      {
        data: { values: data },
        mark: { type: "point", filled: true, size: 60, opacity: 0.85 },
        encoding: {
          x: { field: "factor", type: "quantitative", title: "factor per step back in time", scale: { zero: false } },
          y: { field: "series", type: "nominal", sort: series, title: null },
          color: { field: "T", type: "ordinal", title: "T", scale: { scheme: "viridis" } },
          tooltip: [
            { field: "series", title: "model" },
            { field: "T" },
            { field: "factor", format: ".4f" },
            { field: "slope", title: "decades/step", format: ".4f" },
            { field: "r2", title: "R²", format: ".3f" },
            { field: "seeds" },
          ],
        },
      },
    ],
  });
}

// ------------------------------------------------------------------------------------------------ learnability

/** Options of `successRateSpec` and `sequencesToSuccessSpec`. */
export interface LearnabilitySpecOptions {
  /** Title of the x axis (default from the length column: "T", "p", ...). */
  xTitle?: string;
  /** The length column (default: `lengthAxis`), or null for a chart per model only. */
  x?: string | null;
  title?: string;
  width?: number;
  height?: number;
}

/** Spreads series a little along a log x axis so that intervals at the same length do not hide each other. */
function dodge(series: string[], spread = 0.035): (s: string, x: number) => number {
  return (s, x) => {
    const i = series.indexOf(s), n = series.length;
    return r5(x * (1 + spread * (i - (n - 1) / 2)));
  };
}

/**
 * Success rate against the time lag (T, or p / q for the long-lag tasks), one line per model, with 95% Wilson
 * intervals over seeds (a handful of seeds per point: the interval is wide and honest about it). Without a length
 * axis, one point per model.
 *
 * @example
 * ```ts
 * import { successRateSpec } from "./specs.ts";
 * import { successStats } from "./analysis.ts";
 * import { loadResults } from "./data.ts";
 * const r = loadResults("adding-learnability", { fallbackToQuick: true });
 * const spec = successRateSpec(successStats(r?.summary ?? []), { xTitle: "T" });
 * ```
 */
export function successRateSpec(stats: readonly SuccessStat[], opts: LearnabilitySpecOptions = {}): VlSpec {
  const series = sortSeries(stats.map((s) => s.series));
  const colors = seriesColors(series);
  const numeric = stats.some((s) => s.x !== null);
  const xs = distinct(stats.flatMap((s) => (s.x === null ? [] : [s.x])));
  const logX = numeric && xs.length > 1 && xs[0] > 0 && xs.at(-1)! / xs[0] >= 10;
  const pos = dodge(series, logX ? 0.04 : 0);
  const data = stats.map((s) => ({
    series: s.series,
    x: s.x,
    xPos: s.x === null ? null : logX ? pos(s.series, s.x) : s.x,
    rate: r5(s.rate),
    lo: r5(s.lo),
    hi: r5(s.hi),
    n: s.n,
    successes: s.successes,
    label: `${s.successes}/${s.n}`,
  }));
  const criterion = stats.some((s) => s.criterion === "beats-baseline")
    ? "test loss below the trivial baseline"
    : "stopping rule met";
  const seeds = stats.length ? Math.max(...stats.map((s) => s.n)) : 0;
  const xEnc = numeric
    ? {
      field: "xPos",
      type: "quantitative",
      title: opts.xTitle ?? "T",
      scale: logX ? { type: "log", domain: [r5(xs[0] / 1.2), r5(xs.at(-1)! * 1.2)], nice: false } : { zero: false },
      axis: { values: xs },
    }
    : { field: "series", type: "nominal", sort: series, title: null };
  const color = { field: "series", type: "nominal", title: "model", scale: colors };
  const tooltip = [
    { field: "series", title: "model" },
    { field: "x", title: opts.xTitle ?? "T" },
    { field: "label", title: "succeeded" },
    { field: "lo", title: "Wilson lo", format: ".2f" },
    { field: "hi", title: "Wilson hi", format: ".2f" },
  ];
  return top({
    title: {
      text: opts.title ?? `Success rate against ${opts.xTitle ?? "T"}`,
      subtitle: [
        `Success: ${criterion}. Bars: 95% Wilson intervals over seeds (up to ${seeds} per point).`,
      ],
    },
    data: { values: data },
    width: opts.width ?? (numeric ? 460 : Math.max(160, 70 * series.length)),
    height: opts.height ?? 240,
    layer: [
      {
        mark: { type: "rule", strokeWidth: 2, opacity: 0.5 },
        encoding: {
          x: xEnc,
          y: { field: "lo", type: "quantitative", scale: { domain: [0, 1] }, title: "success rate" },
          y2: { field: "hi" },
          color,
        },
      },
      ...(numeric
        ? [{
          mark: { type: "line", strokeWidth: 1.5 },
          encoding: { x: xEnc, y: { field: "rate", type: "quantitative" }, color },
        }]
        : []),
      {
        mark: { type: "point", filled: true, size: 60 },
        encoding: { x: xEnc, y: { field: "rate", type: "quantitative" }, color, tooltip },
      },
    ],
  });
}

/**
 * Training sequences to success against the time lag, log–log: one point per seed that succeeded, the seeds that
 * did not shown as open marks at their budget, and a line through the median of the successful seeds.
 *
 * @example
 * ```ts
 * import { sequencesToSuccessSpec } from "./specs.ts";
 * import { loadResults } from "./data.ts";
 * const r = loadResults("adding-learnability", { fallbackToQuick: true });
 * const spec = sequencesToSuccessSpec(r?.summary ?? [], { xTitle: "T" });
 * ```
 */
export function sequencesToSuccessSpec(summary: readonly SummaryRow[], opts: LearnabilitySpecOptions = {}): VlSpec {
  const xCol = opts.x === undefined ? lengthAxis(summary) : opts.x;
  const rows = summary.filter((s) => s.status !== "measured");
  const series = sortSeries(rows.map((s) => seriesLabel(String(s.variant))));
  const colors = seriesColors(series);
  const xs = xCol === null ? [] : distinct(rows.map((s) => Number(s[xCol])).filter(Number.isFinite));
  const numeric = xCol !== null && xs.length > 0;
  const logX = numeric && xs.length > 1 && xs[0] > 0 && xs.at(-1)! / xs[0] >= 10;
  const pos = dodge(series, logX ? 0.04 : 0);
  const data = rows.map((s) => {
    const sr = seriesLabel(String(s.variant));
    const ok = cellSucceeded(s) && typeof s.sequencesToSuccess === "number";
    const x = numeric ? Number(s[xCol!]) : null;
    const budget = typeof s["training.maxSequences"] === "number" ? s["training.maxSequences"] as number : s.sequences;
    return {
      series: sr,
      x,
      xPos: x === null ? null : logX ? pos(sr, x) : x,
      sequences: ok ? s.sequencesToSuccess : budget,
      outcome: ok ? "solved" : "not solved (at its budget)",
      seed: s.seed,
    };
  }).filter((d) => typeof d.sequences === "number" && d.sequences > 0);
  const medians: { series: string; xPos: number | null; sequences: number }[] = [];
  for (const sr of series) {
    for (const x of numeric ? xs : [null]) {
      const v = data.filter((d) => d.series === sr && d.x === x && d.outcome === "solved").map((d) =>
        d.sequences as number
      );
      if (v.length) medians.push({ series: sr, xPos: x === null ? null : logX ? pos(sr, x) : x, sequences: median(v) });
    }
  }
  const solved = data.filter((d) => d.outcome === "solved").length;
  const xEnc = numeric
    ? {
      field: "xPos",
      type: "quantitative",
      title: opts.xTitle ?? axisName(xCol),
      scale: logX ? { type: "log", domain: [r5(xs[0] / 1.2), r5(xs.at(-1)! * 1.2)], nice: false } : { zero: false },
      axis: { values: xs },
    }
    : { field: "series", type: "nominal", sort: series, title: null };
  const color = { field: "series", type: "nominal", title: "model", scale: colors };
  return top({
    title: {
      text: opts.title ?? `Training sequences to success against ${opts.xTitle ?? axisName(xCol)}`,
      subtitle: [
        `Filled: a seed that succeeded (${solved} of ${data.length}); open: not solved, drawn at its training budget.`,
        "Line: median over the seeds that succeeded.",
      ],
    },
    width: opts.width ?? (numeric ? 460 : Math.max(160, 70 * series.length)),
    height: opts.height ?? 240,
    layer: [
      ...(medians.length
        ? [{
          data: { values: medians },
          mark: { type: numeric ? "line" : "tick", strokeWidth: 1.5 },
          encoding: {
            x: xEnc,
            y: { field: "sequences", type: "quantitative", scale: { type: "log" }, axis: LOG_AXIS },
            color,
          },
        }]
        : []),
      {
        data: { values: data },
        mark: { type: "point", size: 50 },
        encoding: {
          x: xEnc,
          y: {
            field: "sequences",
            type: "quantitative",
            scale: { type: "log" },
            axis: LOG_AXIS,
            title: "training sequences (log)",
          },
          color,
          fill: {
            condition: {
              test: "datum.outcome === 'solved'",
              field: "series",
              type: "nominal",
              scale: colors,
              legend: null,
            },
            value: "transparent",
          },
          shape: {
            field: "outcome",
            type: "nominal",
            title: "outcome",
            scale: { domain: ["solved", "not solved (at its budget)"], range: ["circle", "triangle-up"] },
          },
          tooltip: [
            { field: "series", title: "model" },
            { field: "x", title: opts.xTitle ?? axisName(xCol) },
            { field: "seed" },
            { field: "outcome" },
            { field: "sequences", format: "," },
          ],
        },
      },
    ],
  });
}

// ---------------------------------------------------------------------------------------------- training curves

/** Options of `trainingCurvesSpec`. */
export interface TrainingCurvesOptions {
  /** Only the cells with this value of the length column (default: the largest length at which some cell succeeded, else the smallest). */
  length?: number;
  /** The length column (default: `lengthAxis`). */
  x?: string | null;
  variants?: string[];
  title?: string;
  /** Put in front of the default title, e.g. the experiment's name. */
  name?: string;
  width?: number;
}

/**
 * Training curves against training sequences seen: loss (log axis) with the task's trivial baseline as a rule,
 * the fraction of training sequences correct, and the global gradient norm before clipping (log axis). One line
 * per cell (seed), colored by model. Points with a non-positive loss or norm are left out of the log panels.
 *
 * @example
 * ```ts
 * import { trainingCurvesSpec } from "./specs.ts";
 * import { loadResults } from "./data.ts";
 * const r = loadResults("adding-learnability", { fallbackToQuick: true });
 * const spec = r ? trainingCurvesSpec(r.curves, r.summary) : null;
 * ```
 */
export function trainingCurvesSpec(
  curves: readonly CurveRow[],
  summary: readonly SummaryRow[],
  opts: TrainingCurvesOptions = {},
): VlSpec {
  const xCol = opts.x === undefined ? lengthAxis(summary) : opts.x;
  const wanted = opts.variants === undefined ? null : new Set(opts.variants);
  let cells = summary.filter((s) => s.status !== "measured" && (wanted === null || wanted.has(String(s.variant))));
  let length: number | null = null;
  if (xCol !== null) {
    const xs = distinct(cells.map((s) => Number(s[xCol])).filter(Number.isFinite));
    const solvedXs = distinct(cells.filter(cellSucceeded).map((s) => Number(s[xCol])).filter(Number.isFinite));
    length = opts.length ?? solvedXs.at(-1) ?? xs[0] ?? null;
    cells = cells.filter((s) => Number(s[xCol]) === length);
  }
  const byHash = new Map(cells.map((s) => [String(s.hash), s]));
  let dropped = 0;
  const data = curves.filter((c) => byHash.has(c.hash)).map((c) => {
    const s = byHash.get(c.hash)!;
    const ok = c.loss > 0 && Number.isFinite(c.loss) && c.gradNorm > 0 && Number.isFinite(c.gradNorm);
    if (!ok) dropped++;
    return {
      series: seriesLabel(String(s.variant)),
      cell: c.hash,
      seed: c.seed,
      sequences: c.sequences,
      loss: c.loss > 0 && Number.isFinite(c.loss) ? r5(c.loss) : null,
      accuracy: r5(c.accuracy),
      gradNorm: c.gradNorm > 0 && Number.isFinite(c.gradNorm) ? r5(c.gradNorm) : null,
    };
  });
  const baselines = [...new Set(cells.map((s) => s.baselineLoss).filter((v): v is number => typeof v === "number"))];
  const series = sortSeries(data.map((d) => d.series));
  const colors = seriesColors(series);
  const color = { field: "series", type: "nominal", title: "model", scale: colors };
  const width = opts.width ?? 520;
  const x = { field: "sequences", type: "quantitative", title: "training sequences" };
  const line = { type: "line", strokeWidth: 1.2, opacity: 0.75, clip: true };
  const detail = { field: "cell", type: "nominal" };
  const lengthText = length === null ? "" : ` (${axisName(xCol)} = ${length})`;
  const subtitle = [
    `One line per seed (${new Set(data.map((d) => d.cell)).size} cells); means over the steps between logged points.`,
  ];
  if (baselines.length) {
    subtitle.push(`Dashed: the trivial baseline's loss (${baselines.map((b) => b.toPrecision(3)).join(", ")}).`);
  }
  if (dropped) {
    subtitle.push(
      `${plural(dropped, "point")} with a non-positive or non-finite loss or norm left out of the log panels.`,
    );
  }
  return top({
    title: { text: opts.title ?? `${opts.name ? `${opts.name}: t` : "T"}raining curves${lengthText}`, subtitle },
    data: { values: data },
    vconcat: [
      {
        width,
        height: 150,
        layer: [
          {
            mark: line,
            encoding: {
              x: { ...x, title: null },
              y: {
                field: "loss",
                type: "quantitative",
                scale: { type: "log" },
                axis: LOG_AXIS,
                title: "training loss (log)",
              },
              color,
              detail,
            },
          },
          ...(baselines.length
            ? [{
              data: { values: baselines.map((b) => ({ baseline: b })) },
              mark: { type: "rule", strokeDash: [6, 4], color: "black" },
              encoding: { y: { field: "baseline", type: "quantitative" } },
            }]
            : []),
        ],
      },
      {
        width,
        height: 110,
        mark: line,
        encoding: {
          x: { ...x, title: null },
          y: { field: "accuracy", type: "quantitative", scale: { domain: [0, 1] }, title: "fraction correct" },
          color,
          detail,
        },
      },
      {
        width,
        height: 110,
        mark: line,
        encoding: {
          x,
          y: {
            field: "gradNorm",
            type: "quantitative",
            scale: { type: "log" },
            axis: LOG_AXIS,
            title: "gradient norm (log)",
          },
          color,
          detail,
        },
      },
    ],
  });
}

// ------------------------------------------------------------------------------------------------------ gates

/** Mean gate activations per time step (`model.gateStats()` of lib/mod.ts). */
export interface GateSeries {
  input: ArrayLike<number>;
  forget: ArrayLike<number>;
  output: ArrayLike<number>;
}

/**
 * The LSTM's mean input, forget and output gate activations (over the batch and the units) against the time step,
 * from `model.gateStats()`; several labelled runs (e.g. before and after training) as side-by-side panels.
 *
 * @example
 * ```ts
 * import { gateStatsSpec } from "./specs.ts";
 * const spec = gateStatsSpec({ trained: { input: [0.5, 0.6], forget: [0.99, 0.98], output: [0.5, 0.5] } });
 * ```
 */
export function gateStatsSpec(runs: Record<string, GateSeries>, opts: { title?: string; width?: number } = {}): VlSpec {
  const data: { run: string; t: number; gate: string; value: number }[] = [];
  for (const [run, g] of Object.entries(runs)) {
    for (const gate of ["input", "forget", "output"] as const) {
      const v = g[gate];
      for (let t = 0; t < v.length; t++) data.push({ run, t: t + 1, gate, value: r5(v[t]) });
    }
  }
  const runNames = Object.keys(runs);
  const spec = {
    width: opts.width ?? (runNames.length > 1 ? 300 : 480),
    height: 200,
    mark: { type: "line", strokeWidth: 1.8 },
    encoding: {
      x: { field: "t", type: "quantitative", title: "time step t" },
      y: { field: "value", type: "quantitative", scale: { domain: [0, 1] }, title: "mean gate activation" },
      color: {
        field: "gate",
        type: "nominal",
        sort: ["input", "forget", "output"],
        scale: { domain: ["input", "forget", "output"], range: ["#1f77b4", "#2ca02c", "#d62728"] },
      },
    },
  };
  const title = {
    text: opts.title ?? "LSTM gates: mean activation per time step",
    subtitle: ["Mean over the batch's sequences and the units of the top layer."],
  };
  if (runNames.length === 1) return top({ title, data: { values: data }, ...spec });
  return top({
    title,
    data: { values: data },
    facet: { field: "run", type: "nominal", title: null, sort: runNames },
    columns: runNames.length,
    spec,
  });
}

// ------------------------------------------------------------------------------------------- reproduction table

/** A row of a reproduction table: the published numbers beside ours (see `reproduction.ts`). */
export interface TableRow {
  [column: string]: string | number | null;
}

/** Options of `tableSpec`. */
export interface TableSpecOptions {
  /** Columns to show, in order (default: every key of the first row). */
  columns?: string[];
  title?: string;
  subtitle?: string[];
}

/**
 * A table as a vega-lite chart (one text column per field, widths from the longest entry), for places that show
 * only charts; `reproductionTableHtml` in `reproduction.ts` gives the same as an HTML table.
 *
 * @example
 * ```ts
 * import { tableSpec } from "./specs.ts";
 * const spec = tableSpec([{ T: 100, ours: "5/5", published: "1/2560 wrong" }], { title: "adding, 1997" });
 * ```
 */
export function tableSpec(rows: readonly TableRow[], opts: TableSpecOptions = {}): VlSpec {
  const columns = opts.columns ?? Object.keys(rows[0] ?? {});
  const rowHeight = 18;
  const text = (v: unknown) => (v === null || v === undefined ? "—" : String(v));
  const values = rows.map((r, i) => {
    const o: Record<string, string | number> = { row: i };
    for (const c of columns) o[c] = text(r[c]);
    return o;
  });
  return top({
    title: opts.title === undefined ? undefined : { text: opts.title, subtitle: opts.subtitle ?? [] },
    data: { values },
    hconcat: columns.map((c) => ({
      width: Math.min(420, 12 + 6.6 * Math.max(c.length, ...values.map((v) => String(v[c]).length))),
      height: Math.max(rowHeight, rowHeight * rows.length),
      title: { text: c, fontSize: 11, anchor: "start" },
      mark: { type: "text", align: "left", baseline: "middle", fontSize: 11, limit: 420 },
      encoding: {
        y: { field: "row", type: "ordinal", axis: null },
        x: { value: 4 },
        text: { field: c, type: "nominal" },
      },
    })),
    spacing: 6,
    config: { view: { stroke: null }, concat: { spacing: 6 } },
  });
}
