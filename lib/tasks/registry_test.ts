// Every registered task: construction and parameter validation, batch shapes against inputSize/outputSize/readout,
// padding and loss masks, determinism, the criterion on perfect and wrong outputs, and the baseline's loss and
// accuracy measured with measureBaseline against the derived values, within sampling error.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lossAndGradient } from "../nn/loss.ts";
import { Rng } from "../rng.ts";
import type { ReberExtra } from "./embedded_reber.ts";
import { createTask, tasks } from "./registry.ts";
import { measureBaseline, type Task, type TaskBatch } from "./task.ts";

const NAMES = [
  "adding-1997",
  "adding",
  "multiplication",
  "temporal-order",
  "temporal-order-pascanu",
  "long-lag",
  "long-lag-distractors",
  "latch",
  "copy",
  "embedded-reber",
];

/** The steps of a sequence of length L that carry loss, per task (null: no mask, every row of a readout scored). */
const SCORED: Record<string, (L: number) => number[] | null> = {
  "adding-1997": (L) => [L - 1],
  adding: (L) => [L - 1],
  multiplication: (L) => [L - 1],
  "temporal-order": (L) => [L - 1],
  "temporal-order-pascanu": () => null,
  "long-lag": (L) => Array.from({ length: L - 1 }, (_, t) => t),
  "long-lag-distractors": (L) => [L - 2],
  latch: (L) => [L - 1],
  copy: () => null,
  "embedded-reber": (L) => Array.from({ length: L - 1 }, (_, t) => t),
};

/** Parameter sets exercised beyond the defaults. */
const VARIANTS: [string, Record<string, number | string>][] = [
  ["adding-1997", { T: 11 }],
  ["adding-1997", { T: 37 }],
  ["adding", { variant: "pascanu", T: 50 }],
  ["adding", { variant: "arjovsky", T: 7 }],
  ["multiplication", { T: 11 }],
  ["multiplication", { T: 51 }],
  ["temporal-order", { variant: "6b" }],
  ["temporal-order-pascanu", { T: 23 }],
  ["long-lag", { p: 5 }],
  ["long-lag", { p: 12, variant: "2b" }],
  ["long-lag-distractors", { q: 0, p: 1 }],
  ["long-lag-distractors", { q: 20, p: 7 }],
  ["latch", { T: 15, N: 15 }],
  ["copy", { T: 1 }],
  ["copy", { T: 37 }],
  ["embedded-reber", { split: "test", setSeed: 3 }],
];

function rows(task: Task, batch: TaskBatch): number {
  return task.readout === "last" ? batch.B : batch.T * batch.B;
}

/** Outputs meeting every criterion: the target itself, a confident logit, or (Reber) all legal symbols on top. */
function perfect(task: Task, batch: TaskBatch): Float32Array {
  const R = rows(task, batch), O = task.outputSize;
  const y = new Float32Array(R * O);
  for (let r = 0; r < R; r++) {
    if (task.loss === "mse") y[r] = batch.target[r];
    else if (task.loss === "bce") y[r] = batch.target[r] === 1 ? 20 : -20;
    else if (task.name === "embedded-reber") {
      const m = (batch.extra as ReberExtra).legal[r];
      for (let o = 0; o < O; o++) if ((m >> o) & 1) y[r * O + o] = 20;
    } else y[r * O + batch.target[r]] = 20;
  }
  return y;
}

/** Outputs failing every criterion: off by 0.5, the opposite logit, or confident in the wrong class. */
function wrong(task: Task, batch: TaskBatch): Float32Array {
  const R = rows(task, batch), O = task.outputSize;
  const y = new Float32Array(R * O);
  for (let r = 0; r < R; r++) {
    if (task.loss === "mse") y[r] = batch.target[r] + 0.5;
    else if (task.loss === "bce") y[r] = batch.target[r] === 1 ? -20 : 20;
    else y[r * O + (batch.target[r] + 1) % O] = 20;
  }
  return y;
}

function checkBatch(task: Task, batch: TaskBatch, B: number): void {
  const { T, x, target, mask, lengths } = batch;
  const I = task.inputSize, O = task.outputSize, R = rows(task, batch);
  assert.equal(batch.B, B);
  assert.equal(lengths.length, B);
  assert.equal(x.length, T * B * I);
  assert.equal(target.length, task.loss === "cross-entropy" ? R : R * O);
  assert.equal(Math.max(...lengths), T);
  assert.ok(T <= task.maxLength, `${task.name}: T = ${T} > maxLength ${task.maxLength}`);
  const scored = SCORED[task.name];
  for (let b = 0; b < B; b++) {
    const L = lengths[b];
    assert.ok(L >= 1 && L <= T);
    for (let t = L; t < T; t++) { // padding: inputs zero
      for (let i = 0; i < I; i++) assert.equal(x[(t * B + b) * I + i], 0, `${task.name}: x at padded step ${t}`);
    }
    const steps = scored(L);
    if (steps === null || task.readout === "last") {
      assert.ok(mask === undefined || mask === null, `${task.name}: no mask expected`);
      if (task.readout === "last") assert.equal(L, T, "readout last: all sequences full length");
      continue;
    }
    assert.ok(mask !== undefined && mask !== null && mask.length === R);
    const want = new Set(steps);
    for (let t = 0; t < T; t++) {
      assert.equal(mask[t * B + b], want.has(t) ? 1 : 0, `${task.name}: mask at t=${t} of a length-${L} sequence`);
    }
  }
  if (task.loss === "cross-entropy") {
    for (let r = 0; r < R; r++) assert.ok(Number.isInteger(target[r]) && target[r] >= 0 && target[r] < O);
  }
}

