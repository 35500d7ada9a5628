/**
 * The static report: `deno task report` → `results/report.html` (every chart and table, self-contained: the
 * vega, vega-lite and vega-embed builds are inlined from node_modules, there is no CDN) and the key figures as
 * standalone SVG files in `results/figures/`.
 *
 * It reads whatever results are present (`data.ts`): experiments not run yet are listed as "not run", partial runs
 * are marked partial. It contains no clock time, so rebuilding from the same results gives the same files.
 *
 * Usage: `deno task report [--out DIR] [--results DIR] [--quick-fallback] [--no-figures]`
 *
 * The page records in the DOM what happened when it ran (for the headless-browser test): each chart container gets
 * `data-rendered="ok"` or `data-rendered="error"`, `<body data-charts-done="n">` when all are done, and
 * `<pre id="report-log">` collects console errors and warnings and uncaught exceptions.
 *
 * @module
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import process from "node:process";
import { decayRates, nominalT } from "./analysis.ts";
import { loadResults, REPO_ROOT, type ResultSet } from "./data.ts";
import { experimentFigures } from "./figures.ts";
import { writeSvg } from "./render.ts";
import { EXPERIMENTS, reproductionRows, reproductionTableHtml } from "./reproduction.ts";
import { gradientFlowSpec, type VlSpec } from "./specs.ts";

/** Options of `buildReport`. */
export interface ReportOptions {
  /** Where report.html and figures/ are written (default: `<repo>/results`). */
  outDir?: string;
  /** The results folder read (default: `<repo>/results`). */
  resultsDir?: string;
  /** Use quick runs (results/_runs/<name>-quick) for experiments without a full run (default false). */
  fallbackToQuick?: boolean;
  /** Write the figures (default true). */
  figures?: boolean;
}

/** A chart of the report. */
export interface ReportChart {
  id: string;
  spec: VlSpec;
  /** Written to figures/<figure>.svg when set. */
  figure?: string;
}

