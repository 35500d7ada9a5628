/**
 * The recorded programs of `WebGpuModel`: for a workspace (one (T, B) shape, workspace.ts), the list of dispatches of
 * the forward pass, the loss and BPTT, recorded once with their uniforms already on the GPU (programs with different
 * options — initial states given, truncation, probes, … — are recorded separately and kept in the workspace); a call
 * replays them into one command encoder. The optimizer's programs are in optimizers.ts.
 *
 *   forward    per layer: W_hhᵀ (transpose); gates (T·B, G·H) = b_ih + b_hh + input · W_ihᵀ   one matmul, all T·B rows
 *                         t = 0 .. T-1: one fused dispatch per step, or one persistent dispatch
 *              readout y = b + h · Wᵀ                                                             one matmul
 *   loss       dy and the loss                                                                    one dispatch
 *   backward   readout: dW, db, dh; per layer, t = T-1 .. 0: one fused dispatch per step (or one persistent);
 *              dh0, dW_hh, dW_ih one matmul each; db_ih = db_hh column sums; dx (or the layer below's dhSeq)
 *
 * @module
 */

import type { LossKind } from "../../nn/loss.ts";
import type { Model } from "../../nn/model.ts";
import { ceilDiv, type Gpu, type Kernel, Program, Uniforms } from "./gpu.ts";
import { lossKernel } from "./kernels/loss.ts";
import { type MatmulArgs, matmulGroups, matmulKernel, matmulUniforms } from "./kernels/matmul.ts";
import {
  backwardPersistentKernel,
  backwardStepKernel,
  forwardPersistentKernel,
  forwardStepKernel,
  gatesOf,
  PROBE_NORMS,
  STEP_CUT,
  STEP_DHSEQ,
  STEP_FIRST,
  STEP_WG,
} from "./kernels/recurrence.ts";
import { columnSumKernel, TRANSPOSE } from "./kernels/reduce.ts";
import type { Workspace, Workspaces } from "./workspace.ts";

/** What a backward program does (each combination is recorded once per workspace). */
export interface BackwardProgramOptions {
  /** Start from ∂L/∂outputs in dy (else only from the final-state gradients). */
  fromOutputs: boolean;
  /** Truncated BPTT length (0: full). */
  truncate: number;
  /** Compute the probes ‖∂L/∂h_t‖, ‖∂L/∂c_t‖. */
  probes: boolean;
  /** Compute ∂L/∂x into the workspace's dx. */
  inputGrad: boolean;
  /** Add to the gradients (backward) or overwrite them (a training step). */
  accumulate: boolean;
  /** dhInit / dc hold final-state gradients written by the host (else cleared). */
  dhN: boolean;
  dcN: boolean;
}

/** The GPU buffers the programs read and write beside the workspace's. */
export interface ProgramBuffers {
  /** The flat parameters and their gradients (`parameters` order). */
  params: GPUBuffer;
  grads: GPUBuffer;
  /** loss, gradient norm, clip factor, divergence flag (kernels/reduce.ts). */
  stats: GPUBuffer;
  /** The loss kernel's uniforms (written per call by the model). */
  lossUniforms: GPUBuffer;
}

/** How the time loops run: batch rows per thread of the per-step kernels, threads of the persistent workgroup. */
export interface RecurrenceTuning {
  /** Most batch rows per thread of a per-step kernel. */
  maxRows: number;
  /** Most threads of the persistent kernel's one workgroup. */
  persistentWg: number;
}

/**
 * Records (once per workspace and options) and returns the forward, loss and backward programs of a model.
 *
 * @example
 * ```ts ignore
 * const programs = new Programs(gpu, model.config, offsets, workspaces, buffers, { maxRows: 4, persistentWg: 256 });
 * const enc = gpu.device.createCommandEncoder();
 * programs.forward(ws, false, false).encode(enc);
 * ```
 */
export class Programs {
  readonly gpu: Gpu;
  readonly config: Model["config"];
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly #offsets: ReadonlyMap<string, number>;
  readonly #workspaces: Workspaces;
  readonly #stats: GPUBuffer;
  readonly #lossU: GPUBuffer;
  readonly #maxRows: number;
  readonly #persistentWg: number;
  readonly #mm: Kernel;
  readonly #colsum: Kernel;
  readonly #wT: GPUBuffer[]; // per layer, W_hhᵀ (H, G·H)
  readonly #G: number; // gates per unit

