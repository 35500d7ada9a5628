/**
 * The workspaces of `WebGpuModel`: per (T, B) shape, the GPU buffers a step needs (x, outputs, targets, mask, dx; per
 * layer gates, h, c, the gradients flowing back, probe buffers when first asked) and the programs recorded for that
 * shape (programs.ts). A few shapes are kept; the least recently used is freed.
 *
 * @module
 */

import type { Model } from "../../nn/model.ts";
import { ceilDiv, type Gpu, type Program } from "./gpu.ts";
import { gatesOf, STEP_WG } from "./kernels/recurrence.ts";

/** Per-layer buffers of one (T, B) shape. */
export interface LayerBuffers {
  /** (T, B, G·H): pre-activations, activations after forward, their gradients after backward. */
  gates: GPUBuffer;
  /** (T+1, B, H), slot 0 the initial state. */
  h: GPUBuffer;
  /** (T+1, B, H) (LSTM; the shared dummy for the RNN). */
  c: GPUBuffer;
  /** (T, B, H): gradient from above (readout at every step, or the layer above). */
  dhSeq: GPUBuffer;
  /** (B, H): gradient on the final hidden state. */
  dhInit: GPUBuffer;
  /** (B, H): running ∂L/∂c; after backward ∂L/∂c0. */
  dc: GPUBuffer;
  /** (B, H): after backward ∂L/∂h0. */
  dh0: GPUBuffer;
  /** Probes: (T, B) norms, per-workgroup partials (T, B, chunks, 4), persistent scratch (B, H, 2); lazily. */
  dhNorm: GPUBuffer | null;
  dcNorm: GPUBuffer | null;
  part: GPUBuffer | null;
  sq: GPUBuffer | null;
}

/** The buffers and recorded programs (programs.ts records them, once per shape) of one (T, B) shape. */
export interface Workspace {
  T: number;
  B: number;
  /** Output rows: B (readout last) or T·B. */
  R: number;
  /** Whether the time loops run as one persistent dispatch (chosen per shape by the model). */
  persistent: boolean;
  x: GPUBuffer;
  y: GPUBuffer;
  dy: GPUBuffer;
  target: GPUBuffer;
  mask: GPUBuffer;
  dx: GPUBuffer;
  layers: LayerBuffers[];
  programs: Map<string, Program>;
}

/** The probe buffers of one layer (see `LayerBuffers`). */
export type ProbeBuffers = { [K in "dhNorm" | "dcNorm" | "part" | "sq"]: GPUBuffer };

/**
 * Rows of the output: B for a readout at the last step, T·B otherwise.
 *
 * @example
 * ```ts
 * import { outputRows } from "./workspace.ts";
 * import { Model } from "../../nn/model.ts";
 * const m = new Model({ cell: "lstm", inputSize: 1, hiddenSize: 4, outputSize: 1, readout: "every", backend: "js" });
 * outputRows(m.config, 10, 3); // 30
 * ```
 */
export function outputRows(config: Model["config"], T: number, B: number): number {
  return config.readout === "last" ? B : T * B;
}

/**
 * Width of an output row: O, or H with no readout.
 *
 * @example
 * ```ts
 * import { outputWidth } from "./workspace.ts";
 * import { Model } from "../../nn/model.ts";
 * outputWidth(new Model({ cell: "rnn", inputSize: 1, hiddenSize: 4, readout: "none", backend: "js" }).config); // 4
 * ```
 */
export function outputWidth(config: Model["config"]): number {
  return config.readout === "none" ? config.hiddenSize : config.outputSize;
}

/**
 * The cache of workspaces, by shape (at most `maxShapes`; the least recently used is freed, after `onEvict`).
 *
 * @example
 * ```ts ignore
 * const workspaces = new Workspaces(gpu, model.config, 4, (B) => B * H <= 2048, () => {});
 * const ws = workspaces.get(T, B); // buffers of this shape; ws.programs holds its recorded programs
 * ```
 */
export class Workspaces {
  readonly #gpu: Gpu;
  readonly #config: Model["config"];
  readonly #maxShapes: number;
  readonly #persistent: (B: number) => boolean;
  readonly #onEvict: (ws: Workspace) => void;
  readonly #cache = new Map<string, Workspace>();

