// deno-lint-ignore-file no-explicit-any -- the cases mutate an experiment freely, as a hostile file would
// A battery of malformed experiment files, written into a temporary folder by this test: every one is rejected
// cleanly by the CLI: exit code ≠ 0, exactly one line on stderr that names the file, the field path, the value
// found and what is allowed (or, for a file that is not an experiment at all, what is wrong with it), no stack
// trace, and nothing written. Each file is run alone through `main` (its exit code) and all of them in one real CLI
// process of the runtime running the tests (its stderr, line by line). Classes: duplicate keys (JSON and TS), sizes
// beyond the limits, files that are not experiments, missing/unknown/ill-typed fields, bad values in the quick
// profile, the variants and the axes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { main } from "./cli.ts";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));
const IS_DENO = (globalThis as { Deno?: unknown }).Deno !== undefined;

/** A valid experiment: every case below breaks it in one place. */
function base(): Record<string, any> {
  return {
    name: "battery",
    description: "a valid experiment that each case breaks in one place",
    task: { name: "adding", params: { T: 20 } },
    model: { cell: "lstm", hiddenSize: 4 },
    training: { optimizer: { name: "adam", lr: 0.01 }, batchSize: 8, maxSequences: 64 },
    measure: { testSequences: 16 },
    sweep: { axes: { seed: [0, 1] }, variants: { lstm: {}, rnn: { model: { cell: "rnn" } } } },
    quick: { training: { maxSequences: 32 }, sweep: { axes: { seed: [0] } } },
  };
}

/** A case: a file name, its content, and what its one line must say after `<file>: `. */
interface Case {
  name: string;
  content: string | Uint8Array | null; // null: no file (a missing path); "DIR": a directory
  expect: RegExp;
}

const cases: Case[] = [];
/** A mutation of the base experiment, written both as JSON and as a TS module. */
function data(name: string, mutate: (e: Record<string, any>) => unknown, expect: RegExp, only?: "json" | "ts") {
  const e = base();
  const value = mutate(e) ?? e;
  if (only !== "ts") cases.push({ name: `${name}.json`, content: JSON.stringify(value, null, 1), expect });
  if (only !== "json") {
    cases.push({ name: `${name}.ts`, content: `export default ${JSON.stringify(value, null, 1)};\n`, expect });
  }
}
/** A case with a raw TS source built from the base (`$` stands for the base's JSON). */
function ts(name: string, source: string, expect: RegExp) {
  cases.push({ name: `${name}.ts`, content: source.replace("$", JSON.stringify(base())), expect });
}
function raw(name: string, content: Case["content"], expect: RegExp) {
  cases.push({ name, content, expect });
}

// 1. Keys written twice (JSON: detected while parsing; TS: in the module's source).
const dupJson = (inner: string) => JSON.stringify(base()).replace('"lstm":{}', inner);
raw(
  "dup_variant.json",
  dupJson('"lstm":{},"lstm":{"model":{"cell":"rnn"}}'),
  /^sweep\.variants\.lstm: key written twice/,
);
raw(
  "dup_toplevel.json",
  JSON.stringify(base()).replace('{"name":"battery"', '{"name":"battery","name":"x"'),
  /^name: key written twice/,
);
raw(
  "dup_model.json",
  JSON.stringify(base()).replace('"hiddenSize":4', '"hiddenSize":4,"hiddenSize":8'),
  /^model\.hiddenSize: key written twice/,
);
raw(
  "dup_quick.json",
  JSON.stringify(base()).replace('"maxSequences":32', '"maxSequences":32,"maxSequences":16'),
  /^quick\.training\.maxSequences: key written twice/,
);
raw(
  "dup_axes.json",
  JSON.stringify(base()).replace('"seed":[0,1]', '"seed":[0,1],"seed":[2]'),
  /^sweep\.axes\.seed: key written twice/,
);
const tsSource = `import type { Experiment } from "./nothing.ts";
export default {
  name: "battery",
  description: "duplicates", // a comment with { braces } and "quotes",
  task: { name: "adding", params: { T: 20 } },
  model: { cell: "lstm", hiddenSize: 4 },
  training: { optimizer: { name: "adam", lr: 0.01 }, maxSequences: 64 },
  sweep: {
    variants: { lstm: {}, "rnn": { model: { cell: "rnn" } } },
    axes: { seed: [0, 1] },
  },
  quick: { training: { maxSequences: 32 } },
} satisfies Experiment;
`;
raw(
  "dup_variant.ts",
  tsSource.replace(`"rnn": {`, `lstm: {`),
  /^sweep\.variants\.lstm: key written twice \(line 9, first at line 9\)/,
);
raw(
  "dup_variant_quoted.ts",
  tsSource.replace(`lstm: {}, "rnn"`, `"rnn": {}, "rnn"`),
  /^sweep\.variants\.rnn: key written twice/,
);
raw(
  "dup_toplevel.ts",
  tsSource.replace(`  model:`, `  name: "again",\n  model:`),
  /^name: key written twice \(line 6, first at line 3\)/,
);
raw(
  "dup_training.ts",
  tsSource.replace(`maxSequences: 64`, `maxSequences: 64, maxSequences: 1`),
  /^training\.maxSequences: key written twice/,
);
raw(
  "dup_quick.ts",
  tsSource.replace(`maxSequences: 32`, `maxSequences: 32, maxSequences: 3`),
  /^quick\.training\.maxSequences: key written twice/,
);
raw(
  "dup_multiline.ts",
  tsSource.replace(`    axes:`, `    variants: {},\n    axes:`),
  /^sweep\.variants: key written twice \(line 10, first at line 9\)/,
);

