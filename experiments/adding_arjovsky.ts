/**
 * Reproduction of Arjovsky, Shah & Bengio 2016 (the two-channel adding problem): T = 100, 200, 400, 750.
 *
 * The paper: values U[0, 1], two markers (one in each half), target x1 + x2; the constant predictor's MSE is 0.167.
 * An LSTM of 128 units (RMSProp) beats it up to T = 400; a tanh RNN and an IRNN never do under their setup.
 * Here: LSTM-128, tanh RNN-128 and IRNN (identity recurrent weights), RMSProp lr 1e-3, 20 sequences per step.
 */
import type { Experiment } from "../lib/experiment/schema.ts";

export default {
  name: "adding-arjovsky",
  description: "ASB16: two-channel adding, T = 100 to 750, LSTM vs tanh RNN vs IRNN against the 0.167 baseline",
  reference: "Arjovsky, Shah & Bengio 2016, section 4.2",
  role: "reproduction",
  published: [
    { method: "LSTM-128", T: 100, beatsBaseline: "yes", ours: { variants: ["lstm"], taskParams: { T: 100 } } },
    { method: "LSTM-128", T: 200, beatsBaseline: "yes", ours: { variants: ["lstm"], taskParams: { T: 200 } } },
    { method: "LSTM-128", T: 400, beatsBaseline: "yes", ours: { variants: ["lstm"], taskParams: { T: 400 } } },
    { method: "LSTM-128", T: 750, beatsBaseline: "no", ours: { variants: ["lstm"], taskParams: { T: 750 } } },
    { method: "tanh RNN / IRNN", T: null, beatsBaseline: "never", ours: { variants: ["rnn", "irnn"] } },
  ],
  task: { name: "adding", params: { T: 100, variant: "arjovsky" } },
  model: { cell: "lstm", hiddenSize: 128 },
  training: {
    optimizer: { name: "rmsprop", lr: 1e-3, alpha: 0.9 },
    batchSize: 20,
    maxSequences: 100_000,
    clipNorm: 1,
    stop: { kind: "never" },
    logEvery: 50,
  },
  measure: { testSequences: 1000 },
  sweep: {
    variants: {
      "lstm": {},
      "rnn": { model: { cell: "rnn" } },
      "irnn": { model: { cell: "rnn", init: { recurrentWeights: "identity", bias: "zeros" } } },
    },
    axes: { seqLen: [100, 200, 400, 750], seed: [0, 1] },
  },
  quick: {
    training: { maxSequences: 2000 },
    measure: { testSequences: 100 },
    sweep: { axes: { seqLen: [100], seed: [0] } },
  },
} satisfies Experiment;
