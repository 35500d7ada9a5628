/**
 * Reproduction of Arjovsky, Shah & Bengio 2016 (the copy memory problem): recall 10 symbols after T blank steps,
 * T = 100, 200, 300, 500.
 *
 * The paper: LSTM with 40 units (RMSProp, lr 1e-3, gradient clipping at 1) beats the memoryless baseline
 * 10 ln 8 / (T + 20) only at T = 100; a tanh RNN with 80 units never does. Here: the same models and optimizer,
 * 20 sequences per step, a budget of 100,000 sequences (5,000 steps); the cell records its training curve (cross
 * entropy against the baseline) and the fraction of test sequences with all 10 symbols recalled.
 */
import type { Experiment } from "../lib/experiment/schema.ts";

export default {
  name: "copy",
  description: "ASB16: the copy memory problem, T = 100 to 500, LSTM (40 units) vs tanh RNN (80 units)",
  reference: "Arjovsky, Shah & Bengio 2016, section 4.1",
  role: "reproduction",
  published: [
    {
      method: "LSTM-40",
      T: 100,
      beatsBaseline: "yes",
      baseline: 0.173,
      ours: { variants: ["lstm-40"], taskParams: { T: 100 } },
    },
    {
      method: "LSTM-40",
      T: 200,
      beatsBaseline: "no",
      baseline: 0.0945,
      ours: { variants: ["lstm-40"], taskParams: { T: 200 } },
    },
    {
      method: "LSTM-40",
      T: 300,
      beatsBaseline: "no",
      baseline: 0.065,
      ours: { variants: ["lstm-40"], taskParams: { T: 300 } },
    },
    {
      method: "LSTM-40",
      T: 500,
      beatsBaseline: "no",
      baseline: 0.040,
      ours: { variants: ["lstm-40"], taskParams: { T: 500 } },
    },
    { method: "RNN-80 (tanh)", T: null, beatsBaseline: "never", baseline: null, ours: { variants: ["rnn-80"] } },
  ],
  task: { name: "copy", params: { T: 100 } },
  model: { cell: "lstm", hiddenSize: 40 },
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
    variants: { "lstm-40": {}, "rnn-80": { model: { cell: "rnn", hiddenSize: 80 } } },
    axes: { seqLen: [100, 200, 300, 500], seed: [0, 1] },
  },
  quick: {
    training: { maxSequences: 2000 },
    measure: { testSequences: 100 },
    sweep: { axes: { seqLen: [100], seed: [0] } },
  },
} satisfies Experiment;
