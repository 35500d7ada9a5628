/**
 * Reproduction of Hochreiter & Schmidhuber 1997, Table 4 (the two-sequence or latch problem of Bengio et al. 1994):
 * T = 100 and 1000, N = 3 informative steps, then Gaussian noise.
 *
 * The paper: criterion (|error| < 0.2 on the final output for every sequence of a stretch) after 39,850 sequences at
 * T = 100 and 452,460 at T = 1000. Bengio et al. found that the success probability of gradient-trained recurrent
 * units falls rapidly as T grows; HS97 note that random weight guessing solves this task quickly too. Here: LSTM and
 * tanh RNN, Adam, success when the last 2000 training sequences are all correct.
 */
import type { Experiment } from "../lib/experiment/schema.ts";

export default {
  name: "latch",
  description: "HS97 Table 4 / Bengio 1994: the two-sequence (latch) problem, T = 100 and 1000, LSTM vs tanh RNN",
  reference: "Hochreiter & Schmidhuber 1997, Exp. 3a, Table 4; Bengio, Simard & Frasconi 1994",
  role: "reproduction",
  published: [
    { method: "LSTM", T: 100, N: 3, sequencesToSuccess: 39850, ours: { variants: ["lstm"], taskParams: { T: 100 } } },
    {
      method: "LSTM",
      T: 1000,
      N: 3,
      sequencesToSuccess: 452460,
      ours: { variants: ["lstm"], taskParams: { T: 1000 } },
    },
  ],
  task: { name: "latch", params: { T: 100, N: 3 } },
  model: { cell: "lstm", hiddenSize: 8, init: { forgetBias: 5 } },
  training: {
    optimizer: { name: "adam", lr: 1e-2 },
    batchSize: 32,
    maxSequences: 100_000,
    clipNorm: 1,
    stop: { kind: "accuracy", threshold: 1, window: 2000 },
    logEvery: 20,
  },
  measure: { testSequences: 2560, gradientFlow: { at: ["init"], batchSize: 32 } },
  sweep: {
    variants: { "lstm": {}, "rnn": { model: { cell: "rnn" } } },
    axes: { seqLen: [100, 1000], seed: [0, 1, 2, 3, 4] },
  },
  quick: {
    training: { maxSequences: 6400 },
    measure: { testSequences: 256 },
    sweep: { axes: { seqLen: [100], seed: [0] } },
  },
} satisfies Experiment;
