// Experiment validation (errors name the file, the field path, the value and what is allowed) and sweep expansion:
// crossing, pairing, variants, aliases, quick profiles, hashes and shards. Also: every shipped experiment file
// validates and expands, in full and in its quick profile.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadExperimentFile } from "./cli.ts";
import { ExperimentError } from "./schema.ts";
import { canonicalJson, cellHash, deepMerge, expandSweep, shardOf } from "./sweep.ts";

const base = {
  name: "demo",
  description: "test",
  task: { name: "adding", params: { T: 20 } },
  model: { cell: "lstm", hiddenSize: 8 },
  training: { optimizer: { name: "adam", lr: 1e-3 }, maxSequences: 1000 },
  quick: { sweep: { axes: { seed: [0] } } },
};

function problems(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ExperimentError) return e.problems;
    throw e;
  }
  assert.fail("expected an ExperimentError");
}

describe("validation", () => {
  it("names the file, the path, the value and what is allowed", () => {
    const p = problems(() =>
      expandSweep({ ...base, training: { optimizer: { name: "adam", lr: 0 }, maxSequences: 1000 } }, { source: "x.ts" })
    );
    assert.equal(p.length, 1);
    assert.match(p[0], /^training\.optimizer\.lr: got 0, expected a number > 0$/);
    assert.throws(
      () => expandSweep({ ...base, model: { cell: "lru" as "gru", hiddenSize: 8 } }, { source: "experiments/x.ts" }),
      (e: Error) => e.message === 'experiments/x.ts: model.cell: got "lru", expected "lstm" | "rnn" | "gru"',
    );
  });
  it("rejects unknown keys, wrong types and out-of-range values before anything runs", () => {
    assert.match(problems(() => expandSweep({ ...base, modle: {} }))[0], /^modle: unknown key/);
    assert.match(
      problems(() => expandSweep({ ...base, model: { cell: "lstm", hiddenSize: "8" } }))[0],
      /model\.hiddenSize: got "8"/,
    );
    assert.match(
      problems(() => expandSweep({ ...base, model: { cell: "lstm", hiddenSize: 0 } }))[0],
      /model\.hiddenSize: got 0, expected a positive integer/,
    );
    assert.match(
      problems(() => expandSweep({ ...base, model: { cell: "lstm", hiddenSize: 8, extra: 1 } }))[0],
      /model\.extra: unknown key/,
    );
  });
  it("checks task names and parameters through the task registry", () => {
    assert.match(
      problems(() => expandSweep({ ...base, task: { name: "addding" } }))[0],
      /^cell "": task\.name: got "addding", expected one of .*adding-1997/s,
    );
    assert.match(
      problems(() => expandSweep({ ...base, task: { name: "adding", params: { T: -5 } } }))[0],
      /task\.params\.T: got -5, expected an integer ≥ 2 \(task "adding"\)/,
    );
    assert.match(
      problems(() => expandSweep({ ...base, task: { name: "adding", params: { lenght: 5 } } }))[0],
      /lenght/,
    );
  });
  it("reports a bad axis value with the cell and the path", () => {
    const p = problems(() => expandSweep({ ...base, sweep: { axes: { lr: [1e-3, -1] } } }));
    assert.match(p[0], /^cell "lr=-1": sweep\.axes\.lr \(training\.optimizer\.lr\): got -1, expected a number > 0$/);
    assert.match(
      problems(() => expandSweep({ ...base, sweep: { axes: { seqLen: [0] } } }))[0],
      /^cell "seqLen=0": sweep\.axes\.seqLen \(task\.params\.T\): got 0, expected .*\(task "adding"\)$/,
    );
    assert.match(
      problems(() => expandSweep({ ...base, sweep: { axes: { bogus: [1] } } }))[0],
      /sweep\.axes\.bogus: unknown axis/,
    );
  });
  it("requires a quick profile for --quick, and validates what it produces", () => {
    const { quick: _, ...noQuick } = base;
    assert.match(problems(() => expandSweep(noQuick, { quick: true }))[0], /quick: missing/);
    assert.match(
      problems(() => expandSweep({ ...base, quick: { training: { maxSequences: -1 } } }, { quick: true }))[0],
      /training\.maxSequences: got -1/,
    );
  });
});

