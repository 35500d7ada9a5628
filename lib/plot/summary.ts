/**
 * The answer of a run, readable in ten seconds: what `deno task experiment` prints when it has merged its tables.
 *
 * - Gradient flow: per model (RNN by ρ, LSTM by forget bias, any other cell), at the longest T measured, the factor
 *   per step back in time of ‖∂L/∂h_t‖ (and the LSTM's ‖∂L/∂c_t‖), the lag at which the norm has fallen or grown
 *   by 10⁶, a one-word verdict (vanishes / holds / explodes) and a Unicode sparkline of log10 norm against the lag.
 * - Learnability and reproductions: success per model and length, beside the published value where the experiment
 *   file has one (`publishedComparison`, the one place this module gets published rows from).
 *
 * It reads the merged tables of a results folder (`readResultDir`), so the CLI (a layer below) only passes the folder.
 *
 * @module
 */

import { join, relative } from "node:path";
import process from "node:process";
import { aggregateFlow, decayRates, type FlowQuantity, lengthAxis, nominalT, successStats } from "./analysis.ts";
import { type FlowRow, readResultDir, type ResultSet } from "./data.ts";
import { experimentFigures } from "./figures.ts";
import { writeSvg } from "./render.ts";
import { formatValue, type ReproductionRow, reproductionRows, shippedExperiment } from "./reproduction.ts";
import { FLOAT32_MAX, FLOAT32_MIN_NORMAL, log10 } from "./stats.ts";

/**
 * The horizon of the verdict, in steps: a norm that changes by less than 10⁶ within it "holds". 1000 steps is the
 * longest lag of the classic experiments (Hochreiter & Schmidhuber 1997, adding problem at T = 1000).
 */
export const VERDICT_HORIZON = 1000;

/** The change of the norm that counts as vanished or exploded: 10⁶ (six decades). */
export const VERDICT_DECADES = 6;

/** What happens to the gradient norm as the lag grows. */
export type FlowVerdict = "vanishes" | "holds" | "explodes";

/** One model's gradient flow, as the summary table shows it. */
export interface FlowSummaryRow {
  series: string;
  variant: string;
  quantity: FlowQuantity;
  /** The measurement ("init", "end", or a checkpoint) and the sequence length. */
  at: string;
  T: number;
  /** Measured factor per step back in time (median over seeds of the fitted slope, as a factor). */
  factor: number;
  /**
   * The lag at which the median norm is 10⁶ times smaller or larger than at lag 0: measured when it happens within
   * T, else extrapolated from the factor (`lagMeasured` false); null when it never would (factor exactly 1).
   */
  lag1e6: number | null;
  lagMeasured: boolean;
  verdict: FlowVerdict;
  /**
   * log10 of the median norm against the lag 0, 1, ..., T−1 (±Infinity: under/overflow). The sparkline draws it
   * relative to lag 0, from 10⁶ smaller (▁) to 10⁶ larger (█).
   */
  profile: number[];
  sparkline: string;
}

/** Success per model and length, with the published value beside it when there is one. */
export interface SuccessSummaryRow {
  series: string;
  /** The length axis ("T", "p", "q") and its value, or null. */
  axis: string | null;
  x: number | null;
  successes: number;
  n: number;
  /** Median training sequences to success over the seeds that succeeded. */
  medianSequences: number | null;
  criterion: "solved" | "beats-baseline";
}

/** The answer of one run. */
export interface RunAnswer {
  experiment: string;
  kind: "gradient-flow" | "learnability" | "reproduction";
  dir: string;
  profile: "full" | "quick";
  cells: number;
  flow: FlowSummaryRow[];
  success: SuccessSummaryRow[];
  /** Published rows beside ours (reproductions). */
  published: ReproductionRow[];
  /** The figures written beside the tables (absolute paths). */
  figures: string[];
}

/**
 * The one way the summary gets published values: our cells beside each published row of the experiment file.
 * (Which cells answer which row is decided in `reproduction.ts`.)
 *
 * @example
 * ```ts
 * import { publishedComparison } from "./summary.ts";
 * publishedComparison("latch", null).length; // one "not run" line per published row
 * ```
 */
export function publishedComparison(name: string, results: ResultSet | null): ReproductionRow[] {
  return reproductionRows(name, results);
}

const BARS = "▁▂▃▄▅▆▇█";