  constructor(
    gpu: Gpu,
    config: Model["config"],
    offsets: ReadonlyMap<string, number>,
    workspaces: Workspaces,
    buffers: ProgramBuffers,
    tuning: RecurrenceTuning,
  ) {
    this.gpu = gpu;
    this.config = config;
    this.params = buffers.params;
    this.grads = buffers.grads;
    this.#offsets = offsets;
    this.#workspaces = workspaces;
    this.#stats = buffers.stats;
    this.#lossU = buffers.lossUniforms;
    this.#maxRows = tuning.maxRows;
    this.#persistentWg = tuning.persistentWg;
    this.#mm = gpu.kernel(matmulKernel());
    this.#colsum = gpu.kernel(columnSumKernel());
    this.#G = gatesOf(config.cell);
    const H = config.hiddenSize, GH = this.#G * H;
    this.#wT = Array.from({ length: config.numLayers }, (_, l) => gpu.buffer(H * GH, `wT${l}`));
  }

  #off(name: string): number {
    const off = this.#offsets.get(name);
    if (off === undefined) throw new RangeError(`Programs: no parameter "${name}"`);
    return off;
  }

  #program(ws: Workspace, key: string, build: (p: Program) => void): Program {
    let p = ws.programs.get(key);
    if (p === undefined) {
      p = new Program(this.gpu, key);
      build(p);
      p.build();
      ws.programs.set(key, p);
    }
    return p;
  }

  #matmul(p: Program, a: GPUBuffer, b: GPUBuffer, c: GPUBuffer, args: MatmulArgs, bias?: GPUBuffer): void {
    if (args.M === 0 || args.N === 0) return;
    p.dispatch(this.#mm, matmulUniforms(args), [a, b, bias ?? b, c], matmulGroups(args.M, args.N));
  }

  #columnSums(p: Program, a: GPUBuffer, M: number, N: number, out1: number, out2: number, accumulate: boolean): void {
    const u = new Uniforms().u(M, N, N, 0, out1, out2, accumulate ? 1 : 0, 0);
    p.dispatch(this.#colsum, u, [a, this.grads], [ceilDiv(N, 64)]);
  }

  /** Forward: transposes, input projections, recurrences, readout. `h0`/`c0`: slot 0 written by the host. */
  forward(ws: Workspace, h0: boolean, c0: boolean): Program {
    return this.#program(ws, `forward h0=${h0} c0=${c0}`, (p) => {
      const cfg = this.config, gpu = this.gpu, { T, B } = ws, H = cfg.hiddenSize, G = this.#G, GH = G * H;
      const L = cfg.numLayers, lstm = cfg.cell === "lstm", TB = T * B;
      const transpose = gpu.kernel(TRANSPOSE);
      for (let l = 0; l < L; l++) {
        const lb = ws.layers[l], I = l === 0 ? cfg.inputSize : H;
        const input = l === 0 ? ws.x : ws.layers[l - 1].h, inputOff = l === 0 ? 0 : B * H;
        p.dispatch(
          transpose,
          new Uniforms().u(GH, H, this.#off(`rnn.weight_hh_l${l}`), 0),
          [this.params, this.#wT[l]],
          [
            ceilDiv(H, 16),
            ceilDiv(GH, 16),
          ],
        );
        if (!h0) p.clear(lb.h, 0, B * H * 4);
        if (lstm && !c0) p.clear(lb.c, 0, B * H * 4);
        // gates (T·B, G·H) = b_ih + b_hh + input (T·B, I) · W_ihᵀ
        this.#matmul(p, input, this.params, lb.gates, {
          M: TB,
          N: GH,
          K: I,
          a: { off: inputOff, rs: I, cs: 1 },
          b: { off: this.#off(`rnn.weight_ih_l${l}`), rs: 1, cs: I },
          c: { ld: GH },
          accumulate: false,
          bias: [this.#off(`rnn.bias_ih_l${l}`), this.#off(`rnn.bias_hh_l${l}`)],
        }, this.params);
        this.#recurrenceForward(p, ws, l);
      }
      if (cfg.readout !== "none") {
        const top = ws.layers[L - 1], O = cfg.outputSize, last = cfg.readout === "last";
        this.#matmul(p, top.h, this.params, ws.y, {
          M: ws.R,
          N: O,
          K: H,
          a: { off: last ? T * B * H : B * H, rs: H, cs: 1 },
          b: { off: this.#off("readout.weight"), rs: 1, cs: H },
          c: { ld: O },
          accumulate: false,
          bias: [this.#off("readout.bias")],
        }, this.params);
      }
    });
  }

  #recurrenceForward(p: Program, ws: Workspace, l: number): void {
    const cell = this.config.cell, gpu = this.gpu, { T, B } = ws, H = this.config.hiddenSize;
    const lb = ws.layers[l];
    if (ws.persistent) {
      const k = gpu.kernel(forwardPersistentKernel(cell, this.#persistentWgFor(B)));
      p.dispatch(k, new Uniforms().u(B, H, T, 0), [this.#wT[l], lb.gates, lb.h, lb.c], [1]);
      return;
    }
    const steps = Array.from({ length: T }, (_, t) => new Uniforms().u(B, H, t, 0));
    const R = this.#rows(B);
    const k = gpu.kernel(forwardStepKernel(cell, R));
    p.steps(k, steps, [this.#wT[l], lb.gates, lb.h, lb.c], [ceilDiv(H, STEP_WG), ceilDiv(B, R)]);
  }

  /** Batch rows per thread of the per-step kernels. */
  #rows(B: number): number {
    return Math.min(this.#maxRows, B);
  }

  #persistentWgFor(B: number): number {
    const units = B * this.config.hiddenSize;
    return Math.max(32, Math.min(this.#persistentWg, ceilDiv(units, 32) * 32));
  }

  /** The loss over the outputs: dy and stats[0] (its uniforms are written per call by the model into `lossUniforms`). */
  loss(ws: Workspace, kind: LossKind): Program {
    return this.#program(ws, `loss ${kind}`, (p) => {
      const top = ws.layers[this.config.numLayers - 1];
      const y = this.config.readout === "none" ? top.h : ws.y;
      p.dispatch(this.gpu.kernel(lossKernel(kind)), this.#lossU, [y, ws.target, ws.mask, ws.dy, this.#stats], [1]);
    });
  }

  /**
   * BPTT from dy (if `fromOutputs`), the final-state gradients in dhInit/dc (written by the host when given, else
   * cleared here), through every layer; `accumulate` adds to the gradients (backward) or overwrites them (trainStep).
   */
  backward(ws: Workspace, o: BackwardProgramOptions): Program {
    const key = `backward ${JSON.stringify(o)}`;
    return this.#program(ws, key, (p) => {
      const cfg = this.config, { T, B } = ws, H = cfg.hiddenSize, G = this.#G, GH = G * H, L = cfg.numLayers;
      const TB = T * B, acc = o.accumulate;
      const top = ws.layers[L - 1];
      for (let l = 0; l < L; l++) {
        const lb = ws.layers[l];
        if (!o.dhN) p.clear(lb.dhInit);
        if (!o.dcN) p.clear(lb.dc);
      }
      let topDhSeq = false;
      if (o.fromOutputs) {
        if (cfg.readout === "none") {
          p.copy(ws.dy, 0, top.dhSeq, 0, TB * H * 4);
          topDhSeq = true;
        } else {
          const O = cfg.outputSize, last = cfg.readout === "last", hOff = last ? T * B * H : B * H;
          const W = this.#off("readout.weight"), R = ws.R;
          // dW (O, H) [+]= dyᵀ (O, R) · h (R, H);  db (O) [+]= Σ_rows dy
          this.#matmul(p, ws.dy, top.h, this.grads, {
            M: O,
            N: H,
            K: R,
            a: { rs: 1, cs: O },
            b: { off: hOff, rs: H, cs: 1 },
            c: { off: W, ld: H },
            accumulate: acc,
          });
          const bOff = this.#off("readout.bias");
          this.#columnSums(p, ws.dy, R, O, bOff, bOff, acc);
          // dh (R, H) = dy (R, O) · W (O, H): onto the final state (last), or each step (every)
          this.#matmul(p, ws.dy, this.params, last ? top.dhInit : top.dhSeq, {
            M: R,
            N: H,
            K: O,
            a: { rs: O, cs: 1 },
            b: { off: W, rs: H, cs: 1 },
            c: { ld: H },
            accumulate: last && o.dhN,
          });
          topDhSeq = !last;
        }
      }
      for (let l = L - 1; l >= 0; l--) {
        const lb = ws.layers[l], I = l === 0 ? cfg.inputSize : H;
        const input = l === 0 ? ws.x : ws.layers[l - 1].h, inputOff = l === 0 ? 0 : B * H;
        const wHh = this.#off(`rnn.weight_hh_l${l}`), wIh = this.#off(`rnn.weight_ih_l${l}`);
        this.#recurrenceBackward(p, ws, l, l === L - 1 ? topDhSeq : true, o.truncate, o.probes);
        // dh0 (B, H) = dG[0] (B, G·H) · W_hh (G·H, H)
        this.#matmul(p, lb.gates, this.params, lb.dh0, {
          M: B,
          N: H,
          K: GH,
          a: { rs: GH, cs: 1 },
          b: { off: wHh, rs: H, cs: 1 },
          c: { ld: H },
          accumulate: false,
        });
        // dW_hh (G·H, H) [+]= dGᵀ (G·H, T·B) · h[0 .. T-1] (T·B, H);  dW_ih (G·H, I) [+]= dGᵀ · input
        this.#matmul(p, lb.gates, lb.h, this.grads, {
          M: GH,
          N: H,
          K: TB,
          a: { rs: 1, cs: GH },
          b: { rs: H, cs: 1 },
          c: { off: wHh, ld: H },
          accumulate: acc,
        });
        this.#matmul(p, lb.gates, input, this.grads, {
          M: GH,
          N: I,
          K: TB,
          a: { rs: 1, cs: GH },
          b: { off: inputOff, rs: I, cs: 1 },
          c: { off: wIh, ld: I },
          accumulate: acc,
        });
        this.#columnSums(p, lb.gates, TB, GH, this.#off(`rnn.bias_ih_l${l}`), this.#off(`rnn.bias_hh_l${l}`), acc);
        // dx (T·B, I) = dG (T·B, G·H) · W_ih (G·H, I): the gradient for the layer below (its dhSeq), or ∂L/∂x
        const dxOut = l > 0 ? ws.layers[l - 1].dhSeq : o.inputGrad ? ws.dx : null;
        if (dxOut !== null) {
          this.#matmul(p, lb.gates, this.params, dxOut, {
            M: TB,
            N: I,
            K: GH,
            a: { rs: GH, cs: 1 },
            b: { off: wIh, rs: I, cs: 1 },
            c: { ld: I },
            accumulate: false,
          });
        }
      }
    });
  }

  #recurrenceBackward(p: Program, ws: Workspace, l: number, dhSeq: boolean, truncate: number, probes: boolean): void {
    const cfg = this.config, gpu = this.gpu, { T, B } = ws, H = cfg.hiddenSize, cell = cfg.cell;
    const lb = ws.layers[l], wOff = this.#off(`rnn.weight_hh_l${l}`);
    const seq = dhSeq ? lb.dhSeq : gpu.dummy;
    if (ws.persistent) {
      const pb = probes ? this.#workspaces.probeBuffers(ws, l) : null, dummyRW = gpu.dummyRW;
      const k = gpu.kernel(backwardPersistentKernel(cell, this.#persistentWgFor(B), probes));
      p.dispatch(k, new Uniforms().u(B, H, T, dhSeq ? STEP_DHSEQ : 0, truncate, wOff, 0, 0), [
        this.params,
        lb.gates,
        lb.h,
        lb.c,
        seq,
        lb.dhInit,
        lb.dc,
        pb?.sq ?? dummyRW,
        pb?.dhNorm ?? dummyRW,
        pb?.dcNorm ?? dummyRW,
      ], [1]);
      return;
    }
    const flagsAt = (t: number) =>
      (t === T - 1 ? STEP_FIRST : 0) | (t < T - 1 && truncate > 0 && (t + 1) % truncate === 0 ? STEP_CUT : 0) |
      (dhSeq ? STEP_DHSEQ : 0);
    const chunks = ceilDiv(H, STEP_WG);
    const blocks = Array.from({ length: T }, (_, i) => {
      const t = T - 1 - i;
      return new Uniforms().u(B, H, t, flagsAt(t), chunks, wOff, 0, 0);
    });
    const R = this.#rows(B);
    const k = gpu.kernel(backwardStepKernel(cell, R, probes));
    const pb = probes ? this.#workspaces.probeBuffers(ws, l) : null;
    p.steps(k, blocks, [this.params, lb.gates, lb.h, lb.c, seq, lb.dhInit, lb.dc, pb?.part ?? gpu.dummyRW], [
      chunks,
      ceilDiv(B, R),
    ]);
    if (pb !== null) {
      p.dispatch(gpu.kernel(PROBE_NORMS), new Uniforms().u(T * B, chunks, 0, 0), [pb.part, pb.dhNorm, pb.dcNorm], [
        ceilDiv(T * B, 64),
      ]);
    }
  }

  /** Frees the buffers of its own (W_hhᵀ per layer); the recorded programs are freed with their workspaces. */
  dispose(): void {
    for (const b of this.#wT) b.destroy();
  }
}
