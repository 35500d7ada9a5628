/**
 * `deno task experiment [file ...] [options]` (or `bun run lib/experiment/cli.ts ...`): runs experiment files.
 *
 * With no file it runs the default experiment, gradient flow, with its quick profile, and prints where the results
 * went. Full runs of the shipped experiments (files in experiments/) write to results/<name>/, the committed results;
 * quick and ad-hoc runs write to results/_runs/ (git-ignored) unless --out says otherwise. Committed results must be
 * traceable to the code that made them: a run refuses to write into results/ (outside results/_runs/) from a working
 * tree with uncommitted changes, unless `--allow-dirty "why"` says why (recorded in each cell it writes).
 *
 * The command line is the top of the stack (layer "cli" in tools/layers.ts): it runs the experiment, then prints
 * its answer with lib/plot/summary.ts (imported when needed: the figures' dependencies load only then).
 *
 * @module
 */

import { readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type BackendName, resolveBackend } from "../backend/select.ts";
import { loadExperimentFile } from "./load.ts";
import { workingTreeDirty } from "./results.ts";
import { OutDirError, runExperiment } from "./runner.ts";
import { ExperimentError } from "./schema.ts";
import { expandSweep, MAX_CELLS } from "./sweep.ts";
import type { ProgressMode } from "./progress.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const EXPERIMENTS = join(ROOT, "experiments");
const DEFAULT_EXPERIMENT = join(EXPERIMENTS, "gradient_flow.ts");

const USAGE = `Usage: deno task experiment [file ...] [options]

Runs the sweeps of experiment files (experiments/*.ts or *.json). With no file: the default experiment
(gradient flow) with its quick profile.

Options:
  --quick           the experiment's quick profile (fewer seeds, shorter budget; < 1 minute)
  --all             every experiment in experiments/
  --workers N       cells run in parallel (default: the number of cores)
  --shard k/n       run shard k of n (every n-th cell from the k-th), e.g. in a job array
  --filter REGEX    run only the cells whose label matches (e.g. "seqLen=100 "); see --list for labels
  --merge-only      run nothing; merge the finished cells into the tables (after shards, or a format change)
  --out DIR         output folder (default: results/<name> for full runs of shipped experiments,
                    results/_runs/<name>[-quick] otherwise)
  --backend NAME    cpu (default), webgpu (Deno only: Bun has no WebGPU; cells run on worker threads, one by
                    default, since they share the one GPU — --workers N to run more), or auto (webgpu where an
                    adapter exists, cpu otherwise; results record the backend that ran)
  --max-cells N     refuse sweeps of more than N cells (default ${MAX_CELLS})
  --allow-dirty WHY write into results/ (the committed results) from a working tree with uncommitted changes;
                    WHY is recorded in every cell written (without it such a run is refused before any work)
  --json            progress as JSON lines on stderr
  --list            print the cells (hash, label) and exit
  -h, --help        this text`;

export { loadExperimentFile };

/** The default output folder of an experiment run (see the module comment). */
export function defaultOutDir(file: string, name: string, quick: boolean): string {
  const shipped = resolve(dirname(file)) === EXPERIMENTS;
  if (shipped && !quick) return join(ROOT, "results", name);
  return join(ROOT, "results", "_runs", quick ? `${name}-quick` : name);
}

/**
 * Whether `outDir` is in the committed results (results/ of `root`, but not the git-ignored results/_runs/).
 *
 * @example
 * ```ts
 * import { committedResults } from "./cli.ts";
 * committedResults("/repo/results/latch", "/repo"); // true
 * committedResults("/repo/results/_runs/latch-quick", "/repo"); // false
 * ```
 */
export function committedResults(outDir: string, root: string = ROOT): boolean {
  const rel = relative(join(root, "results"), resolve(outDir));
  return !rel.startsWith("..") && !rel.startsWith("/") && rel.split(/[\\/]/)[0] !== "_runs";
}