/** What `buildReport` wrote. */
export interface ReportResult {
  path: string;
  charts: number;
  figures: string[];
  experiments: { name: string; status: string }[];
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** JSON or JS safe to put inside a <script> element. */
function scriptSafe(s: string): string {
  return s.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--").replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * One line on what was found for an experiment: "not run", "full run, complete (490 cells)", "full run, partial:
 * 32/80 cells", ...
 *
 * @example
 * ```ts
 * import { statusText } from "./report.ts";
 * statusText(null); // "not run"
 * ```
 */
export function statusText(r: ResultSet | null): string {
  if (r === null) return "not run";
  const what = r.profile === "full" ? "full run" : "quick run";
  if (r.state === "complete") return `${what}, complete (${r.finished} cells)`;
  return `${what}, partial: ${r.finished}${r.expected === null ? "" : `/${r.expected}`} cells${
    r.merged ? "" : " (in progress or interrupted)"
  }`;
}

function tableHtml(header: string[], rows: string[][], cls = ""): string {
  return `<table${cls ? ` class="${cls}"` : ""}><thead><tr>${
    header.map((h) => `<th>${esc(h)}</th>`).join("")
  }</tr></thead>
<tbody>
${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("\n")}
</tbody></table>`;
}

/**
 * Builds the report: reads the results, writes `<outDir>/report.html` and (unless `figures: false`) the figures
 * `<outDir>/figures/*.svg`.
 *
 * @example
 * ```ts
 * import { buildReport } from "./report.ts";
 * const r = await buildReport({ outDir: "/tmp/report", figures: false });
 * console.log(r.path, r.charts, r.experiments);
 * ```
 */
export async function buildReport(opts: ReportOptions = {}): Promise<ReportResult> {
  const outDir = resolve(opts.outDir ?? join(REPO_ROOT, "results"));
  const resultsDir = opts.resultsDir === undefined ? undefined : resolve(opts.resultsDir);
  const load = (name: string) =>
    loadResults(name, { root: resultsDir, fallbackToQuick: opts.fallbackToQuick ?? false });
  const charts: ReportChart[] = [];
  const sections: string[] = [];
  const chart = (spec: VlSpec, caption: string, figure?: string) => {
    const id = `chart-${charts.length + 1}`;
    charts.push({ id, spec, figure });
    return `<figure><div class="chart" id="${id}"></div><figcaption>${caption}${
      figure ? ` <span class="fig">figures/${esc(figure)}.svg</span>` : ""
    }</figcaption></figure>`;
  };

  const results = new Map<string, ResultSet | null>();
  for (const e of EXPERIMENTS) results.set(e.name, load(e.name));

  // ------------------------------------------------------------------ status
  const dates = [...results.values()].flatMap((r) => (r?.mergedAt ? [r.mergedAt] : [])).sort();
  const statusRows = EXPERIMENTS.map((e) => {
    const r = results.get(e.name)!;
    const commits = r === null ? [] : [...new Set(r.summary.map((s) => String(s.commit).slice(0, 7)))];
    const runtimes = r === null ? [] : [...new Set(r.summary.map((s) => String(s.runtime)))];
    return [
      e.name,
      e.kind,
      statusText(r),
      r?.mergedAt ?? (r === null ? "—" : "not merged yet"),
      commits.join(", ") || "—",
      runtimes.join(", ") || "—",
      e.experiment.reference ?? "—",
    ];
  });
  sections.push(`<section id="status"><h2>Experiments</h2>
<p>What this report was built from. Results: <code>results/&lt;experiment&gt;/</code> (full runs${
    opts.fallbackToQuick ? "; quick runs from <code>results/_runs/</code> where there is no full run" : ""
  }). Rebuild with <code>deno task report</code> after new runs.</p>
${tableHtml(["experiment", "role", "status", "merged", "commit", "runtime", "reference"], statusRows, "status")}
</section>`);

  // ------------------------------------------------------------------ gradient flow
  const gf = results.get("gradient-flow") ?? null;
  {
    let body: string;
    if (gf === null || gf.flow.length === 0) {
      body = `<p class="not-run">gradient-flow: not run.</p>`;
    } else {
      const Ts = [...new Set(gf.flow.map(nominalT))].sort((a, b) => a - b);
      const rates = decayRates(gf.flow, { at: "init" });
      const figs = experimentFigures(gf, "gradient-flow");
      const fig = (name: string) => figs.find((f) => f.name === name)!.spec;
      const Tmax = Ts.at(-1)!;
      const rateRows = rates.filter((d) => d.T === Tmax).map((d) => [
        d.series,
        d.slope.toFixed(4),
        d.factor.toFixed(4),
        d.cell === "rnn" ? d.lambda1.toFixed(3) : "—",
        d.cell === "rnn" ? (d.factor <= d.lambda1 ? "yes" : "no") : "—",
        d.r2.toFixed(3),
        String(d.points),
        String(d.seeds),
      ]);
      body = [
        `<p>‖∂L/∂h_t‖ (and the LSTM's ‖∂L/∂c_t‖) at initialisation, with the loss at the last step, on ${
          statusText(gf)
        }: tanh RNNs with recurrent spectral radius ρ and LSTMs with forget-gate bias b_f, T = ${Ts.join(", ")}.</p>`,
        chart(
          fig("gradient_flow"),
          `Gradient norm against the lag at T = ${Tmax}: RNN (by ρ) and LSTM (by forget bias), with Pascanu's bound for the RNNs.`,
          "gradient_flow",
        ),
        chart(
          gradientFlowSpec(gf.flow, { T: "all", maxPoints: 60, width: 230, height: 180 }),
          "The same for every sequence length.",
        ),
        chart(
          fig("gradient_flow_heatmap"),
          "log10 gradient norm over (T, t), one panel per model.",
          "gradient_flow_heatmap",
        ),
        chart(
          fig("gradient_decay"),
          "Measured factor per step back in time against Pascanu's bound λ₁γ.",
          "gradient_decay",
        ),
        `<h3>Decay rate per step at T = ${Tmax}</h3>`,
        tableHtml(
          ["model", "slope (decades/step)", "factor/step", "λ₁γ (bound)", "within bound", "R²", "lags fitted", "seeds"],
          rateRows,
        ),
      ].join("\n");
    }
    // The other gradient-flow experiments (e.g. gradient-flow-cells: GRU and the LSTM variants), one figure each.
    for (const e of EXPERIMENTS) {
      if (e.kind !== "gradient-flow" || e.name === "gradient-flow") continue;
      const r = results.get(e.name) ?? null;
      if (r === null || r.flow.length === 0) {
        body += `\n<p class="not-run">${esc(e.name)}: not run.</p>`;
        continue;
      }
      const Tmax = r.flow.reduce((m, f) => Math.max(m, nominalT(f)), 0);
      const spec = experimentFigures(r, "gradient-flow").find((f) => f.name === "gradient_flow")!.spec;
      const rows = decayRates(r.flow, { at: "init" }).filter((d) => d.T === Tmax).map((d) => [
        d.series,
        d.slope.toFixed(4),
        d.factor.toFixed(4),
        d.r2.toFixed(3),
        String(d.points),
        String(d.seeds),
      ]);
      body += "\n" + [
        `<h3>${esc(e.name)}</h3>`,
        `<p>${esc(e.experiment.description)} (${esc(statusText(r))}).</p>`,
        chart(spec, `${esc(e.name)}: gradient norm against the lag at T = ${Tmax}.`, e.name.replaceAll("-", "_")),
        tableHtml(["model", "slope (decades/step)", "factor/step", "R²", "lags fitted", "seeds"], rows),
      ].join("\n");
    }
    sections.push(`<section id="gradient-flow"><h2>Gradient flow at initialisation</h2>\n${body}\n</section>`);
  }

  // ------------------------------------------------------------------ before/after training
  {
    const parts: string[] = [];
    for (const e of EXPERIMENTS) {
      if (e.kind === "gradient-flow") continue;
      const r = results.get(e.name);
      if (!r || r.flow.length === 0) continue;
      const ats = new Set(r.flow.map((f) => String(f.at)));
      // the longest length measured for every model (else the longest measured at all): experimentFigures
      const spec = experimentFigures(r, e.kind).find((f) => f.name === "gradient_flow_training")!.spec;
      parts.push(
        `<h3>${esc(e.name)}</h3>`,
        chart(
          spec,
          `${esc(e.name)} (${esc(statusText(r))}): gradient flow ${
            ats.size > 1 ? "at initialisation and after training" : "at initialisation"
          }, at the longest T measured for every model.`,
          e.name === "adding-learnability" ? "gradient_flow_training" : undefined,
        ),
      );
    }
    sections.push(`<section id="flow-training"><h2>Gradient flow in the trained experiments</h2>
${
      parts.length
        ? parts.join("\n")
        : `<p class="not-run">No trained experiment with gradient-flow measurements has been run.</p>`
    }
</section>`);
  }

  // ------------------------------------------------------------------ learnability
  {
    const parts: string[] = [];
    for (const e of EXPERIMENTS) {
      if (e.kind === "gradient-flow") continue;
      const r = results.get(e.name) ?? null;
      parts.push(`<h3 id="learn-${esc(e.name)}">${esc(e.name)}</h3>`);
      if (r === null || r.summary.length === 0) {
        parts.push(`<p class="not-run">${esc(e.name)}: not run.</p>`);
        continue;
      }
      const main = e.name === "adding-learnability";
      const figs = experimentFigures(r, e.kind);
      const fig = (name: string) => figs.find((f) => f.name === name)!.spec;
      parts.push(
        `<p>${esc(e.experiment.description)} — ${esc(statusText(r))}.</p>`,
        chart(
          fig("learnability_success"),
          `${esc(e.name)}: success rate per model, 95% Wilson intervals over seeds.`,
          main ? "learnability_success" : undefined,
        ),
      );
      if (figs.some((f) => f.name === "learnability_sequences")) {
        parts.push(chart(
          fig("learnability_sequences"),
          `${
            esc(e.name)
          }: training sequences until the stopping rule was met (open marks: not solved within the budget).`,
          main ? "learnability_sequences" : undefined,
        ));
      }
      if (r.curves.length) {
        parts.push(chart(
          fig("training_curves"),
          `${esc(e.name)}: training curves (loss against the trivial baseline, fraction correct, gradient norm).`,
          main ? "training_curves" : undefined,
        ));
      }
    }
    sections.push(
      `<section id="learnability"><h2>Learnability: LSTM against the RNN</h2>\n${parts.join("\n")}\n</section>`,
    );
  }

  // ------------------------------------------------------------------ reproduction tables
  {
    const parts: string[] = [];
    for (const e of EXPERIMENTS.filter((x) => x.kind === "reproduction")) {
      const r = results.get(e.name) ?? null;
      parts.push(
        `<h3 id="repro-${esc(e.name)}">${esc(e.name)} <small>${esc(e.experiment.reference ?? "")}</small></h3>`,
        `<p>${esc(statusText(r))}. ${esc(e.experiment.description)}.</p>`,
        reproductionTableHtml(reproductionRows(e.name, r)),
      );
    }
    sections.push(`<section id="reproduction"><h2>Reproduction tables: published numbers beside ours</h2>
<p>One line per published row and model variant; our success counts are over seeds ("solved": the stopping rule
was met; "beat the baseline": test loss below the trivial predictor, for runs trained to their budget), sequences
to success are the median over the seeds that succeeded, and test errors are the median over seeds with their range.
Lines marked "ours only" are cells no published row covers.</p>
${parts.join("\n")}
</section>`);
  }

  const html = page(sections, charts, dates.at(-1) ?? null);
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, "report.html");
  writeFileSync(path, html);
  const figures: string[] = [];
  if (opts.figures ?? true) {
    for (const c of charts) {
      if (c.figure === undefined) continue;
      figures.push(await writeSvg(c.spec, join(outDir, "figures", `${c.figure}.svg`)));
    }
  }
  return {
    path,
    charts: charts.length,
    figures,
    experiments: EXPERIMENTS.map((e) => ({ name: e.name, status: statusText(results.get(e.name) ?? null) })),
  };
}

function libraryScript(pkg: string, file: string): string {
  return scriptSafe(readFileSync(join(REPO_ROOT, "node_modules", pkg, "build", file), "utf8"));
}

function page(sections: string[], charts: ReportChart[], newest: string | null): string {
  const specs = charts.map((c) =>
    `<script type="application/json" id="spec-${c.id}">${scriptSafe(JSON.stringify(c.spec))}</script>`
  ).join("\n");
  const toc = [
    ["status", "Experiments"],
    ["gradient-flow", "Gradient flow at initialisation"],
    ["flow-training", "Gradient flow in the trained experiments"],
    ["learnability", "Learnability"],
    ["reproduction", "Reproduction tables"],
  ].map(([id, t]) => `<a href="#${id}">${t}</a>`).join(" · ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lstm-lab: results report</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1200px;
  padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
h3 small { font-weight: normal; color: #666; }
nav { color: #666; margin-bottom: 1rem; } nav a { color: #2060a0; }
figure { margin: 1.2rem 0; } figcaption { color: #555; font-size: 0.9rem; }
.fig { font-family: ui-monospace, monospace; font-size: 0.8rem; color: #888; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.88rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
tr.not-run td { color: #999; font-style: italic; } tr.ours-only td { color: #555; background: #fafafa; }
.not-run { color: #999; font-style: italic; }
#report-log { color: #a00; white-space: pre-wrap; }
code { background: #f3f3f3; padding: 0 0.2rem; }
</style>
<script>
window.__reportLog = [];
(function () {
  var log = function (kind, args) {
    var text = Array.prototype.map.call(args, function (a) { return a && a.message ? a.message : String(a); }).join(" ");
    window.__reportLog.push(kind + ": " + text);
  };
  var error = console.error, warn = console.warn;
  console.error = function () { log("console.error", arguments); return error.apply(console, arguments); };
  console.warn = function () { log("console.warn", arguments); return warn.apply(console, arguments); };
  window.addEventListener("error", function (e) { log("uncaught", [e.message]); });
  window.addEventListener("unhandledrejection", function (e) { log("unhandled rejection", [e.reason]); });
})();
</script>
<script>${libraryScript("vega", "vega.min.js")}</script>
<script>${libraryScript("vega-lite", "vega-lite.min.js")}</script>
<script>${libraryScript("vega-embed", "vega-embed.min.js")}</script>
</head>
<body>
<h1>lstm-lab: results</h1>
<p>Why an LSTM learns long-range dependencies where a vanilla RNN's gradients vanish or explode: gradient flow,
learnability and the reproductions of the classic long-time-lag experiments, built by <code>deno task report</code>
from the results in <code>results/</code>${newest ? ` (newest merge: ${esc(newest)})` : ""}. Charts: vega-lite ${
    esc(versionOf("vega-lite"))
  }, vega ${esc(versionOf("vega"))}, vega-embed ${esc(versionOf("vega-embed"))}, inlined.</p>
<nav>${toc}</nav>
${sections.join("\n")}
<pre id="report-log"></pre>
${specs}
<script>
(function () {
  var charts = ${JSON.stringify(charts.map((c) => c.id))};
  var done = 0, failed = 0;
  var finish = function () {
    document.body.setAttribute("data-charts-done", String(done));
    document.body.setAttribute("data-charts-failed", String(failed));
    document.getElementById("report-log").textContent = window.__reportLog.join("\\n");
  };
  var jobs = charts.map(function (id) {
    var el = document.getElementById(id);
    var spec = JSON.parse(document.getElementById("spec-" + id).textContent);
    return vegaEmbed(el, spec, { renderer: "svg", actions: false, logLevel: vega.Warn })
      .then(function () { el.setAttribute("data-rendered", "ok"); done++; })
      .catch(function (e) {
        el.setAttribute("data-rendered", "error");
        failed++;
        window.__reportLog.push("vega-embed " + id + ": " + (e && e.message ? e.message : String(e)));
      });
  });
  Promise.all(jobs).then(finish, finish);
})();
</script>
</body>
</html>
`;
}

function versionOf(pkg: string): string {
  try {
    return JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

/** Command line: `deno task report [--out DIR] [--results DIR] [--quick-fallback] [--no-figures]`. */
async function main(args: string[]): Promise<void> {
  const opts: ReportOptions = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--out") opts.outDir = args[++i];
    else if (a === "--results") opts.resultsDir = args[++i];
    else if (a === "--quick-fallback") opts.fallbackToQuick = true;
    else if (a === "--no-figures") opts.figures = false;
    else if (a === "-h" || a === "--help") {
      console.log("Usage: deno task report [--out DIR] [--results DIR] [--quick-fallback] [--no-figures]");
      return;
    } else throw new Error(`report: unknown argument ${a}`);
  }
  const t0 = performance.now();
  const r = await buildReport(opts);
  const rel = (p: string) => relative(process.cwd(), p) || p;
  for (const e of r.experiments) console.log(`  ${e.name.padEnd(22)} ${e.status}`);
  console.log(`report: ${rel(r.path)} (${r.charts} charts) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (const f of r.figures) console.log(`  figure: ${rel(f)}`);
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
