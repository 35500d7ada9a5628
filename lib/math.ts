/**
 * Deterministic elementary functions: `exp`, `expm1`, `log`, `log1p`, `tanh`, and the logistic helpers `sigmoid`,
 * `logSigmoid` and `softplus`.
 *
 * Why this module exists: ECMAScript leaves `Math.exp`, `Math.log`, `Math.tanh` and the other transcendental functions
 * "implementation-approximated", and V8 (Deno) and JavaScriptCore (Bun) disagree in the last bit on some inputs. The
 * library promises bit-identical results in both runtimes, so every transcendental function it uses is computed here
 * from IEEE-754 basic operations only (`+ - * /`, which every engine rounds correctly, and bit manipulation of the
 * float64 representation). `exp`, `expm1`, `log` and `log1p` are ports of fdlibm (Sun Microsystems, 1993; as kept in
 * FreeBSD msun and musl): argument reduction followed by minimax polynomials, with errors below 1 ulp (measured at most
 * 0.85 ulp). `tanh` and `sigmoid` use a table-driven double-double kernel for e^x and a corrected division, and are
 * nearly correctly rounded (at most 0.51 ulp; fdlibm's tanh, which both engines use, reaches 2 ulp). `softplus` and
 * `logSigmoid` build on that kernel and on `log1p` (at most 1.3 ulp, so within 1 ulp of the correctly rounded value).
 *
 * Special values follow `Math.*`: NaN in gives NaN out, `exp(-Infinity) = 0`, `log(0) = -Infinity`, the log of a
 * negative number is NaN, results overflow to `Infinity` and underflow to 0, and the sign of a zero argument is kept
 * where `Math.*` keeps it (`expm1`, `log1p`, `tanh`).
 *
 * @module
 */

// Bit access to a float64. Little- and big-endian hosts are both handled by finding where the high word lives.
const F64 = new Float64Array(1);
const I32 = new Int32Array(F64.buffer);
F64[0] = 1;
const HI = I32[1] === 0x3ff00000 ? 1 : 0; // index of the word holding sign, exponent and the top 20 mantissa bits
const LO = 1 - HI;

/** The high 32 bits of `x` (sign, exponent, top of the mantissa) as a signed integer. */
function highWord(x: number): number {
  F64[0] = x;
  return I32[HI];
}

/** The float64 whose high and low 32-bit words are `hi` and `lo`. */
function fromWords(hi: number, lo: number): number {
  I32[HI] = hi;
  I32[LO] = lo;
  return F64[0];
}

/** `x` with its high word replaced by `hi` (the low word is kept). */
function withHighWord(x: number, hi: number): number {
  F64[0] = x;
  I32[HI] = hi;
  return F64[0];
}

const LN2_HI = 6.93147180369123816490e-01; // 0x3fe62e42 fee00000: k * LN2_HI is exact for |k| < 2000
const LN2_LO = 1.90821492927058770002e-10; // 0x3dea39ef 35793c76
const INV_LN2 = 1.44269504088896338700e+00; // 0x3ff71547 652b82fe
const TWO54 = 1.80143985094819840000e+16; // 2^54
const TWO_M1000 = 9.33263618503218878990e-302; // 2^-1000
const TWO_1023 = 8.98846567431158e+307; // 2^1023
const EXP_OVERFLOW = 7.09782712893383973096e+02; // 0x40862e42 fefa39ef: above this exp(x) overflows
const EXP_UNDERFLOW = -7.45133219101941108420e+02; // 0xc0874910 d52d3051: below this exp(x) underflows to 0

// exp: R(r^2) = r (e^r + 1) / (e^r - 1) ~ 2 + P1 r^2 + ... + P5 r^10 on [0, 0.34658], error < 2^-59.
const P1 = 1.66666666666666019037e-01; // 0x3fc55555 5555553e
const P2 = -2.77777777770155933842e-03; // 0xbf66c16c 16bebd93
const P3 = 6.61375632143793436117e-05; // 0x3f11566a af25de2c
const P4 = -1.65339022054652515390e-06; // 0xbebbbd41 c5d26bf1
const P5 = 4.13813679705723846039e-08; // 0x3e663769 72bea4d0

