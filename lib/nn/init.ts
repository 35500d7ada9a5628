/**
 * Initialisation schemes for recurrent models, selectable per parameter group.
 *
 * | scheme              | applies to          | what it draws                                                                   |
 * |---------------------|---------------------|---------------------------------------------------------------------------------|
 * | `"uniform"`         | any                 | U(-1/√H, 1/√H): PyTorch's default for nn.LSTM / nn.RNN (H = hidden size)        |
 * | `"glorot"`          | weights             | Glorot/Xavier uniform U(±√(6/(fan_in + fan_out))), per gate block (fan_out = H) |
 * | `"orthogonal"`      | recurrent weights   | a random orthogonal H×H matrix per gate block (Saxe et al. 2014), times `gain`  |
 * | `"identity"`        | recurrent weights   | `gain` · I per gate block: the IRNN of Le et al. 2015                           |
 * | `{spectralRadius}`  | recurrent weights   | per gate block, a matrix with spectral radius exactly ρ (see below)             |
 * | `"zeros"`           | biases              | 0                                                                               |
 *
 * `{ spectralRadius: ρ }` draws W ~ N(0, 1/H) (the echo-state convention) and rescales it so that its largest
 * eigenvalue modulus is ρ; with `base: "orthogonal"` it is ρ·Q instead, for which every singular value is ρ too, so
 * Pascanu et al.'s bound uses λ₁ = ρ exactly. For a tanh RNN, ρ < 1 makes long-range gradients vanish and ρ > 1 is
 * needed for them to explode.
 *
 * `forgetBias` (LSTM) sets the forget-gate block of `bias_ih` to the value and that of `bias_hh` to 0, so the
 * effective forget bias b_ih + b_hh equals it (Gers et al. 2000; Jozefowicz et al. 2015 recommend 1).
 *
 * Draws come from the model's seeded generator in parameter order, so the same seed gives the same weights in every
 * runtime.
 *
 * @module
 */

import { orthogonal, scaleToSpectralRadius } from "../linalg.ts";
import type { Rng } from "../rng.ts";

/** How recurrent weights W_hh are initialised. */
export type RecurrentInit =
  | "uniform"
  | "glorot"
  | "orthogonal"
  | "identity"
  | { spectralRadius: number; base?: "gaussian" | "orthogonal" };

/**
 * Initialisation of a model's parameters. Every field is optional; the default is PyTorch's (all uniform).
 *
 * @example
 * ```ts
 * import type { InitConfig } from "./init.ts";
 * const lstm: InitConfig = { inputWeights: "glorot", recurrentWeights: "orthogonal", forgetBias: 1 };
 * const rnn: InitConfig = { recurrentWeights: { spectralRadius: 0.9 }, bias: "zeros" };
 * ```
 */
export interface InitConfig {
  /** W_ih: "uniform" (default) or "glorot". */
  inputWeights?: "uniform" | "glorot";
  /** W_hh: see `RecurrentInit` (default "uniform"). */
  recurrentWeights?: RecurrentInit;
  /** Multiplies "orthogonal" and "identity" recurrent weights (default 1; ≥ 0). */
  gain?: number;
  /** b_ih, b_hh: "uniform" (default) or "zeros". */
  bias?: "uniform" | "zeros";
  /** LSTM only: effective forget-gate bias (b_ih + b_hh); unset keeps the `bias` scheme. */
  forgetBias?: number;
  /** Readout weight and bias: "uniform" (default; nn.Linear's U(±1/√H)) or "glorot" (bias 0). */
  readout?: "uniform" | "glorot";
}

const INIT_KEYS = ["inputWeights", "recurrentWeights", "gain", "bias", "forgetBias", "readout"] as const;

/**
 * Checks an initialisation config before any parameter is drawn: known keys only, known schemes, `gain` a finite
 * number ≥ 0 (a negative gain would flip the recurrent weights' sign; 0 zeroes them), `forgetBias` finite, a
 * spectral radius finite and ≥ 0. Throws a RangeError naming the field, the value and what is allowed.
 *
 * @example
 * ```ts
 * import { checkInitConfig } from "./init.ts";
 * checkInitConfig({ recurrentWeights: "orthogonal", gain: 1.2 }); // fine
 * // checkInitConfig({ gain: -1 }) throws: init.gain = -1, expected a finite number ≥ 0
 * ```
 */
