/**
 * The report in a real browser: builds results/report.html from the committed results into a temporary folder, opens
 * it in headless Chromium (`--dump-dom` after the page's scripts have run) and checks that every chart container
 * holds a rendered <svg>, that the page counted every chart done and none failed, and that nothing was logged: the
 * page collects console errors and warnings (vega's included) and uncaught exceptions into `<pre id="report-log">`.
 *
 * Skipped, with a message, under Bun (the browser check runs once, under Deno) and where Chromium is missing
 * (CI installs it: `apt-get install chromium`).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildReport } from "./report.ts";
import { EXPERIMENTS } from "./reproduction.ts";

function findChromium(): string | null {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim() !== "") return r.stdout.trim();
  }
  return null;
}

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const chromium = isBun ? null : findChromium();
const skip = isBun
  ? "under Bun: the headless-browser check of the report runs under Deno (deno task test)"
  : chromium === null
  ? "Chromium not found (apt-get install chromium): the report is not checked in a browser"
  : false;
if (skip) console.log(`lib/plot/report_test.ts: SKIPPED: ${skip}`);

describe("report", () => {
  it("renders every chart in headless Chromium with no error or warning logged", { skip }, async () => {
    const out = mkdtempSync(join(tmpdir(), "lstm-lab-report-"));
    const profile = mkdtempSync(join(tmpdir(), "lstm-lab-chromium-"));
    try {
      const report = await buildReport({ outDir: out, figures: false });
      const html = readFileSync(report.path, "utf8");
      assert.doesNotMatch(html, /<script[^>]+src=/, "self-contained: no external scripts");
      assert.match(html, /id="status"/);
      for (const e of EXPERIMENTS) assert.ok(html.includes(e.name), `${e.name} is listed`);

      const r = spawnSync(chromium!, [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        `--user-data-dir=${profile}`,
        "--virtual-time-budget=60000",
        "--dump-dom",
        pathToFileURL(report.path).href,
      ], { encoding: "utf8", timeout: 180_000, maxBuffer: 256 * 1024 * 1024 });
      assert.equal(r.status, 0, `chromium exited with ${r.status} ${r.signal ?? ""}: ${r.stderr.slice(-2000)}`);
      const dom = r.stdout;

      const log = /<pre id="report-log"[^>]*>([\s\S]*?)<\/pre>/.exec(dom);
      assert.ok(log !== null, "the page's log element");
      assert.equal(log[1].trim(), "", `the page logged:\n${log[1]}`);
      assert.match(dom, new RegExp(`data-charts-done="${report.charts}"`), "every chart reported done");
      assert.match(dom, /data-charts-failed="0"/);

      // every chart container holds an <svg> (or a <canvas>) and was marked rendered
      const starts = [...dom.matchAll(/<div[^>]*id="chart-(\d+)"[^>]*>/g)];
      assert.equal(starts.length, report.charts, "one container per chart");
      for (let i = 0; i < starts.length; i++) {
        const tag = starts[i][0];
        const body = dom.slice(starts[i].index!, starts[i + 1]?.index ?? dom.length);
        assert.match(tag, /data-rendered="ok"/, `chart-${starts[i][1]} rendered`);
        assert.match(body, /<svg|<canvas/, `chart-${starts[i][1]} holds an <svg>`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
