// The experiments are listed from experiments/ at run time; each published row names the cells that answer it, and a
// row naming a variant the file does not have is an error, not an empty row.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answers, EXPERIMENTS, listExperiments } from "./reproduction.ts";

const base = {
  name: "demo",
  description: "demo",
  role: "reproduction",
  task: { name: "latch", params: { T: 20 } },
  model: { cell: "lstm", hiddenSize: 4 },
  sweep: { variants: { lstm: {}, rnn: { model: { cell: "rnn" } } } },
};

function withFile<T>(experiment: unknown, f: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "lstm-lab-experiments-"));
  writeFileSync(join(dir, "demo.json"), JSON.stringify(experiment));
  return f(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

describe("listing experiments", () => {
  it("lists every file of experiments/, gradient flow first, each with its role", () => {
    const names = EXPERIMENTS.map((e) => e.name);
    assert.equal(names.length, 13);
    assert.equal(names[0], "gradient-flow");
    assert.deepEqual(EXPERIMENTS.filter((e) => e.kind === "gradient-flow").map((e) => e.name), [
      "gradient-flow",
      "gradient-flow-cells",
    ]);
    assert.ok(names.includes("latch") && names.includes("temporal-order-pascanu"));
    assert.deepEqual(EXPERIMENTS.filter((e) => e.kind === "learnability").map((e) => e.name), ["adding-learnability"]);
  });
  it("refuses a published row that names a variant the file does not have, naming the path", async () => {
    const bad = {
      ...base,
      published: [{ T: 20, ours: { variants: ["lstm"] } }, { T: 20, ours: { variants: ["gru"] } }],
    };
    await withFile(
      bad,
      (dir) =>
        assert.rejects(
          listExperiments(dir),
          /published\[1\]\.ours\.variants: "gru" is not a variant of this experiment; expected one of "lstm", "rnn"/,
        ),
    );
  });
  it("requires a role, and validates ours like every other field", async () => {
    const { role: _r, ...noRole } = base;
    await withFile(noRole, (dir) => assert.rejects(listExperiments(dir), /role: missing/));
    const badOurs = { ...base, published: [{ T: 20, ours: { taskParams: { T: "20" } } }] };
    await withFile(
      badOurs,
      (dir) => assert.rejects(listExperiments(dir), /published\[0\]\.ours\.taskParams\.T: got "20", expected/),
    );
  });
});

describe("answers", () => {
  it("matches on the variants and the task parameters a row names, and nothing without ours", () => {
    const row = { T: 100, ours: { variants: ["lstm"], taskParams: { T: 100 } } };
    assert.equal(answers(row, { variant: "lstm", "task.params.T": 100 }), true);
    assert.equal(answers(row, { variant: "rnn", "task.params.T": 100 }), false);
    assert.equal(answers(row, { variant: "lstm", "task.params.T": 200 }), false);
    assert.equal(answers({ T: 100 }, { variant: "lstm", "task.params.T": 100 }), false);
    assert.equal(answers({ ours: {} }, { variant: "any" }), true);
  });
});
