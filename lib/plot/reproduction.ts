/**
 * The reproduction tables: each published number of the reference (the `published` array of an experiment file)
 * beside what our cells got; each published row says itself which of the file's cells answer it (`ours`). The
 * experiments are listed from experiments/ at run time, never imported by path.
 *
 * For each published row, the matching cells are grouped by variant (and by the length axis where the row does not
 * fix it), and each group gets: the success count over seeds ("solved": the stopping rule was met; for runs without
 * one, "beats the baseline": test loss below the task's trivial predictor, the criterion of Arjovsky et al.), the
 * median training sequences to success over the seeds that succeeded, and the test errors as "x/N" (median over
 * seeds, with the range). Our cells that no published row covers are listed after, with "—" as the published value.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { check, type Experiment, ExperimentSpec } from "../experiment/schema.ts";
import { axisName, cellSucceeded, LENGTH_AXES, successCriterion } from "./analysis.ts";
import { REPO_ROOT, type ResultSet, type SummaryRow } from "./data.ts";
import { median } from "./stats.ts";

/** A published row of an experiment file (its numbers, and `ours`: which cells answer it). */
export type PublishedRow = NonNullable<Experiment["published"]>[number];

/** An experiment shipped in experiments/, as the report and the notebooks list it. */
export interface ShippedExperiment {
  /** The experiment's name (its results folder). */
  name: string;
  /** The file, relative to the repository root. */
  file: string;
  experiment: Experiment;
  /** What it is for in the report and the notebooks (the file's `role`). */
  kind: "gradient-flow" | "learnability" | "reproduction";
}

const ROLE_ORDER = ["gradient-flow", "learnability", "reproduction"] as const;
const v = (c: SummaryRow) => String(c.variant);

/**
 * Whether a cell answers a published row: its variant is one of `ours.variants` (absent: any) and its task
 * parameters have the values of `ours.taskParams`.
 *
 * @example
 * ```ts
 * import { answers } from "./reproduction.ts";
 * answers({ T: 100, ours: { variants: ["lstm"], taskParams: { T: 100 } } }, { variant: "lstm", "task.params.T": 100 }); // true
 * ```
 */
export function answers(published: PublishedRow, cell: SummaryRow): boolean {
  const ours = published.ours as { variants?: string[]; taskParams?: Record<string, number> } | undefined;
  if (ours === undefined) return false;
  if (ours.variants !== undefined && !ours.variants.includes(String(cell.variant))) return false;
  for (const [k, value] of Object.entries(ours.taskParams ?? {})) if (cell[`task.params.${k}`] !== value) return false;
  return true;
}

/**
 * The experiments of a folder (default: the repository's experiments/), read at run time: each file validated, its
 * `role` required, and every published row's `ours` checked against the file's own variants and task parameters.
 * Ordered by role (gradient flow, learnability, reproductions), then by file name.
 *
 * @example
 * ```ts
 * import { listExperiments } from "./reproduction.ts";
 * const shipped = await listExperiments();
 * shipped.map((e) => e.name); // ["gradient-flow", "adding-learnability", "adding-1997", …]
 * ```
 */
export async function listExperiments(dir: string = join(REPO_ROOT, "experiments")): Promise<ShippedExperiment[]> {
  const out: ShippedExperiment[] = [];
  for (const f of readdirSync(dir).filter((f) => /\.(ts|json)$/.test(f) && !f.endsWith("_test.ts")).sort()) {
    const path = join(dir, f), file = `experiments/${f}`;
    const experiment: Experiment = f.endsWith(".json")
      ? JSON.parse(readFileSync(path, "utf8"))
      : (await import(pathToFileURL(path).href)).default;
    const resolved = check(ExperimentSpec, experiment, file);
    if (resolved.role === undefined) {
      throw new Error(`${file}: role: missing; expected one of ${ROLE_ORDER.join(", ")} (what the report shows it as)`);
    }
    const variants = Object.keys(resolved.sweep.variants ?? {});
    (resolved.published ?? []).forEach((p, i) => {
      const ours = p.ours as { variants?: string[]; taskParams?: Record<string, number> } | undefined;
      for (const name of ours?.variants ?? []) {
        if (!variants.includes(name)) {
          throw new Error(
            `${file}: published[${i}].ours.variants: "${name}" is not a variant of this experiment; ` +
              `expected one of ${
                variants.map((x) => JSON.stringify(x)).join(", ") || "(none: sweep.variants is empty)"
              }`,
          );
        }
      }
    });
    out.push({ name: resolved.name, file, experiment, kind: resolved.role });
  }
  return out.sort((a, b) => ROLE_ORDER.indexOf(a.kind) - ROLE_ORDER.indexOf(b.kind));
}