/**
 * e raised to `x`, computed from basic IEEE-754 operations only (fdlibm `__ieee754_exp`), so every engine returns the
 * same bits. Error below 1 ulp. Overflows to `Infinity` above 709.78 and underflows to 0 below -745.13.
 *
 * @example
 * ```ts
 * import { exp } from "./math.ts";
 * exp(0); // 1
 * exp(Math.LN2); // 2
 * exp(-Infinity); // 0
 * ```
 */
export function exp(x: number): number {
  const hw = highWord(x);
  const neg = hw < 0;
  const hx = hw & 0x7fffffff;

  if (hx >= 0x40862e42) { // |x| >= 709.78..., or x is not finite
    if (hx >= 0x7ff00000) {
      if (x !== x) return x; // NaN
      return neg ? 0 : x; // exp(+-Infinity) = Infinity, 0
    }
    if (x > EXP_OVERFLOW) return Infinity;
    if (x < EXP_UNDERFLOW) return 0;
  }

  // Argument reduction: x = k ln2 + r with |r| <= ln2 / 2, r kept as hi - lo.
  let hi = 0, lo = 0, k = 0;
  if (hx > 0x3fd62e42) { // |x| > ln2 / 2
    if (hx < 0x3ff0a2b2) { // and |x| < 3 ln2 / 2
      if (neg) {
        hi = x + LN2_HI;
        lo = -LN2_LO;
        k = -1;
      } else {
        hi = x - LN2_HI;
        lo = LN2_LO;
        k = 1;
      }
    } else {
      k = (INV_LN2 * x + (neg ? -0.5 : 0.5)) | 0; // truncation toward zero, as C's (int) cast
      hi = x - k * LN2_HI; // exact
      lo = k * LN2_LO;
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) { // |x| < 2^-28: exp(x) rounds to 1 + x
    return 1 + x;
  }

  // Rational approximation of exp(r) on the primary range.
  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k === 0) return 1 - ((x * c) / (c - 2) - x);
  const y = 1 - ((lo - (x * c) / (2 - c)) - hi);

  // Scale by 2^k by adding k to the exponent field.
  if (k >= -1021) return withHighWord(y, highWord(y) + (k << 20));
  return withHighWord(y, highWord(y) + ((k + 1000) << 20)) * TWO_M1000; // result is subnormal: one final rounding
}

// expm1: R1(r^2) = 6/r ((e^r + 1)/(e^r - 1) - 2/r) ~ 1 + Q1 z + ... + Q5 z^5 with z = r^2 / 2 (scaled form), error
// below 2^-61 on [0, 0.347].
const Q1 = -3.33333333333331316428e-02; // 0xbfa11111 111110f4
const Q2 = 1.58730158725481460165e-03; // 0x3f5a01a0 19fe5585
const Q3 = -7.93650757867487942473e-05; // 0xbf14ce19 9eaadbb7
const Q4 = 4.00821782732936239552e-06; // 0x3ed0cfca 86e65239
const Q5 = -2.01099218183624371326e-07; // 0xbe8afdb7 6e09c32d

/**
 * e raised to `x`, minus 1, accurate also for tiny `x` where `exp(x) - 1` would cancel (fdlibm `expm1`). Error below
 * 1 ulp; `expm1(-0)` is -0 and `expm1(-Infinity)` is -1.
 *
 * @example
 * ```ts
 * import { expm1 } from "./math.ts";
 * expm1(1e-10); // 1.00000000005e-10
 * expm1(0); // 0
 * expm1(-Infinity); // -1
 * ```
 */