/**
 * A Unicode sparkline of values on a shared scale [lo, hi], resampled to `width` characters (mean of each bin);
 * −Infinity (underflow) is drawn as the lowest bar, +Infinity (overflow) as the highest, NaN as a space.
 *
 * @example
 * ```ts
 * import { sparkline } from "./summary.ts";
 * sparkline([0, 1, 2, 3], 0, 3, 4); // "▁▃▆█"
 * ```
 */
export function sparkline(values: readonly number[], lo: number, hi: number, width = 24): string {
  if (values.length === 0) return "";
  const n = Math.min(width, values.length);
  let out = "";
  for (let i = 0; i < n; i++) {
    const a = Math.floor((i * values.length) / n), b = Math.max(a + 1, Math.floor(((i + 1) * values.length) / n));
    let s = 0, k = 0;
    for (let j = a; j < b; j++) {
      const v = Math.min(hi, Math.max(lo, values[j])); // ±Infinity clamp to the ends
      if (Number.isNaN(v)) continue;
      s += v;
      k++;
    }
    if (k === 0) {
      out += " ";
      continue;
    }
    const f = hi > lo ? (s / k - lo) / (hi - lo) : 0.5;
    out += BARS[Math.min(BARS.length - 1, Math.max(0, Math.round(f * (BARS.length - 1))))];
  }
  return out;
}

/**
 * The verdict for a factor per step alone: "holds" when the norm changes by less than 10⁶ over `VERDICT_HORIZON`
 * steps, else "vanishes" (factor < 1) or "explodes" (factor > 1). (`flowSummary` uses the measured 10⁶ lag where the
 * profile reaches it, and this rule where it does not.)
 *
 * @example
 * ```ts
 * import { verdictOf } from "./summary.ts";
 * verdictOf(0.9); // "vanishes"
 * verdictOf(0.9995); // "holds"
 * verdictOf(1.2); // "explodes"
 * ```
 */
export function verdictOf(factor: number): FlowVerdict {
  if (!(factor > 0) || !Number.isFinite(factor)) return factor > 1 ? "explodes" : "vanishes";
  const decades = Math.abs(log10(factor)) * VERDICT_HORIZON;
  if (decades < VERDICT_DECADES) return "holds";
  return factor < 1 ? "vanishes" : "explodes";
}

/** log10 of a norm, with underflow (below float32's normal range, or 0) as −∞ and overflow as +∞. */
function logNorm(v: number): number {
  if (v < FLOAT32_MIN_NORMAL) return -Infinity;
  if (!(v <= FLOAT32_MAX)) return Infinity;
  return log10(v);
}

/**
 * The gradient-flow rows of the summary: every model at the longest T measured (at initialisation when measured
 * there, else the first measurement), ‖∂L/∂h_t‖ for every model and ‖∂L/∂c_t‖ for the LSTMs.
 *
 * @example
 * ```ts
 * import { flowSummary } from "./summary.ts";
 * import { loadResults } from "./data.ts";
 * const gf = loadResults("gradient-flow", { fallbackToQuick: true });
 * for (const r of flowSummary(gf?.flow ?? [])) console.log(r.series, r.factor, r.verdict);
 * ```
 */
export function flowSummary(rows: readonly FlowRow[], opts: { width?: number } = {}): FlowSummaryRow[] {
  if (rows.length === 0) return [];
  const ats = [...new Set(rows.map((r) => String(r.at)))];
  const at = ats.includes("init") ? "init" : ats[0];
  const atRows = rows.filter((r) => String(r.at) === at);
  // per variant, its longest nominal T
  const Tmax = new Map<string, number>();
  for (const r of atRows) Tmax.set(r.variant, Math.max(Tmax.get(r.variant) ?? 0, nominalT(r)));
  const src = atRows.filter((r) => nominalT(r) === Tmax.get(r.variant));
  const out: FlowSummaryRow[] = [];
  for (const quantity of ["dh", "dc"] as const) {
    const points = aggregateFlow(src, { quantity });
    for (const d of decayRates(src, { quantity })) {
      const prof = points.filter((p) => p.variant === d.variant && p.T === d.T).sort((a, b) => a.lag - b.lag);
      const profile = prof.map((p) => logNorm(p.median));
      // measured: the first lag where the norm is 10⁶ off its lag-0 value
      let lag: number | null = null, measured = false, rising = d.slope > 0;
      const l0 = profile[0];
      const relative = profile.map((v) => v - l0); // decades off the lag-0 value
      if (Number.isFinite(l0)) {
        const hit = relative.findIndex((v) => Math.abs(v) >= VERDICT_DECADES);
        if (hit >= 0) {
          lag = prof[hit].lag;
          measured = true;
          rising = relative[hit] > 0;
        }
      }
      if (lag === null && Number.isFinite(d.slope) && d.slope !== 0) {
        lag = Math.round(VERDICT_DECADES / Math.abs(d.slope));
      }
      out.push({
        series: d.series,
        variant: d.variant,
        quantity,
        at,
        T: d.T,
        factor: d.factor,
        lag1e6: lag,
        lagMeasured: measured,
        verdict: lag !== null && lag <= VERDICT_HORIZON ? (rising ? "explodes" : "vanishes") : "holds",
        profile: profile.map((v) => (Number.isFinite(v) ? Math.round(v * 1000) / 1000 : v)),
        // one scale for every model: the norm relative to lag 0, from 10⁻⁶ (bottom) to 10⁶ (top)
        sparkline: sparkline(
          Number.isFinite(l0) ? relative : profile,
          -VERDICT_DECADES,
          VERDICT_DECADES,
          opts.width ?? 24,
        ),
      });
    }
  }
  return out;
}

