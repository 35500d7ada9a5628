// The output folder survives anything: invalid cell files are moved aside with the reason and computed again (the
// merge never crashes on one); a run that writes no cell still merges; an unwritable folder is found before any
// work; two runs at once share the cells instead of computing each twice, and take over the claims of dead runs;
// the merged tables are replaced atomically; a diverged row has no final loss.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

import { committedResults, main } from "./cli.ts";
import { isStale, STALE_MS } from "./claim.ts";
import { cellProblem, type CellResult, mergeResults, readCells, runMeta, summaryRow } from "./results.ts";
import { OutDirError, runExperiment } from "./runner.ts";
import { expandSweep } from "./sweep.ts";

const IS_DENO = (globalThis as { Deno?: unknown }).Deno !== undefined;

/** A sweep of fast cells (a fraction of a second each). */
function experiment(name: string, seeds: number[]) {
  return {
    name,
    description: "output folder test",
    task: { name: "latch", params: { T: 20 } },
    model: { cell: "lstm", hiddenSize: 4 },
    training: { optimizer: { name: "adam", lr: 1e-2 }, batchSize: 8, maxSequences: 320, logEvery: 10 },
    measure: { testSequences: 32 },
    sweep: { axes: { seed: seeds } },
    quick: { sweep: { axes: { seed: [0] } } },
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), "lstm-lab-output-"));
const quiet = { workers: 1, progress: "none" as const };
/** The part of a cell result that is computed (not where, when or how fast). */
const computed = (r: CellResult) => JSON.stringify({ ...r, meta: undefined, wallMs: undefined });

/** Runs `f` with console.error captured. */
async function stderrOf<T>(f: () => Promise<T>): Promise<{ value: T; err: string[] }> {
  const err: string[] = [];
  const { error } = console;
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { value: await f(), err };
  } finally {
    console.error = error;
  }
}

