/**
 * Reproduction of Hochreiter & Schmidhuber 1997, Table 7: the adding problem at T = 100, 500, 1000.
 *
 * The paper: LSTM with 2 memory blocks of 2 cells (93 weights), no forget gate, online learning (one sequence per
 * update), learning rate 0.5, stop criterion ST3(0.01) (mean error < 0.01 and the last 2000 sequences all correct),
 * test set of 2560 sequences, 10 trials.
 *
 * Two variants: "hs97-online" keeps what our cell can keep of that setup (online SGD at lr 0.02, below the paper's
 * 0.5: no committed run tried 0.5; 4 units, forget bias 5 so that f ≈ 1 like the 1997 cell, which had no forget gate);
 * "adam" is a modern minibatch setup (Adam, 32 sequences per step, 32 units). Our cell differs from the 1997 cell in
 * three ways that matter: a forget gate, gates per unit rather than per block, and the full BPTT gradient instead of
 * the 1997 truncation that lets error flow back in time only through the cells' constant error carousel.
 */
import { adamVariant } from "../lib/experiment/presets.ts";
import type { Experiment } from "../lib/experiment/schema.ts";

export default {
  name: "adding-1997",
  description: "HS97 Table 7: the adding problem, T = 100 / 500 / 1000, 2560 test sequences",
  reference: "Hochreiter & Schmidhuber 1997, Exp. 4, Table 7",
  role: "reproduction",
  published: [
    { T: 100, minimalLag: 50, wrongOnTest: "1/2560", sequencesToStop: 74000, ours: { taskParams: { T: 100 } } },
    { T: 500, minimalLag: 250, wrongOnTest: "0/2560", sequencesToStop: 209000, ours: { taskParams: { T: 500 } } },
    { T: 1000, minimalLag: 500, wrongOnTest: "1/2560", sequencesToStop: 853000, ours: { taskParams: { T: 1000 } } },
  ],
  task: { name: "adding-1997", params: { T: 100 } },
  model: { cell: "lstm", hiddenSize: 4, init: { forgetBias: 5 } },
  training: {
    optimizer: { name: "sgd", lr: 0.02 },
    batchSize: 1,
    maxSequences: 2_000_000,
    stop: { kind: "st3", beta: 0.01, lastN: 2000 },
    logEvery: 5000,
  },
  measure: { testSequences: 2560 },
  sweep: {
    variants: {
      "hs97-online": {},
      "adam": adamVariant(32),
    },
    axes: { seqLen: [100, 500, 1000], seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
  },
  quick: {
    training: { maxSequences: 4000 },
    measure: { testSequences: 256 },
    sweep: { axes: { seqLen: [100], seed: [0] } },
  },
} satisfies Experiment;