export function expm1(x: number): number {
  const hw = highWord(x);
  const neg = hw < 0;
  const hx = hw & 0x7fffffff;

  if (hx >= 0x4043687a) { // |x| >= 56 ln2, or x is not finite
    if (x !== x) return x;
    if (neg) return -1;
    if (x > EXP_OVERFLOW) return Infinity;
  }

  // Argument reduction: x = k ln2 + r, with the rounding error of r kept in c.
  let k = 0, c = 0;
  if (hx > 0x3fd62e42) { // |x| > ln2 / 2
    let hi: number, lo: number;
    if (hx < 0x3ff0a2b2) { // and |x| < 3 ln2 / 2
      if (neg) {
        hi = x + LN2_HI;
        lo = -LN2_LO;
        k = -1;
      } else {
        hi = x - LN2_HI;
        lo = LN2_LO;
        k = 1;
      }
    } else {
      k = (INV_LN2 * x + (neg ? -0.5 : 0.5)) | 0;
      hi = x - k * LN2_HI; // exact
      lo = k * LN2_LO;
    }
    x = hi - lo;
    c = (hi - x) - lo;
  } else if (hx < 0x3c900000) { // |x| < 2^-54: expm1(x) rounds to x (keeps -0)
    return x;
  }

  const hfx = 0.5 * x;
  const hxs = x * hfx;
  const r1 = 1 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
  const t = 3 - r1 * hfx;
  let e = hxs * ((r1 - t) / (6 - x * t));
  if (k === 0) return x - (x * e - hxs); // c is 0
  e = x * (e - c) - c;
  e -= hxs;
  // exp(x) ~ 2^k (r - e + 1)
  if (k === -1) return 0.5 * (x - e) - 0.5;
  if (k === 1) {
    if (x < -0.25) return -2 * (e - (x + 0.5));
    return 1 + 2 * (x - e);
  }
  if (k < 0 || k > 56) { // 2^k (r - e + 1) - 1 is accurate enough
    const y = x - e + 1;
    if (k === 1024) return y * 2 * TWO_1023 - 1;
    return y * fromWords((0x3ff + k) << 20, 0) - 1;
  }
  const twopk = fromWords((0x3ff + k) << 20, 0);
  const twomk = fromWords((0x3ff - k) << 20, 0);
  if (k < 20) return (x - e + (1 - twomk)) * twopk;
  return (x - (e + twomk) + 1) * twopk;
}

// log and log1p: R(s^2) ~ Lg1 s^2 + ... + Lg7 s^14 approximates log(1+f) = 2s + s R with s = f / (2 + f), on
// [0, 0.1716], error below 2^-58.45.
const LG1 = 6.666666666666735130e-01; // 0x3fe55555 55555593
const LG2 = 3.999999999940941908e-01; // 0x3fd99999 9997fa04
const LG3 = 2.857142874366239149e-01; // 0x3fd24924 94229359
const LG4 = 2.222219843214978396e-01; // 0x3fcc71c5 1d8e78af
const LG5 = 1.818357216161805012e-01; // 0x3fc74664 96cb03de
const LG6 = 1.531383769920937332e-01; // 0x3fc39a09 d078c69f
const LG7 = 1.479819860511658591e-01; // 0x3fc2f112 df3e5244

/**
 * The natural logarithm of `x` (fdlibm `__ieee754_log`), from basic IEEE-754 operations only. Error below 1 ulp.
 * `log(0)` is `-Infinity`, `log(x)` for negative `x` is NaN and `log(Infinity)` is `Infinity`.
 *
 * @example
 * ```ts
 * import { log } from "./math.ts";
 * log(1); // 0
 * log(Math.E); // 1
 * log(0); // -Infinity
 * ```
 */
export function log(x: number): number {
  let hx = highWord(x);
  let lx = I32[LO];
  let k = 0;

  if (hx < 0x00100000) { // x < 2^-1022: zero, subnormal or negative (including -0 and -Infinity)
    if (((hx & 0x7fffffff) | lx) === 0) return -Infinity; // log(+-0)
    if (hx < 0) return NaN; // log of a negative number
    k -= 54; // subnormal: scale up
    x *= TWO54;
    hx = highWord(x);
    lx = I32[LO];
  }
  if (hx >= 0x7ff00000) return x + x; // Infinity or NaN
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i = (hx + 0x95f64) & 0x100000;
  x = fromWords(hx | (i ^ 0x3ff00000), lx); // normalize x or x/2 into [sqrt(2)/2, sqrt(2))
  k += i >> 20;
  const f = x - 1;

  if ((0x000fffff & (2 + hx)) < 3) { // |f| < 2^-20
    if (f === 0) return k === 0 ? 0 : k * LN2_HI + k * LN2_LO;
    const r = f * f * (0.5 - 0.33333333333333333 * f);
    if (k === 0) return f - r;
    return k * LN2_HI - ((r - k * LN2_LO) - f);
  }
  const s = f / (2 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const r = t2 + t1;
  if (((hx - 0x6147a) | (0x6b851 - hx)) > 0) { // f far from 0: use the more accurate form
    const hfsq = 0.5 * f * f;
    if (k === 0) return f - (hfsq - s * (hfsq + r));
    return k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f);
  }
  if (k === 0) return f - s * (f - r);
  return k * LN2_HI - ((s * (f - r) - k * LN2_LO) - f);
}