// 5. Sizes beyond the limits, and sweeps too large.
data(
  "huge_hidden",
  (e) => void (e.model.hiddenSize = 1e9),
  /^model\.hiddenSize: got 1000000000, expected a positive integer ≤ 8192$/,
);
data(
  "huge_layers",
  (e) => void (e.model.numLayers = 30000),
  /^model\.numLayers: got 30000, expected a positive integer ≤ 64$/,
);
data(
  "huge_batch",
  (e) => void (e.training.batchSize = 1e12),
  /^training\.batchSize: got 1000000000000, expected a positive integer ≤ 65536$/,
);
data(
  "huge_budget",
  (e) => void (e.training.maxSequences = 1e300),
  /^training\.maxSequences: got 1e\+300, expected a positive integer ≤ 1e9$/,
);
data(
  "huge_test",
  (e) => void (e.measure.testSequences = 1e12),
  /^measure\.testSequences: got 1000000000000, expected an integer in \[0, 10000000\]$/,
);
data(
  "huge_flow_batch",
  (e) => void (e.measure.gradientFlow = { at: ["init"], batchSize: 1e9 }),
  /^measure\.gradientFlow\.batchSize: got 1000000000, expected a positive integer ≤ 65536$/,
);
data(
  "huge_T",
  (e) => void (e.task.params.T = 1e12),
  /^cell "lstm seed=0": task\.params\.T: got 1000000000000, expected .* \(task "adding"\)$|^cell "lstm seed=0": task\.params: sequences of 1000000000000 steps, expected at most 1000000$/,
);
data(
  "huge_memory",
  (e) => void Object.assign(e.model, { hiddenSize: 8192, numLayers: 4 }),
  /^cell "lstm seed=0": needs about [\d.]+ GiB .*expected at most 4\.00 GiB per cell/,
);
data(
  "huge_memory_T",
  (e) => void (e.task.params.T = 200_000, e.model.hiddenSize = 2048),
  /^cell "lstm seed=0": needs about [\d.]+ GiB .*T 200000.*expected at most 4\.00 GiB/,
);
data(
  "huge_sweep",
  (e) => void (e.sweep.axes = { seed: range(200), lr: range(200).map((i) => (i + 1) / 1000) }),
  /^sweep: got 80000 cells \(variants: 2, seed: 200, lr: 200\), expected at most 10000 per run; .*--max-cells$/,
);
ts(
  "huge_sweep_generated",
  `const e = $; e.sweep.axes = { seed: Array.from({ length: 10000 }, (_, i) => i), lr: Array.from({ length: 1000 }, (_, i) => (i + 1) / 1e4) }; export default e;`,
  /^sweep: got 20000000 cells/,
);
data(
  "huge_seed",
  (e) => void (e.sweep.axes.seed = [2 ** 60]),
  /^cell "lstm seed=1152921504606847000": sweep\.axes\.seed \(seed\): got 1152921504606847000, expected an integer in \[0, 9007199254740991\]$/,
);
data(
  "huge_every",
  (e) => void (e.training.stop = { kind: "evaluate", every: 1e12, threshold: 0.9 }),
  /^training\.stop\.every: got 1000000000000, expected a positive integer ≤ 1e9$/,
);
data(
  "huge_window",
  (e) => void (e.training.stop = { kind: "accuracy", threshold: 0.9, window: 1e12 }),
  /^training\.stop\.window: got 1000000000000, expected a positive integer ≤ 10000000$/,
);

