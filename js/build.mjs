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

// Internal property names (fields and methods of the view's own objects, never data from
// Python, DOM properties, attribute names or the anywidget API) shortened by esbuild's
// mangleProps. A name may go here only if it never crosses that boundary: a data key or DOM
// property with the same name would be renamed too. Mangled names are stable within one build.
const INTERNAL = `
  byId chips windowed deleteBtn bars clock prog queue closed shown sorted mounted
  connecting updated banner tbody thead env parts doc slots slot
  view widths cell numeric kind node sync wrap box bar fill acts
  actSig allState alt announce askBulk askDelete askedSeq bannerMessage
  bannerTried blockedEl budgetNode bulkConfirming bulkNode busyEl bytesDone cancelRaf
  cleanupNode clearBtn clearFilters clearNoticeTimer confirmBox confirmBulk confirmCleanup confirmText
  confirming connBadge connEmulated connLabel connUrl connVersion diskBytes dismissBulk
  dismissedErrors dismissedNoticeSeq emptyText flushSearch focusedItem frameId freeBtn freeButton
  haystack headHeight hideNotice isSelected metaDirty metaFirst mirror nameOf
  noticeText noticeTimer onBusy onFrame onMatches onResize onRow onRows
  onScroll overview progVisible queueSearch ramBytes refreshActions refreshBtn refreshTimer
  rematch renderActions renderBlocked renderChips renderConnecting renderConnection renderCounts renderMeta
  renderSelected renderSort renderState renderTitles resizeObserver retryAt retryText rowEstimate
  rowOf runtimeAction runtimeNode scroller searchInput searching selectAll setFilter
  setMeta setRefreshing setSort setSpacer showCleanup showNotice slotPaths sortColumn
  spacerBottom spacerTop statusExtra ths titled unloadAllBtn viewHeight viewTop
  winEnd winStart writeTrait dirty gen pos mixed pill
  stamp nodes point init schedule highlight toggleAll yes
  raf terms inputs template opener
`.trim().split(/\s+/);
const mangleProps = new RegExp(`^(?:${INTERNAL.join("|")})$`);
/** INTERNAL names that js/src also writes as strings, but only as values (a tag, a role, a
 * connection state), never as a key looked up by that string. */
const VALUE_ONLY = new Set(["cell", "connecting", "tbody", "thead"]);

/**
 * Refuse to build when an INTERNAL name is also a string in js/src (outside comments): a
 * `data-action`, slot or trait name looked up as a key would no longer be found once renamed.
 */
function checkInternalNames() {
  const bad = [];
  for (const abs of listFiles(srcDir).filter((p) => p.endsWith(".js"))) {
    const code = readFileSync(abs, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:\\])\/\/.*$/gm, "$1");
    for (const m of code.matchAll(/["'`]([A-Za-z]\w*)["'`]/g)) {
      if (mangleProps.test(m[1]) && !VALUE_ONLY.has(m[1])) bad.push(`${relative(srcDir, abs)}: "${m[1]}"`);
    }
  }
  if (bad.length) throw new Error(`build.mjs: INTERNAL names used as strings in js/src: ${bad.join(", ")}`);
}

async function main() {
  checkInternalNames();
  const banner = `/* src-sha256:${srcHash()} */\n`;
  const js = await esbuild.build({
    entryPoints: [join(srcDir, "widget.js")],
    bundle: true,
    format: "esm",
    minify: true,
    target: "es2020",
    mangleProps,
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