const LN10 = log(10);

/**
 * Decimal logarithm, `log(x) / ln 10` (engine-independent like `log`): `log10(0) = -Infinity`, NaN for x < 0.
 *
 * @example
 * ```ts
 * import { log10 } from "./math.ts";
 * log10(1000); // 3 (to within an ulp)
 * ```
 */
export function log10(x: number): number {
  return log(x) / LN10;
}

/**
 * The natural logarithm of `1 + x`, accurate also for tiny `x` where `log(1 + x)` would lose digits (fdlibm
 * `log1p`). Error below 1 ulp. `log1p(-1)` is `-Infinity`, `log1p(x)` for `x < -1` is NaN, and `log1p(-0)` is -0.
 *
 * @example
 * ```ts
 * import { log1p } from "./math.ts";
 * log1p(1e-10); // 9.999999999500001e-11
 * log1p(-1); // -Infinity
 * ```
 */
export function log1p(x: number): number {
  const hx = highWord(x);
  const ax = hx & 0x7fffffff;

  let k = 1, f = 0, c = 0, hu = 0;
  if (hx < 0x3fda827a) { // 1 + x < sqrt(2)+
    if (ax >= 0x3ff00000) { // x <= -1 (or a negative NaN)
      if (x === -1) return -Infinity;
      return NaN;
    }
    if (ax < 0x3e200000) { // |x| < 2^-29
      if (ax < 0x3c900000) return x; // |x| < 2^-54 (keeps -0)
      return x - x * x * 0.5;
    }
    if (hx > 0 || hx <= (0xbfd2bec4 | 0)) { // sqrt(2)/2- <= 1 + x < sqrt(2)+: f = x is exact
      k = 0;
      f = x;
      hu = 1;
    }
  }
  if (hx >= 0x7ff00000) return x + x; // Infinity or NaN
  if (k !== 0) {
    let u: number;
    if (hx < 0x43400000) { // x < 2^53: keep the rounding error of 1 + x as c / u
      u = 1 + x;
      hu = highWord(u);
      k = (hu >> 20) - 1023;
      c = k > 0 ? 1 - (u - x) : x - (u - 1);
      c /= u;
    } else {
      u = x;
      hu = highWord(u);
      k = (hu >> 20) - 1023;
      c = 0;
    }
    hu &= 0x000fffff;
    if (hu < 0x6a09e) { // u ~< sqrt(2): normalize u
      u = withHighWord(u, hu | 0x3ff00000);
    } else { // normalize u / 2
      k += 1;
      u = withHighWord(u, hu | 0x3fe00000);
      hu = (0x00100000 - hu) >> 2;
    }
    f = u - 1;
  }
  const hfsq = 0.5 * f * f;
  if (hu === 0) { // |f| < 2^-20
    if (f === 0) {
      if (k === 0) return 0;
      c += k * LN2_LO;
      return k * LN2_HI + c;
    }
    const r = hfsq * (1 - 0.66666666666666666 * f);
    if (k === 0) return f - r;
    return k * LN2_HI - ((r - (k * LN2_LO + c)) - f);
  }
  const s = f / (2 + f);
  const z = s * s;
  const r = z * (LG1 + z * (LG2 + z * (LG3 + z * (LG4 + z * (LG5 + z * (LG6 + z * LG7))))));
  if (k === 0) return f - (hfsq - s * (hfsq + r));
  return k * LN2_HI - ((hfsq - (s * (hfsq + r) + (k * LN2_LO + c))) - f);
}

const TWO_M969 = 2.004168360008973e-292; // 2^-1022 * 2^53

/**
 * `x * 2^n` for an integer `n`, computed exactly (rounded once if the result is subnormal), as C's `scalbn`/`ldexp`.
 * Use it instead of `2 ** n` or `Math.pow(2, n)`, whose results the ECMAScript specification does not pin down.
 *
 * @example
 * ```ts
 * import { ldexp } from "./math.ts";
 * ldexp(3, -2); // 0.75
 * ldexp(1, -1074); // 5e-324
 * ldexp(1, 1024); // Infinity
 * ```
 */