  constructor(
    gpu: Gpu,
    config: Model["config"],
    maxShapes: number,
    persistent: (B: number) => boolean,
    onEvict: (ws: Workspace) => void,
  ) {
    this.#gpu = gpu;
    this.#config = config;
    this.#maxShapes = maxShapes;
    this.#persistent = persistent;
    this.#onEvict = onEvict;
  }

  /** The workspace of a (T, B) shape: the cached one (now the most recently used), or a new one. */
  get(T: number, B: number): Workspace {
    const key = `${T}x${B}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      this.#cache.delete(key); // most recently used last
      this.#cache.set(key, hit);
      return hit;
    }
    while (this.#cache.size >= this.#maxShapes) {
      const [oldKey, old] = this.#cache.entries().next().value!;
      this.#cache.delete(oldKey);
      this.#onEvict(old);
      this.#destroy(old);
    }
    const cfg = this.#config, gpu = this.#gpu, H = cfg.hiddenSize, GH = gatesOf(cfg.cell) * H, L = cfg.numLayers;
    const R = outputRows(cfg, T, B), O = outputWidth(cfg), lstm = cfg.cell === "lstm";
    const TB = T * B;
    const layers: LayerBuffers[] = Array.from({ length: L }, (_, l) => ({
      gates: gpu.buffer(TB * GH, `gates${l}`),
      h: gpu.buffer((T + 1) * B * H, `h${l}`),
      c: lstm ? gpu.buffer((T + 1) * B * H, `c${l}`) : gpu.dummy,
      dhSeq: l < L - 1 || cfg.readout !== "last" ? gpu.buffer(TB * H, `dhSeq${l}`) : gpu.dummy,
      dhInit: gpu.buffer(B * H, `dhInit${l}`),
      dc: gpu.buffer(B * H, `dc${l}`),
      dh0: gpu.buffer(B * H, `dh0${l}`),
      dhNorm: null,
      dcNorm: null,
      part: null,
      sq: null,
    }));
    const ws: Workspace = {
      T,
      B,
      R,
      persistent: this.#persistent(B),
      x: gpu.buffer(TB * cfg.inputSize, "x"),
      y: cfg.readout === "none" ? gpu.dummy : gpu.buffer(R * O, "y"),
      dy: gpu.buffer(R * O, "dy"),
      target: gpu.buffer(R * O, "target"),
      mask: gpu.buffer(R, "mask"),
      dx: gpu.buffer(TB * cfg.inputSize, "dx"),
      layers,
      programs: new Map(),
    };
    this.#cache.set(key, ws);
    return ws;
  }

  #destroy(ws: Workspace): void {
    const dummies = [this.#gpu.dummy, this.#gpu.dummyRW];
    const free = (b: GPUBuffer | null) => b !== null && !dummies.includes(b) && b.destroy();
    for (const p of ws.programs.values()) p.destroy();
    for (const b of [ws.x, ws.y, ws.dy, ws.target, ws.mask, ws.dx]) free(b);
    for (const l of ws.layers) {
      for (const b of [l.gates, l.h, l.c, l.dhSeq, l.dhInit, l.dc, l.dh0, l.dhNorm, l.dcNorm, l.part, l.sq]) free(b);
    }
  }

  /** The probe buffers of layer l, created when first asked for. */
  probeBuffers(ws: Workspace, l: number): ProbeBuffers {
    const lb = ws.layers[l], TB = ws.T * ws.B, H = this.#config.hiddenSize;
    lb.dhNorm ??= this.#gpu.buffer(TB, `dhNorm${l}`);
    lb.dcNorm ??= this.#gpu.buffer(TB, `dcNorm${l}`);
    lb.part ??= this.#gpu.buffer(TB * ceilDiv(H, STEP_WG) * 4, `probe partials${l}`);
    lb.sq ??= this.#gpu.buffer(ws.B * H * 2, `probe scratch${l}`);
    return { dhNorm: lb.dhNorm, dcNorm: lb.dcNorm, part: lb.part, sq: lb.sq };
  }

  /** Frees every workspace. */
  dispose(): void {
    for (const ws of this.#cache.values()) this.#destroy(ws);
    this.#cache.clear();
  }
}