describe("expansion", () => {
  it("crosses axes in order, variants outermost, with aliases", () => {
    const cells = expandSweep({
      ...base,
      sweep: {
        variants: { a: { model: { cell: "rnn" } }, b: {} },
        axes: { seqLen: [10, 20, 30], seed: [0, 1] },
      },
    });
    assert.equal(cells.length, 2 * 3 * 2);
    assert.deepEqual(cells.slice(0, 3).map((c) => c.label), [
      "a seqLen=10 seed=0",
      "a seqLen=10 seed=1",
      "a seqLen=20 seed=0",
    ]);
    assert.equal(cells[0].config.model.cell, "rnn");
    assert.equal(cells[6].config.model.cell, "lstm");
    assert.equal(cells[5].config.task.params.T, 30);
    assert.equal(cells[5].config.seed, 1);
    assert.deepEqual(cells.map((c) => c.index), cells.map((_, i) => i));
  });
  it("pairs axes instead of crossing them", () => {
    const cells = expandSweep({
      ...base,
      sweep: {
        axes: { seqLen: [10, 20], maxSequences: [100, 200], seed: [0, 1, 2] },
        pair: [["seqLen", "maxSequences"]],
      },
    });
    assert.equal(cells.length, 2 * 3);
    assert.deepEqual(cells.map((c) => [c.config.task.params.T, c.config.training!.maxSequences]), [
      [10, 100],
      [10, 100],
      [10, 100],
      [20, 200],
      [20, 200],
      [20, 200],
    ]);
    assert.match(
      problems(() =>
        expandSweep({ ...base, sweep: { axes: { seqLen: [1, 2], seed: [0] }, pair: [["seqLen", "seed"]] } })
      )[0],
      /paired axes need equal lengths/,
    );
  });
  it("sets nested paths, replacing a scheme name by an object where needed (rho)", () => {
    const cells = expandSweep({
      ...base,
      model: { cell: "rnn", hiddenSize: 8, init: { recurrentWeights: "orthogonal" } },
      sweep: { axes: { rho: [0.5] } },
    });
    assert.deepEqual(cells[0].config.model.init.recurrentWeights, { spectralRadius: 0.5 });
  });
  it("applies the quick profile by deep merge (arrays replace), over the variants' settings too", () => {
    const cells = expandSweep({ ...base, sweep: { axes: { seed: [0, 1, 2, 3] } } }, { quick: true });
    assert.equal(cells.length, 1);
    const exp = {
      ...base,
      sweep: { variants: { big: { training: { maxSequences: 500_000 } } } },
      quick: { training: { maxSequences: 100 } },
    };
    assert.equal(expandSweep(exp)[0].config.training!.maxSequences, 500_000);
    assert.equal(expandSweep(exp, { quick: true })[0].config.training!.maxSequences, 100);
  });
  it("hashes canonical configurations: stable, order-independent, distinct per cell", () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, 2], c: undefined } }), '{"a":{"d":[1,2]},"b":1}');
    assert.equal(cellHash({ x: 1, y: 2 }), cellHash({ y: 2, x: 1 }));
    const cells = expandSweep({ ...base, sweep: { axes: { seed: [0, 1, 2] } } });
    assert.equal(new Set(cells.map((c) => c.hash)).size, 3);
    assert.deepEqual(
      expandSweep({ ...base, sweep: { axes: { seed: [0, 1, 2] } } }).map((c) => c.hash),
      cells.map((c) => c.hash),
    );
    assert.match(cells[0].hash, /^[0-9a-f]{16}$/);
    const gpu = expandSweep({ ...base, sweep: { axes: { seed: [0, 1, 2] } } }, { backend: "webgpu" });
    assert.notEqual(gpu[0].hash, cells[0].hash, "the backend is part of a cell's identity");
  });
  it("rejects two cells with the same configuration", () => {
    assert.match(problems(() => expandSweep({ ...base, sweep: { axes: { seed: [1, 1] } } }))[0], /same configuration/);
  });
  it("deals shards round robin: disjoint, covering, deterministic", () => {
    const cells = Array.from({ length: 10 }, (_, index) => ({ index }));
    const shards = [1, 2, 3].map((k) => shardOf(cells, k, 3).map((c) => c.index));
    assert.deepEqual(shards, [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]);
    assert.throws(() => shardOf(cells, 4, 3), /--shard 4\/3/);
  });
  it("deepMerge merges objects and replaces everything else", () => {
    assert.deepEqual(deepMerge({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2] }, e: 2 }), {
      a: { b: 1, c: [2] },
      d: 1,
      e: 2,
    });
  });
});

describe("shipped experiments", () => {
  const dir = fileURLToPath(new URL("../../experiments/", import.meta.url));
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts") || f.endsWith(".json"))) {
    it(`${file} validates and expands, in full and quick`, async () => {
      const exp = await loadExperimentFile(dir + file);
      const full = expandSweep(exp, { source: file });
      const quick = expandSweep(exp, { source: file, quick: true });
      assert.ok(full.length > 0 && quick.length > 0 && quick.length <= full.length);
      assert.equal(full[0].config.experiment, (exp as { name: string }).name);
    });
  }
});