export function ldexp(x: number, n: number): number {
  if (!Number.isInteger(n)) throw new RangeError(`ldexp: n must be an integer, got ${n}`);
  if (n > 1023) { // (musl scalbn) scale in steps that stay exact
    x *= TWO_1023;
    n -= 1023;
    if (n > 1023) {
      x *= TWO_1023;
      n -= 1023;
      if (n > 1023) n = 1023;
    }
  } else if (n < -1022) { // keep the last step below -53 so a subnormal result is rounded only once
    x *= TWO_M969;
    n += 1022 - 53;
    if (n < -1022) {
      x *= TWO_M969;
      n += 1022 - 53;
      if (n < -1022) n = -1022;
    }
  }
  return x * fromWords((0x3ff + n) << 20, 0);
}

// ---------------------------------------------------------------------------------------------------------------------
// Extra-precise kernel for tanh and the logistic functions.
//
// fdlibm's tanh is 2 ulp off in places (its rounding errors in expm1, in t + 2 and in the division add up), and the
// naive 1 / (1 + exp(-x)) is too. These functions therefore evaluate e^y (or e^y - 1) as an unevaluated sum hi + lo
// accurate to about 2^-64 relative (table-driven reduction y = (32k + j) ln2/32 + r with |r| <= ln2/64, a degree-7
// Taylor polynomial, Dekker's exact products and Knuth's exact sums), and then divide with one correction step, so the
// final result carries little more than its own rounding error (0.5 ulp).

// ln2/32 in three pieces: the first two have 37 significant bits, so n * L1 and n * L2 are exact for |n| < 2^16.
const L1 = 0.021660849392446835;
const L2 = 5.1456092446457696e-14;
const L3 = 9.568252300058288e-26;
const INV_C = 46.16624130844683; // 32 / ln2
const SPLIT = 134217729; // 2^27 + 1, Dekker's splitting constant

// 2^(j/32) = T_HI[j] + T_LO[j], j = 0..31 (T_HI correctly rounded, T_LO the correctly rounded remainder).
const T_HI = new Float64Array([
  1.0,
  1.0218971486541166,
  1.0442737824274138,
  1.0671404006768237,
  1.0905077326652577,
  1.1143867425958924,
  1.1387886347566916,
  1.1637248587775775,
  1.189207115002721,
  1.215247359980469,
  1.241857812073484,
  1.2690509571917332,
  1.2968395546510096,
  1.3252366431597413,
  1.3542555469368927,
  1.383909881963832,
  1.4142135623730951,
  1.4451808069770467,
  1.4768261459394993,
  1.5091644275934228,
  1.5422108254079407,
  1.5759808451078865,
  1.6104903319492543,
  1.645755478153965,
  1.681792830507429,
  1.718619298122478,
  1.7562521603732995,
  1.7947090750031072,
  1.8340080864093424,
  1.8741676341103,
  1.9152065613971474,
  1.9571441241754002,
]);
const T_LO = new Float64Array([
  0.0,
  5.109225028973444e-17,
  8.551889705537965e-17,
  -7.899853966841582e-17,
  -3.046782079812471e-17,
  1.0410278456845571e-16,
  8.912812676025408e-17,
  3.8292048369240935e-17,
  3.982015231465646e-17,
  -7.712630692681488e-17,
  4.658027591836937e-17,
  2.667932131342186e-18,
  2.5382502794888315e-17,
  -2.8587312100388614e-17,
  7.70094837980299e-17,
  -6.770511658794786e-17,
  -9.667293313452913e-17,
  -3.0237581349939873e-17,
  -3.483994556892796e-17,
  -1.016455327754295e-16,
  7.949834809697621e-17,
  -1.0136916471278304e-17,
  2.4707192569797888e-17,
  -1.0125679913674773e-16,
  8.199010020581497e-17,
  -1.851380418263111e-17,
  2.960140695448873e-17,
  1.8227458427912087e-17,
  3.283107224245627e-17,
  -6.122763413004143e-17,
  -1.0619946056195963e-16,
  8.960767791036668e-17,
]);
// T_HI split into 26- and 27-bit halves for Dekker's exact product.
const T_HI_H = new Float64Array(32);
const T_HI_L = new Float64Array(32);
for (let j = 0; j < 32; j++) {
  const s = SPLIT * T_HI[j];
  T_HI_H[j] = s - (s - T_HI[j]);
  T_HI_L[j] = T_HI[j] - T_HI_H[j];
}

