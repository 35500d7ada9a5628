/**
 * lstm-lab plotting: results → vega-lite specs → SVG, Jupyter displays and the static report.
 *
 * A separate entry from `lib/mod.ts`, so that users who never plot do not load vega and vega-lite:
 * `import { ... } from "./lib/plot/mod.ts"`.
 *
 * @example
 * ```ts
 * import { gradientFlowSpec, loadResults, renderSvg } from "./mod.ts";
 * const gf = loadResults("gradient-flow", { fallbackToQuick: true });
 * if (gf !== null) {
 *   const svg = await renderSvg(gradientFlowSpec(gf.flow, { quantity: "both" }));
 *   console.log(svg.length);
 * }
 * ```
 *
 * @module
 */

export {
  type CurveRow,
  type FlowRow,
  flowRowsFromProbes,
  type LoadOptions,
  loadResults,
  type ProbeRowOptions,
  readResultDir,
  REPO_ROOT,
  resultDir,
  type ResultSet,
  type SummaryRow,
} from "./data.ts";
export {
  aggregateFlow,
  type AggregateFlowOptions,
  axisName,
  cellSucceeded,
  type DecayOptions,
  type DecayRate,
  decayRates,
  type FlowPoint,
  type FlowQuantity,
  LENGTH_AXES,
  lengthAxis,
  nominalT,
  seriesColors,
  seriesLabel,
  sortSeries,
  successCriterion,
  type SuccessStat,
  successStats,
} from "./analysis.ts";
export {
  decayRateSpec,
  type DecayRateSpecOptions,
  type FlowHeatmapOptions,
  flowHeatmapSpec,
  type GateSeries,
  gateStatsSpec,
  gradientFlowSpec,
  type GradientFlowSpecOptions,
  type LearnabilitySpecOptions,
  LOG_AXIS,
  sequencesToSuccessSpec,
  successRateSpec,
  type TableRow,
  tableSpec,
  type TableSpecOptions,
  type TrainingCurvesOptions,
  trainingCurvesSpec,
  VEGA_LITE_SCHEMA,
  type VlSpec,
} from "./specs.ts";
export { estimateTextWidth, type RenderOptions, renderSvg, writeSvg } from "./render.ts";
export { type ExperimentFigure, experimentFigures, sharedLength } from "./figures.ts";
export {
  answerText,
  flowSummary,
  type FlowSummaryRow,
  type FlowVerdict,
  printRunAnswer,
  publishedComparison,
  type RunAnswer,
  runAnswer,
  sparkline,
  type SuccessSummaryRow,
  VERDICT_DECADES,
  VERDICT_HORIZON,
  verdictOf,
  writeRunFigures,
} from "./summary.ts";
export { chartBundle, type MimeBundle, show, showHtml, showMarkdown, VEGALITE_MIME } from "./display.ts";
export {
  EXPERIMENTS,
  formatValue,
  type PublishedRow,
  publishedText,
  type ReproductionOptions,
  type ReproductionRow,
  reproductionRows,
  reproductionTable,
  reproductionTableHtml,
  reproductionTableMarkdown,
  type ShippedExperiment,
  shippedExperiment,
} from "./reproduction.ts";
export { buildReport, type ReportChart, type ReportOptions, type ReportResult, statusText } from "./report.ts";
export {
  FLOAT32_MAX,
  FLOAT32_MIN_NORMAL,
  FLOAT32_TINY,
  linearFit,
  type LineFit,
  log10,
  median,
  pow10,
  powPositive,
  quantile,
  quantileSorted,
  type RateInterval,
  wilson,
} from "./stats.ts";
