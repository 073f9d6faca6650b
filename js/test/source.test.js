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
