/// <reference lib="dom" />
/// <reference lib="deno.ns" />
/**
 * `deno task explore`: the gradient-flow explorer. Builds the page (the library bundled for the browser with
 * `deno bundle`, the WebAssembly kernels, vega, vega-lite and vega-embed from node_modules) and serves it on
 * localhost at a free port; it opens nothing. Everything heavy runs in the page.
 *
 * Usage:
 *   deno task explore [--port N]            serve (default: a free port, printed)
 *   deno task explore --build DIR           write the static page to DIR (any static host serves it)
 *   deno task explore --screenshot FILE     a 1280×800 PNG of the page in headless Chromium (for the README)
 *
 * The browser has no node:fs or worker threads: the page's import map points `node:fs` at a shim that serves the
 * fetched kernels.wasm to the kernels' loader, and `node:worker_threads` at one that refuses (the page uses one
 * thread).
 *
 * @module
 */

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, extname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");

const SHIM_FS =
  `// node:fs for the browser: only readFileSync of the WebAssembly kernels (fetched before the app starts)
const kernels = new Uint8Array(await (await fetch(new URL("./kernels.wasm", import.meta.url))).arrayBuffer());
export function readFileSync(path) {
  if (String(path).endsWith("kernels.wasm")) return kernels;
  throw new Error("node:fs is not available in the browser: " + path);
}
`;
const SHIM_WORKERS = `// node:worker_threads for the browser: the page runs the kernels on one thread
export const workerData = null;
export class Worker {
  constructor() { throw new Error("worker threads are not available in the browser page (use threads: 1)"); }
}
`;

/** Writes the static page into `dir`; returns the files written. */
export async function buildExplorer(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, "app.js");
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "browser", "--format", "esm", "-o", out, join(HERE, "app.ts")],
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await cmd.output();
  if (code !== 0 || !existsSync(out)) throw new Error(`explore: deno bundle failed (exit ${code})`);
  copyFileSync(join(HERE, "index.html"), join(dir, "index.html"));
  copyFileSync(join(ROOT, "lib/backend/cpu/wasm/kernels.wasm"), join(dir, "kernels.wasm"));
  writeFileSync(join(dir, "shim_fs.js"), SHIM_FS);
  writeFileSync(join(dir, "shim_worker_threads.js"), SHIM_WORKERS);
  for (const pkg of ["vega", "vega-lite", "vega-embed"]) {
    copyFileSync(join(ROOT, "node_modules", pkg, "build", `${pkg}.min.js`), join(dir, `${pkg}.min.js`));
  }
  return ["index.html", "app.js", "kernels.wasm", "shim_fs.js", "shim_worker_threads.js"].map((f) => join(dir, f));
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".png": "image/png",
};

/** Serves `dir` on 127.0.0.1 (`port` 0: a free one); returns the server and its URL. */
export function serveDir(dir: string, port = 0): { server: Deno.HttpServer; url: string } {
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    const file = resolve(dir, "." + (path === "/" ? "/index.html" : path));
    if (!file.startsWith(resolve(dir)) || !existsSync(file)) return new Response("not found", { status: 404 });
    return new Response(readFileSync(file), {
      headers: { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" },
    });
  });
  return { server, url: `http://localhost:${server.addr.port}/` };
}

/** Chromium's flags for tests and screenshots: headless, no network but localhost, a fresh profile. */
export function chromiumArgs(profileDir: string): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--user-data-dir=${profileDir}`,
  ];
}

/** The Chromium to drive: $CHROMIUM, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  return process.env.CHROMIUM ?? "/usr/bin/chromium";
}

async function screenshot(url: string, file: string): Promise<void> {
  const { default: puppeteer } = await import("puppeteer-core");
  const profile = mkdtempSync(join(tmpdir(), "lstm-lab-chromium-"));
  const browser = await puppeteer.launch({ executablePath: chromiumPath(), args: chromiumArgs(profile) });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(url + "?cell=lstm&T=300&forgetBias=2&init=uniform");
    await page.waitForFunction(() => Number(document.body.dataset.flowRuns ?? 0) >= 1, { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector("#heat-chart svg") !== null, { timeout: 60_000 });
    mkdirSync(dirname(resolve(file)), { recursive: true });
    await page.screenshot({ path: file as `${string}.png` });
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The command line. */
export async function main(argv: string[]): Promise<number> {
  const { values: o } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      build: { type: "string" },
      screenshot: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (o.help) {
    console.log("Usage: deno task explore [--port N] | --build DIR | --screenshot FILE.png");
    return 0;
  }
  if (o.build !== undefined) {
    const files = await buildExplorer(resolve(o.build));
    console.log(
      `explorer: static page in ${relative(process.cwd(), resolve(o.build)) || "."}/ (${files.length} files` +
        ` and vega builds); serve the folder with any static web server`,
    );
    return 0;
  }
  const dir = mkdtempSync(join(tmpdir(), "lstm-lab-explore-"));
  await buildExplorer(dir);
  const port = o.port === undefined ? 0 : Number(o.port);
  if (!(Number.isInteger(port) && port >= 0 && port < 65536)) {
    console.error(`--port ${o.port}: expected an integer in [0, 65535]`);
    return 2;
  }
  const { server, url } = serveDir(dir, port);
  if (o.screenshot !== undefined) {
    try {
      await screenshot(url, o.screenshot);
      console.log(`explorer: screenshot ${o.screenshot}`);
    } finally {
      await server.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
    return 0;
  }
  console.log(`explorer: ${url} (Ctrl-C to stop)`);
  const stop = () => {
    rmSync(dir, { recursive: true, force: true });
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  return 0;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
