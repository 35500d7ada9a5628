/**
 * The explorer in a real browser: builds the page as `deno task explore` does, serves it on localhost and drives
 * Debian's Chromium headless with puppeteer-core (no browser download). Checks: the page loads with no console error
 * and no request outside localhost; moving ρ from 0.9 to 1.5 turns the plotted ‖∂L/∂h_t‖ from falling to rising
 * (and the URL follows); the numbers the page shows for a fixed setting equal those `gradientFlowProfile` (the
 * library, lib/mod.ts) computes here in Deno, to float32 precision; the training tab trains and pauses.
 *
 * Skipped, with a message, under Bun (puppeteer's browser control runs under Deno; the browser test runs once, in
 * `deno task test`) and where Chromium is missing (CI installs it: `apt-get install chromium`).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { gradientFlowProfile, settingsFromQuery } from "./flow.ts";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
const skip = isBun
  ? "under Bun: the explorer's browser test drives Chromium from Deno (deno task test)"
  : !existsSync(chromium)
  ? `Chromium not found at ${chromium} (apt-get install chromium): the explorer is not checked in a browser`
  : false;
if (skip) console.log(`lib/explore/explore_test.ts: SKIPPED: ${skip}`);

/** The close agreement of two float32 computations printed as float64: relative 1e-6. */
function assertClose(page: number, deno: number, what: string) {
  assert.ok(Math.abs(page - deno) <= 1e-6 * Math.abs(deno), `${what}: page ${page}, Deno ${deno}`);
}

describe("explorer", () => {
  it("runs the library in headless Chromium: ρ 0.9 → 1.5 turns decay into growth; numbers equal Deno's", {
    skip,
    timeout: 180_000,
  }, async () => {
    const { buildExplorer, chromiumArgs, serveDir } = await import("./server.ts");
    const { default: puppeteer } = await import("puppeteer-core");
    const dir = mkdtempSync(join(tmpdir(), "lstm-lab-explore-test-"));
    const profile = mkdtempSync(join(tmpdir(), "lstm-lab-chromium-"));
    await buildExplorer(dir);
    const { server, url } = serveDir(dir);
    const browser = await puppeteer.launch({ executablePath: chromium, args: chromiumArgs(profile) });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 800 });
      const errors: string[] = [], outside: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("request", (r) => {
        if (!r.url().startsWith(url) && !r.url().startsWith("data:")) outside.push(r.url());
      });
      const runs = () => page.evaluate(() => Number(document.body.dataset.flowRuns ?? 0));
      const waitRuns = (n: number) =>
        page.waitForFunction((k: number) => Number(document.body.dataset.flowRuns ?? 0) >= k, { timeout: 60_000 }, n);
      const shown = () =>
        page.evaluate(() => ({
          dh: [...document.querySelectorAll("#numbers tr[data-quantity=dh] td")].map((td) =>
            Number((td as HTMLElement).dataset.value)
          ),
          lags: [...document.querySelectorAll("#numbers thead th")].slice(1).map((th) => Number(th.textContent)),
          factor: Number((document.getElementById("factor") as HTMLElement).dataset.value),
          search: location.search,
          log: document.getElementById("log")!.textContent,
        }));

      await page.goto(url + "?T=100&seeds=3&rho=0.9");
      await waitRuns(1);
      await page.waitForFunction(() => document.querySelector("#flow-chart svg") !== null, { timeout: 30_000 });
      const before = await shown();
      assert.ok(before.factor < 1, `ρ = 0.9: factor per step ${before.factor}`);
      assert.ok(before.dh.at(-1)! < before.dh[0] * 1e-3, `ρ = 0.9 falls: ${before.dh}`);

      // move ρ as a person would: the control, typed into, then Enter
      const n = await runs();
      await page.click("#rho", { count: 3 });
      await page.keyboard.type("1.5");
      await page.keyboard.press("Enter");
      await waitRuns(n + 1);
      await page.waitForFunction(() => location.search.includes("rho=1.5") && !document.body.dataset.busy, {
        timeout: 30_000,
      });
      await page.waitForFunction(
        () => Number((document.getElementById("factor") as HTMLElement).dataset.value) > 1,
        { timeout: 60_000 },
      );
      const after = await shown();
      assert.match(after.search, /rho=1\.5/);
      assert.ok(after.factor > 1, `ρ = 1.5: factor per step ${after.factor}`);
      assert.ok(after.dh.at(-1)! > after.dh[0], `ρ = 1.5 rises: ${after.dh}`);

      // the same numbers from the library in Deno, for the page's settings
      const { settings, errors: urlErrors } = settingsFromQuery(after.search);
      assert.deepEqual(urlErrors, []);
      const p = gradientFlowProfile(settings);
      assert.deepEqual(after.lags, [0, 1, 10, 99]);
      after.lags.forEach((k, i) => assertClose(after.dh[i], p.dh.median[k], `‖∂L/∂h‖ at lag ${k}`));
      assertClose(after.factor, p.factor, "factor per step");

      // the training tab: start, a few chunks, pause
      await page.click("#tab-train");
      await page.click("#train-toggle");
      await page.waitForFunction(() => /^\d+ steps/.test(document.getElementById("train-status")!.textContent!), {
        timeout: 60_000,
      });
      await page.waitForFunction(() => document.querySelector("#train-flow-chart svg") !== null, { timeout: 60_000 });
      await page.click("#train-toggle");
      assert.equal(await page.$eval("#train-toggle", (b) => b.textContent), "Start");

      assert.equal(before.log + after.log, "");
      assert.deepEqual(errors, []);
      assert.deepEqual(outside, [], "no request leaves localhost");
    } finally {
      await browser.close();
      await server.shutdown();
      rmSync(dir, { recursive: true, force: true });
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
