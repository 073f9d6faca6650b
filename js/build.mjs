// Build the anywidget bundle: js/src/widget.js -> pieces_widgets/static/widget.js (one
// self-contained minified ES module) and js/src/widget.css -> pieces_widgets/static/widget.css.
//
// Both outputs start with a banner `/* src-sha256:<hex> */` so a Python test
// (tests/test_bundle.py) can tell, without node, that the committed bundle matches js/src.
// The hash algorithm (keep it identical in tests/test_bundle.py):
//   files  = every regular file under js/src, recursively, skipping any path component that
//            starts with "." (editor droppings); names are ASCII
//   order  = sorted by their path relative to js/src, with "/" separators
//   sha256 over, for each file in order: relpath (UTF-8) + "\0" + raw bytes + "\0"
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, "src");
const outDir = join(here, "..", "pieces_widgets", "static");

/** @param {string} dir @returns {string[]} absolute paths of regular files, recursively */
function listFiles(dir) {
  const out = [];
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    if (ent.name.startsWith(".")) continue;
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...listFiles(p));
    else if (ent.isFile()) out.push(p);
  }
  return out;
}

export function srcHash() {
  const files = listFiles(srcDir)
    .map((abs) => ({ abs, rel: relative(srcDir, abs).split(sep).join("/") }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const h = createHash("sha256");
  for (const f of files) {
    h.update(Buffer.from(f.rel, "utf8"));
    h.update(Buffer.from([0]));
    h.update(readFileSync(f.abs));
    h.update(Buffer.from([0]));
  }
  return h.digest("hex");
}

async function main() {
  const banner = `/* src-sha256:${srcHash()} */\n`;
  const js = await esbuild.build({
    entryPoints: [join(srcDir, "widget.js")],
    bundle: true,
    format: "esm",
    minify: true,
    target: "es2020",
    legalComments: "none",
    write: false,
    logLevel: "warning",
  });
  const css = await esbuild.build({
    entryPoints: [join(srcDir, "widget.css")],
    bundle: true,
    minify: true,
    loader: { ".css": "css" },
    legalComments: "none",
    write: false,
    logLevel: "warning",
  });
  mkdirSync(outDir, { recursive: true });
  const jsText = banner + js.outputFiles[0].text;
  const cssText = banner + css.outputFiles[0].text;
  writeFileSync(join(outDir, "widget.js"), jsText);
  writeFileSync(join(outDir, "widget.css"), cssText);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  process.stdout.write(
    `built pieces_widgets/static/widget.js (${kb(jsText.length)}) and widget.css (${kb(cssText.length)})\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
