/**
 * Reproduction of Hochreiter & Schmidhuber 1997, Exp. 5: the multiplication problem at T = 100.
 *
 * The paper: as the adding problem (LSTM 2 blocks of 2 cells, online), values in [0, 1], target X1·X2, lr 0.1;
 * training stopped once fewer than n_seq of the 2560 test sequences were wrong (n_seq = 140 and 13): 139/2560 wrong
 * after 482,000 sequences, 14/2560 after 1,273,000. Here: train to the budget, record the test errors (every cell
 * reports "wrong on test" on 2560 fresh sequences) and the training curve. Variants as in adding_1997.ts.
 */
import { adamVariant } from "../lib/experiment/presets.ts";
import type { Experiment } from "../lib/experiment/schema.ts";

export default {
  name: "multiplication",
  description: "HS97 Exp. 5: the multiplication problem, T = 100",
  reference: "Hochreiter & Schmidhuber 1997, Exp. 5",
  role: "reproduction",
  published: [
    { T: 100, wrongOnTest: "139/2560", sequences: 482000, ours: { taskParams: { T: 100 } } },
    { T: 100, wrongOnTest: "14/2560", sequences: 1273000, ours: { taskParams: { T: 100 } } },
  ],
  task: { name: "multiplication", params: { T: 100 } },
  model: { cell: "lstm", hiddenSize: 4, init: { forgetBias: 5 } },
  training: {
    optimizer: { name: "sgd", lr: 0.02 },
    batchSize: 1,
    maxSequences: 1_300_000,
    stop: { kind: "never" },
    logEvery: 5000,
  },
  measure: { testSequences: 2560 },
  sweep: {
    variants: {
      "hs97-online": {},
      "adam": adamVariant(32, { maxSequences: 500_000 }),
    },
    axes: { seed: [0, 1, 2, 3, 4] },
  },
  quick: {
    training: { maxSequences: 4000 },
    measure: { testSequences: 256 },
    sweep: { axes: { seed: [0] } },
  },
} satisfies Experiment;
