/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna, 2018), seeded through splitmix32.
 *
 * Why this generator: it needs only 32-bit integer operations (`Math.imul`, shifts), so every JavaScript engine
 * produces the same stream bit for bit; Deno (V8) and Bun (JavaScriptCore) agree. The normal sampler uses our own
 * `log` from `math.ts` rather than `Math.log`, whose last bit differs between engines.
 *
 * @module
 */

import { log } from "./math.ts";

const TWO_POW_M53 = 1 / 9007199254740992; // 2^-53

/** splitmix32 step: a well-mixed 32-bit hash of a counter, used only to expand seeds into generator state. */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A seeded xoshiro128** generator with uniform, integer and normal samplers.
 *
 * `new Rng(seed, stream)` gives independent streams for the same seed (for example one for weights and one for data),
 * so adding draws to one stream never shifts another.
 *
 * @example
 * ```ts
 * import { Rng } from "./rng.ts";
 * const rng = new Rng(42);
 * const u = rng.uniform(); // in [0, 1)
 * const z = rng.normal(); // standard normal
 * const k = rng.int(10); // in {0, ..., 9}
 * ```
 */
export class Rng {
  #s = new Uint32Array(4);
  #spare = 0;
  #hasSpare = false;

  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`Rng: seed must be a non-negative safe integer, got ${seed}`);
    }
    if (!Number.isSafeInteger(stream) || stream < 0) {
      throw new RangeError(`Rng: stream must be a non-negative safe integer, got ${stream}`);
    }
    const lo = seed >>> 0, hi = Math.floor(seed / 4294967296) >>> 0;
    let x = splitmix32(lo ^ splitmix32(hi ^ splitmix32(stream)));
    for (let i = 0; i < 4; i++) {
      x = splitmix32(x + i);
      this.#s[i] = x;
    }
    if ((this.#s[0] | this.#s[1] | this.#s[2] | this.#s[3]) === 0) this.#s[0] = 1; // the all-zero state is a fixed point
  }

  /** The next 32 random bits, as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5, b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) * TWO_POW_M53;
  }

  /** A uniform double in [lo, hi). */
  uniformIn(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** A uniform integer in {0, ..., n - 1}, without modulo bias (rejection sampling). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    if (n === 4294967296) return this.nextUint32();
    const limit = 4294967296 - (4294967296 % n); // accept draws below the largest multiple of n
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** A uniform integer in {lo, ..., hi} (both ends included). */
  intIn(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** A standard normal draw (Marsaglia's polar method; pairs are produced together and the spare is kept). */
  normal(): number {
    if (this.#hasSpare) {
      this.#hasSpare = false;
      return this.#spare;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt(-2 * log(s) / s); // sqrt is correctly rounded in every engine
    this.#spare = v * m;
    this.#hasSpare = true;
    return u * m;
  }

  /** Fills `out` with uniform draws in [lo, hi) and returns it. */
  fillUniform<A extends Float32Array | Float64Array>(out: A, lo: number, hi: number): A {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** Fills `out` with normal draws of the given mean and standard deviation and returns it. */
  fillNormal<A extends Float32Array | Float64Array>(out: A, mean = 0, std = 1): A {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Shuffles `a` in place (Fisher-Yates) and returns it. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** The generator's full state, to save with a checkpoint; `Rng.fromState` restores it. */
  state(): number[] {
    return [...this.#s, this.#hasSpare ? 1 : 0, this.#spare];
  }

  /** A generator that continues exactly where the one that produced `state` stopped. */
  static fromState(state: readonly number[]): Rng {
    if (state.length !== 6) throw new RangeError(`Rng.fromState: expected 6 numbers, got ${state.length}`);
    const r = new Rng(0);
    for (let i = 0; i < 4; i++) r.#s[i] = state[i];
    r.#hasSpare = state[4] === 1;
    r.#spare = state[5];
    return r;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
