/// <reference lib="dom" />
/**
 * The explorer's page script (bundled for the browser by `server.ts`): controls, URL state, and live views of the
 * library's own computation (lib/explore/flow.ts on the WebAssembly kernels, in this page).
 *
 * The DOM records what happened, for the browser test: `<body data-flow-runs="n">` counts finished gradient-flow
 * computations, `#numbers td[data-value]` holds the plotted values at full precision, `#log` collects errors.
 *
 * @module
 */

import {
  Adam,
  clipGradNorm,
  cpuModel,
  lossAndGradient,
  type Model,
  requestWebGpuDevice,
  Rng,
  type WebGpuContext,
} from "../mod.ts";
import { createTask } from "../tasks/registry.ts";
import { log10 } from "../math.ts";
import { LOG_AXIS } from "../plot/specs.ts";
import {
  CELLS,
  type ExploreSettings,
  flowHeatmap,
  type FlowProfile,
  gradientFlowProfile,
  gradientFlowProfileWebGpu,
  INIT_SCHEMES,
  initConfig,
  libraryCall,
  measureModel,
  RANGES,
  settingsFromQuery,
  settingsToQuery,
} from "./flow.ts";

// deno-lint-ignore no-explicit-any
type Any = any;
declare const vegaEmbed: (el: HTMLElement, spec: unknown, opts: unknown) => Promise<{ view: { finalize(): void } }>;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const log = (msg: string) => {
  $("log").textContent += msg + "\n";
  console.error(msg);
};

const LABELS: Record<string, string> = {
  cell: "cell",
  hiddenSize: "hidden size H",
  T: "sequence length T",
  rho: "spectral radius ρ",
  forgetBias: "forget bias b_f",
  init: "init of W_hh",
  loss: "loss placement",
  batch: "batch B",
  seed: "first seed",
  seeds: "seeds",
  backend: "run on",
};
const HAS_WEBGPU = typeof navigator !== "undefined" && "gpu" in navigator;
const CELL_NAMES: Record<string, string> = { rnn: "tanh RNN", lstm: "LSTM" };

let settings: ExploreSettings;

/** Builds the control panel from the settings' ranges. */
function buildControls(): void {
  const form = $("controls");
  const field = (key: string, input: string, hint = "") =>
    `<div class="field" id="field-${key}"><label for="${key}">${LABELS[key]}</label>${input}${hint}</div>`;
  const num = (key: string, slider: boolean) => {
    const [lo, hi, step] = RANGES[key];
    const n = `<input type="number" id="${key}" name="${key}" min="${lo}" max="${hi}" step="${step}">`;
    const r = slider
      ? `<input type="range" id="${key}-range" aria-label="${LABELS[key]} (slider)" min="${lo}" max="${
        key === "T" ? 1000 : hi
      }" step="${step}">`
      : "";
    return field(key, n + r);
  };
  form.innerHTML = [
    field(
      "cell",
      `<select id="cell">${CELLS.map((c) => `<option value="${c}">${CELL_NAMES[c] ?? c}</option>`)}</select>`,
    ),
    num("hiddenSize", true),
    num("T", true),
    num("rho", true),
    num("forgetBias", true),
    field("init", `<select id="init">${INIT_SCHEMES.map((c) => `<option value="${c}">${c}</option>`)}</select>`),
    field(
      "loss",
      `<select id="loss"><option value="last">at the last step</option><option value="every">at every step</option></select>`,
    ),
    num("batch", false),
    num("seed", false),
    num("seeds", false),
    field(
      "backend",
      `<select id="backend"><option value="cpu">WebAssembly (CPU)</option><option value="webgpu"${
        HAS_WEBGPU ? "" : " disabled"
      }>WebGPU${HAS_WEBGPU ? "" : " (not in this browser)"}</option></select>`,
    ),
  ].join("");
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input, select")) {
    el.addEventListener("input", () => onControl(el));
    el.addEventListener("change", () => onControl(el));
  }
}