/** Every experiment in experiments/, listed when this module loads (see `listExperiments`). */
export const EXPERIMENTS: readonly ShippedExperiment[] = await listExperiments();

/**
 * The shipped experiment of a name, or undefined.
 *
 * @example
 * ```ts
 * import { shippedExperiment } from "./reproduction.ts";
 * shippedExperiment("latch")?.experiment.published?.length; // 2
 * ```
 */
export function shippedExperiment(name: string): ShippedExperiment | undefined {
  return EXPERIMENTS.find((e) => e.name === name);
}

/** One line of a reproduction table. */
export interface ReproductionRow {
  experiment: string;
  /** "published" for a line answering a published row, "ours only" for cells no published row covers. */
  kind: "published" | "ours only";
  /** The published row's numbers, as written in the experiment file (null for "ours only"). */
  published: PublishedRow | null;
  /** The published row's numbers as text, e.g. "T 100 · minimal lag 50 · wrong on test 1/2560 · …". */
  publishedText: string;
  /** Our variant and, where the published row does not fix it, the length, e.g. "lstm, T = 200". */
  ours: string;
  /** "run" (cells found), "no matching cells" (run, but none answers this row), or "not run". */
  status: "run" | "no matching cells" | "not run";
  /** Whether our numbers come from the committed full run, a partial one, or a quick run. */
  profile: string;
  cells: number;
  successes: number;
  /** "k/n" with the criterion, e.g. "5/5 solved". */
  success: string;
  /** Median training sequences to success over the seeds that succeeded, or null. */
  medianSequences: number | null;
  /** Test errors "x/N" (median over seeds, range in brackets), or null without a test set. */
  testWrong: string | null;
}

/** Options of `reproductionRows`. */
export interface ReproductionOptions {
  /** Include the cells that no published row covers (default true). */
  extras?: boolean;
}