export function checkInitConfig(cfg: unknown): asserts cfg is InitConfig {
  if (cfg === null || typeof cfg !== "object" || Array.isArray(cfg)) {
    throw badScheme("", cfg, "an object (or nothing, for PyTorch's default)");
  }
  const c = cfg as Record<string, unknown>;
  for (const k of Object.keys(c)) {
    if (!(INIT_KEYS as readonly string[]).includes(k)) {
      throw new RangeError(`init.${k}: unknown key, expected one of ${INIT_KEYS.join(", ")}`);
    }
  }
  const oneOf = (k: string, allowed: string[]) => {
    if (c[k] !== undefined && !allowed.includes(c[k] as string)) {
      throw badScheme(k, c[k], allowed.map((a) => JSON.stringify(a)).join(" or "));
    }
  };
  oneOf("inputWeights", ["uniform", "glorot"]);
  oneOf("bias", ["uniform", "zeros"]);
  oneOf("readout", ["uniform", "glorot"]);
  if (c.gain !== undefined && !(typeof c.gain === "number" && Number.isFinite(c.gain) && c.gain >= 0)) {
    throw badScheme("gain", c.gain, "a finite number ≥ 0");
  }
  if (c.forgetBias !== undefined && !(typeof c.forgetBias === "number" && Number.isFinite(c.forgetBias))) {
    throw badScheme("forgetBias", c.forgetBias, "a finite number");
  }
  const rw = c.recurrentWeights;
  if (rw === undefined || (typeof rw === "string" && ["uniform", "glorot", "orthogonal", "identity"].includes(rw))) {
    return;
  }
  if (rw === null || typeof rw !== "object" || Array.isArray(rw)) {
    throw badScheme(
      "recurrentWeights",
      rw,
      `"uniform", "glorot", "orthogonal", "identity" or { spectralRadius: number, base?: "gaussian" | "orthogonal" }`,
    );
  }
  const r = rw as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (k !== "spectralRadius" && k !== "base") {
      throw new RangeError(`init.recurrentWeights.${k}: unknown key, expected one of spectralRadius, base`);
    }
  }
  if (!(typeof r.spectralRadius === "number" && Number.isFinite(r.spectralRadius) && r.spectralRadius >= 0)) {
    throw badScheme("recurrentWeights.spectralRadius", r.spectralRadius, "a finite number ≥ 0");
  }
  if (r.base !== undefined && r.base !== "gaussian" && r.base !== "orthogonal") {
    throw badScheme("recurrentWeights.base", r.base, `"gaussian" or "orthogonal"`);
  }
}

/** The parameter groups `initParameter` knows. */
export type ParamRole =
  | "weight_ih"
  | "weight_hh"
  | "bias_ih"
  | "bias_hh"
  | "peephole"
  | "readout.weight"
  | "readout.bias";

/** What `initParameter` needs to know about one parameter. */
export interface ParamSlot {
  role: ParamRole;
  /** Row-major shape, as PyTorch gives it. */
  shape: readonly number[];
  /** Where to write (float32 or float64 view). */
  value: Float32Array | Float64Array;
}

/**
 * Fills one parameter according to the config. `gates` is 4 for the LSTM and 1 for the RNN; `hidden` is H.
 *
 * @example
 * ```ts
 * import { initParameter } from "./init.ts";
 * import { Rng } from "../rng.ts";
 * const w = new Float64Array(4 * 3 * 3);
 * initParameter({ role: "weight_hh", shape: [12, 3], value: w }, 4, 3, { recurrentWeights: "orthogonal" }, new Rng(0));
 * ```
 */
