// The runner: results on disk in the documented layout; a sweep killed with SIGKILL and rerun completes with no
// finished cell recomputed; shards write side by side and merge; a diverging cell is recorded, not fatal.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runExperiment } from "./runner.ts";
import { type FlowLine, flowRows, readCells } from "./results.ts";

/** A small sweep whose cells take a fraction of a second each. */
function experiment(name: string, seeds: number[], extra: Record<string, unknown> = {}) {
  return {
    name,
    description: "runner test",
    task: { name: "latch", params: { T: 30 } },
    model: { cell: "lstm", hiddenSize: 4 },
    training: { optimizer: { name: "adam", lr: 1e-2 }, batchSize: 8, maxSequences: 2400, logEvery: 10 },
    measure: { testSequences: 64, gradientFlow: { at: ["init", "end"], batchSize: 4 } },
    sweep: { axes: { seed: seeds } },
    quick: { sweep: { axes: { seed: [0] } } },
    ...extra,
  };
}

const tmp = () => mkdtempSync(join(tmpdir(), "lstm-lab-runner-"));

describe("runner", () => {
  it("writes one file per cell and the merged tables; a rerun skips everything", async () => {
    const dir = tmp();
    try {
      const out = join(dir, "demo");
      const s = await runExperiment(experiment("demo", [0, 1, 2]), { outDir: out, workers: 2, progress: "none" });
      assert.deepEqual([s.total, s.ran, s.skipped, s.failed.length, s.complete], [3, 3, 0, 0, true]);
      assert.deepEqual(readdirSync(out).sort(), [
        "cells",
        "curves.jsonl",
        "gradient_flow.jsonl",
        "manifest.json",
        "summary.csv",
        "summary.jsonl",
      ]);
      const cells = readCells(out);
      assert.equal(cells.length, 3);
      for (const c of cells) {
        assert.equal(c.schema, "lstm-lab/cell");
        assert.ok(c.meta.commit && c.meta.runtime && c.meta.machine.cores > 0 && c.meta.date);
        assert.equal(c.gradientFlow.length, 2);
        assert.equal(c.test!.sequences, 64);
        assert.ok(c.curve.length > 0);
      }
      // gradient_flow.jsonl: a line per (cell, measurement) with arrays by lag; flowRows expands it per lag.
      const lines = readFileSync(join(out, "gradient_flow.jsonl"), "utf8").trim().split("\n").map((l) =>
        JSON.parse(l) as FlowLine
      );
      assert.equal(lines.length, 3 * 2);
      const cell = cells.find((c) => c.hash === lines[0].hash)!;
      const rows = flowRows(lines[0]);
      assert.equal(rows.length, cell.gradientFlow[0].dh.median.length);
      assert.deepEqual([rows[2].lag, rows[2].dhMedian, rows[2].dcQ75], [
        2,
        cell.gradientFlow[0].dh.median[2],
        cell.gradientFlow[0].dc!.q75[2],
      ]);
      const summary = readFileSync(join(out, "summary.csv"), "utf8").split("\n");
      assert.equal(summary.length, 3 + 2); // header, 3 rows, final newline
      assert.match(summary[0], /task\.params\.T.*model\.cell.*status.*sequencesToSuccess.*testAccuracy.*commit/);
      const again = await runExperiment(experiment("demo", [0, 1, 2]), { outDir: out, workers: 2, progress: "none" });
      assert.deepEqual([again.ran, again.skipped], [0, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a sweep killed with SIGKILL resumes: finished cells are kept, not recomputed", async () => {
    const dir = tmp();
    try {
      const file = join(dir, "killme.json");
      writeFileSync(file, JSON.stringify(experiment("killme", [0, 1, 2, 3, 4, 5])));
      const cells = join(dir, "out", "killme", "cells");
      const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
      const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
      const args = [...(isDeno ? ["run", "-A"] : []), cli, file, "--workers", "1", "--out", join(dir, "out"), "--json"];
      const child = spawn(process.execPath, args, { stdio: "ignore" });
      // Wait for the first finished cell, then kill -9.
      const t0 = Date.now();
      while (!(existsSync(cells) && readdirSync(cells).some((f) => f.endsWith(".json")))) {
        if (Date.now() - t0 > 60_000) throw new Error("no cell finished within 60 s");
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const before = new Map(
        readdirSync(cells).filter((f) => /^[0-9a-f]{16}\.json$/.test(f)).map((
          f,
        ) => [f, readFileSync(join(cells, f), "utf8")]),
      );
      assert.ok(before.size >= 1 && before.size < 6, `${before.size} cells finished before the kill`);
      for (const text of before.values()) JSON.parse(text); // complete files only (written atomically)

      const s = await runExperiment(experiment("killme", [0, 1, 2, 3, 4, 5]), {
        outDir: join(dir, "out", "killme"),
        workers: 2,
        progress: "none",
      });
      assert.equal(s.skipped, before.size, "every finished cell is skipped");
      assert.equal(s.ran, 6 - before.size, "only the rest is run");
      assert.ok(s.complete);
      for (const [f, text] of before) assert.equal(readFileSync(join(cells, f), "utf8"), text, `${f} untouched`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("shards write side by side; the merge sees the whole sweep once every shard is done", async () => {
    const dir = tmp();
    try {
      const out = join(dir, "sharded");
      const exp = experiment("sharded", [0, 1, 2, 3, 4]);
      const f = await runExperiment(exp, { outDir: out, filter: /seed=3$/, workers: 1, progress: "none" });
      assert.deepEqual([f.selected, f.ran, f.complete], [1, 1, false]);
      const a = await runExperiment(exp, { outDir: out, shard: [1, 2], workers: 1, progress: "none" });
      assert.deepEqual([a.selected, a.ran, a.complete], [3, 3, false]);
      const b = await runExperiment(exp, { outDir: out, shard: [2, 2], workers: 1, progress: "none" });
      assert.deepEqual([b.selected, b.skipped, b.ran, b.complete], [2, 1, 1, true]); // seed 3 was done by the filter run
      assert.equal(readCells(out).length, 5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a diverging cell is recorded as diverged, with what it recorded, and the sweep goes on", async () => {
    const dir = tmp();
    try {
      const out = join(dir, "boom");
      const exp = experiment("boom", [0, 1], {
        task: { name: "adding", params: { T: 20 } }, // MSE: a huge step makes the loss overflow
        model: { cell: "rnn", hiddenSize: 4 },
        training: { optimizer: { name: "sgd", lr: 1e30 }, batchSize: 8, maxSequences: 2400, logEvery: 1 },
      });
      const s = await runExperiment(exp, { outDir: out, workers: 1, progress: "none" });
      assert.equal(s.ran, 2);
      for (const c of readCells(out)) {
        assert.equal(c.status, "diverged");
        assert.ok(c.diverged!.step >= 1);
        assert.equal(c.test, null);
        assert.ok(c.gradientFlow.length === 1, "the measurement at initialisation is kept");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