/** The CLI: returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        quick: { type: "boolean" },
        all: { type: "boolean" },
        workers: { type: "string" },
        shard: { type: "string" },
        filter: { type: "string" },
        "merge-only": { type: "boolean" },
        out: { type: "string" },
        backend: { type: "string" },
        "max-cells": { type: "string" },
        "allow-dirty": { type: "string" },
        json: { type: "boolean" },
        list: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const o = args.values;
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  let files = args.positionals;
  let quick = o.quick ?? false;
  if (o.all) {
    files = readdirSync(EXPERIMENTS).filter((f) => /\.(ts|json)$/.test(f) && !f.endsWith("_test.ts")).sort().map((f) =>
      join(EXPERIMENTS, f)
    );
  }
  if (files.length === 0) {
    files = [DEFAULT_EXPERIMENT];
    quick = true;
    console.error("No experiment file given: running the default experiment (gradient flow, quick profile).");
  }
  const workers = o.workers === undefined ? undefined : Number(o.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) {
    console.error(`--workers ${o.workers}: expected a positive integer`);
    return 2;
  }
  const maxCells = o["max-cells"] === undefined ? undefined : Number(o["max-cells"]);
  if (maxCells !== undefined && !(Number.isInteger(maxCells) && maxCells >= 1)) {
    console.error(`--max-cells ${o["max-cells"]}: expected a positive integer`);
    return 2;
  }
  let shard: [number, number] | undefined;
  if (o.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(o.shard);
    if (m === null || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) {
      console.error(`--shard ${o.shard}: expected k/n with 1 ≤ k ≤ n, e.g. --shard 3/8`);
      return 2;
    }
    shard = [Number(m[1]), Number(m[2])];
  }
  let filter: RegExp | undefined;
  if (o.filter !== undefined) {
    try {
      filter = new RegExp(o.filter);
    } catch (e) {
      console.error(`--filter ${o.filter}: not a regular expression (${(e as Error).message})`);
      return 2;
    }
  }
  let backend: BackendName;
  try {
    const r = await resolveBackend(o.backend ?? "cpu");
    backend = r.backend;
    if (o.backend === "auto") console.error(`--backend auto: ${backend} (${r.reason})`);
  } catch (e) {
    console.error(`--backend ${o.backend}: ${(e as Error).message.replace(/^backend: /, "")}`);
    return 2;
  }
  const progress: ProgressMode = o.json ? "json" : process.stderr.isTTY ? "tty" : "plain";
  let exit = 0;
  for (const file of files) {
    try {
      const experiment = await loadExperimentFile(file);
      const cells = expandSweep(experiment, { quick, backend, source: file, maxCells }); // validates, before any work
      const name = cells[0].config.experiment;
      if (o.list) {
        for (const c of cells) {
          if (filter === undefined || filter.test(c.label)) console.log(`${c.hash}  ${c.label}`);
        }
        continue;
      }
      const outDir = o.out === undefined ? defaultOutDir(file, name, quick) : join(resolve(o.out), name);
      if (!o["merge-only"] && o["allow-dirty"] === undefined && committedResults(outDir) && workingTreeDirty()) {
        console.error(
          `${file}: refusing to write committed results (${relative(ROOT, outDir)}) from a working tree with ` +
            `uncommitted changes: commit first (each cell records its commit), or say why with --allow-dirty "..."`,
        );
        exit = 2;
        continue;
      }
      const s = await runExperiment(experiment, {
        outDir,
        quick,
        workers: workers ?? (backend === "webgpu" ? 1 : undefined), // one GPU: one cell at a time unless asked
        shard,
        filter,
        mergeOnly: o["merge-only"] ?? false,
        backend,
        source: file,
        progress,
        maxCells,
        dirtyReason: o["allow-dirty"],
      });
      const where = relative(process.cwd(), s.outDir) || ".";
      console.log(
        `${s.experiment}: ${s.ran} cells run, ${s.skipped} already done, ${s.failed.length} failed, ` +
          `${
            s.complete ? "complete" : "incomplete"
          } → ${where}/ (summary.csv, summary.jsonl, gradient_flow.jsonl, curves.jsonl, cells/)`,
      );
      if (s.failed.length > 0) exit = 1;
      // the answer: a table of what was measured, and the figures beside the tables (lib/plot/summary.ts)
      if (s.complete || o["merge-only"]) {
        const { printRunAnswer } = await import("../plot/summary.ts"); // loaded only when there is an answer to print
        await printRunAnswer(s.experiment, s.outDir, { json: o.json ?? false, profile: quick ? "quick" : "full" });
      }
    } catch (e) {
      if (e instanceof ExperimentError || e instanceof OutDirError) console.error(e.message);
      else console.error(`${file}: ${(e as Error).stack ?? e}`);
      exit = 1;
    }
  }
  return exit;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