/** Shows the settings in the controls, except in the one being edited (its caret and text stay as typed). */
function writeControls(editing: Element | null = null): void {
  for (const [key, value] of Object.entries(settings)) {
    const el = $(key) as HTMLInputElement | null;
    if (el && el !== editing) el.value = String(value);
    const r = document.getElementById(`${key}-range`) as HTMLInputElement | null;
    if (r && r !== editing) r.value = String(value);
  }
  // ρ applies to the spectral schemes, the forget bias to the LSTM
  $("field-rho").classList.toggle("inactive", !settings.init.startsWith("spectral"));
  $("field-forgetBias").classList.toggle("inactive", settings.cell !== "lstm");
}

function onControl(el: HTMLInputElement | HTMLSelectElement): void {
  const key = el.id.replace(/-range$/, "");
  const q = new URLSearchParams(settingsToQuery(settings));
  q.set(key, el.value);
  const { settings: next, errors } = settingsFromQuery(q);
  if (errors.length) {
    el.setAttribute("aria-invalid", "true");
    $("status").textContent = errors.join("; ");
    return;
  }
  el.removeAttribute("aria-invalid");
  settings = next;
  writeControls(el);
  writeUrl();
  schedule();
}

/** The training tab's settings in the URL (task, trainT, lr), beside the model's. */
const TRAIN_PARAMS: [string, string][] = [["train-task", "task"], ["train-T", "trainT"], ["train-lr", "lr"]];

function writeUrl(): void {
  const q = new URLSearchParams(settingsToQuery(settings));
  for (const [id, key] of TRAIN_PARAMS) {
    const el = $(id) as HTMLInputElement;
    if (el.value !== el.defaultValue && !(el instanceof HTMLSelectElement && el.selectedIndex === 0)) {
      q.set(key, el.value);
    }
  }
  history.replaceState(null, "", `?${q}${location.hash}`);
}

function readTrainUrl(): void {
  const q = new URLSearchParams(location.search);
  for (const [id, key] of TRAIN_PARAMS) {
    const v = q.get(key);
    if (v === null) continue;
    const el = $(id) as HTMLInputElement | HTMLSelectElement;
    const valid = el instanceof HTMLSelectElement
      ? [...el.options].some((o) => o.value === v)
      : Number.isFinite(Number(v)) && Number(v) >= Number(el.min) && Number(v) <= Number(el.max);
    if (valid) el.value = v;
    else $("status").textContent = `URL: ${key}: got ${v}, not allowed (default used)`;
  }
}

// ------------------------------------------------------------------------------------------------ flow view

let timer: ReturnType<typeof setTimeout> | undefined;
let running = false, pending = false;

/** Debounced recomputation: at most one in flight; the last change wins. */
function schedule(delay = 120): void {
  clearTimeout(timer);
  document.body.dataset.busy = "1";
  timer = setTimeout(async () => {
    if (running) {
      pending = true;
      return;
    }
    running = true;
    document.body.dataset.busy = "1";
    try {
      await computeFlow();
    } catch (e) {
      log(`gradient flow: ${(e as Error).stack ?? e}`);
    } finally {
      running = false;
      if (pending) {
        pending = false;
        schedule(0);
      } else delete document.body.dataset.busy;
    }
  }, delay);
}

const NORMAL_MIN = 1.1754943508222875e-38, NORMAL_MAX = 3.4028234663852886e38;
const ok = (v: number) => v >= NORMAL_MIN && v <= NORMAL_MAX;
const fmt = (v: number) => (Number.isFinite(v) ? v.toPrecision(6) : String(v));

async function embed(id: string, spec: Any): Promise<void> {
  await vegaEmbed($(id), spec, { renderer: "svg", actions: false });
}

