/**
 * Lost notebook outputs: the gap detector the notebook runner relies on, and the committed notebooks themselves
 * (every numbered output present, so they read completely on GitHub).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { listNotebooks, lostDisplays } from "./notebooks.ts";

const out = (n: number) => ({ metadata: { "lstm-lab": { display: n } } });

describe("lostDisplays", () => {
  it("names each missing number and the cell it was missing before", () => {
    const nb = {
      cells: [
        { cell_type: "markdown" },
        { cell_type: "code", outputs: [out(1), out(2), {}, out(5)] }, // an unnumbered output (a log line) is fine
        { cell_type: "code", outputs: [] },
        { cell_type: "code", outputs: [out(7)] },
      ],
    };
    assert.deepEqual(lostDisplays(nb), [
      "display 3 (before cell 2)",
      "display 4 (before cell 2)",
      "display 6 (before cell 4)",
    ]);
  });

  it("is empty for consecutive numbers across cells, and for a notebook without numbered outputs", () => {
    assert.deepEqual(
      lostDisplays({
        cells: [{ cell_type: "code", outputs: [out(1)] }, { cell_type: "code", outputs: [out(2), out(3)] }],
      }),
      [],
    );
    assert.deepEqual(lostDisplays({ cells: [{ cell_type: "code", outputs: [{}] }] }), []);
  });
});

describe("committed notebooks", () => {
  for (const file of listNotebooks()) {
    const name = file.split("/").pop();
    it(`${name}: executed, numbered outputs, none lost`, () => {
      const nb = JSON.parse(readFileSync(file, "utf8"));
      const code = nb.cells.filter((c: { cell_type: string }) => c.cell_type === "code");
      const numbered = code.flatMap((c: { outputs: { metadata?: Record<string, unknown> }[] }) =>
        c.outputs.filter((o) => o.metadata?.["lstm-lab"] !== undefined)
      );
      assert.ok(numbered.length > 0, `${name} has no numbered outputs: rerun \`deno task notebooks\``);
      assert.deepEqual(lostDisplays(nb), []);
    });
  }
});