describe("task registry", () => {
  it("registers every task of the reference, each under its own name", () => {
    assert.deepEqual(Object.keys(tasks), NAMES);
    for (const [name, def] of Object.entries(tasks)) {
      assert.equal(def.name, name);
      assert.deepEqual(Object.keys(def.paramDocs).sort(), Object.keys(def.defaults).sort(), `${name}: paramDocs`);
      assert.ok(def.description.length > 0);
    }
  });

  it("an unknown task name is a RangeError listing the registered names", () => {
    assert.throws(() => createTask("adding-2000"), {
      name: "RangeError",
      message: `unknown task "adding-2000"; registered: ${NAMES.join(", ")}`,
    });
  });

  it("every task rejects an unknown parameter, naming it and listing the allowed ones", () => {
    for (const name of NAMES) {
      const allowed = Object.keys(tasks[name].defaults).join(", ");
      assert.throws(() => createTask(name, { bogus: 1 }), {
        name: "RangeError",
        message: `${name}: unknown parameter "bogus"; allowed: ${allowed}`,
      });
    }
  });

  it("bad values are RangeErrors naming the parameter, the value and what is allowed", () => {
    const cases: [string, Record<string, number | string | boolean>, string][] = [
      ["adding-1997", { T: -5 }, "adding-1997: T = -5, expected an integer ≥ 11"],
      ["adding-1997", { T: 100.5 }, "adding-1997: T = 100.5, expected an integer ≥ 11"],
      ["adding-1997", { T: "100" }, 'adding-1997: T = "100", expected an integer ≥ 11'],
      ["adding", { variant: "le" }, 'adding: variant = "le", expected one of "arjovsky", "pascanu"'],
      ["adding", { variant: "pascanu", T: 9 }, "adding: T = 9, expected an integer ≥ 10"],
      ["adding", { T: 1 }, "adding: T = 1, expected an integer ≥ 2"],
      ["multiplication", { T: 10 }, "multiplication: T = 10, expected an integer ≥ 11"],
      ["temporal-order", { variant: "6c" }, 'temporal-order: variant = "6c", expected one of "6a", "6b"'],
      ["temporal-order-pascanu", { T: true }, "temporal-order-pascanu: T = true, expected an integer ≥ 10"],
      ["long-lag", { p: 1 }, "long-lag: p = 1, expected an integer ≥ 2"],
      ["long-lag", { variant: "2c" }, 'long-lag: variant = "2c", expected one of "2a", "2b"'],
      ["long-lag-distractors", { q: -1 }, "long-lag-distractors: q = -1, expected an integer ≥ 0"],
      ["long-lag-distractors", { p: 0 }, "long-lag-distractors: p = 0, expected an integer ≥ 1"],
      ["latch", { T: 0 }, "latch: T = 0, expected an integer ≥ 1"],
      ["latch", { N: 101 }, "latch: N = 101, expected an integer in [1, 100]"],
      ["copy", { T: 0 }, "copy: T = 0, expected an integer ≥ 1"],
      ["embedded-reber", { split: "dev" }, 'embedded-reber: split = "dev", expected one of "train", "test"'],
      ["embedded-reber", { setSeed: -1 }, "embedded-reber: setSeed = -1, expected an integer ≥ 0"],
    ];
    for (const [name, params, message] of cases) {
      assert.throws(() => createTask(name, params), { name: "RangeError", message });
    }
  });

  it("every task constructs with its defaults and states what it is", () => {
    for (const name of NAMES) {
      const task = createTask(name);
      assert.equal(task.name, name);
      assert.deepEqual(Object.keys(task.params).sort(), Object.keys(tasks[name].defaults).sort());
      for (const [k, v] of Object.entries(tasks[name].defaults)) assert.equal(task.params[k], v);
      for (const field of ["lossSteps", "criterion", "reference"] as const) assert.ok(task[field].length > 0);
      assert.ok(task.baseline.description.length > 0);
      assert.ok(Number.isFinite(task.baseline.loss) && task.baseline.loss > 0);
      assert.ok(Number.isInteger(task.inputSize) && task.inputSize > 0);
      assert.ok(Number.isInteger(task.outputSize) && task.outputSize > 0);
    }
  });

  for (
    const [name, params] of [...NAMES.map((n) => [n, {}] as [string, Record<string, number | string>]), ...VARIANTS]
  ) {
    const label = `${name} ${JSON.stringify(params)}`;
    it(`${label}: shapes, padding and masks, determinism, criterion`, () => {
      const task = createTask(name, params);
      const B = 7;
      const batch = task.batch(new Rng(11), B);
      checkBatch(task, batch, B);
      const again = task.batch(new Rng(11), B);
      assert.deepEqual(again, batch, "same rng state, same batch");
      if (name !== "long-lag" || params.variant === "2b") {
        assert.notDeepEqual(task.batch(new Rng(12), B), batch, "another rng state, another batch");
      }
      const R = rows(task, batch), O = task.outputSize;
      const base = task.baseline.outputs(batch);
      assert.equal(base.length, R * O);
      assert.deepEqual(Array.from(task.correct(perfect(task, batch), batch)), new Array(B).fill(1), "perfect");
      assert.deepEqual(Array.from(task.correct(wrong(task, batch), batch)), new Array(B).fill(0), "wrong");
      assert.throws(() => task.correct(new Float32Array(R * O - 1), batch), RangeError);
      const y64 = Float64Array.from(perfect(task, batch)); // Arr outputs in double precision too
      assert.deepEqual(Array.from(task.correct(y64, batch)), new Array(B).fill(1));
    });
  }
});