function flowSpec(p: FlowProfile): Any {
  const rows: Any[] = [];
  let dropped = 0;
  const add = (name: string, q: FlowProfile["dh"]) => {
    for (let k = 0; k < p.T; k++) {
      if (!ok(q.median[k])) {
        dropped++;
        continue;
      }
      rows.push({
        lag: k,
        quantity: name,
        kind: "measured",
        value: q.median[k],
        lo: ok(q.q25[k]) ? q.q25[k] : null,
        hi: ok(q.q75[k]) ? q.q75[k] : null,
      });
    }
  };
  add("‖∂L/∂h_t‖", p.dh);
  if (p.dc) add("‖∂L/∂c_t‖", p.dc);
  if (p.bound) {
    const lo = Math.min(...rows.map((r) => r.lo ?? r.value)) / 10,
      hi = Math.max(...rows.map((r) => r.hi ?? r.value)) * 10;
    for (let k = 0; k < p.T; k++) {
      const v = p.bound[k];
      if (v < lo || v > hi || !ok(v)) break;
      rows.push({ lag: k, quantity: "Pascanu's bound", kind: "bound", value: v });
    }
  }
  const color = {
    field: "quantity",
    type: "nominal",
    title: null,
    scale: {
      domain: ["‖∂L/∂h_t‖", ...(p.dc ? ["‖∂L/∂c_t‖"] : []), ...(p.bound ? ["Pascanu's bound"] : [])],
      range: ["#2060a0", ...(p.dc ? ["#1a9641"] : []), ...(p.bound ? ["#888"] : [])],
    },
    legend: { orient: "top", symbolType: "stroke", symbolOpacity: 1, symbolStrokeWidth: 3 },
  };
  const y = {
    field: "value",
    type: "quantitative",
    scale: { type: "log" },
    axis: LOG_AXIS,
    title: "gradient norm (log)",
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: "container",
    height: 270,
    title: {
      text: `Gradient norm against the lag (${CELL_NAMES[p.settings.cell]}, T = ${p.T}, ${p.settings.seeds} seeds)`,
      subtitle: `line: median over seeds of each seed's batch median; band: quartiles over seeds${
        p.bound ? "; dashed: Pascanu's bound ‖∂L/∂h_T‖(λ₁γ)^k" : ""
      }${dropped ? `; ${dropped} points under/overflowed float32 (not drawn)` : ""}`,
    },
    data: { values: rows },
    encoding: {
      x: { field: "lag", type: "quantitative", title: "lag k = T − 1 − t (steps before the last step)" },
      color,
    },
    layer: [
      {
        transform: [{ filter: "datum.kind === 'measured' && isValid(datum.lo) && isValid(datum.hi)" }],
        mark: { type: "area", opacity: 0.18 },
        encoding: { y: { ...y, field: "lo" }, y2: { field: "hi" } },
      },
      {
        transform: [{ filter: "datum.kind === 'measured'" }],
        mark: { type: "line", strokeWidth: 2 },
        encoding: {
          y,
          tooltip: [{ field: "quantity" }, { field: "lag" }, { field: "value", format: ".4e" }],
        },
      },
      ...(rows.some((r) => r.kind === "bound")
        ? [{
          transform: [{ filter: "datum.kind === 'bound'" }],
          mark: { type: "line", strokeDash: [5, 4], strokeWidth: 1.4 },
          encoding: { y },
        }]
        : []),
    ],
    config: { axis: { labelFontSize: 12, titleFontSize: 12 }, legend: { labelFontSize: 12 } },
  };
}

