/**
 * Joins the JSON of `train_step_bench.ts --backend webgpu --json` (ours and tfjs-webgpu) and of
 * `torch_cudnn_bench.py --json` (PyTorch cuDNN) into one table, and judges the targets of the medium and long
 * configs: our training step at least half as fast as cuDNN's (ours ≤ 2 × cuDNN ms/step), and at least 10× faster
 * than tfjs-webgpu.
 *
 * Like is compared with like: ours with one readback per step against cuDNN with `loss.item()` every step (and
 * tfjs-webgpu's `trainOnBatch`, which reads its loss back); ours with 16 steps per readback against cuDNN's
 * back-to-back steps. The targets are judged on both pairs and printed as such.
 *
 *   deno run -A bench/gpu/combine.ts webgpu.json torch.json
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";

interface Timing {
  ms: number | null;
  warmup?: { firstMs: number };
}
interface WebGpuDoc {
  machine: { webgpu: { description: string; isFallbackAdapter: boolean } };
  group: number;
  results: {
    config: string;
    cell: string;
    ours: { recurrence: string; persistent: boolean; step: Timing; stepGrouped: Timing | null }[];
    peers: Record<string, { status: string; step?: Timing }>;
  }[];
}
interface TorchDoc {
  info: Record<string, unknown>;
  results: { config: string; cell: string; step_sync: { ms: number }; step_async: { ms: number } }[];
}

const [webgpuPath, torchPath] = process.argv.slice(2);
if (webgpuPath === undefined) {
  console.error("usage: deno run -A bench/gpu/combine.ts webgpu.json [torch.json]");
  process.exit(2);
}
const web: WebGpuDoc = JSON.parse(readFileSync(webgpuPath, "utf8"));
let torch: TorchDoc | null = null;
try {
  if (torchPath !== undefined) torch = JSON.parse(readFileSync(torchPath, "utf8"));
} catch (e) {
  console.error(`no PyTorch results (${(e as Error).message}): the cuDNN columns stay empty`);
}

const f = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? "—" : ms < 1 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(1);
const best = (ts: (number | null | undefined)[]) => {
  const v = ts.filter((t): t is number => typeof t === "number");
  return v.length === 0 ? null : Math.min(...v);
};

const header = [
  "config",
  "cell",
  "ours step",
  `ours /${web.group}`,
  "cuDNN sync",
  "cuDNN async",
  "tfjs-webgpu",
  "ours÷cuDNN (sync)",
  `ours÷cuDNN (/${web.group} vs async)`,
  "tfjs÷ours",
  "targets (medium, long)",
];
const rows: string[][] = [];
for (const c of web.results) {
  const oursStep = best(c.ours.map((o) => o.step.ms));
  const oursGroup = best(c.ours.map((o) => (o.stepGrouped?.ms == null ? null : o.stepGrouped.ms / web.group)));
  const which = c.ours.find((o) => o.step.ms === oursStep);
  const t = torch?.results.find((r) => r.config === c.config && r.cell === c.cell);
  const tf = c.peers["tfjs-webgpu"];
  const tfMs = tf?.status === "ok" ? tf.step!.ms : tf?.status === "over-budget" ? tf.step!.warmup!.firstMs : null;
  const r1 = oursStep !== null && t ? oursStep / t.step_sync.ms : null;
  const r2 = oursGroup !== null && t ? oursGroup / t.step_async.ms : null;
  const rt = tfMs !== null && oursStep !== null ? tfMs / oursStep : null;
  let verdict = "";
  if ((c.config === "medium" || c.config === "long") && oursStep === null) {
    verdict = "ours over budget: not judged (raise BUDGET)";
  } else if (c.config === "medium" || c.config === "long") {
    const half = r1 === null && r2 === null
      ? "cuDNN n/a"
      : `½ cuDNN: sync ${r1 !== null && r1 <= 2 ? "met" : "MISSED"}, ` +
        `async ${r2 !== null && r2 <= 2 ? "met" : "MISSED"}`;
    const ten = rt === null ? "tfjs n/a" : `10× tfjs ${rt >= 10 ? "met" : "MISSED"}`;
    verdict = `${half}; ${ten}`;
  }
  rows.push([
    c.config,
    c.cell,
    `${f(oursStep)}${which ? ` (${which.recurrence}${which.persistent ? ", persistent" : ""})` : ""}`,
    f(oursGroup),
    f(t?.step_sync.ms),
    f(t?.step_async.ms),
    tfMs === null ? "n/a" : `${tf?.status === "over-budget" ? "~" : ""}${f(tfMs)}`,
    r1 === null ? "—" : `${r1.toFixed(2)}×`,
    r2 === null ? "—" : `${r2.toFixed(2)}×`,
    rt === null ? "—" : `${rt.toFixed(1)}×`,
    verdict,
  ]);
}
const width = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
const line = (r: string[]) => r.map((s, j) => (j < 2 ? s.padEnd(width[j]) : s.padStart(width[j]))).join("  ");
const gpu = web.machine.webgpu;
console.log(
  `Training step, ms/step — WebGPU adapter: ${gpu.description}${
    gpu.isFallbackAdapter ? " (SOFTWARE: not a GPU)" : ""
  }` +
    (torch ? `; PyTorch: ${JSON.stringify(torch.info)}` : ""),
);
console.log([line(header), width.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n"));
console.log(
  `ours step: trainStep (one readback per step); ours /${web.group}: ${web.group} steps per readback, per step; ` +
    "cuDNN sync: loss.item() every step; async: back to back; ÷: ratio of ms/step (ours÷cuDNN ≤ 2 is the target).",
);
