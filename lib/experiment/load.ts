/**
 * Loading an experiment file: a JSON document, or the default export of a TS/JS module. Whatever the file holds, the
 * answer is either plain data (objects, arrays, strings, numbers, booleans, null) for the schema to check, or an
 * `ExperimentError` naming the file and what is wrong with it: missing, a directory, empty, binary, too large, a JSON
 * syntax error (line and column), a key written twice in one object (JSON and TS: a later key would silently replace
 * the earlier one, e.g. two variants of the same name), a module that fails to parse or throws, one with no default
 * export, one whose default export holds functions, class instances, cycles or getters that throw, and a module whose
 * loading does not finish within the time limit (a top-level await that never resolves): `LSTM_LAB_LOAD_TIMEOUT_S`
 * seconds, 20 by default.
 *
 * @module
 */

import { readFileSync, statSync } from "node:fs";
import { extname, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { ExperimentError } from "./schema.ts";

/** Experiment files larger than this are refused (the shipped ones are ~2 KB). */
export const MAX_EXPERIMENT_FILE_BYTES = 1 << 20;

/** The extensions an experiment file may have. */
export const EXPERIMENT_EXTENSIONS = [".ts", ".js", ".mjs", ".json"] as const;

/**
 * Loads an experiment file into plain data (not yet validated: see `expandSweep`), or throws an `ExperimentError`
 * with one line naming the file and what is wrong.
 *
 * @example
 * ```ts
 * import { loadExperimentFile } from "./load.ts";
 * const experiment = await loadExperimentFile("experiments/latch.ts");
 * ```
 */
export async function loadExperimentFile(path: string, opts: { timeoutS?: number } = {}): Promise<unknown> {
  const fail = (what: string): never => {
    throw new ExperimentError(path, [what]);
  };
  const abs = resolve(path);
  let size = 0;
  try {
    const st = statSync(abs);
    if (st.isDirectory()) fail(`is a directory, expected an experiment file (${EXPERIMENT_EXTENSIONS.join(", ")})`);
    if (!st.isFile()) fail("is not a regular file");
    size = st.size;
  } catch (e) {
    if (e instanceof ExperimentError) throw e;
    fail(`no such experiment file (${(e as { code?: string }).code ?? (e as Error).message})`);
  }
  const ext = extname(abs).toLowerCase();
  if (!(EXPERIMENT_EXTENSIONS as readonly string[]).includes(ext)) {
    fail(`extension "${ext}", expected one of ${EXPERIMENT_EXTENSIONS.join(", ")}`);
  }
  if (size > MAX_EXPERIMENT_FILE_BYTES) {
    fail(`${size} bytes, expected at most ${MAX_EXPERIMENT_FILE_BYTES} (an experiment file is a few KB)`);
  }
  const bytes = readFileSync(abs);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return fail("not UTF-8 text (a binary file?), expected an experiment file");
  }
  if (text.includes("\u0000")) fail("contains NUL bytes (a binary file?), expected text");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark is allowed, and dropped
  if (text.trim() === "") fail("empty file, expected an experiment");
  if (ext === ".json") return parseJson(text, path);

  const dup = duplicateKeys(text)[0];
  if (dup !== undefined) {
    fail(
      `${dup.path === "" ? dup.key : `${dup.path}.${dup.key}`}: key written twice (line ${dup.line}, first at ` +
        `line ${dup.firstLine}); keys must be unique (the later one would silently replace the earlier)`,
    );
  }
  const timeoutS = opts.timeoutS ?? loadTimeoutS();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let mod: Record<string, unknown>;
  try {
    mod = await Promise.race([
      import(pathToFileURL(abs).href) as Promise<Record<string, unknown>>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new ExperimentError(path, [
                `loading did not finish within ${timeoutS} s (a top-level await that never resolves?); the limit is LSTM_LAB_LOAD_TIMEOUT_S`,
              ]),
            ),
          timeoutS * 1000,
        );
      }),
    ]);
  } catch (e) {
    if (e instanceof ExperimentError) throw e;
    return fail(`cannot load the module: ${oneLine(e, abs)}`);
  } finally {
    clearTimeout(timer);
  }
  let value: unknown;
  try {
    if (!("default" in mod) || mod.default === undefined) {
      fail(`no default export; an experiment module must \`export default { name, description, task, model, ... }\``);
    }
    value = mod.default;
  } catch (e) {
    if (e instanceof ExperimentError) throw e;
    return fail(`reading the default export threw: ${oneLine(e, abs)}`);
  }
  return toPlainData(value, path);
}

