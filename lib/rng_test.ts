// The generator against the C reference implementation of xoshiro128** (Blackman & Vigna), its seeding, and the
// statistics of its samplers.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "./rng.ts";

describe("Rng", () => {
  it("xoshiro128** matches the C reference from state {1, 2, 3, 4}", () => {
    const r = Rng.fromState([1, 2, 3, 4, 0, 0]);
    const got = Array.from({ length: 6 }, () => r.nextUint32());
    assert.deepEqual(got, [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });
  it("seeding through splitmix32 matches the C reference (seed 42, stream 0)", () => {
    const r = new Rng(42);
    const got = Array.from({ length: 6 }, () => r.nextUint32());
    assert.deepEqual(got, [991567338, 134984389, 406513837, 4113059570, 3228573463, 1864528362]);
  });
  it("same seed, same numbers; another seed or stream, other numbers", () => {
    const a = new Rng(7), b = new Rng(7), c = new Rng(8), d = new Rng(7, 1);
    const draw = (r: Rng) => Array.from({ length: 8 }, () => r.uniform());
    const da = draw(a);
    assert.deepEqual(da, draw(b));
    assert.notDeepEqual(da, draw(c));
    assert.notDeepEqual(da, draw(d));
  });
  it("seeds above 2^32 are distinct", () => {
    assert.notEqual(new Rng(2 ** 32).nextUint32(), new Rng(0).nextUint32());
  });
  it("state() and fromState() continue the stream exactly, including the normal sampler's spare", () => {
    const r = new Rng(5);
    r.normal(); // leaves a spare
    const copy = Rng.fromState(r.state());
    assert.deepEqual(Array.from({ length: 5 }, () => r.normal()), Array.from({ length: 5 }, () => copy.normal()));
  });
  it("uniform is in [0, 1) with mean 1/2 and variance 1/12", () => {
    const r = new Rng(1), n = 200_000;
    let sum = 0, sq = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      assert.ok(u >= 0 && u < 1);
      sum += u;
      sq += u * u;
    }
    const mean = sum / n, variance = sq / n - mean * mean;
    assert.ok(Math.abs(mean - 0.5) < 4 * Math.sqrt(1 / 12 / n), `mean ${mean}`);
    assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
  });
  it("int(n) covers {0..n-1} evenly (chi-square)", () => {
    const r = new Rng(2), n = 7, draws = 70_000, counts = new Array(n).fill(0);
    for (let i = 0; i < draws; i++) counts[r.int(n)]++;
    const e = draws / n, chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    assert.ok(chi2 < 22.46, `chi-square ${chi2} (6 degrees of freedom, p = 0.001 cut-off 22.46)`);
    assert.equal(r.intIn(3, 3), 3);
  });
  it("normal has mean 0, variance 1, and the right tails", () => {
    const r = new Rng(3), n = 200_000;
    let sum = 0, sq = 0, beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      sum += z;
      sq += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    assert.ok(Math.abs(sum / n) < 0.01, `mean ${sum / n}`);
    assert.ok(Math.abs(sq / n - 1) < 0.015, `variance ${sq / n}`);
    assert.ok(Math.abs(beyond2 / n - 0.0455) < 0.003, `P(|z| > 2) = ${beyond2 / n}`);
  });
  it("rejects bad seeds and ranges with a clear message", () => {
    assert.throws(() => new Rng(-1), /seed must be a non-negative safe integer, got -1/);
    assert.throws(() => new Rng(1.5), /seed must be a non-negative safe integer/);
    assert.throws(() => new Rng(1).int(0), /n must be an integer in \[1, 2\^32\], got 0/);
  });
});
