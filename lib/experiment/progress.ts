/**
 * Progress of a sweep on stderr: cells done / total, ETA, and the running cells' progress and loss.
 * - "tty": one status line, redrawn in place (at most 5 times a second);
 * - "plain": a line per finished cell and a status line every 10 s (for logs, CI, batch jobs);
 * - "json": one JSON object per event (`start`, `cell-start`, `cell-done`, `cell-failed`, `status`, `end`);
 * - "none": silent.
 *
 * @module
 */

import process from "node:process";

/** How progress is shown. */
export type ProgressMode = "tty" | "plain" | "json" | "none";

interface Running {
  label: string;
  fraction: number;
  loss: number;
}

/**
 * Tracks and prints the progress of a sweep.
 *
 * @example
 * ```ts
 * import { Progress } from "./progress.ts";
 * const p = new Progress("plain", "demo", 10, 2); // 10 cells, 2 already finished
 * p.started("abc", "lstm seed=0");
 * p.finished("abc", "solved");
 * ```
 */
export class Progress {
  readonly #mode: ProgressMode;
  readonly #name: string;
  readonly #total: number;
  readonly #skipped: number;
  readonly #start = Date.now();
  #done = 0;
  #failed = 0;
  #running = new Map<string, Running>();
  #lastDraw = 0;
  #lastStatus = Date.now();

  constructor(mode: ProgressMode, name: string, total: number, skipped: number) {
    this.#mode = mode;
    this.#name = name;
    this.#total = total;
    this.#skipped = skipped;
    this.#emit(
      { event: "start", experiment: name, total, skipped },
      `${name}: ${total} cells, ${skipped} already done`,
    );
  }

  started(hash: string, label: string): void {
    this.#running.set(hash, { label, fraction: 0, loss: NaN });
    this.#emit({ event: "cell-start", hash, label }, null);
    this.#draw();
  }

  update(hash: string, fraction: number, loss: number): void {
    const r = this.#running.get(hash);
    if (r !== undefined) (r.fraction = fraction, r.loss = loss);
    this.#draw();
  }

  finished(hash: string, status: string): void {
    const label = this.#running.get(hash)?.label ?? hash;
    this.#running.delete(hash);
    this.#done++;
    this.#emit(
      { event: "cell-done", hash, label, status, done: this.#count, total: this.#total, etaSeconds: this.#eta() },
      `[${this.#count}/${this.#total}] ${label}: ${status} (ETA ${formatSeconds(this.#eta())})`,
    );
    this.#draw();
  }

  failed(hash: string, message: string): void {
    const label = this.#running.get(hash)?.label ?? hash;
    this.#running.delete(hash);
    this.#failed++;
    this.#emit(
      { event: "cell-failed", hash, label, message },
      `[${this.#count}/${this.#total}] ${label}: FAILED\n${message}`,
    );
  }

  finish(outDir: string, complete: boolean): void {
    const secs = (Date.now() - this.#start) / 1000;
    this.#emit(
      { event: "end", done: this.#count, total: this.#total, failed: this.#failed, seconds: secs, outDir, complete },
      `${this.#name}: ${this.#count}/${this.#total} cells done${this.#failed ? `, ${this.#failed} failed` : ""} in ` +
        `${formatSeconds(secs)}; results in ${outDir}${complete ? "" : " (incomplete: rerun to resume)"}`,
    );
  }

  get #count(): number {
    return this.#skipped + this.#done;
  }

  #eta(): number {
    if (this.#done === 0) return NaN;
    const perCell = (Date.now() - this.#start) / 1000 / this.#done;
    return perCell * (this.#total - this.#count - this.#failed);
  }

  #statusLine(): string {
    const running = [...this.#running.values()]
      .map((r) =>
        `${r.label} ${Math.round(100 * r.fraction)}%${Number.isFinite(r.loss) ? ` loss ${r.loss.toPrecision(3)}` : ""}`
      )
      .join(" | ");
    return `[${this.#count}/${this.#total}] ETA ${formatSeconds(this.#eta())}${running ? ` | ${running}` : ""}`;
  }

  #draw(): void {
    const now = Date.now();
    if (this.#mode === "tty" && now - this.#lastDraw > 200) {
      this.#lastDraw = now;
      const cols = process.stderr.columns ?? 120;
      process.stderr.write(`\r\x1b[2K${this.#statusLine().slice(0, cols - 1)}`);
    } else if ((this.#mode === "plain" || this.#mode === "json") && now - this.#lastStatus > 10_000) {
      this.#lastStatus = now;
      this.#emit({
        event: "status",
        done: this.#count,
        total: this.#total,
        etaSeconds: this.#eta(),
        running: [...this.#running.values()],
      }, this.#statusLine());
    }
  }

  #emit(json: Record<string, unknown>, text: string | null): void {
    if (this.#mode === "json") process.stderr.write(JSON.stringify(json) + "\n");
    else if (text !== null && this.#mode !== "none") {
      process.stderr.write((this.#mode === "tty" ? "\r\x1b[2K" : "") + text + "\n");
    }
  }
}

/**
 * "1h02m", "3m20s", "12s", or "?" when unknown.
 *
 * @example
 * ```ts
 * import { formatSeconds } from "./progress.ts";
 * formatSeconds(200); // "3m20s"
 * ```
 */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  s = Math.round(s);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
