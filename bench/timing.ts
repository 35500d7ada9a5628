/**
 * Timing for the benchmarks: warm up, calibrate how many calls make one timed run, time several runs and keep the
 * median of their per-call means. Works for synchronous functions (no await between calls, so no event-loop
 * overhead is timed) and for functions returning a promise (awaited: the work is complete when it settles).
 *
 * @module
 */

/** How to time a function. */
export interface MeasureOptions {
  /** Timed runs (the median is reported). */
  runs: number;
  /** Calls per run are chosen so a run lasts at least this long (at least one call). */
  minRunMs: number;
  /** Warm-up lasts at least this long, and at least `warmupCalls` calls. */
  warmupMs: number;
  warmupCalls: number;
  /**
   * performance.now() deadline: no run is started that the estimate says would end after it (the warm-up always
   * runs). Runs may be fewer than `runs`, or none.
   */
  deadline?: number;
}

/** What `measure` found. */
export interface Timing {
  /** Median over runs of ms per call; null when no timed run fitted before the deadline. */
  ms: number | null;
  /** ms per call of each timed run. */
  runs: number[];
  /** Calls per timed run. */
  callsPerRun: number;
  /** Warm-up calls: how many, the first (cold) one's ms, the last (up to 3) ones' ms. */
  warmup: { calls: number; firstMs: number; lastMs: number[] };
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Times `fn` (see the module doc). */
export async function measure(fn: () => unknown, o: MeasureOptions): Promise<Timing> {
  const deadline = o.deadline ?? Infinity;
  let calls = 0, firstMs = 0;
  const lastMs: number[] = [];
  const start = performance.now();
  while (calls < o.warmupCalls || performance.now() - start < o.warmupMs) {
    const t = performance.now();
    const r = fn();
    if (r instanceof Promise) await r;
    const ms = performance.now() - t;
    if (calls++ === 0) firstMs = ms;
    lastMs.push(ms);
    if (lastMs.length > 3) lastMs.shift();
    if (performance.now() > deadline) break;
  }
  const estimate = Math.min(...lastMs); // a cold first call overestimates
  const callsPerRun = Math.max(1, Math.round(o.minRunMs / Math.max(estimate, 1e-3)));
  const runs: number[] = [];
  while (
    runs.length < o.runs && performance.now() + callsPerRun * (runs.length > 0 ? median(runs) : estimate) <= deadline
  ) {
    const t = performance.now();
    for (let i = 0; i < callsPerRun; i++) {
      const r = fn();
      if (r instanceof Promise) await r;
    }
    runs.push((performance.now() - t) / callsPerRun);
  }
  return { ms: runs.length > 0 ? median(runs) : null, runs, callsPerRun, warmup: { calls, firstMs, lastMs } };
}

/** Resolves after `ms` (lets worker threads start, timers fire). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