export function initParameter(p: ParamSlot, gates: number, hidden: number, cfg: InitConfig, rng: Rng): void {
  const H = hidden, k = 1 / Math.sqrt(H), v = p.value;
  const uniform = (bound: number) => rng.fillUniform(v, -bound, bound);
  switch (p.role) {
    case "weight_ih": {
      const scheme = cfg.inputWeights ?? "uniform";
      if (scheme === "uniform") uniform(k);
      else if (scheme === "glorot") uniform(Math.sqrt(6 / (p.shape[1] + H)));
      else throw badScheme("inputWeights", scheme, `"uniform" or "glorot"`);
      return;
    }
    case "weight_hh":
      initRecurrent(v, gates, H, cfg.recurrentWeights ?? "uniform", cfg.gain ?? 1, rng);
      return;
    case "bias_ih":
    case "bias_hh": {
      const scheme = cfg.bias ?? "uniform";
      if (scheme === "uniform") uniform(k);
      else if (scheme === "zeros") v.fill(0);
      else throw badScheme("bias", scheme, `"uniform" or "zeros"`);
      if (cfg.forgetBias !== undefined && gates === 4) {
        if (!Number.isFinite(cfg.forgetBias)) throw badScheme("forgetBias", cfg.forgetBias, "a finite number");
        v.fill(p.role === "bias_ih" ? cfg.forgetBias : 0, H, 2 * H); // block 1 of [i | f | g | o]
      }
      return;
    }
    case "peephole": // Greff et al. 2017 initialise the peepholes like the other weights: U[-1/√H, 1/√H] here
      uniform(k);
      return;
    case "readout.weight": {
      const scheme = cfg.readout ?? "uniform";
      if (scheme === "uniform") uniform(k);
      else if (scheme === "glorot") uniform(Math.sqrt(6 / (p.shape[0] + p.shape[1])));
      else throw badScheme("readout", scheme, `"uniform" or "glorot"`);
      return;
    }
    case "readout.bias":
      if ((cfg.readout ?? "uniform") === "uniform") uniform(k);
      else v.fill(0);
      return;
  }
}

function initRecurrent(
  v: Float32Array | Float64Array,
  gates: number,
  H: number,
  scheme: RecurrentInit,
  gain: number,
  rng: Rng,
): void {
  if (scheme === "uniform") {
    rng.fillUniform(v, -1 / Math.sqrt(H), 1 / Math.sqrt(H));
    return;
  }
  if (scheme === "glorot") {
    rng.fillUniform(v, -Math.sqrt(3 / H), Math.sqrt(3 / H)); // fan_in = fan_out = H
    return;
  }
  for (let g = 0; g < gates; g++) {
    const block = v.subarray(g * H * H, (g + 1) * H * H); // gate g's (H, H) rows
    if (scheme === "orthogonal") {
      const q = orthogonal(H, H, rng);
      for (let i = 0; i < q.length; i++) block[i] = gain * q[i];
    } else if (scheme === "identity") {
      block.fill(0);
      for (let i = 0; i < H; i++) block[i * H + i] = gain;
    } else if (typeof scheme === "object" && scheme !== null && "spectralRadius" in scheme) {
      const rho = scheme.spectralRadius;
      if (!(Number.isFinite(rho) && rho >= 0)) {
        throw badScheme("recurrentWeights.spectralRadius", rho, "a finite number ≥ 0");
      }
      const base = scheme.base ?? "gaussian";
      let w: Float64Array;
      if (base === "orthogonal") {
        w = orthogonal(H, H, rng);
        for (let i = 0; i < w.length; i++) w[i] *= rho;
      } else if (base === "gaussian") {
        const gauss = rng.fillNormal(new Float64Array(H * H), 0, 1 / Math.sqrt(H));
        w = scaleToSpectralRadius(gauss, H, rho);
      } else {
        throw badScheme("recurrentWeights.base", base, `"gaussian" or "orthogonal"`);
      }
      block.set(w);
    } else {
      throw badScheme(
        "recurrentWeights",
        scheme,
        `"uniform", "glorot", "orthogonal", "identity" or { spectralRadius: number }`,
      );
    }
  }
}

function badScheme(field: string, value: unknown, allowed: string): RangeError {
  const shown = typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value);
  return new RangeError(`init${field === "" ? "" : `.${field}`} = ${shown}, expected ${allowed}`);
}
