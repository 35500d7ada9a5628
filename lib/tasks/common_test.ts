// The shared helpers: parameter validation messages, masks, softmax/argmax and the one-hot error.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { exp } from "../math.ts";
import {
  argmaxRow,
  checkOutputs,
  choiceParam,
  intParam,
  lastStepMask,
  LOGIT_OFF,
  oneHotMaxError,
  resolveParams,
  softmaxRow,
} from "./common.ts";

describe("task helpers", () => {
  it("resolveParams fills defaults and rejects unknown names", () => {
    assert.deepEqual(resolveParams("t", { T: 1, v: "a" }, { v: "b" }), { T: 1, v: "b" });
    assert.deepEqual(resolveParams("t", { T: 1 }, undefined), { T: 1 });
    assert.throws(() => resolveParams("t", { T: 1, v: "a" }, { x: 2 }), {
      name: "RangeError",
      message: 't: unknown parameter "x"; allowed: T, v',
    });
    assert.throws(() => resolveParams("t", { T: 1 }, { toString: 2 }), RangeError);
  });

  it("intParam and choiceParam name the parameter, the value and what is allowed", () => {
    assert.equal(intParam("t", "T", 10, 10), 10);
    assert.throws(() => intParam("t", "T", 9, 10), { message: "t: T = 9, expected an integer ≥ 10" });
    assert.throws(() => intParam("t", "N", 7, 1, 5), { message: "t: N = 7, expected an integer in [1, 5]" });
    assert.throws(() => intParam("t", "T", NaN, 1), { message: "t: T = NaN, expected an integer ≥ 1" });
    assert.throws(() => intParam("t", "T", 2 ** 60, 1), RangeError);
    assert.equal(choiceParam("t", "v", "b", ["a", "b"]), "b");
    assert.throws(() => choiceParam("t", "v", 1, ["a", "b"]), { message: 't: v = 1, expected one of "a", "b"' });
  });

  it("lastStepMask marks row (length - 1)·B + b only", () => {
    assert.deepEqual(Array.from(lastStepMask(new Int32Array([3, 1, 2]), 3)), [0, 1, 0, 0, 0, 1, 1, 0, 0]);
  });

  it("softmax, argmax (ties low), one-hot error; LOGIT_OFF is probability 0", () => {
    assert.equal(exp(LOGIT_OFF), 0);
    const p = softmaxRow([9, 0, 0, 9], 1, 2, new Float64Array(2));
    assert.deepEqual(Array.from(p), [0.5, 0.5]);
    assert.deepEqual(Array.from(softmaxRow([0, LOGIT_OFF], 0, 2, new Float64Array(2))), [1, 0]);
    assert.equal(argmaxRow([1, 3, 3, 2], 0, 4), 1);
    assert.equal(argmaxRow([5, 1, 3, 3], 1, 3), 1);
    assert.equal(oneHotMaxError([0, 0, 0, 0], 0, 4, 2, new Float64Array(4)), 0.75);
    assert.ok(Math.abs(oneHotMaxError([Math.log(3), 0], 0, 2, 0, new Float64Array(2)) - 0.25) < 1e-15);
    assert.ok(Number.isNaN(oneHotMaxError([NaN, 0], 0, 2, 0, new Float64Array(2))) === false);
    checkOutputs("t", new Float32Array(6), 2, 3);
    assert.throws(() => checkOutputs("t", new Float32Array(5), 2, 3), {
      message: "t: outputs have 5 values, expected 6 (2 rows of 3 outputs)",
    });
  });
});