// Outputs of expDD (module-level so the hot path allocates nothing).
let ddHi = 0;
let ddLo = 0;

/**
 * Sets `ddHi + ddLo` to e^y - m (m is 0 or 1) with a relative error around 2^-64, for -745 < y < 700 where the result
 * is a normal number; also accurate for tiny y when m = 1 (no cancellation). Callers keep y away from overflow.
 */
function expDD(y: number, m: number): void {
  // Reduction: y = n ln2/32 + r, with r = rh + rl to about 2^-100 absolute.
  const n = Math.round(y * INV_C);
  const r0 = y - n * L1; // exact (Sterbenz)
  const t = n * L2; // exact
  const rh = r0 - t;
  const bv = rh - r0;
  let rl = (r0 - (rh - bv)) + (-t - bv); // Knuth's TwoSum: rh + rl = r0 - t exactly
  rl -= n * L3;
  const j = n & 31;
  const k = (n - j) / 32;

  // e^r - 1 = rh + pl, with the degree-7 Taylor polynomial (truncation error below 2^-67 for |r| <= ln2/64).
  const q = rh * rh *
    (0.5 + rh * (1 / 6 + rh * (1 / 24 + rh * (1 / 120 + rh * (1 / 720 + rh * (1 / 5040))))));
  const pl = rl + (q + rh * rl);

  // 2^(j/32) (1 + rh + pl) - m 2^-k, scaled by 2^k at the end (exact: the callers' k keeps everything normal).
  const th = T_HI[j], tl = T_LO[j];
  const a = th * rh; // Dekker's TwoProduct: a + ae = th * rh exactly
  const s = SPLIT * rh;
  const rhh = s - (s - rh), rhl = rh - rhh;
  const ae = ((T_HI_H[j] * rhh - a) + T_HI_H[j] * rhl + T_HI_L[j] * rhh) + T_HI_L[j] * rhl;
  const scale = fromWords((0x3ff + k) << 20, 0); // 2^k
  const mk = m === 0 ? 0 : (k === 0 ? 1 : m * fromWords((0x3ff - k) << 20, 0)); // m 2^-k
  const s0 = th - mk; // TwoSum(th, -mk)
  const b0 = s0 - th;
  const e0 = (th - (s0 - b0)) + (-mk - b0);
  const s1 = s0 + a; // TwoSum(s0, a)
  const b1 = s1 - s0;
  const e1 = (s0 - (s1 - b1)) + (a - b1);
  const lo = e0 + e1 + (ae + (tl + (th * pl + tl * (rh + pl))));
  const hi = s1 + lo; // Fast2Sum renormalisation
  ddLo = (lo - (hi - s1)) * scale;
  ddHi = hi * scale;
}

/**
 * `nh + nl` divided by `dh + dl` (both unevaluated sums with |lo| small against |hi|), rounded once: the quotient of
 * the leading parts plus one correction computed with an exact product, so the error is 0.5 ulp plus about 2^-10 ulp.
 */
function divDD(nh: number, nl: number, dh: number, dl: number): number {
  const q0 = nh / dh;
  const p = q0 * dh; // TwoProduct(q0, dh)
  let s = SPLIT * q0;
  const qh = s - (s - q0), ql = q0 - qh;
  s = SPLIT * dh;
  const dhh = s - (s - dh), dhl = dh - dhh;
  const pe = ((qh * dhh - p) + qh * dhl + ql * dhh) + ql * dhl;
  const r = (nh - p) - pe + nl - q0 * dl; // nh - p is exact (Sterbenz)
  return q0 + r / dh;
}

