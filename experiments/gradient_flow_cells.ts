/**
 * Gradient flow at initialisation for the other cells: GRU (PyTorch's nn.GRU) and the LSTM variants of Greff et al.
 * (2017), beside the seed's LSTM and the tanh RNN, measured exactly as `gradient_flow.ts` measures its RNNs and LSTMs:
 * ‖∂L/∂h_t‖ (and ‖∂L/∂c_t‖ for cells with a state) against the lag T - t, loss at the last step of the two-channel
 * adding problem. A separate file so that gradient_flow.ts's 560 committed cells keep their hashes.
 *
 * Grid: H = 64 (gradient_flow.ts has 128), 10 seeds, T from 10 to 1000: about 6 minutes on 2 cores, because Greff's
 * variants have no WebAssembly kernel yet and their float32 runs use the reference js kernels (the runner says so);
 * the GRU runs on the wasm kernels. Every LSTM starts with forget-gate bias 0 (as gradient-flow's lstm-fb0); Greff's variants are
 * their vanilla cell (with peepholes) with one change; "lstm" is the seed's cell (NP: no peepholes).
 *
 * What it shows: the per-step factor of each cell's error flow at initialisation. The GRU carries ‖∂L/∂h_t‖ per step
 * by about its update gate z (≈ 0.5 at initialisation) plus the gates' terms; an LSTM without forget gate (NFG) keeps
 * the 1997 constant error carousel (factor ≈ 1 through c, the peepholes' terms aside); CIFG couples i = 1 - f.
 * The 1997 block network under its own truncated rule does not run through the runner (it is not a model kind of
 * the runner yet): tools/cec_factor.ts measures its CEC factor (exactly 1 per step) and results/README.md reports it.
 */
import type { Experiment } from "../lib/experiment/schema.ts";

const variants: Record<string, Record<string, unknown>> = {
  "rnn-rho1.0": { model: { cell: "rnn", init: { recurrentWeights: { spectralRadius: 1.0 } } } },
  "lstm": { model: { cell: "lstm", init: { forgetBias: 0 } } },
  "gru": { model: { cell: "gru" } },
};
for (const variant of ["vanilla", "NIG", "NFG", "NOG", "NIAF", "NOAF", "CIFG"]) {
  variants[`lstm-${variant}`] = { model: { cell: "lstm", variant, init: { forgetBias: 0 } } };
}

export default {
  name: "gradient-flow-cells",
  description: "‖∂L/∂h_t‖ against T - t at initialisation: GRU and Greff et al.'s LSTM variants beside LSTM and RNN",
  reference: "Greff et al. 2017 (LSTM: A Search Space Odyssey); Cho et al. 2014; Hochreiter & Schmidhuber 1997",
  role: "gradient-flow",
  task: { name: "adding", params: { T: 100, variant: "arjovsky" } },
  model: { cell: "lstm", hiddenSize: 64 },
  measure: { gradientFlow: { at: ["init"], batchSize: 32 }, testSequences: 0 },
  sweep: {
    variants,
    axes: { seqLen: [10, 20, 50, 100, 200, 500, 1000], seed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] },
  },
  quick: { sweep: { axes: { seqLen: [10, 50, 200], seed: [0] } } },
} satisfies Experiment;
