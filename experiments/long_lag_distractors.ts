/**
 * Reproduction of Hochreiter & Schmidhuber 1997, Table 3: very long time lags with distractors (Exp. 2c), for the
 * published (q, p) pairs (q: minimal lag − 1, p: number of distractor symbols), paired rather than crossed.
 *
 * The paper: LSTM with 2 blocks of 1 cell, lr 0.01, 20 trials; success when both outputs' errors are below 0.2 on
 * 10,000 successive sequences; sequences to success from 30,000 (q = p = 50) to 203,000 (q = 1000, p = 50).
 */
import { adamVariant } from "../lib/experiment/presets.ts";
import type { Experiment } from "../lib/experiment/schema.ts";

const pairs: [number, number][] = [
  [50, 50],
  [100, 100],
  [200, 200],
  [500, 500],
  [1000, 1000],
  [1000, 500],
  [1000, 200],
  [1000, 100],
  [1000, 50],
];
const published = [30_000, 31_000, 33_000, 38_000, 49_000, 49_000, 75_000, 135_000, 203_000];

export default {
  name: "long-lag-distractors",
  description: "HS97 Table 3: very long lags with distractors (2c), published (q, p) pairs",
  reference: "Hochreiter & Schmidhuber 1997, Exp. 2c, Table 3",
  role: "reproduction",
  published: pairs.map(([q, p], i) => ({
    q,
    p,
    sequencesToSuccess: published[i],
    trials: 20,
    ours: { taskParams: { "q": q, "p": p } },
  })),
  task: { name: "long-lag-distractors", params: { q: 100, p: 100 } },
  model: { cell: "lstm", hiddenSize: 2, init: { forgetBias: 5 } },
  training: {
    optimizer: { name: "sgd", lr: 0.01 },
    batchSize: 1,
    maxSequences: 400_000,
    stop: { kind: "accuracy", threshold: 1, window: 10_000 },
    logEvery: 5000,
  },
  measure: { testSequences: 2560 },
  sweep: {
    variants: {
      "hs97-online": {},
      "adam": adamVariant(16),
    },
    axes: {
      "task.params.q": pairs.map(([q]) => q),
      "task.params.p": pairs.map(([, p]) => p),
      seed: [0, 1, 2],
    },
    pair: [["task.params.q", "task.params.p"]],
  },
  quick: {
    training: { maxSequences: 3000 },
    measure: { testSequences: 256 },
    sweep: { axes: { "task.params.q": [50], "task.params.p": [50], seed: [0] } },
  },
} satisfies Experiment;
