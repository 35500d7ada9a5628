/**
 * Learnability over the time lag: a tanh RNN and an LSTM trained on the adding problem (Hochreiter & Schmidhuber
 * 1997, Exp. 4: values in [-1, 1], target 0.5 + (X1 + X2)/4 read at the end, correct if |error| < 0.04) for
 * sequence lengths T from 11 to 400, 5 seeds each, with the same optimizer (Adam), budget (200,000 sequences) and
 * stopping rule. The LSTM's forget-gate bias is 5 (f ≈ 0.993 at initialisation), close to the 1997 cell, which had no
 * forget gate: with a bias of 1 the same LSTM does not learn T = 50 within the budget (f ≈ 0.73 per step forgets the
 * first marker long before the end).
 *
 * A cell succeeds when 95% of the last 2000 training sequences are correct; it reports the training sequences seen
 * until then, and the fraction correct on 2560 fresh test sequences. The trivial predictor (always 0.5) gets about
 * 15% right, so success means the dependency over T/2 steps or more was learned.
 */
import type { Experiment } from "../lib/experiment/schema.ts";

export default {
  name: "adding-learnability",
  description: "Success rate and sequences to success on the 1997 adding problem against T: tanh RNN vs LSTM",
  reference: "Hochreiter & Schmidhuber 1997, Exp. 4; Bengio, Simard & Frasconi 1994",
  role: "learnability",
  task: { name: "adding-1997", params: { T: 100 } },
  model: { cell: "lstm", hiddenSize: 32 },
  training: {
    optimizer: { name: "adam", lr: 3e-3 },
    batchSize: 32,
    maxSequences: 200_000,
    clipNorm: 1,
    stop: { kind: "accuracy", threshold: 0.95, window: 2000 },
    logEvery: 50,
  },
  measure: { testSequences: 2560, gradientFlow: { at: ["init", "end"], batchSize: 32 } },
  sweep: {
    variants: {
      "lstm": { model: { cell: "lstm", init: { forgetBias: 5 } } },
      "rnn": { model: { cell: "rnn" } },
    },
    axes: { seqLen: [11, 15, 20, 30, 50, 100, 200, 400], seed: [0, 1, 2, 3, 4] },
  },
  quick: {
    training: { maxSequences: 48_000 },
    measure: { testSequences: 256 },
    sweep: { axes: { seqLen: [11, 20], seed: [0] } },
  },
} satisfies Experiment;
