/**
 * Guard: no library code may call the engine's transcendental functions.
 *
 * `Math.exp`, `Math.log`, `Math.tanh`, `Math.pow` and friends (and the `**` operator, which is `Math.pow`) are
 * implementation-approximated in ECMAScript, so V8 (Deno) and JavaScriptCore (Bun) may return different last bits.
 * The library's results must be bit-identical in both, so it uses `./math.ts` instead. This test scans every `.ts`
 * file under `lib/` (except tests and `math.ts` itself) and names each file and line that breaks the rule. Comments
 * and string contents are ignored, so documentation may still mention the functions it avoids.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const LIB_DIR = fileURLToPath(new URL(".", import.meta.url));

// Every Math function whose result the specification leaves implementation-approximated.
const BANNED_MATH = new RegExp(
  String
    .raw`\bMath\s*\.\s*(exp|expm1|log|log2|log10|log1p|pow|tanh|sinh|cosh|asinh|acosh|atanh|sin|cos|tan|asin|acos|atan|atan2|hypot|cbrt)\b`,
  "g",
);
const EXPONENT_OPERATOR = /\*\*/;

/**
 * `source` with the contents of comments, string literals and the literal parts of template literals replaced by
 * spaces (line breaks are kept, so line numbers stay right). Template `${...}` expressions remain code. Regular
 * expression literals are treated as code, which is good enough for this guard.
 */
function codeOnly(source: string): string {
  const out: string[] = [];
  const templateDepth: number[] = []; // brace depth at which each open template's `${` started
  let braces = 0;
  let i = 0;
  const n = source.length;
  const blank = (c: string) => (c === "\n" || c === "\r" ? c : " ");
  while (i < n) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") { // line comment
      while (i < n && source[i] !== "\n") out.push(blank(source[i++]));
    } else if (c === "/" && next === "*") { // block comment
      out.push("  ");
      i += 2;
      while (i < n && !(source[i] === "*" && source[i + 1] === "/")) out.push(blank(source[i++]));
      if (i < n) {
        out.push("  ");
        i += 2;
      }
    } else if (c === '"' || c === "'") { // string literal
      out.push(c);
      i++;
      while (i < n && source[i] !== c && source[i] !== "\n") {
        if (source[i] === "\\" && i + 1 < n) out.push(" ", blank(source[++i]));
        else out.push(" ");
        i++;
      }
      if (i < n) out.push(source[i++]);
    } else if (
      c === "`" || (c === "}" && templateDepth.length > 0 && templateDepth[templateDepth.length - 1] === braces)
    ) {
      // start of a template literal, or the end of a `${...}` expression inside one: scan literal text
      if (c === "}") templateDepth.pop();
      out.push(c);
      i++;
      while (i < n && source[i] !== "`" && !(source[i] === "$" && source[i + 1] === "{")) {
        if (source[i] === "\\" && i + 1 < n) out.push(" ", blank(source[++i]));
        else out.push(blank(source[i]));
        i++;
      }
      if (i < n && source[i] === "$") { // `${`: back to code until the matching `}`
        out.push("${");
        i += 2;
        templateDepth.push(braces);
      } else if (i < n) {
        out.push(source[i++]); // closing backtick
      }
    } else {
      if (c === "{") braces++;
      else if (c === "}") braces--;
      out.push(c);
      i++;
    }
  }
  return out.join("");
}

/** One violation per offending line: `file:line: what` (file relative to `lib/`). */
function findViolations(file: string, source: string): string[] {
  const found: string[] = [];
  const lines = codeOnly(source).split("\n");
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k];
    for (const m of line.matchAll(BANNED_MATH)) found.push(`${file}:${k + 1}: Math.${m[1]} (use ./math.ts)`);
    if (EXPONENT_OPERATOR.test(line)) {
      found.push(
        `${file}:${k + 1}: the ** operator (Math.pow: multiply, or use ldexp from ./math.ts for powers of two)`,
      );
    }
  }
  return found;
}

/** Every `.ts` file under `dir`, recursively, except `*_test.ts` files. */
function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") files.push(...sourceFiles(path));
    } else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      files.push(path);
    }
  }
  return files.sort();
}

describe("no engine transcendental functions in lib/", () => {
  it("finds the library sources", () => {
    const names = sourceFiles(LIB_DIR).map((f) => relative(LIB_DIR, f).split("\\").join("/"));
    assert.ok(names.includes("math.ts"), `expected lib/math.ts among ${names.join(", ")}`);
    assert.ok(!names.some((f) => f.endsWith("_test.ts")), "test files are skipped");
  });

  it("no lib/ source except math.ts uses Math.exp/log/tanh/pow/... or **", () => {
    const violations: string[] = [];
    for (const path of sourceFiles(LIB_DIR)) {
      const file = relative(LIB_DIR, path).split("\\").join("/");
      if (file === "math.ts") continue;
      violations.push(...findViolations(`lib/${file}`, readFileSync(path, "utf8")));
    }
    assert.deepEqual(violations, [], `engine-dependent math found:\n  ${violations.join("\n  ")}`);
  });

  it("the scanner flags calls and ** but not comments or strings", () => {
    const src = [
      "const a = Math.exp(x);", // 1
      "const b = Math . log1p(x) + Math.sqrt(y) + Math.pow(x, y);", // 2
      "const c = x ** 2;", // 3
      "y **= 0.5;", // 4
      "// Math.tanh in a comment, and x ** 2", // 5
      "/** JSDoc: Math.pow(x, y) */ const d = Math.abs(x);", // 6
      "const e = 'Math.exp(1)' + \"a ** b\";", // 7
      "const f = `Math.cos ${Math.sin(t)} **`;", // 8
      "const g = Math.exponent + Math.logger;", // 9
      "/* block", // 10
      "   Math.atan(x) */ const h = Math.hypot(a, b);", // 11
      "const i = `${`${Math.cbrt(z)}`}`;", // 12
    ].join("\n");
    assert.deepEqual(findViolations("t.ts", src), [
      "t.ts:1: Math.exp (use ./math.ts)",
      "t.ts:2: Math.log1p (use ./math.ts)",
      "t.ts:2: Math.pow (use ./math.ts)",
      "t.ts:3: the ** operator (Math.pow: multiply, or use ldexp from ./math.ts for powers of two)",
      "t.ts:4: the ** operator (Math.pow: multiply, or use ldexp from ./math.ts for powers of two)",
      "t.ts:8: Math.sin (use ./math.ts)",
      "t.ts:11: Math.hypot (use ./math.ts)",
      "t.ts:12: Math.cbrt (use ./math.ts)",
    ]);
  });
});
