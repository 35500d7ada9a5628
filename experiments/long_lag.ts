/**
 * Reproduction of Hochreiter & Schmidhuber 1997, Table 2: the noise-free long-lag problem (Exp. 2a), p = 4, 10, 100.
 *
 * The paper: success = maximum absolute output error below 0.25 on 10,000 successive sequences, give up after
 * 5,000,000. RTRL: 78% of trials at p = 4, 0% at p = 10 and 100; BPTT (a tanh-style RNN): 0% at p = 100; LSTM
 * (p = 100): 100% of trials, after 5,040 sequences on average. Here: an LSTM and a tanh RNN trained online with
 * the same budget; success when the last 10,000 training sequences all meet the criterion.
 */
import type { Experiment } from "../lib/experiment/schema.ts";

export default {
  name: "long-lag",
  description: "HS97 Table 2: noise-free long lag (2a), LSTM vs tanh RNN, p = 4, 10, 100",
  reference: "Hochreiter & Schmidhuber 1997, Exp. 2a, Table 2",
  role: "reproduction",
  published: [
    { method: "RTRL", p: 4, successRate: 0.78, sequences: null, ours: { variants: ["rnn"], taskParams: { p: 4 } } },
    { method: "RTRL", p: 10, successRate: 0, sequences: null, ours: { variants: ["rnn"], taskParams: { p: 10 } } },
    { method: "RTRL", p: 100, successRate: 0, sequences: null, ours: { variants: ["rnn"], taskParams: { p: 100 } } },
    { method: "BPTT", p: 100, successRate: 0, sequences: null, ours: { variants: ["rnn"], taskParams: { p: 100 } } },
    { method: "LSTM", p: 100, successRate: 1, sequences: 5040, ours: { variants: ["lstm"], taskParams: { p: 100 } } },
  ],
  task: { name: "long-lag", params: { p: 100, variant: "2a" } },
  model: { cell: "lstm", hiddenSize: 8, init: { forgetBias: 5 } },
  training: {
    optimizer: { name: "adam", lr: 1e-2 },
    batchSize: 1,
    maxSequences: 200_000,
    clipNorm: 1,
    stop: { kind: "accuracy", threshold: 1, window: 10_000 },
    logEvery: 2000,
  },
  measure: { testSequences: 2560 },
  sweep: {
    variants: {
      "lstm": {},
      "rnn": { model: { cell: "rnn" } },
    },
    axes: { "task.params.p": [4, 10, 100], seed: [0, 1, 2, 3, 4] },
  },
  quick: {
    training: { maxSequences: 3000 },
    measure: { testSequences: 256 },
    sweep: { axes: { "task.params.p": [10], seed: [0] } },
  },
} satisfies Experiment;
