/**
 * The embedded Reber grammar of Hochreiter & Schmidhuber 1997 (Experiment 1), after Cleeremans et al. 1989 and
 * Fahlman 1991.
 *
 * Seven one-hot symbols B, T, P, S, X, V, E (indices 0-6). A Reber string is B, a path through the Reber graph, E;
 * an embedded Reber string is B, c, (a Reber string), c, E with c = T or P: the second symbol must be remembered
 * across the whole inner string to predict the second to last one. Every branch of the grammar is taken with
 * probability 1/2.
 *
 * As in the paper: a fixed training set of 256 strings and a separate test set of 256 strings, both drawn at random
 * (with `new Rng(setSeed)`; duplicates within a set are allowed, as random generation gives them), the test set
 * excluding every string of the training set ("sequences already used in the training set are not used for
 * testing"). `batch` draws strings from the chosen split uniformly with replacement ("training exemplars are picked
 * randomly from the training set"); `fixedSet()` returns the whole split, in order, for the paper's success test.
 *
 * The net predicts the next symbol at every step (softmax cross-entropy; every step of a string but its last carries
 * loss). A string is correct if at every scored step the k most active outputs are exactly the k legal next symbols
 * (k = 1 or 2): every legal output strictly above every illegal one.
 *
 * @module
 */

import type { Arr } from "../arr.ts";
import { log } from "../math.ts";
import { Rng } from "../rng.ts";
import { checkOutputs, choiceParam, intParam, LOGIT_OFF, type Params, resolveParams, setOneHot } from "./common.ts";
import type { Task, TaskBatch, TaskDefinition } from "./task.ts";

const NAME = "embedded-reber";
const DEFAULTS: Params = Object.freeze({ setSeed: 0, split: "train" });
const SPLITS = ["train", "test"] as const;
const SET_SIZE = 256;
const O = 7;

/**
 * The symbols, in input/output index order.
 *
 * @example
 * ```ts
 * import { REBER_SYMBOLS } from "./embedded_reber.ts";
 * REBER_SYMBOLS.indexOf("E"); // 6
 * ```
 */
export const REBER_SYMBOLS = "BTPSXVE";

const [SB, ST, SP, SS, SX, SV, SE] = [0, 1, 2, 3, 4, 5, 6];

/** The Reber graph after its B: node → the (symbol, next node) choices; node 5 emits only the final E. */
const GRAPH: readonly (readonly (readonly [number, number])[])[] = [
  [[ST, 1], [SP, 2]],
  [[SS, 1], [SX, 3]],
  [[ST, 2], [SV, 4]],
  [[SX, 2], [SS, 5]],
  [[SP, 3], [SV, 5]],
];
const END_NODE = 5;

/**
 * A random embedded Reber string as symbol indices (every branch with probability 1/2).
 *
 * @example
 * ```ts
 * import { embeddedReberString, REBER_SYMBOLS } from "./embedded_reber.ts";
 * import { Rng } from "../rng.ts";
 * const s = embeddedReberString(new Rng(0));
 * Array.from(s, (i) => REBER_SYMBOLS[i]).join(""); // e.g. "BTBPVVETE"
 * ```
 */
export function embeddedReberString(rng: Rng): Uint8Array {
  const out = [SB];
  const c = rng.int(2) === 0 ? ST : SP;
  out.push(c, SB);
  for (let node = 0; node !== END_NODE;) {
    const [symbol, next] = GRAPH[node][rng.int(2)];
    out.push(symbol);
    node = next;
  }
  out.push(SE, c, SE);
  return Uint8Array.from(out);
}

/**
 * For a string of the embedded Reber grammar, the legal next symbols after each position but the last, as bit masks
 * (bit s set when symbol s may follow), knowing the whole prefix; null if the string is not in the language. Serves as
 * the grammar checker and as the criterion's reference.
 *
 * @example
 * ```ts
 * import { embeddedReberLegalNext, REBER_SYMBOLS } from "./embedded_reber.ts";
 * const s = Uint8Array.from("BTBTXSETE", (ch) => REBER_SYMBOLS.indexOf(ch));
 * embeddedReberLegalNext(s); // [T|P, B, T|P, S|X, X|S, E, T, E] as masks
 * embeddedReberLegalNext(Uint8Array.from("BTBTXSEPE", (ch) => REBER_SYMBOLS.indexOf(ch))); // null
 * ```
 */
