/**
 * Claims on cells: a run that is about to compute a cell first creates `cells/<hash>.lock` (exclusively: `O_EXCL`),
 * so two runs over the same output folder (two identical commands, shards whose arrays overlap, a requeued job beside
 * its first attempt) never compute a cell twice. The claim holds the host, the process id and the time, and its
 * holder touches it every `HEARTBEAT_MS`; it is released when the cell's result is written or the cell fails.
 *
 * A claim whose holder is dead is taken over: on the same host when its process no longer exists (a `kill -9`, a job
 * cancelled by Slurm), on any host when it has not been touched for `STALE_MS` (a node that crashed; the output folder
 * is on a shared filesystem). A claim is moved aside before it is replaced, so of two runs taking over the same stale
 * claim only one wins; in the worst case (a holder silent for `STALE_MS` but alive) a cell is computed twice, with the
 * same bits, and written atomically: nothing is ever lost.
 *
 * @module
 */

import { readFileSync, renameSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { existsSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** How often a holder touches its claims. */
export const HEARTBEAT_MS = 10_000;
/** A claim not touched for this long is stale, whoever holds it. */
export const STALE_MS = 60_000;

/** A held claim. */
export interface Claim {
  readonly path: string;
  /** Touches the claim file (keeps it fresh). */
  touch(): void;
  /** Removes the claim file. */
  release(): void;
}

interface Holder {
  host: string;
  pid: number;
  since: string;
}

/**
 * Claims a cell for this process, or returns null when a live run holds it. A stale claim is taken over.
 *
 * @example
 * ```ts
 * import { claimCell } from "./claim.ts";
 * const claim = claimCell("results/_runs/demo/cells", "0123456789abcdef");
 * if (claim !== null) {
 *   // ... compute and write the cell ...
 *   claim.release();
 * }
 * ```
 */
export function claimCell(cellsDir: string, hash: string): Claim | null {
  const path = join(cellsDir, `${hash}.lock`);
  const me: Holder = { host: hostname(), pid: process.pid, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(me) + "\n", { flag: "wx" });
      return {
        path,
        touch: () => {
          try {
            const now = new Date();
            utimesSync(path, now, now);
          } catch { /* released or taken over */ }
        },
        release: () => {
          try {
            const holder = JSON.parse(readFileSync(path, "utf8")) as Holder;
            if (holder.pid === me.pid && holder.host === me.host) unlinkSync(path);
          } catch { /* already gone */ }
        },
      };
    } catch (e) {
      if ((e as { code?: string }).code !== "EEXIST") throw e;
    }
    if (!isStale(path)) return null;
    // Move the stale claim aside (only one of several contenders succeeds), then try again.
    const aside = `${path}.stale.${process.pid}.${Date.now()}`;
    try {
      renameSync(path, aside);
      unlinkSync(aside);
    } catch { /* another run took it over first: try once more, then give up */ }
  }
  return null;
}

/** Whether the claim at `path` is held by no live run (see the module comment). */
export function isStale(path: string, now = Date.now()): boolean {
  let mtime: number;
  try {
    mtime = statSync(path).mtimeMs;
  } catch {
    return false; // released meanwhile: try to claim again
  }
  if (now - mtime > STALE_MS) return true;
  let holder: Holder;
  try {
    holder = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    // Being written right now (created, not yet filled), or left empty by a holder that died at once.
    return now - mtime > 5_000 && existsSync(path);
  }
  return holder.host === hostname() && !processAlive(holder.pid);
}

function processAlive(pid: number): boolean {
  if (!(Number.isInteger(pid) && pid > 0)) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM"; // exists, owned by another user
  }
}
