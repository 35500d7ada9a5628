/**
 * Showing specs and tables in a Jupyter notebook on the Deno kernel (`deno jupyter`).
 *
 * A chart is displayed as ONE MIME bundle: `application/vnd.vegalite.v5+json` (the spec, for JupyterLab and VS
 * Code, which render it interactively), `image/svg+xml` (a static rendering, for GitHub and nbviewer, which do not
 * run vega), `text/markdown` (the same SVG as an image, `![title](data:image/svg+xml;base64,…)`: `jupyter nbconvert
 * --to html` prefers Markdown to SVG and strips the elements of inline SVG (its `clean_html`), so without it an export
 * shows blank charts; JupyterLab ranks vega-lite above Markdown and stays interactive) and `text/plain` (the title).
 * Outside a notebook (Deno.jupyter is absent) the bundle is returned and
 * nothing is displayed, so the same code runs in tests, Bun and scripts.
 *
 * Every output carries a running number in its metadata (`{"lstm-lab": {"display": n}}`, counted from 1 per kernel),
 * and each display waits a few milliseconds before returning. Why: Deno's kernel (2.9) can report a cell idle while
 * display messages are still queued, and `jupyter nbconvert --execute` then drops them silently (measured here:
 * 30 displays in one cell kept 7-14). A short wait after each display lets the queue drain (0 of 360 large
 * displays lost in tests), and the numbers let `deno task notebooks` detect a lost output as a gap.
 *
 * @module
 */

import { renderSvg } from "./render.ts";
import type { VlSpec } from "./specs.ts";

/** A Jupyter MIME bundle. */
export type MimeBundle = Record<string, unknown>;

/** The vega-lite MIME type the bundles carry. */
export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";

interface JupyterApi {
  broadcast(msgType: string, content: Record<string, unknown>): Promise<void>;
}

/** The metadata key under which each output carries its running number (checked by `deno task notebooks`). */
export const DISPLAY_SEQ_KEY = "lstm-lab";

let displayCount = 0;

/** Sends one bundle as a `display_data` message, numbered, then lets the kernel's message queue drain. */
async function display(j: JupyterApi, bundle: MimeBundle): Promise<void> {
  displayCount++;
  await j.broadcast("display_data", {
    data: bundle,
    metadata: { [DISPLAY_SEQ_KEY]: { display: displayCount } },
    transient: {},
  });
  const bytes = Object.values(bundle).reduce<number>((n, v) => n + JSON.stringify(v).length, 0);
  await new Promise((resolve) => setTimeout(resolve, 5 + bytes / 1e5)); // 5 ms + 1 ms per 100 kB
}

function jupyter(): JupyterApi | null {
  const d = (globalThis as { Deno?: { jupyter?: JupyterApi } }).Deno;
  try {
    return d?.jupyter ?? null;
  } catch {
    return null; // Deno's getter throws outside `deno jupyter`
  }
}

function titleOf(spec: VlSpec): string {
  const t = spec.title as string | { text?: string | string[] } | undefined;
  if (t === undefined) return "vega-lite chart";
  if (typeof t === "string") return t;
  return Array.isArray(t.text) ? t.text.join(" ") : t.text ?? "vega-lite chart";
}

/**
 * The MIME bundle of a chart: the spec, its SVG rendering and its title as text.
 *
 * @example
 * ```ts
 * import { chartBundle } from "./display.ts";
 * const bundle = await chartBundle({
 *   title: "a line",
 *   data: { values: [{ x: 0, y: 1 }, { x: 1, y: 2 }] },
 *   mark: "line",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
 * });
 * Object.keys(bundle); // ["application/vnd.vegalite.v5+json", "image/svg+xml", "text/markdown", "text/plain"]
 * ```
 */
export async function chartBundle(spec: VlSpec): Promise<MimeBundle> {
  const svg = await renderSvg(spec), title = titleOf(spec);
  return {
    [VEGALITE_MIME]: spec,
    "image/svg+xml": svg,
    "text/markdown": `![${title.replace(/[[\]\\]/g, "")}](data:image/svg+xml;base64,${base64(svg)})`,
    "text/plain": title,
  };
}

/** Base64 of a string's UTF-8 bytes. */
function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/**
 * Displays a chart in the notebook (one MIME bundle; see the module doc). Outside a notebook it does nothing but
 * render (use `chartBundle` to get the bundle). It returns nothing, so a cell ending with it prints no value.
 *
 * @example
 * ```ts
 * import { show } from "./display.ts";
 * import { gradientFlowSpec } from "./specs.ts";
 * import { loadResults } from "./data.ts";
 * const gf = loadResults("gradient-flow", { fallbackToQuick: true });
 * if (gf) await show(gradientFlowSpec(gf.flow, { quantity: "both" }));
 * ```
 */
export async function show(spec: VlSpec): Promise<void> {
  const bundle = await chartBundle(spec);
  const j = jupyter();
  if (j !== null) await display(j, bundle);
}

/**
 * Displays Markdown (rendered by GitHub, JupyterLab and VS Code), with the text as plain fallback. Use it for
 * sentences whose numbers come from the data. Outside a notebook, it prints the Markdown.
 *
 * @example
 * ```ts
 * import { showMarkdown } from "./display.ts";
 * await showMarkdown(`The RNN's norm falls by **${(0.48).toFixed(2)}×** per step.`);
 * ```
 */
export async function showMarkdown(markdown: string): Promise<void> {
  const j = jupyter();
  if (j === null) console.log(markdown);
  else await display(j, { "text/markdown": markdown, "text/plain": markdown });
}

/**
 * Displays an HTML fragment (a table, say) with a plain-text fallback. Outside a notebook, it prints the text.
 *
 * @example
 * ```ts
 * import { showHtml } from "./display.ts";
 * await showHtml("<table><tr><td>1</td></tr></table>", "1");
 * ```
 */
export async function showHtml(html: string, text = ""): Promise<void> {
  const plain = text || html.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
  const j = jupyter();
  if (j === null) console.log(plain);
  else await display(j, { "text/html": html, "text/plain": plain });
}