export function embeddedReberLegalNext(s: ArrayLike<number>): Uint8Array | null {
  const n = s.length;
  if (n < 9 || s[0] !== SB || (s[1] !== ST && s[1] !== SP) || s[2] !== SB) return null;
  const c = s[1];
  const legal = new Uint8Array(n - 1);
  legal[0] = (1 << ST) | (1 << SP);
  legal[1] = 1 << SB;
  let node = 0;
  let t = 2; // s[t] has been read; legal[t] = what may follow it
  for (;;) {
    if (node === END_NODE) {
      legal[t] = 1 << SE;
      break;
    }
    let mask = 0;
    for (const [symbol] of GRAPH[node]) mask |= 1 << symbol;
    legal[t] = mask;
    if (t + 1 >= n) return null;
    const next = GRAPH[node].find(([symbol]) => symbol === s[t + 1]);
    if (next === undefined) return null;
    node = next[1];
    t++;
  }
  // s[t] is the last symbol of the inner path; then E, c, E must end the string.
  if (t + 3 !== n - 1 || s[t + 1] !== SE || s[t + 2] !== c || s[t + 3] !== SE) return null;
  legal[t + 1] = 1 << c;
  legal[t + 2] = 1 << SE;
  return legal;
}

/**
 * Whether `s` (symbol indices) is a string of the embedded Reber grammar.
 *
 * @example
 * ```ts
 * import { isEmbeddedReber, REBER_SYMBOLS } from "./embedded_reber.ts";
 * isEmbeddedReber(Uint8Array.from("BPBTSXSEPE", (ch) => REBER_SYMBOLS.indexOf(ch))); // true
 * ```
 */
export function isEmbeddedReber(s: ArrayLike<number>): boolean {
  return embeddedReberLegalNext(s) !== null;
}

/**
 * The paper's fixed sets for a seed: 256 random training strings, and 256 random test strings none of which is in the
 * training set.
 *
 * @example
 * ```ts
 * import { embeddedReberSets } from "./embedded_reber.ts";
 * const { train, test } = embeddedReberSets(0); // 256 strings each
 * ```
 */
export function embeddedReberSets(seed: number): { train: Uint8Array[]; test: Uint8Array[] } {
  const rng = new Rng(seed);
  const train: Uint8Array[] = [];
  const seen = new Set<string>();
  while (train.length < SET_SIZE) {
    const s = embeddedReberString(rng);
    train.push(s);
    seen.add(s.join(","));
  }
  const test: Uint8Array[] = [];
  while (test.length < SET_SIZE) {
    const s = embeddedReberString(rng);
    if (!seen.has(s.join(","))) test.push(s);
  }
  return { train, test };
}

/**
 * What `embedded-reber` batches carry in `extra`.
 *
 * @example
 * ```ts
 * import { embeddedReber, type ReberExtra } from "./embedded_reber.ts";
 * import { Rng } from "../rng.ts";
 * const batch = embeddedReber.create().batch(new Rng(0), 2);
 * const { legal } = batch.extra as ReberExtra; // legal[t·2 + b] >> s & 1: symbol s may follow step t of string b
 * ```
 */
export interface ReberExtra {
  /** Per row t·B + b, the legal next symbols after step t of string b (bit mask), 0 on unscored rows. */
  legal: Uint8Array;
}

function batchOf(strings: readonly Uint8Array[]): TaskBatch {
  const B = strings.length;
  const lengths = new Int32Array(B);
  let T = 0;
  for (let b = 0; b < B; b++) {
    lengths[b] = strings[b].length;
    if (lengths[b] > T) T = lengths[b];
  }
  const x = new Float32Array(T * B * O);
  const target = new Int32Array(T * B);
  const mask = new Uint8Array(T * B);
  const legal = new Uint8Array(T * B);
  for (let b = 0; b < B; b++) {
    const s = strings[b];
    const next = embeddedReberLegalNext(s)!;
    for (let t = 0; t < s.length; t++) {
      setOneHot(x, B, t, b, O, s[t]);
      if (t < s.length - 1) {
        const r = t * B + b;
        target[r] = s[t + 1];
        mask[r] = 1;
        legal[r] = next[t];
      }
    }
  }
  const extra: ReberExtra = { legal };
  return { x, T, B, target, mask, lengths, extra };
}

function popcount(m: number): number {
  let k = 0;
  for (; m !== 0; m &= m - 1) k++;
  return k;
}