function heatSpec(cells: ReturnType<typeof flowHeatmap>, mid: number, quantity: string): Any {
  const Tmax = Math.max(...cells.map((c) => c.T));
  // white at the lag-0 value, as many decades of blue below it as of orange above it
  const lo = Math.min(...cells.map((c) => c.log10norm)), hi = Math.max(...cells.map((c) => c.log10norm));
  const half = Math.max(mid - lo, hi - mid, 0.5);
  const values = cells;
  const gaps = [...new Set(cells.map((c) => c.T))].filter((T) => T < Tmax).map((T) => ({
    T,
    t: T,
    t1: Tmax,
    nodata: "no data (t > T)",
  }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: "container",
    height: 200,
    title: { text: `log10 ${quantity} over (T, t), first seed`, subtitle: "the loss is at the last step t = T − 1" },
    data: { values: [...gaps, ...values] },
    encoding: {
      x: { field: "t", type: "quantitative", title: "time step t", scale: { nice: false, domain: [0, Tmax] } },
      x2: { field: "t1" },
      y: { field: "T", type: "ordinal", sort: "descending", title: "sequence length T" },
    },
    layer: [
      {
        transform: [{ filter: "isValid(datum.nodata)" }],
        mark: { type: "rect" },
        encoding: { fill: { field: "nodata", type: "nominal", title: null, scale: { range: ["#d4d4d4"] } } },
      },
      {
        transform: [{ filter: "!isValid(datum.nodata)" }],
        mark: { type: "rect" },
        encoding: {
          color: {
            field: "log10norm",
            type: "quantitative",
            title: "log10 norm",
            scale: { scheme: "blueorange", domain: [mid - half, mid + half] },
            legend: { type: "gradient" },
          },
          tooltip: [{ field: "T" }, { field: "t" }, { field: "log10norm", format: ".2f" }],
        },
      },
    ],
  };
}

function gateSpec(p: FlowProfile): Any {
  const g = p.gates!;
  const rows: Any[] = [];
  const stride = Math.max(1, Math.ceil(p.T / 400));
  for (let t = 0; t < g.input.length; t += stride) {
    rows.push({ t, gate: "input i", value: g.input[t] });
    rows.push({ t, gate: "forget f", value: g.forget[t] });
    rows.push({ t, gate: "output o", value: g.output[t] });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: "container",
    height: 160,
    title: { text: "LSTM gate means per step (first seed, over batch and units)" },
    data: { values: rows },
    mark: { type: "line" },
    encoding: {
      x: { field: "t", type: "quantitative", title: "time step t" },
      y: { field: "value", type: "quantitative", scale: { domain: [0, 1] }, title: "mean activation" },
      color: { field: "gate", type: "nominal", title: null, legend: { orient: "top" } },
    },
  };
}

function verdict(factor: number): string {
  if (!Number.isFinite(factor)) return "—";
  const decades = Math.abs(log10(factor)) * 1000;
  return decades < 6 ? "holds" : factor < 1 ? "vanishes" : "explodes";
}

let gpuDevice: Promise<WebGpuContext> | null = null;

async function computeFlow(): Promise<void> {
  const s = { ...settings };
  $("status").textContent = "computing…";
  const t0 = performance.now();
  let p: FlowProfile, where = "WebAssembly";
  if (s.backend === "webgpu") {
    try {
      p = await gradientFlowProfileWebGpu(s, await (gpuDevice ??= requestWebGpuDevice()));
      where = "WebGPU";
    } catch (e) {
      gpuDevice = null;
      p = gradientFlowProfile(s);
      where = `WebAssembly (WebGPU failed: ${(e as Error).message})`;
    }
  } else p = gradientFlowProfile(s);
  const ms = performance.now() - t0;
  const lags = [...new Set([0, 1, 10, 100, p.T - 1].filter((k) => k < p.T))];
  const cell = (v: number) => `<td data-value="${v}">${fmt(v)}</td>`;
  $("numbers").innerHTML = `<caption>Median over seeds of the batch-median norm at some lags</caption>
<thead><tr><th scope="col">lag k</th>${lags.map((k) => `<th scope="col">${k}</th>`).join("")}</tr></thead>
<tbody><tr data-quantity="dh"><th scope="row">‖∂L/∂h_t‖</th>${lags.map((k) => cell(p.dh.median[k])).join("")}</tr>
${
    p.dc
      ? `<tr data-quantity="dc"><th scope="row">‖∂L/∂c_t‖</th>${lags.map((k) => cell(p.dc!.median[k])).join("")}</tr>`
      : ""
  }
</tbody>`;
  $("factor").textContent = Number.isFinite(p.factor) ? p.factor.toFixed(4) : "—";
  $("factor").dataset.value = String(p.factor);
  $("lambda1").textContent = p.lambda1.toFixed(4);
  $("verdict").textContent = verdict(p.factor);
  $("code").textContent = libraryCall(s);
  await embed("flow-chart", flowSpec(p));
  if (p.gates) await embed("gate-chart", gateSpec(p));
  else {
    $("gate-chart").innerHTML = `<p class="note">${
      s.cell !== "lstm"
        ? "Gate means: the LSTM has input, forget and output gates; the tanh RNN has none."
        : "Gate means: read back by the WebAssembly backend only."
    }</p>`;
  }
  document.body.dataset.flowRuns = String(Number(document.body.dataset.flowRuns ?? 0) + 1);
  $("status").textContent = `computed in ${ms.toFixed(0)} ms (${s.seeds} forward + backward passes of T = ${p.T}, ` +
    `B = ${s.batch}, H = ${s.hiddenSize}, in this page, on ${where}${
      s.backend === "webgpu" ? "; heatmap on WebAssembly" : ""
    })`;
  // the heatmap takes eight more passes: after the main view is on screen
  await new Promise((r) => setTimeout(r, 0));
  if (settingsToQuery(s) !== settingsToQuery(settings)) return; // settings moved on
  const cells = flowHeatmap(s);
  const mid = log10(p.dc ? p.dc.median[0] : p.dh.median[0]);
  await embed("heat-chart", heatSpec(cells, Number.isFinite(mid) ? mid : 0, p.dc ? "‖∂L/∂c_t‖" : "‖∂L/∂h_t‖"));
}

// ------------------------------------------------------------------------------------------------ training tab

interface Trainer {
  model: Model;
  task: ReturnType<typeof createTask>;
  optimizer: Adam;
  rng: Rng;
  probe: { x: ArrayLike<number>; T: number; B: number; target: ArrayLike<number> };
  sequences: number;
  steps: number;
  losses: { sequences: number; loss: number }[];
  flows: { sequences: number; dh: Float64Array }[];
}

let trainer: Trainer | null = null;
let training = false;

function newTrainer(): Trainer {
  const taskName = ($("train-task") as HTMLSelectElement).value;
  const T = Number(($("train-T") as HTMLInputElement).value);
  const task = createTask(taskName, taskName === "adding" ? { T, variant: "arjovsky" } : { T });
  trainer?.model.dispose();
  const model = cpuModel({
    cell: settings.cell,
    inputSize: task.inputSize,
    hiddenSize: settings.hiddenSize,
    outputSize: task.outputSize,
    readout: task.readout === "last" ? "last" : "every",
    init: initConfig(settings),
    seed: settings.seed,
  });
  const lr = Number(($("train-lr") as HTMLInputElement).value);
  return {
    model,
    task,
    optimizer: new Adam({ lr }),
    rng: new Rng(settings.seed, 1),
    probe: task.batch(new Rng(settings.seed, 2), 16),
    sequences: 0,
    steps: 0,
    losses: [],
    flows: [],
  };
}

function trainChunk(tr: Trainer, budgetMs: number): void {
  const B = 16, t0 = performance.now();
  do {
    const b = tr.task.batch(tr.rng, B);
    const y = tr.model.forward(b.x, b.T, b.B);
    const dy = tr.model.outputGrad();
    const loss = lossAndGradient(
      tr.task.loss,
      tr.model.outputRows(),
      tr.model.outputWidth,
      y,
      b.target,
      b.mask ?? null,
      dy,
    );
    tr.model.zeroGrad();
    tr.model.backward(dy);
    clipGradNorm(tr.model.grads, 1);
    tr.optimizer.step(tr.model.params, tr.model.grads);
    tr.steps++;
    tr.sequences += B;
    if (tr.steps % 5 === 0) tr.losses.push({ sequences: tr.sequences, loss });
  } while (performance.now() - t0 < budgetMs);
  const f = measureModel(tr.model, tr.probe, "last");
  tr.flows.push({ sequences: tr.sequences, dh: f.dh });
}

async function drawTraining(tr: Trainer): Promise<void> {
  $("train-status").textContent = `${tr.steps} steps, ${tr.sequences} sequences; last loss ${
    tr.losses.at(-1)?.loss.toPrecision(4) ?? "—"
  }`;
  await embed("loss-chart", {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: "container",
    height: 220,
    title: `Training loss (${tr.task.name}, T = ${tr.probe.T}, Adam, clip 1)`,
    data: { values: tr.losses.filter((l) => l.loss > 0) },
    mark: { type: "line" },
    encoding: {
      x: { field: "sequences", type: "quantitative", title: "training sequences" },
      y: { field: "loss", type: "quantitative", scale: { type: "log" }, axis: LOG_AXIS, title: "loss (log)" },
    },
  });
  const shown = tr.flows.filter((_, i) =>
    i % Math.max(1, Math.ceil(tr.flows.length / 6)) === 0 || i === tr.flows.length - 1
  );
  const rows = shown.flatMap((f) =>
    Array.from(f.dh).flatMap((v, k) => (ok(v) ? [{ lag: k, value: v, sequences: f.sequences }] : []))
  );
  await embed("train-flow-chart", {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: "container",
    height: 220,
    title: { text: "‖∂L/∂h_t‖ against the lag during training", subtitle: "batch median; loss at the last step" },
    data: { values: rows },
    mark: { type: "line" },
    encoding: {
      x: { field: "lag", type: "quantitative", title: "lag k (steps before the last step)" },
      y: { field: "value", type: "quantitative", scale: { type: "log" }, axis: LOG_AXIS, title: "‖∂L/∂h_t‖ (log)" },
      color: { field: "sequences", type: "ordinal", scale: { scheme: "viridis" }, title: "sequences seen" },
    },
  });
}

async function trainLoop(): Promise<void> {
  while (training && trainer) {
    try {
      trainChunk(trainer, 150);
      await drawTraining(trainer);
    } catch (e) {
      log(`training: ${(e as Error).stack ?? e}`);
      training = false;
    }
    await new Promise((r) => setTimeout(r, 0));
  }
  $("train-toggle").textContent = training ? "Pause" : "Start";
}

function setupTraining(): void {
  $("train-toggle").addEventListener("click", () => {
    training = !training;
    $("train-toggle").textContent = training ? "Pause" : "Start";
    $("train-toggle").setAttribute("aria-pressed", String(training));
    if (training) {
      trainer ??= newTrainer();
      trainLoop();
    }
  });
  $("train-reset").addEventListener("click", () => {
    training = false;
    trainer = newTrainer();
    drawTraining(trainer);
  });
  for (const id of ["train-task", "train-T", "train-lr"]) {
    $(id).addEventListener("change", () => {
      training = false;
      trainer = null;
      writeUrl();
      $("train-status").textContent = "settings changed: press Start";
    });
  }
}

// ------------------------------------------------------------------------------------------------ tabs and start

function setupTabs(): void {
  const tabs = [...document.querySelectorAll<HTMLButtonElement>("[role=tab]")];
  const select = (tab: HTMLButtonElement) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")!).hidden = !on;
    }
    history.replaceState(null, "", `${location.search}${tab.id === "tab-train" ? "#train" : ""}`);
  };
  for (const t of tabs) {
    t.addEventListener("click", () => select(t));
    t.addEventListener("keydown", (e: KeyboardEvent) => {
      if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
      const i = (tabs.indexOf(t) + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length;
      tabs[i].focus();
      select(tabs[i]);
    });
  }
  if (location.hash === "#train") select($("tab-train") as HTMLButtonElement);
}

function main(): void {
  const { settings: s, errors } = settingsFromQuery(location.search);
  settings = s;
  if (errors.length) $("status").textContent = `URL: ${errors.join("; ")} (defaults used)`;
  buildControls();
  writeControls();
  readTrainUrl();
  setupTabs();
  setupTraining();
  (globalThis as Any).__explore = { settings: () => ({ ...settings }) };
  schedule(0);
}

globalThis.addEventListener("error", (e) => log(`uncaught: ${e.message}`));
globalThis.addEventListener("unhandledrejection", (e) => log(`unhandled rejection: ${e.reason}`));
main();