/** The time limit on loading a module, from `LSTM_LAB_LOAD_TIMEOUT_S` (default 20 s). */
function loadTimeoutS(): number {
  const s = Number(process.env.LSTM_LAB_LOAD_TIMEOUT_S ?? "20");
  return Number.isFinite(s) && s > 0 ? s : 20;
}

/** The first line of an error's message, with the file's URL shortened to its path. */
function oneLine(e: unknown, abs: string): string {
  const msg = e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
  const first = msg.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "unknown error";
  return first.replaceAll(pathToFileURL(abs).href, "").replaceAll(abs, "").replace(/\s+at\s*:(\d+:\d+)/, " at $1");
}

/**
 * A module's default export copied into plain data, or an `ExperimentError` naming the first path that is not data
 * (a function, a class instance, a symbol, a bigint, a cycle, a getter that throws).
 *
 * @example
 * ```ts
 * import { toPlainData } from "./load.ts";
 * toPlainData({ a: [1, "x", null] }, "x.ts"); // a copy
 * // toPlainData({ f() {} }, "x.ts") throws: x.ts: f: got a function, expected data
 * ```
 */
export function toPlainData(value: unknown, source: string): unknown {
  const seen = new Set<object>();
  const walk = (x: unknown, path: string, depth: number): unknown => {
    const where = path === "" ? "(top level)" : path;
    if (x === null || typeof x === "string" || typeof x === "number" || typeof x === "boolean" || x === undefined) {
      return x;
    }
    const notData = (what: string): never => {
      throw new ExperimentError(source, [
        `${where}: got ${what}, expected data (objects, lists, strings, numbers, booleans)`,
      ]);
    };
    if (typeof x === "function") return notData("a function");
    if (typeof x !== "object") return notData(`a ${typeof x}`);
    if (depth > 32) return notData("objects nested more than 32 deep");
    if (seen.has(x)) return notData("a cycle (an object that contains itself)");
    const proto = Object.getPrototypeOf(x);
    if (!Array.isArray(x) && proto !== Object.prototype && proto !== null) {
      return notData(`an instance of ${proto?.constructor?.name ?? "a class"}`);
    }
    seen.add(x);
    const join = (k: string | number) => typeof k === "number" ? `${path}[${k}]` : path === "" ? k : `${path}.${k}`;
    let out: unknown;
    if (Array.isArray(x)) {
      const arr: unknown[] = [];
      for (let i = 0; i < x.length; i++) arr.push(walk(read(x, i, join(i)), join(i), depth + 1));
      out = arr;
    } else {
      const obj: Record<string, unknown> = {};
      for (const k of Reflect.ownKeys(x)) {
        if (typeof k === "symbol") return notData(`a symbol key (${String(k)})`);
        if (!Object.prototype.propertyIsEnumerable.call(x, k)) continue;
        obj[k] = walk(read(x, k, join(k)), join(k), depth + 1);
      }
      out = obj;
    }
    seen.delete(x);
    return out;
  };
  const read = (o: object, k: string | number, path: string): unknown => {
    try {
      return (o as Record<string | number, unknown>)[k];
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new ExperimentError(source, [`${path}: reading it threw (${msg.split("\n")[0]}), expected data`]);
    }
  };
  return walk(value, "", 0);
}

/**
 * Parses JSON strictly (RFC 8259), rejecting a key written twice in one object; errors name the line and column.
 *
 * @example
 * ```ts
 * import { parseJson } from "./load.ts";
 * parseJson('{"a": [1, 2.5e3, "x"]}', "x.json"); // { a: [1, 2500, "x"] }
 * // parseJson('{"a": 1, "a": 2}', "x.json") throws: x.json: a: key written twice (line 1, first at line 1); ...
 * ```
 */