/**
 * The hyperbolic tangent of `x`, nearly correctly rounded (error about 0.51 ulp): `tanh(x) = -t / (t + 2)` with
 * `t = expm1(-2|x|)` evaluated in extra precision (fdlibm's tanh reaches 2 ulp). Odd, so `tanh(-0)` is -0;
 * `tanh(+-Infinity)` is +-1.
 *
 * @example
 * ```ts
 * import { tanh } from "./math.ts";
 * tanh(0); // 0
 * tanh(0.5); // 0.46211715726000974
 * tanh(-Infinity); // -1
 * ```
 */
export function tanh(x: number): number {
  const a = x < 0 ? -x : x;
  if (!(a >= 7.450580596923828e-9)) return x; // |x| < 2^-27: tanh(x) rounds to x (also +-0, subnormals and NaN)
  if (a > 19.1) return x < 0 ? -1 : 1; // 1 - tanh(|x|) < 2^-54: rounds to 1
  expDD(-2 * a, 1); // t = e^(-2a) - 1, in (-1, 0)
  const nh = -ddHi, nl = -ddLo;
  const dh = 2 + ddHi; // TwoSum(2, ddHi)
  const bv = dh - 2;
  const dl = (2 - (dh - bv)) + (ddHi - bv) + ddLo;
  const t = divDD(nh, nl, dh, dl);
  return x < 0 ? -t : t;
}

/**
 * The logistic function `1 / (1 + e^-x)`, nearly correctly rounded (error about 0.51 ulp), never overflowing and
 * never NaN for finite `x`: `sigmoid(-Infinity) = 0`, `sigmoid(Infinity) = 1`, `sigmoid(0) = 0.5`.
 *
 * @example
 * ```ts
 * import { sigmoid } from "./math.ts";
 * sigmoid(0); // 0.5
 * sigmoid(-1000); // 0
 * sigmoid(1000); // 1
 * ```
 */
export function sigmoid(x: number): number {
  if (x >= 0) {
    if (x > 37.5) return 1; // e^-x < 2^-54: 1 / (1 + e^-x) rounds to 1 (also x = Infinity)
    expDD(-x, 0); // e^-x in (0, 1]
    const dh = 1 + ddHi; // TwoSum(1, ddHi)
    const bv = dh - 1;
    const dl = (1 - (dh - bv)) + (ddHi - bv) + ddLo;
    return divDD(1, 0, dh, dl);
  }
  if (!(x >= -700)) return exp(x); // e^x / (1 + e^x) rounds like e^x here (and NaN passes through)
  expDD(x, 0); // e^x in (0, 1)
  const eh = ddHi, el = ddLo;
  const dh = 1 + eh;
  const bv = dh - 1;
  const dl = (1 - (dh - bv)) + (eh - bv) + el;
  return divDD(eh, el, dh, dl);
}

/**
 * `log(1 + e^x)`, the softplus function, evaluated without overflow for large `x` (where it equals `x`) and without
 * losing relative accuracy for very negative `x` (where it approaches `e^x`). Error below 1.3 ulp.
 *
 * @example
 * ```ts
 * import { softplus } from "./math.ts";
 * softplus(0); // 0.6931471805599453 (ln 2)
 * softplus(1000); // 1000
 * softplus(-50); // 1.9287498479639178e-22
 * ```
 */
export function softplus(x: number): number {
  if (x > 37) return x; // log1p(e^-x) < ulp(x) / 2 (also x = Infinity)
  if (!(x >= -700)) return exp(x); // log(1 + e^x) rounds like e^x here (and NaN passes through)
  const a = x > 0 ? -x : x;
  expDD(a, 0); // e^-|x| in (0, 1]
  const l = log1p(ddHi) + ddLo / (1 + ddHi); // log(1 + hi + lo) to first order in lo
  return x > 0 ? x + l : l;
}

/**
 * `log(sigmoid(x)) = -softplus(-x)`, evaluated stably: it equals `x` for very negative `x` and approaches `-e^-x` for
 * large `x`, never returning `-Infinity` or NaN for finite `x`. Error below 1.3 ulp; `logSigmoid(Infinity)` is -0.
 *
 * @example
 * ```ts
 * import { logSigmoid } from "./math.ts";
 * logSigmoid(0); // -0.6931471805599453
 * logSigmoid(-1000); // -1000
 * logSigmoid(50); // -1.9287498479639178e-22
 * ```
 */
export function logSigmoid(x: number): number {
  return -softplus(-x);
}