/** The baseline's legal sets: the grammar's, but after the inner E both T and P (the second symbol forgotten). */
function forgetfulLegal(batch: TaskBatch): Uint8Array {
  const { B, lengths } = batch;
  const legal = (batch.extra as ReberExtra).legal.slice();
  for (let b = 0; b < B; b++) legal[(lengths[b] - 3) * B + b] = (1 << ST) | (1 << SP);
  return legal;
}

/**
 * The embedded Reber grammar: next-symbol prediction on a fixed set of strings.
 *
 * @example
 * ```ts
 * import { embeddedReber } from "./embedded_reber.ts";
 * import { Rng } from "../rng.ts";
 * const task = embeddedReber.create({ split: "train", setSeed: 0 });
 * const batch = task.batch(new Rng(1), 16); // 16 strings drawn with replacement from the 256 training strings
 * const all = task.fixedSet!(); // the 256 strings, in order
 * ```
 */
export const embeddedReber: TaskDefinition = {
  name: NAME,
  description: "HS97 Exp 1: next-symbol prediction on the embedded Reber grammar (256 training, 256 test strings)",
  defaults: DEFAULTS,
  paramDocs: {
    setSeed: "seed of the fixed training and test sets (non-negative integer)",
    split: '"train" or "test": the set that batch and fixedSet read',
  },
  create(params?: Params): Task {
    const p = resolveParams(NAME, DEFAULTS, params);
    const setSeed = intParam(NAME, "setSeed", p.setSeed, 0);
    const split = choiceParam(NAME, "split", p.split, SPLITS);
    const strings = embeddedReberSets(setSeed)[split];
    const full = batchOf(strings);
    // The baseline's exact loss on this set: rows pooled over the set, ln k per row for its k equally likely symbols.
    let sum = 0, rows = 0;
    const fl = forgetfulLegal(full);
    for (let r = 0; r < fl.length; r++) {
      if (full.mask![r] === 0) continue;
      sum += log(popcount(fl[r]));
      rows++;
    }
    return {
      name: NAME,
      params: { setSeed, split },
      inputSize: O,
      outputSize: O,
      loss: "cross-entropy",
      readout: "every",
      maxLength: full.T,
      lossSteps: "every step of a string but its last (next-symbol prediction; mask; lengths vary)",
      criterion:
        "at every scored step the k most active outputs are the k legal next symbols (strictly above the rest)",
      reference: "Hochreiter & Schmidhuber 1997, Long Short-Term Memory, section 5.1 (Experiment 1)",
      baseline: {
        description: "knows the grammar but forgets the second symbol: uniform over the legal next symbols, and over " +
          "{T, P} after the inner E; cross-entropy = (ln 2 × rows with 2 choices) / scored rows of the set " +
          "(8 ln 2 / 11 ≈ 0.504 over the grammar's distribution; the best possible is 7 ln 2 / 11); accuracy 0",
        loss: sum / rows,
        accuracy: 0,
        outputs(batch: TaskBatch): Float32Array {
          const legal = forgetfulLegal(batch);
          const y = new Float32Array(batch.T * batch.B * O).fill(LOGIT_OFF);
          for (let r = 0; r < legal.length; r++) {
            for (let o = 0; o < O; o++) if ((legal[r] >> o) & 1) y[r * O + o] = 0;
          }
          return y;
        },
      },
      batch(rng: Rng, B: number): TaskBatch {
        const picked: Uint8Array[] = [];
        for (let b = 0; b < B; b++) picked.push(strings[rng.int(strings.length)]);
        return batchOf(picked);
      },
      fixedSet: () => batchOf(strings),
      evaluationSets: () => [batchOf(embeddedReberSets(setSeed).train), batchOf(embeddedReberSets(setSeed).test)],
      correct(outputs: Arr | Float32Array, batch: TaskBatch): Uint8Array {
        const { T, B, lengths } = batch;
        const legal = (batch.extra as ReberExtra).legal;
        checkOutputs(NAME, outputs, T * B, O);
        const ok = new Uint8Array(B);
        for (let b = 0; b < B; b++) {
          let good = true;
          for (let t = 0; t < lengths[b] - 1 && good; t++) {
            const r = t * B + b, m = legal[r];
            let minLegal = Infinity, maxIllegal = -Infinity;
            for (let o = 0; o < O; o++) {
              const v = outputs[r * O + o];
              if ((m >> o) & 1) minLegal = Math.min(minLegal, v);
              else maxIllegal = Math.max(maxIllegal, v);
            }
            good = minLegal > maxIllegal;
          }
          ok[b] = good ? 1 : 0;
        }
        return ok;
      },
    };
  },
};
