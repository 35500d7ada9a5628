// The embedded Reber grammar: generator against a grammar checker, the paper's fixed train/test sets, legal-successor
// sets, the criterion, and the forgetful baseline.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lossAndGradient } from "../nn/loss.ts";
import { Rng } from "../rng.ts";
import {
  embeddedReber,
  embeddedReberLegalNext,
  embeddedReberSets,
  embeddedReberString,
  isEmbeddedReber,
  REBER_SYMBOLS,
  type ReberExtra,
} from "./embedded_reber.ts";

const enc = (s: string) => Uint8Array.from(s, (ch) => REBER_SYMBOLS.indexOf(ch));
const dec = (s: ArrayLike<number>) => Array.from(s, (i) => REBER_SYMBOLS[i]).join("");

/** An independent checker: the embedded Reber language as a regular expression. */
const REBER = /^B(T|P)B(TS*X(XT*VP)*(S|XT*VV)|PT*V(V|P(XT*VP)*(S|XT*VV)))E\1E$/;

describe("embedded Reber grammar", () => {
  it("every generated string is in the language (checked two ways); both embeddings occur equally often", () => {
    const rng = new Rng(1);
    let t = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const s = embeddedReberString(rng);
      assert.ok(isEmbeddedReber(s), dec(s));
      assert.match(dec(s), REBER);
      if (s[1] === 1) t++;
    }
    assert.ok(Math.abs(t / n - 0.5) < 4 * Math.sqrt(0.25 / n));
  });

  it("the checker accepts exactly the regular language on hand-made strings", () => {
    const good = ["BTBTXSETE", "BPBPVVEPE", "BTBTSSXXTVVETE", "BPBPTVPXVVEPE", "BTBTXXVPSETE"];
    const bad = [
      "BTBTXSEPE",
      "BTBTXSET",
      "BTBTXSETEE",
      "BTTXSETE",
      "BTBTXETE",
      "BTBTSETE",
      "BPBPVPEPE",
      "BEBTXSEEE",
      "",
    ];
    for (const s of good) {
      assert.ok(isEmbeddedReber(enc(s)), s);
      assert.match(s, REBER);
    }
    for (const s of bad) {
      assert.ok(!isEmbeddedReber(enc(s)), s);
      assert.doesNotMatch(s, REBER);
    }
    // Flipping the second to last symbol (T ↔ P) always breaks the embedding.
    const rng = new Rng(2);
    for (let i = 0; i < 200; i++) {
      const s = embeddedReberString(rng);
      s[s.length - 2] = s[s.length - 2] === 1 ? 2 : 1;
      assert.ok(!isEmbeddedReber(s));
    }
  });

  it("legal successors: the actual next symbol is always legal; 2 choices at branches, 1 elsewhere", () => {
    assert.deepEqual(
      Array.from(
        embeddedReberLegalNext(enc("BTBTXSETE"))!,
        (m) => dec([0, 1, 2, 3, 4, 5, 6].filter((o) => (m >> o) & 1)),
      ),
      ["TP", "B", "TP", "SX", "SX", "E", "T", "E"],
    );
    const rng = new Rng(3);
    for (let i = 0; i < 500; i++) {
      const s = embeddedReberString(rng);
      const legal = embeddedReberLegalNext(s)!;
      for (let t = 0; t < s.length - 1; t++) assert.ok((legal[t] >> s[t + 1]) & 1);
    }
  });

  it("fixed sets: 256 training and 256 test strings, the test set disjoint from the training set, seeded", () => {
    const { train, test } = embeddedReberSets(0);
    assert.equal(train.length, 256);
    assert.equal(test.length, 256);
    const trainKeys = new Set(train.map(dec));
    for (const s of test) assert.ok(!trainKeys.has(dec(s)), `${dec(s)} is in both sets`);
    for (const s of [...train, ...test]) assert.ok(isEmbeddedReber(s));
    assert.deepEqual(embeddedReberSets(0), { train, test });
    assert.notDeepEqual(embeddedReberSets(1).train, train);
    // The task reads the chosen split; fixedSet is that split in order.
    const task = embeddedReber.create({ split: "test" });
    const all = task.fixedSet!();
    assert.equal(all.B, 256);
    for (let b = 0; b < 256; b++) {
      const s = Array.from({ length: all.lengths[b] }, (_, t) => {
        const row = Array.from((all.x as Float32Array).slice((t * 256 + b) * 7, (t * 256 + b + 1) * 7));
        return row.indexOf(1);
      });
      assert.equal(dec(s), dec(test[b]));
    }
  });

  it("batches draw from the chosen split with replacement", () => {
    const task = embeddedReber.create({ split: "train" });
    const train = new Set(embeddedReberSets(0).train.map(dec));
    const batch = task.batch(new Rng(4), 512);
    const drawn: string[] = [];
    for (let b = 0; b < batch.B; b++) {
      const s: number[] = [];
      for (let t = 0; t < batch.lengths[b]; t++) {
        const row = Array.from((batch.x as Float32Array).slice((t * batch.B + b) * 7, (t * batch.B + b + 1) * 7));
        s.push(row.indexOf(1));
      }
      assert.ok(train.has(dec(s)));
      drawn.push(dec(s));
    }
    assert.ok(new Set(drawn).size < 512);
  });

  it("criterion: the k most active outputs are exactly the k legal successors", () => {
    const task = embeddedReber.create();
    const batch = task.batch(new Rng(5), 3);
    const { legal } = batch.extra as ReberExtra;
    const R = batch.T * 3;
    const good = new Float32Array(R * 7);
    for (let r = 0; r < R; r++) for (let o = 0; o < 7; o++) good[r * 7 + o] = (legal[r] >> o) & 1 ? 1 : -1;
    assert.deepEqual(Array.from(task.correct(good, batch)), [1, 1, 1]);
    // A tie between a legal and an illegal output at one step of string 1 fails only that string.
    const tie = good.slice();
    const r = 2 * 3 + 1, illegal = [0, 1, 2, 3, 4, 5, 6].find((o) => !((legal[r] >> o) & 1))!;
    tie[r * 7 + illegal] = 1;
    assert.deepEqual(Array.from(task.correct(tie, batch)), [1, 0, 1]);
    // The forgetful baseline is wrong on every string (at the step after the inner E).
    assert.deepEqual(Array.from(task.correct(task.baseline.outputs(batch), batch)), [0, 0, 0]);
  });

  it("baseline: its loss on the whole set equals baseline.loss; over the grammar it tends to 8 ln 2 / 11", () => {
    for (const split of ["train", "test"] as const) {
      const task = embeddedReber.create({ split });
      const all = task.fixedSet!();
      const L = lossAndGradient(
        "cross-entropy",
        all.T * all.B,
        7,
        task.baseline.outputs(all),
        all.target,
        all.mask!,
        null,
      );
      assert.ok(Math.abs(L - task.baseline.loss) < 1e-12);
    }
    // Pooled over fresh strings: (m + 2) ln 2 over m + 5 rows, E[m] = 6 path symbols.
    const rng = new Rng(6);
    let branches = 0, rows = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const s = embeddedReberString(rng);
      const legal = embeddedReberLegalNext(s)!;
      for (let t = 0; t < s.length - 1; t++) if (legal[t] !== (legal[t] & -legal[t]) || t === s.length - 3) branches++;
      rows += s.length - 1;
    }
    const ratio = branches / rows;
    assert.ok(Math.abs(ratio - 8 / 11) < 0.01, `branch rows ${ratio} vs 8/11`);
    assert.ok(Math.abs(rows / n - 11) < 0.2, `mean scored rows ${rows / n} vs 11`);
  });
});