describe("baselines: measured (measureBaseline) against derived", () => {
  // Tolerance: 4 standard errors of the mean of per-batch losses (and of the binomial accuracy), plus 1e-12
  // relative for rounding; the tasks whose baseline loss does not vary (CE with exact probabilities) must match to
  // rounding.
  const cases: [string, Record<string, number | string>, number, number][] = [
    ["adding-1997", {}, 16, 256],
    ["adding-1997", { T: 11 }, 32, 256],
    ["adding-1997", { T: 23 }, 32, 256],
    ["adding", {}, 16, 256],
    ["adding", { T: 10 }, 32, 256],
    ["adding", { variant: "pascanu" }, 16, 256],
    ["multiplication", {}, 16, 256],
    ["multiplication", { T: 11 }, 32, 256],
    ["temporal-order", {}, 2, 64],
    ["temporal-order", { variant: "6b" }, 2, 64],
    ["temporal-order-pascanu", {}, 16, 256],
    ["long-lag", { p: 20 }, 2, 16],
    ["long-lag", { p: 20, variant: "2b" }, 2, 16],
    ["long-lag-distractors", {}, 2, 64],
    ["latch", {}, 2, 64],
    ["copy", {}, 2, 32],
    ["copy", { T: 500 }, 1, 8],
    ["embedded-reber", {}, 32, 128],
    ["embedded-reber", { split: "test" }, 32, 128],
    ["embedded-reber", { setSeed: 5 }, 32, 128],
  ];
  for (const [name, params, n, B] of cases) {
    it(`${name} ${JSON.stringify(params)}: ${n} × ${B} sequences`, () => {
      const task = createTask(name, params);
      const m = measureBaseline(task, new Rng(2024), n, B);
      // The same batches again, for the per-batch spread.
      const rng = new Rng(2024);
      const losses: number[] = [];
      for (let i = 0; i < n; i++) {
        const batch = task.batch(rng, B);
        const y = task.baseline.outputs(batch);
        losses.push(
          lossAndGradient(task.loss, rows(task, batch), task.outputSize, y, batch.target, batch.mask ?? null, null),
        );
      }
      const mean = losses.reduce((a, b) => a + b, 0) / n;
      assert.ok(Math.abs(mean - m.loss) <= 1e-12 * mean);
      const sd = n > 1 ? Math.sqrt(losses.reduce((a, l) => a + (l - mean) * (l - mean), 0) / (n - 1)) : 0;
      const tol = 4 * sd / Math.sqrt(n) + 1e-12 * task.baseline.loss;
      assert.ok(
        Math.abs(m.loss - task.baseline.loss) <= tol,
        `${name}: measured loss ${m.loss}, derived ${task.baseline.loss}, tolerance ${tol}`,
      );
      const a = task.baseline.accuracy!;
      const atol = 4 * Math.sqrt(a * (1 - a) / (n * B)) + 1e-12;
      assert.ok(Math.abs(m.accuracy - a) <= atol, `${name}: measured accuracy ${m.accuracy}, derived ${a} ± ${atol}`);
    });
  }

  it("published values: adding-1997 ≈ 1/24 and ≈ 15%, two-channel 0.167, copy 10 ln 8 / (T + 20), PMB13 ln 4", () => {
    const a97 = createTask("adding-1997").baseline;
    assert.ok(Math.abs(a97.loss - 1 / 24) < 0.003 && Math.abs(a97.accuracy! - 0.15) < 0.01);
    assert.equal(createTask("adding").baseline.loss.toFixed(3), "0.167");
    for (const [T, published] of [[100, "0.173"], [200, "0.0945"], [300, "0.065"], [500, "0.040"]] as const) {
      const loss = createTask("copy", { T }).baseline.loss;
      assert.equal(loss.toFixed(published.length - 2), published, `copy T=${T}`);
    }
    assert.equal(createTask("temporal-order-pascanu").baseline.loss.toFixed(3), "1.386");
  });
});