/** Which kind of experiment a result set is: the shipped experiment's, else from its cells. */
function kindOf(set: ResultSet): RunAnswer["kind"] {
  const shipped = shippedExperiment(set.name);
  if (shipped !== undefined) return shipped.kind;
  if (set.summary.length > 0 && set.summary.every((s) => s.status === "measured")) return "gradient-flow";
  return "learnability";
}

/**
 * The answer of a run from its results folder (merged tables, else cells): gradient-flow rows, success rows and
 * published rows. Figures are not written here (see `writeRunFigures`).
 *
 * @example
 * ```ts
 * import { runAnswer } from "./summary.ts";
 * import { resultDir } from "./data.ts";
 * const { dir, present } = resultDir("gradient-flow", "quick");
 * if (present) console.log(runAnswer("gradient-flow", dir).flow.map((r) => r.verdict));
 * ```
 */
export function runAnswer(name: string, dir: string, profile: "full" | "quick" = "quick"): RunAnswer {
  const set = readResultDir(name, dir, profile);
  const kind = kindOf(set);
  const xCol = lengthAxis(set.summary);
  // reproductions: success per model beside the published rows (and ours-only lines); learnability: success table
  const success: SuccessSummaryRow[] = kind !== "learnability" ? [] : successStats(set.summary).map((s) => ({
    series: s.series,
    axis: xCol === null ? null : xCol.replace(/^task\.params\./, ""),
    x: s.x,
    successes: s.successes,
    n: s.n,
    medianSequences: s.medianSequences,
    criterion: s.criterion,
  }));
  return {
    experiment: name,
    kind,
    dir,
    profile,
    cells: set.summary.length,
    flow: flowSummary(set.flow),
    success,
    published: kind === "reproduction" ? publishedComparison(name, set) : [],
    figures: [],
  };
}

/**
 * Writes the run's figures (the report's vega-lite specs, as SVG) into `<dir>/figures/` and returns their paths.
 *
 * @example
 * ```ts
 * import { writeRunFigures } from "./summary.ts";
 * // const paths = await writeRunFigures("gradient-flow", "results/_runs/gradient-flow-quick");
 * ```
 */
export async function writeRunFigures(
  name: string,
  dir: string,
  profile: "full" | "quick" = "quick",
): Promise<string[]> {
  const set = readResultDir(name, dir, profile);
  const out: string[] = [];
  for (const f of experimentFigures(set, kindOf(set))) {
    out.push(await writeSvg(f.spec, join(dir, "figures", `${f.name}.svg`)));
  }
  return out;
}

function pad(s: string, n: number): string {
  return s + " ".repeat(Math.max(0, n - [...s].length));
}

function table(header: string[], rows: string[][]): string[] {
  const w = header.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...r[i]].length)));
  const line = (r: string[]) => r.map((c, i) => pad(c, w[i])).join("  ").trimEnd();
  return [line(header), line(w.map((n) => "─".repeat(n))), ...rows.map(line)];
}

function factorText(f: number): string {
  if (!Number.isFinite(f)) return String(f);
  return f >= 10 ? f.toFixed(1) : f.toFixed(4);
}

/**
 * The answer as text: a table per part, a few dozen lines at most.
 *
 * @example
 * ```ts
 * import { answerText, runAnswer } from "./summary.ts";
 * import { resultDir } from "./data.ts";
 * const { dir, present } = resultDir("gradient-flow", "quick");
 * if (present) console.log(answerText(runAnswer("gradient-flow", dir)));
 * ```
 */