function humanize(key: string): string {
  return key.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

/**
 * A number with thousands separators (en-US), or the value as text.
 *
 * @example
 * ```ts
 * import { formatValue } from "./reproduction.ts";
 * formatValue(853000); // "853,000"
 * formatValue(20590.5); // "20,591"
 * formatValue(null); // "—"
 * ```
 */
export function formatValue(x: unknown): string {
  if (x === null || x === undefined) return "—";
  if (typeof x === "number") {
    if (!Number.isFinite(x)) return String(x);
    // counts (and medians of counts, e.g. 20,590.5) as integers with separators; small fractions to 4 digits
    if (Number.isInteger(x) || Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en-US");
    return String(Number(x.toPrecision(4)));
  }
  return String(x);
}

/**
 * A published row as one line of text.
 *
 * @example
 * ```ts
 * import { publishedText } from "./reproduction.ts";
 * publishedText({ T: 100, wrongOnTest: "1/2560", sequencesToStop: 74000 }); // "T 100 · wrong on test 1/2560 · sequences to stop 74,000"
 * ```
 */
export function publishedText(p: PublishedRow): string {
  // short keys are lengths and counts (T, p, q, N): written as they are, without thousands separators
  return Object.entries(p).filter(([k]) => k !== "ours")
    .map((
      [k, x],
    ) => (k.length <= 2 ? `${k} ${x ?? "—"}` : `${humanize(k)} ${formatValue(x as string | number | null)}`))
    .join(" · ");
}

function groupStats(cells: SummaryRow[]) {
  const ok = cells.filter(cellSucceeded);
  const seqs = ok.map((c) => c.sequencesToSuccess).filter((x): x is number => typeof x === "number");
  const wrong = cells.map((c) => c.testWrong).filter((x): x is number => typeof x === "number");
  const n = cells.map((c) => c.testSequences).filter((x): x is number => typeof x === "number");
  const criterion = cells.length ? successCriterion(cells[0]) : "solved";
  let testWrong: string | null = null;
  if (wrong.length) {
    const lo = Math.min(...wrong), hi = Math.max(...wrong), N = Math.max(...n);
    testWrong = `${Math.round(median(wrong))}/${N}` + (lo !== hi ? ` (${lo}–${hi})` : ""); // as the papers write it
  }
  return {
    cells: cells.length,
    successes: ok.length,
    success: `${ok.length}/${cells.length} ${criterion === "solved" ? "solved" : "beat the baseline"}`,
    medianSequences: seqs.length ? median(seqs) : null,
    testWrong,
  };
}

/** Groups cells by variant and by the length axes the published row does not fix. */
function groupCells(cells: SummaryRow[], published: PublishedRow | null, variantOrder: string[]) {
  // lines in reading order: variants as the experiment file declares them, then by length (T = 50 before T = 100)
  const variantRank = new Map(variantOrder.map((name, i) => [name, i]));
  for (const c of cells) if (!variantRank.has(v(c))) variantRank.set(v(c), variantRank.size);
  const byLength = (c: SummaryRow) => LENGTH_AXES.map((col) => (typeof c[col] === "number" ? c[col] as number : 0));
  const ordered = [...cells].sort((a, b) => {
    const rank = variantRank.get(v(a))! - variantRank.get(v(b))!;
    if (rank !== 0) return rank;
    const la = byLength(a), lb = byLength(b);
    for (let i = 0; i < la.length; i++) if (la[i] !== lb[i]) return la[i] - lb[i];
    return 0;
  });
  const groups = new Map<string, { label: string; cells: SummaryRow[] }>();
  for (const c of ordered) {
    const parts = [v(c)];
    for (const col of LENGTH_AXES) {
      const name = axisName(col);
      const x = c[col];
      if (typeof x !== "number") continue;
      if (published !== null && published[name] !== undefined && published[name] !== null) continue;
      // show the length only when it varies in this experiment's cells
      if (new Set(cells.map((d) => d[col])).size > 1) parts.push(`${name} = ${x}`);
    }
    const label = parts.join(", ");
    let g = groups.get(label);
    if (g === undefined) groups.set(label, g = { label, cells: [] });
    g.cells.push(c);
  }
  return [...groups.values()];
}

/**
 * The reproduction table of one experiment: every published row with the matching cells' numbers beside it (one
 * line per variant), then (by default) our cells that no published row covers. An experiment not run yet gives one
 * "not run" line per published row.
 *
 * @example
 * ```ts
 * import { reproductionRows } from "./reproduction.ts";
 * import { loadResults } from "./data.ts";
 * const rows = reproductionRows("latch", loadResults("latch", { flow: false, curves: false }));
 * for (const r of rows) console.log(r.publishedText, "|", r.ours, r.success, r.medianSequences);
 * ```
 */
export function reproductionRows(
  name: string,
  results: ResultSet | null,
  opts: ReproductionOptions = {},
): ReproductionRow[] {
  const exp = shippedExperiment(name);
  const published = exp?.experiment.published ?? [];
  const profile = results === null
    ? "—"
    : `${results.profile}${results.state === "partial" ? `, partial (${results.finished} cells)` : ""}`;
  const cells = (results?.summary ?? []).filter((c) => c.status !== "measured");
  const variantOrder = Object.keys((exp?.experiment.sweep as { variants?: object } | undefined)?.variants ?? {});
  const empty = { cells: 0, successes: 0, success: "—", medianSequences: null, testWrong: null };
  const out: ReproductionRow[] = [];
  const covered = new Set<string>();
  for (const p of published) {
    const base = {
      experiment: name,
      kind: "published" as const,
      published: p,
      publishedText: publishedText(p),
      profile,
    };
    if (results === null) {
      out.push({ ...base, ours: "—", status: "not run", ...empty });
      continue;
    }
    const matched = cells.filter((c) => answers(p, c));
    if (matched.length === 0) {
      out.push({ ...base, ours: "—", status: "no matching cells", ...empty });
      continue;
    }
    for (const c of matched) covered.add(String(c.hash));
    for (const g of groupCells(matched, p, variantOrder)) {
      out.push({ ...base, ours: g.label, status: "run", ...groupStats(g.cells) });
    }
  }
  if (opts.extras ?? true) {
    const rest = cells.filter((c) => !covered.has(String(c.hash)));
    for (const g of groupCells(rest, null, variantOrder)) {
      out.push({
        experiment: name,
        kind: "ours only",
        published: null,
        publishedText: "—",
        ours: g.label,
        status: "run",
        profile,
        ...groupStats(g.cells),
      });
    }
  }
  return out;
}

/**
 * The columns of a reproduction table as shown (published, ours, success, median sequences to success, test
 * wrong), as text, from its rows.
 *
 * @example
 * ```ts
 * import { reproductionRows, reproductionTable } from "./reproduction.ts";
 * reproductionTable(reproductionRows("latch", null))[0].ours; // "not run"
 * ```
 */
export function reproductionTable(rows: readonly ReproductionRow[]): Record<string, string>[] {
  return rows.map((r) => ({
    published: r.publishedText,
    ours: r.status === "run" ? r.ours : r.status,
    success: r.success,
    "median sequences to success": formatValue(r.medianSequences),
    "test wrong": r.testWrong ?? "—",
  }));
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * A reproduction table as an HTML `<table>` (class "repro"; "not run" and "ours only" lines get their own classes).
 *
 * @example
 * ```ts
 * import { reproductionRows, reproductionTableHtml } from "./reproduction.ts";
 * const html = reproductionTableHtml(reproductionRows("copy", null)); // every published row, "not run"
 * ```
 */
export function reproductionTableHtml(rows: readonly ReproductionRow[]): string {
  const table = reproductionTable(rows);
  const cols = ["published", "ours", "success", "median sequences to success", "test wrong"];
  const head = `<tr>${
    cols.map((c) => `<th>${esc(c === "published" ? "published (reference)" : c)}</th>`).join("")
  }</tr>`;
  const body = table.map((t, i) => {
    const r = rows[i];
    const cls = r.status !== "run" ? "not-run" : r.kind === "ours only" ? "ours-only" : "";
    return `<tr${cls ? ` class="${cls}"` : ""}>${cols.map((c) => `<td>${esc(t[c])}</td>`).join("")}</tr>`;
  }).join("\n");
  return `<table class="repro">\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/**
 * A reproduction table as Markdown (for notebooks and issues).
 *
 * @example
 * ```ts
 * import { reproductionRows, reproductionTableMarkdown } from "./reproduction.ts";
 * console.log(reproductionTableMarkdown(reproductionRows("latch", null)));
 * ```
 */
export function reproductionTableMarkdown(rows: readonly ReproductionRow[]): string {
  const table = reproductionTable(rows);
  const cols = ["published", "ours", "success", "median sequences to success", "test wrong"];
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `| ${cols.join(" | ")} |`,
    `|${cols.map(() => "---").join("|")}|`,
    ...table.map((t) => `| ${cols.map((c) => cell(t[c])).join(" | ")} |`),
  ].join("\n");
}
