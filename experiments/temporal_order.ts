/**
 * Reproduction of Hochreiter & Schmidhuber 1997, Table 9: the temporal order problems 6a (4 classes) and 6b
 * (8 classes).
 *
 * The paper: 6a with 2 blocks of 2 cells, lr 0.5, 20 trials: 1/2560 wrong after 31,390 sequences; 6b with 3 blocks
 * of 2 cells, lr 0.1, 10 trials: 2/2560 wrong after 571,100. Stop: ST3-like (the last 2000 training sequences all
 * correct with every output error < 0.3). Variants as in adding_1997.ts.
 */
import { adamVariant } from "../lib/experiment/presets.ts";
import type { Experiment } from "../lib/experiment/schema.ts";

export default {
  name: "temporal-order",
  description: "HS97 Table 9: temporal order 6a (4 classes) and 6b (8 classes)",
  reference: "Hochreiter & Schmidhuber 1997, Exp. 6, Table 9",
  role: "reproduction",
  published: [
    {
      variant: "6a",
      wrongOnTest: "1/2560",
      sequencesToStop: 31390,
      trials: 20,
      chanceAccuracy: 0.25,
      ours: { variants: ["6a-hs97-online", "6a-adam"] },
    },
    {
      variant: "6b",
      wrongOnTest: "2/2560",
      sequencesToStop: 571100,
      trials: 10,
      chanceAccuracy: 0.125,
      ours: { variants: ["6b-hs97-online", "6b-adam"] },
    },
  ],
  task: { name: "temporal-order", params: { variant: "6a" } },
  model: { cell: "lstm", hiddenSize: 4, init: { forgetBias: 5 } },
  training: {
    optimizer: { name: "sgd", lr: 0.1 },
    batchSize: 1,
    maxSequences: 600_000,
    stop: { kind: "accuracy", threshold: 1, window: 2000 },
    logEvery: 5000,
  },
  measure: { testSequences: 2560 },
  sweep: {
    variants: {
      "6a-hs97-online": { task: { params: { variant: "6a" } } },
      "6b-hs97-online": { task: { params: { variant: "6b" } }, model: { hiddenSize: 6 } },
      "6a-adam": { task: { params: { variant: "6a" } }, ...adamVariant(32, { maxSequences: 300_000 }) },
      "6b-adam": { task: { params: { variant: "6b" } }, ...adamVariant(32, { maxSequences: 300_000 }) },
    },
    axes: { seed: [0, 1, 2, 3, 4] },
  },
  quick: {
    training: { maxSequences: 3000 },
    measure: { testSequences: 256 },
    sweep: { axes: { seed: [0] } },
  },
} satisfies Experiment;
