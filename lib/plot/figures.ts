/**
 * The figures of one experiment's results, as named vega-lite specs: what the report shows for it and what
 * `deno task experiment` writes beside its tables (`<results>/figures/<name>.svg`). One place for both.
 *
 * @module
 */

import { axisName, decayRates, lengthAxis, nominalT, successCriterion, successStats } from "./analysis.ts";
import type { ResultSet } from "./data.ts";
import {
  decayRateSpec,
  flowHeatmapSpec,
  gradientFlowSpec,
  sequencesToSuccessSpec,
  successRateSpec,
  trainingCurvesSpec,
  type VlSpec,
} from "./specs.ts";

/** A named figure of an experiment. */
export interface ExperimentFigure {
  /** File name without ".svg", e.g. "gradient_flow". */
  name: string;
  spec: VlSpec;
}

/**
 * The longest nominal length measured for every model of a result set's gradient-flow rows (else the longest
 * measured at all), or undefined without rows.
 */
export function sharedLength(set: ResultSet): number | undefined {
  const variants = new Set(set.flow.map((f) => f.variant));
  const lengths = [...new Set(set.flow.map(nominalT))].sort((a, b) => b - a);
  const shared = lengths.find((T) =>
    [...variants].every((v) => set.flow.some((f) => f.variant === v && nominalT(f) === T))
  );
  return shared ?? lengths[0];
}

/**
 * The figures of an experiment's results: for gradient flow, the profile at the longest T (`gradient_flow`), the
 * heatmap over (T, t) and the decay rates against Pascanu's bound; for a trained experiment, the success rate, the
 * sequences to success (stopping-rule experiments), the training curves and the gradient flow before/after training.
 *
 * @example
 * ```ts
 * import { experimentFigures } from "./figures.ts";
 * import { loadResults } from "./data.ts";
 * const gf = loadResults("gradient-flow", { fallbackToQuick: true });
 * if (gf !== null) console.log(experimentFigures(gf, "gradient-flow").map((f) => f.name));
 * ```
 */
export function experimentFigures(
  set: ResultSet,
  kind: "gradient-flow" | "learnability" | "reproduction",
): ExperimentFigure[] {
  const out: ExperimentFigure[] = [];
  if (kind === "gradient-flow") {
    if (set.flow.length === 0) return out;
    out.push({ name: "gradient_flow", spec: gradientFlowSpec(set.flow, { quantity: "both" }) });
    out.push({ name: "gradient_flow_heatmap", spec: flowHeatmapSpec(set.flow) });
    out.push({ name: "gradient_decay", spec: decayRateSpec(decayRates(set.flow, { at: "init" })) });
    return out;
  }
  const trained = set.summary.filter((s) => s.status !== "measured");
  {
    const xCol = lengthAxis(trained);
    const xTitle = xCol === null ? undefined : axisName(xCol);
    out.push({
      name: "learnability_success",
      spec: successRateSpec(successStats(trained), {
        xTitle,
        title: `${set.name}: success rate${xTitle ? ` against ${xTitle}` : ""}`,
      }),
    });
    if (trained.length > 0 && successCriterion(trained[0]) === "solved") {
      out.push({
        name: "learnability_sequences",
        spec: sequencesToSuccessSpec(trained, {
          xTitle,
          title: `${set.name}: training sequences to success${xTitle ? ` against ${xTitle}` : ""}`,
        }),
      });
    }
  }
  if (set.curves.length > 0) {
    out.push({ name: "training_curves", spec: trainingCurvesSpec(set.curves, set.summary, { name: set.name }) });
  }
  if (set.flow.length > 0) {
    const ats = new Set(set.flow.map((f) => String(f.at)));
    out.push({
      name: "gradient_flow_training",
      spec: gradientFlowSpec(set.flow, {
        T: sharedLength(set),
        at: ats.size > 1 ? "all" : undefined,
        quantity: "both",
        width: 300,
        height: 220,
      }),
    });
  }
  return out;
}
