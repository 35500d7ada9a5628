/**
 * The one place where tasks are registered: name → definition, and `createTask` to build one with validated
 * parameters. Adding a task: implement `TaskDefinition` in its own file and add one line to `tasks` below.
 *
 * @module
 */

import { adding } from "./adding.ts";
import { adding1997 } from "./adding_1997.ts";
import type { Params } from "./common.ts";
import { copy } from "./copy.ts";
import { embeddedReber } from "./embedded_reber.ts";
import { latch } from "./latch.ts";
import { longLag } from "./long_lag.ts";
import { longLagDistractors } from "./long_lag_distractors.ts";
import { multiplication } from "./multiplication.ts";
import type { Task, TaskDefinition } from "./task.ts";
import { temporalOrder } from "./temporal_order.ts";
import { temporalOrderPascanu } from "./temporal_order_pascanu.ts";

/**
 * Every registered task definition, by registry name.
 *
 * @example
 * ```ts
 * import { tasks } from "./registry.ts";
 * Object.keys(tasks); // ["adding-1997", "adding", "multiplication", …]
 * tasks["latch"].defaults; // { T: 100, N: 3 }
 * ```
 */
export const tasks: Record<string, TaskDefinition> = Object.freeze(Object.fromEntries(
  [
    adding1997,
    adding,
    multiplication,
    temporalOrder,
    temporalOrderPascanu,
    longLag,
    longLagDistractors,
    latch,
    copy,
    embeddedReber,
  ].map((def) => [def.name, def]),
));

/**
 * Builds the registered task `name` with `params` (defaults for those not given). Throws a RangeError for an unknown
 * name (listing the registered ones), an unknown parameter (listing the allowed ones) or a bad value (naming the
 * parameter, the value and what is allowed).
 *
 * @example
 * ```ts
 * import { createTask } from "./registry.ts";
 * import { Rng } from "../rng.ts";
 * const task = createTask("adding-1997", { T: 200 });
 * const batch = task.batch(new Rng(0), 32);
 * // createTask("adding-1997", { T: -5 }) throws: adding-1997: T = -5, expected an integer ≥ 11
 * ```
 */
export function createTask(name: string, params: Params = {}): Task {
  if (!Object.hasOwn(tasks, name)) {
    throw new RangeError(`unknown task ${JSON.stringify(name)}; registered: ${Object.keys(tasks).join(", ")}`);
  }
  return tasks[name].create(params);
}
