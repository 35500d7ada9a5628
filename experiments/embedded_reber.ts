/**
 * Reproduction of Hochreiter & Schmidhuber 1997, Table 1: the embedded Reber grammar.
 *
 * The paper: 256 training and 256 test strings; success when, for every string of both sets, the output units of the
 * legal next symbols are the most active at every step. LSTM with 3 blocks of 2 cells, lr 0.5: 100% of 30 trials
 * after 8,440 sequences on average; an Elman net with 15 hidden units: 0% (> 200,000 sequences). Here: an LSTM of 6
 * units and a tanh RNN of 15, online, checked on both sets every 1000 training sequences.
 */
import type { Experiment } from "../lib/experiment/schema.ts";

export default {
  name: "embedded-reber",
  description: "HS97 Table 1: the embedded Reber grammar, LSTM vs Elman (tanh RNN, 15 units)",
  reference: "Hochreiter & Schmidhuber 1997, Exp. 1, Table 1",
  role: "reproduction",
  published: [
    {
      method: "LSTM (3 blocks × 2 cells)",
      successRate: 1,
      sequences: 8440,
      trials: 30,
      ours: { variants: ["lstm-6"] },
    },
    { method: "Elman, 15 hidden", successRate: 0, sequences: "> 200000", trials: null, ours: { variants: ["rnn-15"] } },
  ],
  task: { name: "embedded-reber", params: { split: "train", setSeed: 0 } },
  model: { cell: "lstm", hiddenSize: 6, init: { forgetBias: 1 } },
  training: {
    optimizer: { name: "adam", lr: 1e-2 },
    batchSize: 1,
    maxSequences: 100_000,
    clipNorm: 1,
    stop: { kind: "evaluate", every: 1000, threshold: 1 },
    logEvery: 1000,
  },
  measure: { testSequences: 512 },
  sweep: {
    variants: { "lstm-6": {}, "rnn-15": { model: { cell: "rnn", hiddenSize: 15 } } },
    axes: { seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
  },
  quick: {
    training: { maxSequences: 3000 },
    sweep: { axes: { seed: [0] } },
  },
} satisfies Experiment;
