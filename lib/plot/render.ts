/**
 * Renders vega-lite specs to SVG headlessly (vega + vega-lite from npm, no browser, no canvas), in Deno, Bun and
 * the Deno Jupyter kernel, and writes standalone SVG files.
 *
 * Text widths are estimated (there is no canvas to measure them) from Helvetica/Arial character widths
 * (`estimateTextWidth`), so labels may sit a pixel or two off compared with a browser rendering of the same spec.
 * (vega's own estimate, 0.8 em per character, is about 1.5× too wide: long titles left a blank band at the right.)
 *
 * @module
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import * as vega from "vega";
import { compile } from "vega-lite";
import type { VlSpec } from "./specs.ts";

// Helvetica/Arial advance widths in em (the SVG's sans-serif in most browsers); others 0.556 (digits, lowercase)
const NARROW = new Map<string, number>([
  ...[..." .,:;!"].map((c) => [c, 0.278] as [string, number]),
  ...[..."ijl'|"].map((c) => [c, 0.222] as [string, number]),
  ...[..."ftI/\\[]()-r"].map((c) => [c, 0.31] as [string, number]),
  ...[..."mw%"].map((c) => [c, 0.833] as [string, number]),
  ...[..."MW@"].map((c) => [c, 0.9] as [string, number]),
]);

/**
 * An estimate of a text's width in pixels at a font size, from Helvetica/Arial character widths (bold: 6% wider).
 *
 * @example
 * ```ts
 * import { estimateTextWidth } from "./render.ts";
 * estimateTextWidth("lag T − t", 12); // ≈ 47
 * ```
 */
export function estimateTextWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const c of text) {
    const n = NARROW.get(c);
    if (n !== undefined) em += n;
    else if (c >= "A" && c <= "Z") em += 0.667;
    else if (c.charCodeAt(0) < 128) em += 0.556;
    else em += 0.6; // Greek, math symbols, subscripts, dashes
  }
  return em * fontSize * (bold ? 1.06 : 1);
}

// vega measures text with a canvas when there is one, else with 0.8 em per character: use the estimate above.
(vega as unknown as { textMetrics: { width: (item: Record<string, unknown>, text: unknown) => number } })
  .textMetrics.width = (item, text) => {
    const t = text === null || text === undefined ? "" : String(text).trim();
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const w = item.fontWeight;
    return estimateTextWidth(t, size, w === "bold" || (typeof w === "number" && w >= 600));
  };

/** Options of `renderSvg`. */
export interface RenderOptions {
  /** Warnings from vega-lite and vega are pushed here (default: printed with console.warn). */
  warnings?: string[];
  /** Throw on the first warning instead (used by tests). */
  strict?: boolean;
}

function makeLogger(opts: RenderOptions) {
  let level = vega.Warn;
  const warn = (...args: unknown[]) => {
    const msg = args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
    if (opts.strict) throw new Error(`vega: ${msg}`);
    if (opts.warnings) opts.warnings.push(msg);
    else console.warn(`vega: ${msg}`);
  };
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]) {
      const msg = args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
      throw new Error(`vega: ${msg}`);
    },
    warn(...args: unknown[]) {
      if (level >= vega.Warn) warn(...args);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger;
}

/**
 * A vega-lite spec rendered to an SVG document (a string starting with `<svg`).
 *
 * @example
 * ```ts
 * import { renderSvg } from "./render.ts";
 * const svg = await renderSvg({
 *   data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }] },
 *   mark: "line",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
 * });
 * svg.startsWith("<svg"); // true
 * ```
 */
export async function renderSvg(spec: VlSpec, opts: RenderOptions = {}): Promise<string> {
  const logger = makeLogger(opts);
  // deno-lint-ignore no-explicit-any
  const vgSpec = compile(spec as any, { logger: logger as any }).spec;
  // deno-lint-ignore no-explicit-any
  const view = new vega.View(vega.parse(vgSpec), { renderer: "none", logger: logger as any });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Renders a spec and writes it as a standalone SVG file (folders created as needed); returns the path.
 *
 * @example
 * ```ts
 * import { writeSvg } from "./render.ts";
 * import { gradientFlowSpec } from "./specs.ts";
 * import { loadResults } from "./data.ts";
 * const gf = loadResults("gradient-flow");
 * if (gf) await writeSvg(gradientFlowSpec(gf.flow), "results/figures/gradient_flow.svg");
 * ```
 */
export async function writeSvg(spec: VlSpec, path: string, opts: RenderOptions = {}): Promise<string> {
  const svg = await renderSvg(spec, opts);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg.endsWith("\n") ? svg : svg + "\n");
  return path;
}