export function parseJson(text: string, source: string): unknown {
  let i = 0;
  const at = (pos = i) => {
    const before = text.slice(0, pos).split("\n");
    return { line: before.length, col: before[before.length - 1].length + 1 };
  };
  const fail = (what: string, pos = i): never => {
    const { line, col } = at(pos);
    throw new ExperimentError(source, [`JSON syntax error at line ${line}, column ${col}: ${what}`]);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const found = () => i >= text.length ? "the end of the file" : JSON.stringify(text.slice(i, i + 12));
  const value = (path: string, depth: number): unknown => {
    ws();
    if (depth > 64) fail("nested more than 64 deep");
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: Record<string, unknown> = {};
      const lines = new Map<string, number>();
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a key in double quotes, found ${found()}`);
        const keyPos = i;
        const key = string();
        const keyPath = path === "" ? key : `${path}.${key}`;
        const first = lines.get(key);
        if (first !== undefined) {
          throw new ExperimentError(source, [
            `${keyPath}: key written twice (line ${at(keyPos).line}, first at line ${first}); ` +
            `keys must be unique (the later one would silently replace the earlier)`,
          ]);
        }
        lines.set(key, at(keyPos).line);
        ws();
        if (text[i] !== ":") fail(`expected ":" after the key "${key}", found ${found()}`);
        i++;
        Object.defineProperty(obj, key, {
          value: value(keyPath, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail(`expected "," or "}", found ${found()}`);
      }
    }
    if (c === "[") {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(`${path}[${arr.length}]`, depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail(`expected "," or "]", found ${found()}`);
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m !== null && m[0] !== "" && m[0] !== "-") {
      i += m[0].length;
      return Number(m[0]);
    }
    return fail(`expected a value (object, list, string, number, true, false or null), found ${found()}`);
  };
  const string = (): string => {
    const start = i;
    i++;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (ch === '"') {
        i++;
        return JSON.parse(text.slice(start, i));
      }
      if (ch === "\\") {
        if (!/^(["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(text.slice(i + 1, i + 6))) fail("invalid escape in a string", i);
        i++;
      } else if (ch < " ") fail("a control character (e.g. a raw line break) inside a string", i);
    }
    return fail("a string that is never closed", start);
  };
  const out = value("", 0);
  ws();
  if (i < text.length) fail(`unexpected ${found()} after the document`);
  return out;
}

/** A key written twice in one object literal of a module's source. */
export interface DuplicateKey {
  /** Dotted path of the object holding it ("" at the top; keys of the enclosing literals, `[]` for a list element). */
  path: string;
  key: string;
  line: number;
  firstLine: number;
}

/**
 * Keys written twice in one object literal of a JS/TS source (`{ lstm: {}, lstm: {...} }`): JavaScript keeps the
 * last and drops the first without a word, so the module's value cannot tell; the source can. A small tokenizer
 * (strings, template literals, comments, regular expressions) tracks which braces open object literals (after `=`,
 * `(`, `[`, `,`, `:`, `?`, `return`, `default`, ...) and collects each literal's plain keys (identifiers, strings,
 * numbers before a `:`). Computed keys and spreads are not checked.
 *
 * @example
 * ```ts
 * import { duplicateKeys } from "./load.ts";
 * duplicateKeys("export default { sweep: { variants: { a: {}, a: { x: 1 } } } };");
 * // [{ path: "sweep.variants", key: "a", line: 1, firstLine: 1 }]
 * ```
 */
export function duplicateKeys(src: string): DuplicateKey[] {
  type Tok = { t: string; kind: "id" | "str" | "num" | "punct"; line: number };
  const toks: Tok[] = [];
  let i = 0, line = 1;
  const push = (t: string, kind: Tok["kind"]) => toks.push({ t, kind, line });
  const regexAllowed = () => {
    const p = toks[toks.length - 1];
    if (p === undefined) return true;
    if (p.kind === "punct") return !")]}".includes(p.t);
    return p.kind === "id" && ["return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw"]
      .includes(p.t);
  };
  // Template literals: a stack of brace depths at which a `${` was opened.
  const tmpl: number[] = [];
  let braces = 0;
  const skipTemplate = () => {
    // at the character after ` or after the } closing a ${...}
    while (i < src.length) {
      const ch = src[i];
      if (ch === "\\") {
        i += 2;
        continue;
      }
      if (ch === "\n") line++;
      if (ch === "`") {
        i++;
        push("`tmpl`", "str");
        return;
      }
      if (ch === "$" && src[i + 1] === "{") {
        i += 2;
        push("(", "punct"); // an expression follows
        tmpl.push(braces);
        braces++;
        return;
      }
      i++;
    }
  };
  while (i < src.length) {
    const ch = src[i];
    if (ch === "\n") {
      line++;
      i++;
    } else if (/\s/.test(ch)) i++;
    else if (ch === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (ch === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      for (; i < stop; i++) if (src[i] === "\n") line++;
    } else if (ch === '"' || ch === "'") {
      const start = i++;
      while (i < src.length && src[i] !== ch && src[i] !== "\n") i += src[i] === "\\" ? 2 : 1;
      i++;
      let s: string;
      try {
        s = ch === '"'
          ? JSON.parse(src.slice(start, i))
          : JSON.parse(`"${src.slice(start + 1, i - 1).replace(/"/g, '\\"').replace(/\\'/g, "'")}"`);
      } catch {
        s = src.slice(start + 1, i - 1);
      }
      push(s, "str");
    } else if (ch === "`") {
      i++;
      skipTemplate();
    } else if (ch === "/" && regexAllowed()) {
      i++;
      let cls = false;
      while (i < src.length && src[i] !== "\n") {
        if (src[i] === "\\") i++;
        else if (src[i] === "[") cls = true;
        else if (src[i] === "]") cls = false;
        else if (src[i] === "/" && !cls) break;
        i++;
      }
      i++;
      while (/[a-z]/i.test(src[i] ?? "")) i++;
      push("/re/", "str");
    } else if (/[A-Za-z_$\u00c0-\uffff]/.test(ch)) {
      const m = /^[A-Za-z0-9_$\u00c0-\uffff]+/.exec(src.slice(i, i + 200))!;
      i += m[0].length;
      push(m[0], "id");
    } else if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const m = /^(0[xXoObB][0-9a-fA-F_]+n?|[0-9_]*\.?[0-9_]*([eE][+-]?[0-9_]+)?n?)/.exec(src.slice(i, i + 100))!;
      i += Math.max(1, m[0].length);
      const raw = m[0].replace(/_/g, "").replace(/n$/, "");
      push(String(Number(raw)), "num");
    } else if (ch === "}" && tmpl.length > 0 && tmpl[tmpl.length - 1] === braces - 1) {
      tmpl.pop();
      braces--;
      push(")", "punct");
      i++;
      skipTemplate();
    } else {
      const three = src.slice(i, i + 3), two = src.slice(i, i + 2);
      const op = ["...", "===", "!==", "**=", "??=", "&&=", "||="].includes(three)
        ? three
        : ["=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/="].includes(two)
        ? two
        : ch;
      if (op === "{") braces++;
      if (op === "}") braces--;
      push(op, "punct");
      i += op.length;
    }
  }
  // Brace/paren/bracket structure: which braces open object literals, and each literal's keys.
  type Frame = { kind: "object" | "block" | "paren"; path: string; keys: Map<string, number>; lastKey: string | null };
  const OBJECT_AFTER = new Set(["=", "(", "[", ",", ":", "?", "??", "||", "&&", "...", "return", "default"]);
  const stack: Frame[] = [{ kind: "block", path: "", keys: new Map(), lastKey: null }];
  const out: DuplicateKey[] = [];
  for (let k = 0; k < toks.length; k++) {
    const tok = toks[k], prev = toks[k - 1], next = toks[k + 1], top = stack[stack.length - 1];
    if (tok.kind === "punct" && tok.t === "{") {
      const isObject = prev !== undefined && OBJECT_AFTER.has(prev.t) &&
        (prev.kind === "punct" || ["return", "default"].includes(prev.t));
      const path = top.kind === "object" && top.lastKey !== null
        ? (top.path === "" ? top.lastKey : `${top.path}.${top.lastKey}`)
        : top.kind === "paren" && top.path !== ""
        ? `${top.path}[]`
        : top.path;
      stack.push({ kind: isObject ? "object" : "block", path, keys: new Map(), lastKey: null });
    } else if (tok.kind === "punct" && (tok.t === "(" || tok.t === "[")) {
      const path = top.kind === "object" && top.lastKey !== null
        ? (top.path === "" ? top.lastKey : `${top.path}.${top.lastKey}`)
        : top.path;
      stack.push({ kind: "paren", path, keys: new Map(), lastKey: null });
    } else if (tok.kind === "punct" && (tok.t === "}" || tok.t === ")" || tok.t === "]")) {
      if (stack.length > 1) stack.pop();
    } else if (
      top.kind === "object" && tok.kind !== "punct" && next?.t === ":" && (prev?.t === "{" || prev?.t === ",")
    ) {
      const first = top.keys.get(tok.t);
      if (first !== undefined) out.push({ path: top.path, key: tok.t, line: tok.line, firstLine: first });
      else top.keys.set(tok.t, tok.line);
      top.lastKey = tok.t;
    } else if (top.kind === "object" && tok.kind === "punct" && tok.t === ",") {
      top.lastKey = null;
    }
  }
  return out;
}
