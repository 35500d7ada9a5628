/**
 * Gradient flow at initialisation: ‖∂L/∂h_t‖ (and the LSTM's ‖∂L/∂c_t‖) against the lag T - t, with the loss at the
 * last step, for a tanh RNN whose recurrent weights have spectral radius ρ ∈ {0.5, 0.9, 1.0, 1.1, 1.5} and for an
 * LSTM with forget-gate bias 0, 1 and 5 (5: f ≈ 0.993, close to the 1997 cell without a forget gate, as in the
 * learnability experiment), over sequence lengths T from 10 to 1000, 10 seeds each.
 *
 * What it shows: the RNN's gradient falls exponentially with the lag for ρ < 1 (Pascanu et al. 2013: the long-range
 * terms vanish when ‖W_hh‖₂ · γ < 1, γ = 1 for tanh) and grows for ρ > 1; the LSTM's error flows through the cell
 * state, scaled per step by the forget gate (≈ σ(b_f)), so a larger forget bias carries it much further.
 *
 * Input: the two-channel adding problem (values U[0, 1], two markers), whose loss is read at the last step.
 */
import type { Experiment } from "../lib/experiment/schema.ts";

const rhos = [0.5, 0.9, 1.0, 1.1, 1.5];
const variants: Record<string, Record<string, unknown>> = {};
for (const rho of rhos) {
  variants[`rnn-rho${rho}`] = { model: { cell: "rnn", init: { recurrentWeights: { spectralRadius: rho } } } };
}
for (const forgetBias of [0, 1, 5]) {
  variants[`lstm-fb${forgetBias}`] = { model: { cell: "lstm", init: { forgetBias } } };
}

export default {
  name: "gradient-flow",
  description: "‖∂L/∂h_t‖ against T - t at initialisation: tanh RNN over spectral radius ρ, LSTM over forget bias",
  reference: "Pascanu, Mikolov & Bengio 2013, section 2.1; Hochreiter & Schmidhuber 1997, section 3",
  role: "gradient-flow",
  task: { name: "adding", params: { T: 100, variant: "arjovsky" } },
  model: { cell: "lstm", hiddenSize: 128 },
  measure: { gradientFlow: { at: ["init"], batchSize: 32 }, testSequences: 0 },
  sweep: {
    variants,
    axes: { seqLen: [10, 20, 50, 100, 200, 500, 1000], seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
  },
  quick: { sweep: { axes: { seqLen: [10, 50, 200], seed: [0, 1] } } },
} satisfies Experiment;