// 6. Files that are not experiments.
raw("empty.json", "", /^empty file, expected an experiment$/);
raw("empty.ts", "", /^empty file, expected an experiment$/);
raw("blank.json", "  \n\n\t \n", /^empty file, expected an experiment$/);
raw(
  "binary.json",
  new Uint8Array([0x7b, 0xff, 0xfe, 0x00, 0x01, 0x80, 0x7d]),
  /^not UTF-8 text \(a binary file\?\), expected an experiment file$/,
);
raw(
  "binary.ts",
  new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0xc3, 0x28, 0x00]),
  /^not UTF-8 text \(a binary file\?\), expected an experiment file$/,
);
raw("nul.json", "{\u0000}", /^contains NUL bytes \(a binary file\?\), expected text$/);
raw(
  "bom_bad.json",
  "\ufeff" + JSON.stringify({ ...base(), name: "Bad Name" }),
  /^name: got "Bad Name", expected lower-case letters, digits and dashes$/,
);
raw(
  "syntax_trailing_comma.json",
  '{"name": "x",}',
  /^JSON syntax error at line 1, column 14: expected a key in double quotes, found "}"$/,
);
raw(
  "syntax_single_quotes.json",
  "{'name': 'x'}",
  /^JSON syntax error at line 1, column 2: expected a key in double quotes, found "'name': 'x'}"$/,
);
raw(
  "syntax_unquoted_key.json",
  '{\n  name: "x"\n}',
  /^JSON syntax error at line 2, column 3: expected a key in double quotes/,
);
raw(
  "syntax_unclosed.json",
  '{"name": "x"',
  /^JSON syntax error at line 1, column 13: expected "," or "}", found the end of the file$/,
);
raw("syntax_comment.json", '// c\n{"name": "x"}', /^JSON syntax error at line 1, column 1: expected a value/);
raw("syntax_nan.json", '{"name": NaN}', /^JSON syntax error at line 1, column 10: expected a value/);
raw(
  "syntax_trailing_text.json",
  '{"name": "x"} extra',
  /^JSON syntax error at line 1, column 15: unexpected "extra" after the document$/,
);
raw("syntax_raw_newline.json", '{"name": "a\nb"}', /^JSON syntax error at line 1, column 12: a control character/);
raw(
  "syntax_bad_escape.json",
  '{"name": "a\\qb"}',
  /^JSON syntax error at line 1, column 12: invalid escape in a string$/,
);
raw(
  "syntax_error.ts",
  "export default { name: 'x', description: };\n",
  /^cannot load the module: .*(Expression expected|Unexpected|SyntaxError).*$/,
);
raw("syntax_unclosed.ts", "export default { name: 'x'\n", /^cannot load the module: .*$/);
raw("null.json", "null", /^\(top level\): got null, expected an object/);
raw("array.json", "[1, 2]", /^\(top level\): got \[1,2\], expected an object/);
raw("string.json", '"experiment"', /^\(top level\): got "experiment", expected an object/);
raw("number.json", "42", /^\(top level\): got 42, expected an object/);
raw("null.ts", "export default null;\n", /^\(top level\): got null, expected an object/);
raw("array.ts", "export default [1];\n", /^\(top level\): got \[1\], expected an object/);
raw("string.ts", 'export default "latch";\n', /^\(top level\): got "latch", expected an object/);
raw(
  "no_default.ts",
  `export const experiment = ${JSON.stringify(base())};\n`,
  /^no default export; an experiment module must `export default/,
);
raw("undefined_default.ts", "export default undefined;\n", /^no default export/);
raw("missing_file.json", null, /^no such experiment file \(ENOENT\)$/);
raw("a_directory.json", "DIR", /^is a directory, expected an experiment file \(\.ts, \.js, \.mjs, \.json\)$/);
raw("wrong_extension.yaml", "name: x\n", /^extension "\.yaml", expected one of \.ts, \.js, \.mjs, \.json$/);
raw("too_large.json", " ".repeat((1 << 20) + 10) + "{}", /^1048588 bytes, expected at most 1048576/);
ts(
  "getter_throws",
  `const e = $; export default { ...e, get model() { throw new Error("no model today"); } };`,
  /^model: reading it threw \(no model today\), expected data$/,
);
ts(
  "getter_throws_nested",
  `const e = $; Object.defineProperty(e.training, "batchSize", { enumerable: true, get() { throw new TypeError("boom"); } }); export default e;`,
  /^training\.batchSize: reading it threw \(boom\), expected data$/,
);
ts(
  "function_value",
  `const e = $; e.model.hiddenSize = () => 4; export default e;`,
  /^model\.hiddenSize: got a function, expected data/,
);
ts(
  "function_default",
  `export default function experiment() { return 1; }`,
  /^\(top level\): got a function, expected data/,
);
ts(
  "class_instance",
  `const e = $; e.training.optimizer = new Map(); export default e;`,
  /^training\.optimizer: got an instance of Map, expected data/,
);
ts(
  "date_value",
  `const e = $; e.description = new Date(0); export default e;`,
  /^description: got an instance of Date, expected data/,
);
ts(
  "cycle",
  `const e = $; e.sweep.variants.lstm.self = e.sweep.variants.lstm; export default e;`,
  /^sweep\.variants\.lstm\.self: got a cycle/,
);
ts(
  "bigint_value",
  `const e = $; e.model.hiddenSize = 4n; export default e;`,
  /^model\.hiddenSize: got a bigint, expected data/,
);
ts("symbol_value", `const e = $; e.name = Symbol("x"); export default e;`, /^name: got a symbol, expected data/);
ts(
  "throws_on_load",
  `throw new Error("this module refuses to load");`,
  /^cannot load the module: this module refuses to load$/,
);
ts("throws_type_error", `const e: any = undefined; export default e.name;`, /^cannot load the module: TypeError: /);
ts(
  "missing_import",
  `import x from "./no_such_module.ts"; export default x;`,
  /^cannot load the module: .*no_such_module/,
);
ts(
  "name_number_ts",
  `const e = $; e.name = 123; export default e;`,
  /^name: got 123, expected a string$|^name: got 123, expected lower-case letters, digits and dashes$/,
);

// 7. Messages: missing, unknown and ill-typed fields at the right path.
data(
  "name_number",
  (e) => void (e.name = 123),
  /^name: got 123, expected (a string|lower-case letters, digits and dashes)$/,
);
data(
  "name_upper",
  (e) => void (e.name = "Battery"),
  /^name: got "Battery", expected lower-case letters, digits and dashes$/,
);
data("missing_description", (e) => void delete e.description, /^description: missing, expected a string$/);
data("missing_name", (e) => void delete e.name, /^name: missing, expected lower-case letters, digits and dashes$/);
data("missing_task", (e) => void delete e.task, /^task: missing, expected an object \(name, params\)$/);
data(
  "missing_model",
  (e) => void delete e.model,
  /^model: missing, expected an object \(cell, variant, peepholes, hiddenSize, numLayers, init, dtype\)$/,
);
data("missing_cell", (e) => void delete e.model.cell, /^model\.cell: missing, expected "lstm" \| "rnn" \| "gru"$/);
data(
  "missing_budget",
  (e) => void delete e.training.maxSequences,
  /^training\.maxSequences: missing, expected a positive integer ≤ 1e9$/,
);
data(
  "missing_lr",
  (e) => void delete e.training.optimizer.lr,
  /^training\.optimizer\.lr: missing, expected a number > 0$/,
);
data("description_number", (e) => void (e.description = 5), /^description: got 5, expected a string$/);
data(
  "hidden_string",
  (e) => void (e.model.hiddenSize = "8"),
  /^model\.hiddenSize: got "8", expected a positive integer ≤ 8192$/,
);
data(
  "hidden_fraction",
  (e) => void (e.model.hiddenSize = 4.5),
  /^model\.hiddenSize: got 4\.5, expected a positive integer ≤ 8192$/,
);
data(
  "hidden_zero",
  (e) => void (e.model.hiddenSize = 0),
  /^model\.hiddenSize: got 0, expected a positive integer ≤ 8192$/,
);
data("cell_lru", (e) => void (e.model.cell = "lru"), /^model\.cell: got "lru", expected "lstm" \| "rnn" \| "gru"$/);
data(
  "cell_variant_unknown",
  (e) => void (e.model.variant = "CIFGG"),
  /^model\.variant: got "CIFGG", expected "NP" \| "vanilla" \| "NIG" \| "NFG" \| "NOG" \| "NIAF" \| "NOAF" \| "CIFG"$/,
);
data(
  "cell_variant_fgr",
  (e) => void (e.model.variant = "FGR"),
  /^model\.variant: got "FGR", expected "NP" \| "vanilla" \| .* \| "CIFG"$/,
);
data(
  "cell_variant_on_gru",
  (e) => void Object.assign(e.model, { cell: "gru", variant: "CIFG" }),
  /^cell "lstm seed=0": model\.variant: got "CIFG", expected no variant: only cell "lstm" has options \(this cell is "gru"\)$/,
);
data(
  "cell_peepholes_string",
  (e) => void (e.model.peepholes = "yes"),
  /^model\.peepholes: got "yes", expected true or false$/,
);
data(
  "cell_peepholes_on_rnn",
  (e) => void Object.assign(e.model, { cell: "rnn", peepholes: true }),
  /^cell "lstm seed=0": model\.peepholes: got true, expected no peepholes: only cell "lstm" has options \(this cell is "rnn"\)$/,
);
data(
  "dtype_half",
  (e) => void (e.model.dtype = "float16"),
  /^model\.dtype: got "float16", expected "float32" \| "float64"$/,
);
data("lr_zero", (e) => void (e.training.optimizer.lr = 0), /^training\.optimizer\.lr: got 0, expected a number > 0$/);
raw(
  "lr_huge.json",
  JSON.stringify(base()).replace('"lr":0.01', '"lr":1e400'),
  /^training\.optimizer\.lr: got Infinity, expected a number > 0$/,
);
ts(
  "lr_nan",
  `const e = $; e.training.optimizer.lr = NaN; export default e;`,
  /^training\.optimizer\.lr: got NaN, expected a number > 0$/,
);
ts(
  "lr_infinity",
  `const e = $; e.training.optimizer.lr = -Infinity; export default e;`,
  /^training\.optimizer\.lr: got -Infinity, expected a number > 0$/,
);
data(
  "optimizer_name",
  (e) => void (e.training.optimizer.name = "adamx"),
  /^training\.optimizer\.name: got "adamx", expected .*"sgd".*"rmsprop".*"adam"/,
);
data(
  "optimizer_unknown_key",
  (e) => void (e.training.optimizer.beta1 = 0.9),
  /^training\.optimizer\.beta1: unknown key, expected one of name, lr, betas, eps, weightDecay$/,
);
data(
  "sgd_unknown_key",
  (e) => void (e.training.optimizer = { name: "sgd", lr: 0.1, betas: [0.9, 0.99] }),
  /^training\.optimizer\.betas: unknown key, expected one of name, lr, momentum, nesterov, weightDecay$/,
);
data(
  "momentum_one",
  (e) => void (e.training.optimizer = { name: "sgd", lr: 0.1, momentum: 1 }),
  /^training\.optimizer\.momentum: got 1, expected a number in \[0, 1\)$/,
);
data(
  "betas_bad",
  (e) => void (e.training.optimizer.betas = [2, 0.9]),
  /^training\.optimizer\.betas\[0\]: got 2, expected a number in \[0, 1\)$/,
);
data("clip_negative", (e) => void (e.training.clipNorm = -1), /^training\.clipNorm: got -1, expected a number > 0$/);
data(
  "stop_kind",
  (e) => void (e.training.stop = { kind: "bogus" }),
  /^training\.stop\.kind: got "bogus", expected .*"st3"/,
);
data(
  "stop_unknown_key",
  (e) => void (e.training.stop = { kind: "never", after: 3 }),
  /^training\.stop\.after: unknown key, expected one of kind$/,
);
data(
  "unknown_toplevel",
  (e) => void (e.modle = {}),
  /^modle: unknown key, expected one of name, description, reference, role, published, task, model, training, measure, seed, sweep, quick$/,
);
data(
  "unknown_model_key",
  (e) => void (e.model.layers = 2),
  /^model\.layers: unknown key, expected one of cell, variant, peepholes, hiddenSize, numLayers, init, dtype$/,
);
data(
  "unknown_training_key",
  (e) => void (e.training.epochs = 2),
  /^training\.epochs: unknown key, expected one of optimizer, batchSize, maxSequences, clipNorm, clipValue, truncate, stop, logEvery$/,
);
data(
  "unknown_measure_key",
  (e) => void (e.measure.gradients = true),
  /^measure\.gradients: unknown key, expected one of gradientFlow, testSequences$/,
);
data(
  "unknown_sweep_key",
  (e) => void (e.sweep.grid = {}),
  /^sweep\.grid: unknown key, expected one of axes, variants, pair$/,
);
data("backend_in_file", (e) => void (e.backend = "webgpu"), /^backend: unknown key, expected one of name,/);
data("seed_negative", (e) => void (e.seed = -1), /^seed: got -1, expected an integer in \[0, 9007199254740991\]$/);
data("seed_fraction", (e) => void (e.seed = 0.5), /^seed: got 0\.5, expected an integer in \[0, 9007199254740991\]$/);
data("reference_number", (e) => void (e.reference = 1997), /^reference: got 1997, expected a string$/);
data("published_object", (e) => void (e.published = { T: 100 }), /^published: got \{"T":100\}, expected a list$/);
data(
  "flow_at",
  (e) => void (e.measure.gradientFlow = { at: ["middle"] }),
  /^measure\.gradientFlow\.at\[0\]: got "middle", expected/,
);
data(
  "task_name",
  (e) => void (e.task.name = "addding"),
  /^cell "lstm seed=0": task\.name: got "addding", expected one of .*adding/,
);
data(
  "task_param_unknown",
  (e) => void (e.task.params.lenght = 5),
  /^cell "lstm seed=0": task\.params\.lenght: unknown key, expected one of T.* \(task "adding"\)$/,
);
data(
  "task_param_bad",
  (e) => void (e.task.params.T = 0),
  /^cell "lstm seed=0": task\.params\.T: got 0, expected an integer ≥ 2 \(task "adding"\)$/,
);
data("task_params_list", (e) => void (e.task.params = [20]), /^task\.params: got \[20\], expected an object$/);
data(
  "axis_unknown",
  (e) => void (e.sweep.axes.depth = [1, 2]),
  /^sweep\.axes\.depth: unknown axis; use a path into the cell/,
);
data("axis_empty", (e) => void (e.sweep.axes.seed = []), /^sweep\.axes\.seed: got \[\], expected a non-empty list$/);
data("axis_not_list", (e) => void (e.sweep.axes.seed = 3), /^sweep\.axes\.seed: got 3, expected a non-empty list$/);
data(
  "axis_bad_value",
  (e) => void (e.sweep.axes.hiddenSize = [4, -4]),
  /^cell "lstm seed=0 hiddenSize=-4": sweep\.axes\.hiddenSize \(model\.hiddenSize\): got -4, expected a positive integer ≤ 8192$/,
);
data(
  "axis_seed_string",
  (e) => void (e.sweep.axes.seed = ["0"]),
  /^cell "lstm seed=\\?"0\\?"": sweep\.axes\.seed \(seed\): got "0", expected an integer in/,
);
data(
  "pair_unequal",
  (e) => void (e.sweep.axes.lr = [0.1, 0.2, 0.3], e.sweep.pair = [["seed", "lr"]]),
  /^sweep\.pair\.0: paired axes need equal lengths, got seed: 2, lr: 3$/,
);
data("pair_unknown", (e) => void (e.sweep.pair = [["seed", "lr"]]), /^sweep\.pair\.0: "lr" is not an axis$/);
data(
  "variants_empty",
  (e) => void (e.sweep.variants = {}),
  /^sweep\.variants: got \{\}, expected at least one variant$/,
);
data(
  "variant_not_object",
  (e) => void (e.sweep.variants.rnn = "rnn"),
  /^sweep\.variants\.rnn: got "rnn", expected an object$/,
);
data(
  "variant_unknown_key",
  (e) => void (e.sweep.variants.rnn = { modle: { cell: "rnn" } }),
  /^cell "rnn seed=0": sweep\.variants\.rnn\.modle: unknown key, expected one of experiment, variant, task, model/,
);
data(
  "variant_bad_value",
  (e) => void (e.sweep.variants.rnn = { model: { cell: "lru" } }),
  /^cell "rnn seed=0": sweep\.variants\.rnn\.model\.cell: got "lru", expected "lstm" \| "rnn" \| "gru"$/,
);
data(
  "cells_same_config",
  (e) => void (e.sweep.axes.seed = [0, 0]),
  /^cells "lstm seed=0" and "lstm seed=0" have the same configuration$/,
);
data(
  "quick_budget",
  (e) => void (e.quick.training.maxSequences = -1),
  /^quick\.training\.maxSequences: got -1, expected a positive integer ≤ 1e9$/,
);
data(
  "quick_unknown_key",
  (e) => void (e.quick.modle = {}),
  /^quick\.modle: unknown key, expected one of name, description/,
);
data("quick_not_object", (e) => void (e.quick = 5), /^quick: got 5, expected an object \(overrides\)$/);
data(
  "quick_axis_bad",
  (e) => void (e.quick.sweep.axes.seed = [-1]),
  /^cell "lstm seed=-1": sweep\.axes\.seed \(seed\): got -1, expected an integer in/,
);
data(
  "quick_model_bad",
  (e) => void (e.quick.model = { hiddenSize: 0 }),
  /^quick\.model\.hiddenSize: got 0, expected a positive integer ≤ 8192$/,
);

// 8. Initialisation: a negative gain and unknown keys.
data(
  "init_gain_negative",
  (e) => void (e.model.init = { gain: -1 }),
  /^model\.init\.gain: got -1, expected a finite number > 0$/,
);
data(
  "init_unknown_key",
  (e) => void (e.model.init = { forget: 1 }),
  /^model\.init\.forget: unknown key, expected one of inputWeights, recurrentWeights, gain, bias, forgetBias, readout$/,
);
data(
  "init_scheme",
  (e) => void (e.model.init = { recurrentWeights: "bogus" }),
  /^model\.init\.recurrentWeights: got "bogus", expected/,
);
data(
  "init_radius",
  (e) => void (e.model.init = { recurrentWeights: { spectralRadius: -1 } }),
  /^model\.init\.recurrentWeights\.spectralRadius: got -1, expected a number ≥ 0$/,
);
data(
  "init_radius_key",
  (e) => void (e.model.init = { recurrentWeights: { spectralRadius: 1, kind: "x" } }),
  /^model\.init\.recurrentWeights\.kind: unknown key, expected one of spectralRadius, base$/,
);
ts(
  "init_forget_nan",
  `const e = $; e.model.init = { forgetBias: NaN }; export default e;`,
  /^model\.init\.forgetBias: got NaN, expected a finite number$/,
);

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function writeBattery(dir: string): string[] {
  const files: string[] = [];
  for (const c of cases) {
    const path = join(dir, c.name);
    if (c.content === "DIR") mkdirSync(path);
    else if (c.content !== null) writeFileSync(path, c.content);
    files.push(path);
  }
  return files;
}

const STACK = /^\s+at |\n\s+at |Stack backtrace|error: Uncaught/;

describe("malformed experiment files: a battery, every one rejected cleanly", () => {
  it(`has at least 90 files of every class, with distinct names`, () => {
    assert.ok(cases.length >= 90, `${cases.length} files`);
    assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
  });

  it("the experiment they break is valid, as JSON and as TS", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lstm-lab-battery-ok-"));
    try {
      writeFileSync(join(dir, "ok.json"), JSON.stringify(base()));
      writeFileSync(join(dir, "ok.ts"), `export default ${JSON.stringify(base())};`);
      writeFileSync(join(dir, "bom.json"), "\ufeff" + JSON.stringify(base())); // a byte order mark is fine
      for (const f of ["ok.json", "ok.ts", "bom.json"]) {
        const { code, out, err } = await capture(() => main([join(dir, f), "--list"]));
        assert.equal(code, 0, `${f}: ${err}`);
        assert.equal(out.length, 4, `${f}: 2 variants × 2 seeds`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("each file alone: exit code ≠ 0, one line naming the file and what is wrong, nothing written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lstm-lab-battery-"));
    try {
      mkdirSync(join(dir, "in"));
      const files = writeBattery(join(dir, "in"));
      const out = join(dir, "out");
      let rejected = 0;
      const wrong: string[] = [];
      for (const [i, file] of files.entries()) {
        const { code, err } = await capture(() => main([file, "--out", out]));
        const said = err[0]?.startsWith(`${file}: `) ? err[0].slice(file.length + 2) : `(not the file) ${err[0]}`;
        const problems = [
          code === 0 ? "exit code 0" : "",
          err.length !== 1 ? `${err.length} lines` : "",
          cases[i].expect.test(said) ? "" : `does not match ${cases[i].expect}`,
          STACK.test(err.join("\n")) ? "a stack trace" : "",
          existsSync(out) ? `wrote ${out}` : "",
        ].filter((p) => p !== "");
        if (problems.length > 0) wrong.push(`${cases[i].name}: ${problems.join(", ")}:\n    ${err.join("\n    ")}`);
        else rejected++;
        rmSync(out, { recursive: true, force: true });
      }
      assert.deepEqual(wrong, []);
      assert.equal(rejected, cases.length);
      console.log(`battery: ${cases.length} files, ${rejected} rejected cleanly (in-process)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("all files in one CLI process of this runtime: exit ≠ 0, one line per file in order, no stack trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "lstm-lab-battery-cli-"));
    try {
      mkdirSync(join(dir, "in"));
      const files = writeBattery(join(dir, "in"));
      const out = join(dir, "out");
      const args = [...(IS_DENO ? ["run", "-A"] : []), CLI, ...files, "--out", out];
      const r = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      assert.notEqual(r.status, 0);
      assert.equal(r.stdout, "");
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, files.length, r.stderr);
      for (const [i, file] of files.entries()) {
        assert.ok(lines[i].startsWith(`${file}: `), `line ${i + 1}: ${lines[i]}`);
        assert.match(lines[i].slice(file.length + 2), cases[i].expect, cases[i].name);
      }
      assert.ok(!STACK.test(r.stderr), "no stack trace");
      assert.ok(!existsSync(out), "nothing written");
      console.log(
        `battery: ${files.length} files, ${lines.length} rejected cleanly (one ${IS_DENO ? "deno" : "bun"} process)`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a module whose top-level await never resolves is stopped by the load time limit", () => {
    const dir = mkdtempSync(join(tmpdir(), "lstm-lab-battery-hang-"));
    try {
      const file = join(dir, "hangs.ts");
      writeFileSync(file, `await new Promise(() => {});\nexport default {};\n`);
      const file2 = join(dir, "sleeps.ts");
      writeFileSync(file2, `await new Promise((r) => setTimeout(r, 3_600_000));\nexport default {};\n`);
      const args = [...(IS_DENO ? ["run", "-A"] : []), CLI, file, file2, "--out", join(dir, "out")];
      const r = spawnSync(process.execPath, args, {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, LSTM_LAB_LOAD_TIMEOUT_S: "1", NO_COLOR: "1" },
      });
      assert.equal(r.signal, null, "the CLI ended by itself");
      assert.notEqual(r.status, 0);
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 2, r.stderr);
      assert.match(lines[0], new RegExp(`^${esc(file)}: loading did not finish within 1 s`));
      assert.match(lines[1], new RegExp(`^${esc(file2)}: loading did not finish within 1 s`));
      assert.ok(!existsSync(join(dir, "out")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Runs `f` with console.log and console.error captured, line by line. */
async function capture(f: () => Promise<number>): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [], err: string[] = [];
  const { log, error, warn } = console;
  console.log = (...a: unknown[]) => out.push(...a.join(" ").split("\n"));
  console.error = console.warn = (...a: unknown[]) => err.push(...a.join(" ").split("\n"));
  try {
    return { code: await f(), out, err };
  } finally {
    Object.assign(console, { log, error, warn });
  }
}
