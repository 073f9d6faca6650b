// Static checks on the sources: no HTML parsing of data anywhere, CSS fully namespaced.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const src = join(dirname(fileURLToPath(import.meta.url)), "..", "src");
const jsFiles = readdirSync(src).filter((f) => f.endsWith(".js"));

test("no innerHTML / outerHTML / insertAdjacentHTML / document.write in js/src", () => {
  for (const f of jsFiles) {
    const text = readFileSync(join(src, f), "utf8").replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
    for (const bad of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "createContextualFragment", "DOMParser"]) {
      assert.ok(!text.includes(bad), `${f} uses ${bad}`);
    }
    assert.ok(!/\bwindow\.confirm\b|\bconfirm\(/.test(text), `${f} uses window.confirm`);
    assert.ok(!/\beval\(|new Function\(/.test(text), `${f} evaluates code`);
  }
});

test("no imports from the network; only relative imports between sources (esbuild inlines them)", () => {
  for (const f of jsFiles) {
    const text = readFileSync(join(src, f), "utf8");
    for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gm)) {
      assert.ok(m[1].startsWith("./"), `${f} imports ${m[1]}`);
    }
  }
});

/** Top-level selectors of a stylesheet (at-rule preludes and keyframe steps excluded). */
function selectors(css) {
  const out = [];
  const text = css.replace(/\/\*[\s\S]*?\*\//g, "");
  let depth = 0;
  let buf = "";
  /** @type {string[]} */
  const stack = [];
  for (const ch of text) {
    if (ch === "{") {
      const prelude = buf.trim();
      buf = "";
      const inKeyframes = stack.some((s) => /^@(-\w+-)?keyframes/.test(s));
      if (!prelude.startsWith("@") && !inKeyframes) out.push(...prelude.split(",").map((s) => s.trim()));
      stack.push(prelude);
      depth += 1;
    } else if (ch === "}") {
      stack.pop();
      depth -= 1;
      buf = "";
    } else if (ch === ";") {
      buf = "";
    } else buf += ch;
  }
  assert.equal(depth, 0, "unbalanced braces");
  return out;
}

test("every CSS selector is scoped under .pieces-mm", () => {
  const css = readFileSync(join(src, "widget.css"), "utf8");
  const sels = selectors(css);
  assert.ok(sels.length > 50);
  for (const s of sels) assert.match(s, /(^|\s)\.pieces-mm(\s|$|[.:[])/, s);
  assert.match(css, /color-scheme:\s*light dark/);
  assert.match(css, /body\[data-jp-theme-light="false"\] \.pieces-mm/);
  assert.match(css, /body\.vscode-dark \.pieces-mm/);
  assert.match(css, /prefers-color-scheme:\s*dark/);
  assert.match(css, /--jp-/);
  assert.match(css, /--vscode-/);
  assert.match(css, /:focus-visible/);
});

/** Every `var(...)` expression in a stylesheet that starts with one of `prefixes`, balanced. */
function varExprs(css, prefix) {
  const out = [];
  let i = css.indexOf(`var(${prefix}`);
  while (i >= 0) {
    let depth = 0;
    let j = i;
    for (; j < css.length; j++) {
      if (css[j] === "(") depth += 1;
      else if (css[j] === ")" && --depth === 0) break;
    }
    out.push(css.slice(i, j + 1));
    i = css.indexOf(`var(${prefix}`, j);
  }
  return out;
}

test("VS Code and Colab safe: every --jp-* variable falls back to a --vscode-* one, then a built-in value", () => {
  const css = readFileSync(join(src, "widget.css"), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  const builtIn = new Set([...css.matchAll(/(--pmm-f-[\w-]+)\s*:/g)].map((m) => m[1]));
  const exprs = varExprs(css, "--jp-");
  assert.ok(exprs.length >= 15, `${exprs.length} --jp-* uses`);
  for (const expr of exprs) {
    assert.match(expr, /^var\(--jp-[\w-]+,\s*var\(--vscode-/, expr);
    // Follow the fallbacks to the end: a literal value or one of our own --pmm-f-* fallbacks.
    let rest = expr;
    for (;;) {
      const m = /^var\((--[\w-]+)\s*(?:,\s*([\s\S]*))?\)$/.exec(rest.trim());
      if (!m) break;
      assert.ok(m[2] !== undefined || builtIn.has(m[1]) || /^--pmm-/.test(m[1]), `${expr}: ${m[1]} has no fallback`);
      if (m[2] === undefined) break;
      rest = m[2];
    }
    assert.ok(!/^var\(--(jp|vscode)-/.test(rest.trim()), `${expr} ends in a theme variable`);
  }
  // Bare --vscode-* uses (without a --jp-* first) have a fallback too.
  for (const expr of varExprs(css, "--vscode-")) assert.match(expr, /,/, expr);
});

test("shadow-root and iframe safe: no document-level queries, global styles or window lookups in js/src", () => {
  for (const f of jsFiles) {
    const text = readFileSync(join(src, f), "utf8").replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
    assert.ok(!/\bdocument\s*\./.test(text), `${f} uses document.*`);
    assert.ok(!/\bwindow\s*\./.test(text), `${f} uses window.*`);
    assert.ok(!/\.activeElement\b/.test(text) || f === "dom.js", `${f} reads activeElement directly (use dom.activeElement)`);
    assert.ok(!/createElement\(\s*["']style["']|adoptedStyleSheets|insertRule|\.head\b/.test(text), `${f} injects styles`);
  }
});

test("narrow output areas fold by container width, not the window's", () => {
  const css = readFileSync(join(src, "widget.css"), "utf8");
  assert.match(css, /\.pieces-mm \{[^}]*container-type:\s*inline-size/);
  assert.match(css, /@container \(max-width: 900px\)/);
  assert.match(css, /@container \(max-width: 520px\)/);
  assert.ok(!/@media[^{]*width/.test(css), "no viewport-width media queries");
});
