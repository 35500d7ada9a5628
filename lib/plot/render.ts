/**
 * Renders vega-lite specs to SVG headlessly (vega + vega-lite from npm, no browser, no canvas), in Deno, Bun and
 * the Deno Jupyter kernel, and writes standalone SVG files.
 *
 * Text widths are estimated (there is no canvas to measure them), so labels may sit a pixel or two off compared
 * with a browser rendering of the same spec.
 *
 * @module
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import * as vega from "vega";
import { compile } from "vega-lite";
import type { VlSpec } from "./specs.ts";

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