describe("output folder", () => {
  it("invalid cell files are moved aside with the reason, the merge goes on, and the cells are computed again", async () => {
    const dir = tmp();
    try {
      const out = join(dir, "bad-cells");
      const exp = experiment("bad-cells", [0, 1, 2, 3, 4]);
      await runExperiment(exp, { outDir: out, ...quiet });
      const cells = expandSweep(exp);
      const file = (i: number) => join(out, "cells", `${cells[i].hash}.json`);
      const before = cells.map((_, i) => readFileSync(file(i), "utf8"));
      writeFileSync(file(0), "garbage, not JSON");
      writeFileSync(file(1), "");
      writeFileSync(file(2), before[2].slice(0, before[2].length >> 1)); // truncated
      writeFileSync(file(3), before[0]); // a valid cell under another cell's name
      writeFileSync(file(4), before[4].replace('"version":1', '"version":999')); // another schema version
      // --merge-only: no crash; the five files are moved aside, each with its reason, and the manifest says so.
      const { value: merged, err } = await stderrOf(() =>
        runExperiment(exp, { outDir: out, mergeOnly: true, ...quiet })
      );
      assert.equal(merged.complete, false);
      assert.equal(readFileSync(join(out, "summary.jsonl"), "utf8"), "");
      assert.equal(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).finished, 0);
      const rejected = readdirSync(join(out, "rejected"));
      assert.equal(rejected.filter((f) => f.endsWith(".json")).length, 5);
      const reasons = rejected.filter((f) => f.endsWith(".reason.txt")).map((f) =>
        readFileSync(join(out, "rejected", f), "utf8")
      ).join("");
      for (
        const why of [
          /not valid JSON/,
          /empty file/,
          /not valid JSON/,
          /records the hash .*, not its file name's/,
          /result schema "lstm-lab\/cell"@999/,
        ]
      ) assert.match(reasons, why);
      assert.equal(err.length, 5, err.join("\n"));
      for (const line of err) assert.match(line, /cells\/[0-9a-f]{16}\.json: invalid cell file \(.*\); moved to /);
      // The next run computes exactly those five again, to the same bits.
      const again = await runExperiment(exp, { outDir: out, ...quiet });
      assert.deepEqual([again.ran, again.skipped, again.complete], [5, 0, true]);
      for (const [i, text] of before.entries()) {
        assert.equal(computed(JSON.parse(readFileSync(file(i), "utf8"))), computed(JSON.parse(text)));
      }
      assert.equal(readCells(out).length, 5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a cell file is valid only if its configuration hashes to its name", () => {
    const cell = { schema: "lstm-lab/cell", version: 1, hash: "0000000000000000", config: { variant: "" } };
    assert.match(cellProblem(JSON.stringify(cell), "0000000000000000")!, /its configuration hashes to [0-9a-f]{16}/);
    assert.equal(cellProblem("[]", "0000000000000000"), "not a JSON object");
  });

  it("a run that writes no cell still merges into a fresh folder (shard beyond the sweep, empty filter, merge only)", async () => {
    const dir = tmp();
    try {
      const exp = experiment("no-cells", [0, 1]);
      for (
        const [k, opts] of [
          ["shard", { shard: [3, 3] as [number, number] }],
          ["filter", { filter: /nothing matches this/ }],
          ["merge", { mergeOnly: true }],
        ] as const
      ) {
        const out = join(dir, k, "no-cells");
        const s = await runExperiment(exp, { outDir: out, ...quiet, ...opts });
        assert.deepEqual([s.ran, s.complete], [0, false]);
        assert.equal(readFileSync(join(out, "summary.csv"), "utf8"), "\n");
        assert.equal(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).cells.length, 2);
      }
      // A run whose every cell failed merges what there is (nothing) into a folder that may not exist yet.
      const fresh = join(dir, "all-failed", "no-cells");
      const cells = expandSweep(exp).map((c) => ({ hash: c.hash, label: c.label }));
      assert.deepEqual(mergeResults(fresh, { experiment: "no-cells", profile: "full", cells }), {
        rows: 0,
        complete: false,
      });
      // The README's Slurm recipe with an array wider than the sweep: the CLI exits 0.
      const file = join(dir, "no-cells.json");
      writeFileSync(file, JSON.stringify(exp));
      const code = await main([file, "--shard", "3/3", "--out", join(dir, "cli"), "--workers", "1"]);
      assert.equal(code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an unwritable output folder is found before any cell runs", async () => {
    const dir = tmp();
    try {
      const exp = experiment("unwritable", [0]);
      const plain = join(dir, "a-file");
      writeFileSync(plain, "not a folder");
      for (const out of [plain, join(plain, "below")]) {
        const t0 = Date.now();
        await assert.rejects(
          runExperiment(exp, { outDir: out, ...quiet }),
          (e: Error) =>
            e instanceof OutDirError && /^.*: the output folder is not writable \((EEXIST|ENOTDIR)\)/.test(e.message),
        );
        assert.ok(Date.now() - t0 < 5_000, "before computing");
      }
      const file = join(dir, "unwritable.json");
      writeFileSync(file, JSON.stringify(exp));
      const err: string[] = [];
      const { error } = console;
      console.error = (...a: unknown[]) => err.push(a.join(" "));
      let code: number;
      try {
        code = await main([file, "--out", plain]);
      } finally {
        console.error = error;
      }
      assert.notEqual(code, 0);
      assert.equal(err.length, 1);
      assert.match(err[0], /a-file\/unwritable: the output folder is not writable \(ENOTDIR\); nothing was run/);
      assert.equal(readFileSync(plain, "utf8"), "not a folder");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("two identical runs at once compute each cell once (claims), and the merged tables end complete", async () => {
    const dir = tmp();
    try {
      const out = join(dir, "twice");
      const exp = experiment("twice", [0, 1, 2, 3, 4, 5]);
      const [a, b] = await Promise.all([
        runExperiment(exp, { outDir: out, ...quiet }),
        runExperiment(exp, { outDir: out, ...quiet }),
      ]);
      assert.equal(a.ran + b.ran, 6, `${a.ran} + ${b.ran} cells computed`);
      assert.equal(a.elsewhere + b.elsewhere, 6);
      assert.equal(readdirSync(join(out, "cells")).filter((f) => f.endsWith(".lock")).length, 0, "claims released");
      const last = await runExperiment(exp, { outDir: out, mergeOnly: true, ...quiet });
      assert.ok(last.complete);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("claims of dead runs are taken over; a live run's fresh claim is respected, a silent one taken over", async () => {
    const dir = tmp();
    try {
      const out = join(dir, "claims");
      const exp = experiment("claims", [0, 1, 2]);
      const [dead, live, silent] = expandSweep(exp).map((c) => join(out, "cells", `${c.hash}.lock`));
      mkdirSync(join(out, "cells"), { recursive: true });
      // A process that has exited (a run killed with kill -9, a cancelled job) on this host.
      const gone = spawnSync(process.execPath, IS_DENO ? ["eval", "1"] : ["-e", "1"]).pid!;
      const sleeper = spawn(
        process.execPath,
        IS_DENO ? ["eval", "setTimeout(() => {}, 60000)"] : ["-e", "setTimeout(() => {}, 60000)"],
      );
      try {
        const claim = (pid: number) => JSON.stringify({ host: hostname(), pid, since: new Date().toISOString() });
        writeFileSync(dead, claim(gone));
        writeFileSync(live, claim(sleeper.pid!));
        writeFileSync(silent, claim(sleeper.pid!));
        const old = new Date(Date.now() - STALE_MS - 60_000);
        utimesSync(silent, old, old); // its holder stopped touching it long ago (another host's crashed node)
        assert.deepEqual([isStale(dead), isStale(live), isStale(silent)], [true, false, true]);
        const s = await runExperiment(exp, { outDir: out, ...quiet });
        assert.deepEqual([s.ran, s.elsewhere, s.complete], [2, 1, false]);
        assert.ok(existsSync(live), "the live run's claim is left alone");
      } finally {
        sleeper.kill();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("merged tables are replaced atomically: a reader never sees part of one while merges run", async () => {
    const dir = tmp();
    try {
      const out = join(dir, "atomic");
      const exp = experiment("atomic", [0, 1, 2, 3]);
      await runExperiment(exp, { outDir: out, workers: 2, progress: "none" });
      const expected = readFileSync(join(out, "summary.csv"), "utf8");
      // Another process merges again and again; this one reads the table meanwhile.
      const results = new URL("./results.ts", import.meta.url).href;
      const cells = expandSweep(exp).map((c) => ({ hash: c.hash, label: c.label }));
      const code = `import { mergeResults } from ${JSON.stringify(results)};
const cells = ${JSON.stringify(cells)};
for (let i = 0; i < 200; i++) mergeResults(${JSON.stringify(out)}, { experiment: "atomic", profile: "full", cells });`;
      const repo = fileURLToPath(new URL("../..", import.meta.url));
      const child = spawn(process.execPath, [IS_DENO ? "eval" : "-e", code], { cwd: repo, stdio: "inherit" });
      let done = false;
      child.on("exit", () => (done = true));
      let reads = 0, partial = 0;
      while (!done) {
        for (let i = 0; i < 50; i++, reads++) {
          const text = readFileSync(join(out, "summary.csv"), "utf8");
          // The table is rewritten with the same rows, except the merge date in the manifest: equal when whole.
          if (text.split("\n").length !== expected.split("\n").length) partial++;
        }
        await new Promise((r) => setTimeout(r, 0));
      }
      assert.equal(child.exitCode, 0);
      assert.ok(reads > 100, `${reads} reads`);
      assert.equal(partial, 0, `${partial} of ${reads} reads saw a partial table`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a diverged row has no final loss or accuracy (its curve stops at the last finite point)", () => {
    const r = {
      hash: "0123456789abcdef",
      label: "x",
      axes: {},
      status: "diverged",
      steps: 3,
      sequences: 24,
      sequencesToSuccess: null,
      diverged: { step: 3, what: "loss" },
      curve: [{ step: 2, sequences: 16, loss: 0.25, accuracy: 0.5, gradNorm: 1 }],
      gradientFlow: [],
      test: null,
      baseline: { description: "", loss: 1 },
      wallMs: 1,
      config: { variant: "", model: {} },
      meta: {
        commit: "",
        runtime: "deno",
        runtimeVersion: "",
        backend: "cpu",
        machine: { cores: 1, cpu: "" },
        date: "",
      },
    } as unknown as CellResult;
    const row = summaryRow(r);
    assert.deepEqual([row.status, row.finalLoss, row.finalAccuracy, row.divergedAtStep], ["diverged", null, null, 3]);
    assert.equal(summaryRow({ ...r, status: "trained", diverged: undefined }).finalLoss, 0.25);
  });
});

describe("provenance: committed results come from a clean tree", () => {
  it("results/ is guarded, results/_runs/ and other folders are not", () => {
    const root = join(tmpdir(), "repo");
    assert.equal(committedResults(join(root, "results", "latch"), root), true);
    assert.equal(committedResults(join(root, "results"), root), true);
    assert.equal(committedResults(join(root, "results", "_runs", "latch-quick"), root), false);
    assert.equal(committedResults(join(root, "elsewhere", "latch"), root), false);
    assert.equal(committedResults(join(tmpdir(), "out", "latch"), root), false);
  });
  it("a cell records why a dirty tree was allowed to write it, and only then", () => {
    const meta = runMeta("cpu", "rerun of a typo fix");
    assert.equal(meta.dirtyReason, meta.dirty ? "rerun of a typo fix" : undefined);
    assert.equal(runMeta("cpu").dirtyReason, undefined);
  });
});
