/**
 * A worker thread of the wasm kernel pool (see `wasm_kernels.ts`): it instantiates the kernels on the shared memory,
 * then waits on its control block for a command (function id and arguments), runs it on its row range, and reports.
 * It spins briefly between commands (a training step issues them back to back), then sleeps in `Atomics.wait`.
 *
 * @module
 */

import { workerData } from "node:worker_threads";
import { CTL, instantiate, SPLITTABLE, STOP } from "./wasm_kernels.ts";

const { memory, control } = workerData as { memory: WebAssembly.Memory; control: number };
const exports = instantiate(memory);
const ctl = new Int32Array(memory.buffer, control, CTL.WORDS);
const fns = SPLITTABLE.map((name) => exports[name] as (...args: number[]) => void);
const SPIN = 1 << 16;

Atomics.store(ctl, CTL.READY, 1);
let seen = Atomics.load(ctl, CTL.SEQ);
for (;;) {
  let spins = 0;
  while (Atomics.load(ctl, CTL.SEQ) === seen) {
    if (++spins > SPIN) {
      Atomics.wait(ctl, CTL.SEQ, seen);
      spins = 0;
    }
  }
  seen = Atomics.load(ctl, CTL.SEQ);
  const fn = ctl[CTL.FN];
  if (fn === STOP) break;
  try {
    const args = Array.from(ctl.subarray(CTL.ARGS, CTL.WORDS));
    fns[fn](...args);
  } catch (e) {
    ctl[CTL.ERROR] = 1;
    console.error("wasm kernel worker:", e);
  }
  Atomics.store(ctl, CTL.DONE, seen);
  Atomics.notify(ctl, CTL.DONE);
}