export function answerText(a: RunAnswer): string {
  const lines: string[] = [];
  const cwd = process.cwd();
  lines.push(`── ${a.experiment}: what it measured (${a.cells} cells, ${a.profile} profile) ──`);
  if (a.flow.length > 0) {
    const dh = a.flow.filter((r) => r.quantity === "dh"), dc = a.flow.filter((r) => r.quantity === "dc");
    const T = [...new Set(dh.map((r) => r.T))].join(", ");
    lines.push(
      `Gradient flow ${dh[0]?.at === "init" ? "at initialisation" : `at ${dh[0]?.at}`}, T = ${T}, loss at the last ` +
        `step. ×/step: factor of the norm per step back in time;`,
      `10⁶ lag: steps until the norm is 10⁶ smaller or larger than at lag 0 (~: extrapolated from ×/step).`,
    );
    const rows = dh.map((r) => {
      const c = dc.find((x) => x.variant === r.variant);
      const lag = (x: FlowSummaryRow) =>
        x.lag1e6 === null ? "never" : `${x.lagMeasured ? "" : "~"}${formatValue(x.lag1e6)}`;
      return [
        r.series,
        factorText(r.factor),
        lag(r),
        c ? factorText(c.factor) : "—",
        c ? lag(c) : "—",
        c && c.verdict !== r.verdict ? `${r.verdict} (c: ${c.verdict})` : r.verdict,
        (c ?? r).sparkline,
      ];
    });
    lines.push(
      ...table(
        ["model", "‖∂L/∂h‖ ×/step", "10⁶ lag", "‖∂L/∂c‖ ×/step", "10⁶ lag", "verdict", "log‖∂L/∂·‖ vs lag 0→T"],
        rows,
      ),
    );
    lines.push(
      `verdict: vanishes / explodes when the 10⁶ lag is within ${VERDICT_HORIZON} steps, else holds.`,
      `sparkline: ‖∂L/∂c‖ (LSTM) or ‖∂L/∂h‖ from lag 0 to T, relative to lag 0: ▁ 10⁶ smaller, █ 10⁶ larger.`,
    );
  }
  if (a.success.length > 0) {
    const axis = a.success[0].axis;
    lines.push(`Success per model${axis ? ` and ${axis}` : ""}:`);
    lines.push(...table(
      ["model", axis ?? "", "success", "median sequences to success"],
      a.success.map((s) => [
        s.series,
        s.x === null ? "" : String(s.x),
        `${s.successes}/${s.n} ${s.criterion === "solved" ? "solved" : "beat baseline"}`,
        formatValue(s.medianSequences),
      ]),
    ));
  }
  if (a.published.length > 0) {
    lines.push("Beside the published values:");
    lines.push(...table(
      ["published", "ours", "success", "median sequences"],
      a.published.map((p) => [
        p.publishedText,
        p.status === "run" ? p.ours : p.status,
        p.success,
        formatValue(p.medianSequences),
      ]),
    ));
  }
  if (a.figures.length > 0) {
    lines.push("Figures (SVG):", ...a.figures.map((f) => `  ${relative(cwd, f) || f}`));
  }
  return lines.join("\n");
}

/**
 * What the CLI calls at the end of a run: reads the merged tables in `dir`, writes the figures beside them, and
 * prints the answer (text, or one JSON line `{"answer": ...}` with `json`). Errors here are reported, never thrown:
 * the run's results are already safe on disk.
 *
 * @example
 * ```ts
 * import { printRunAnswer } from "./summary.ts";
 * // await printRunAnswer("gradient-flow", "results/_runs/gradient-flow-quick", { json: false });
 * ```
 */
export async function printRunAnswer(
  name: string,
  dir: string,
  opts: { json?: boolean; figures?: boolean; profile?: "full" | "quick" } = {},
): Promise<RunAnswer | null> {
  try {
    const a = runAnswer(name, dir, opts.profile);
    if (opts.figures ?? true) a.figures = await writeRunFigures(name, dir, opts.profile);
    if (opts.json) {
      console.log(
        JSON.stringify({ answer: a }, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v)),
      );
    } else console.log(answerText(a));
    return a;
  } catch (e) {
    console.error(`${name}: could not summarise the results in ${dir}: ${(e as Error).message}`);
    return null;
  }
}
