// Big catalogues: above WINDOW_MIN (1,000) matching rows only a window of rows near the scroll
// viewport is in the DOM; at or below it every matching row is (the product contract).
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { Window } from "happy-dom";
import { WINDOW_MIN, createView } from "./helpers.js";
import { sortRows } from "../src/table.js";
import { FakeModel, fakeClock, row } from "./helpers.js";

/** @type {Window} */ let win;
/** @type {Document} */ let doc;
/** @type {HTMLElement} */ let el;
/** @type {(() => void) | null} */ let destroy = null;

beforeEach(() => {
  win = new Window({ url: "http://127.0.0.1/" });
  doc = /** @type {any} */ (win.document);
  el = doc.createElement("div");
  doc.body.appendChild(el);
});
afterEach(async () => {
  if (destroy) destroy();
  destroy = null;
  await win.happyDOM.abort();
  win.close();
});

/** n synthetic rows: every 7th custom, every 3rd cloud, sizes all different. */
function many(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const cloud = i % 3 === 0;
    out.push(row({
      id: `m${i}`,
      name: `Model ${String(i).padStart(5, "0")}`,
      unique: `model:${i}`,
      provider: i % 2 ? "META" : "MISTRAL",
      cloud,
      custom: i % 7 === 0,
      bytes: cloud ? null : 1e9 + ((i * 7919) % 100003) * 1e4,
      state: cloud ? "cloud" : "available",
      description: i % 10 === 0 ? "tenth model" : null,
    }));
  }
  return out;
}

/** Animation frames run only when the test says so. */
function manualFrames() {
  /** @type {Map<number, () => void>} */
  const pending = new Map();
  let next = 1;
  return {
    requestAnimationFrame(fn) {
      const id = next++;
      pending.set(id, fn);
      return id;
    },
    cancelAnimationFrame(id) {
      pending.delete(id);
    },
    flush() {
      for (let round = 0; round < 10 && pending.size; round++) {
        const fns = [...pending.values()];
        pending.clear();
        for (const fn of fns) fn();
      }
    },
    pending: () => pending.size,
  };
}

function mount(state = {}) {
  const model = new FakeModel({ models: many(3000), last_refresh: 1_700_000_000 - 5, ...state });
  const frames = manualFrames();
  destroy = createView(/** @type {any} */ (model), el, { ...fakeClock(1_700_000_000_000), ...frames, searchDebounceMs: 200 });
  return { model, frames };
}
const q = (sel) => /** @type {HTMLElement} */ (el.querySelector(sel));
const qa = (sel) => /** @type {HTMLElement[]} */ ([...el.querySelectorAll(sel)]);
const ids = () => qa("tr[data-model-id]").map((tr) => /** @type {string} */ (tr.getAttribute("data-model-id")));
const rowEl = (id) => q(`tr[data-model-id="${id}"]`);
const click = (node) => node.dispatchEvent(new win.MouseEvent("click", { bubbles: true }));
const scroller = () => q(".pmm-scroll");
/** Scroll the table to `top` px and let the view's frame run. */
function scrollTo(frames, top) {
  scroller().scrollTop = top;
  scroller().dispatchEvent(new win.Event("scroll"));
  frames.flush();
}
function type(value) {
  const input = /** @type {HTMLInputElement} */ (q('input[type="search"]'));
  input.value = value;
  input.dispatchEvent(new win.Event("input", { bubbles: true }));
}
/** aria-rowindex of every rendered row, as display-order indexes (0-based). */
const ariaIndexes = () => qa("tr[data-model-id]").map((tr) => Number(tr.getAttribute("aria-rowindex")) - 2);

test("over 1,000 matching rows only a window is in the DOM, in display order, with ARIA row indexes", () => {
  mount({ sort: { column: "name", descending: false } });
  const rendered = ids();
  assert.ok(rendered.length > 5 && rendered.length < 100, `${rendered.length} rows rendered`);
  const all = many(3000).map((r) => r.id); // names sort like ids here
  assert.deepEqual(rendered, all.slice(0, rendered.length));
  const table = q("table");
  assert.equal(table.getAttribute("aria-rowcount"), "3001");
  assert.equal(table.getAttribute("data-windowed"), "true");
  assert.equal(table.getAttribute("data-visible"), "3000");
  assert.equal(q("thead tr").getAttribute("aria-rowindex"), "1");
  assert.deepEqual(ariaIndexes(), rendered.map((_, i) => i));
  // The bottom spacer stands for the rest; no top spacer at the top.
  const spacers = qa("tbody > tr.pmm-spacer");
  assert.equal(spacers.length, 1);
  assert.equal(spacers[0].getAttribute("aria-hidden"), "true");
  assert.ok(parseFloat(spacers[0].style.height) > 40 * (3000 - rendered.length));
  assert.equal(/** @type {HTMLElement} */ (q("tbody").lastElementChild), spacers[0]);
  // The summary and chips still count every model.
  assert.match(q(".pmm-summary").textContent, /^3000 models/);
  assert.equal(q('button[data-filter="all"] .pmm-chip-count').textContent, "3000");
});

test("scrolling moves the window (once per frame); rows are built once per id and reused", () => {
  const { frames } = mount({ sort: { column: "name", descending: false } });
  const first = rowEl("m0");
  scroller().scrollTop = 46 * 1500;
  scroller().dispatchEvent(new win.Event("scroll"));
  scroller().dispatchEvent(new win.Event("scroll"));
  assert.equal(frames.pending(), 1, "one frame for many scroll events");
  assert.ok(rowEl("m0"), "nothing moves before the frame");
  frames.flush();
  const rendered = ids();
  assert.ok(rendered.includes("m1500"), "the row at the viewport is rendered");
  assert.ok(rendered.includes("m1510"));
  assert.equal(rowEl("m0"), null, "rows far above are gone");
  assert.ok(rendered.length < 100);
  const idx = ariaIndexes();
  for (let i = 0; i < rendered.length; i++) assert.equal(`m${idx[i]}`, rendered[i]);
  const [top, bottom] = qa("tbody > tr.pmm-spacer");
  assert.equal(/** @type {HTMLElement} */ (q("tbody").firstElementChild), top);
  assert.equal(parseFloat(top.style.height), 46 * idx[0]);
  assert.equal(parseFloat(bottom.style.height), 46 * (3000 - idx[idx.length - 1] - 1));
  // A small scroll within the overscan keeps the window as it is.
  const before = ids();
  scrollTo(frames, 46 * 1500 + 30);
  assert.deepEqual(ids(), before);
  // Back to the top: the same row node as before.
  scrollTo(frames, 0);
  assert.equal(rowEl("m0"), first);
});

test("sorting re-windows: the rendered rows are the first ones in the new order", () => {
  mount();
  click(q('th[data-column="bytes"] button'));
  const expected = sortRows(many(3000), { column: "bytes", descending: false }).map((r) => r.id);
  const rendered = ids();
  assert.deepEqual(rendered, expected.slice(0, rendered.length));
  assert.equal(q('th[data-column="bytes"]').getAttribute("aria-sort"), "ascending");
  click(q('th[data-column="bytes"] button'));
  const desc = sortRows(many(3000), { column: "bytes", descending: true }).map((r) => r.id);
  assert.deepEqual(ids(), desc.slice(0, ids().length));
  assert.deepEqual(ariaIndexes(), ids().map((_, i) => i));
});

test("searching or filtering down to at most 1,000 matches puts every match in the DOM", () => {
  const { model } = mount();
  type("tenth"); // 300 matches
  assert.equal(ids().length, 300);
  assert.deepEqual(new Set(ids()), new Set(many(3000).filter((r) => r.description).map((r) => r.id)));
  assert.equal(qa("tr[data-model-id][hidden]").length, 0, "no hidden rows: only matches are rendered");
  assert.equal(q("table").getAttribute("aria-rowcount"), null);
  assert.equal(q("table").getAttribute("data-windowed"), null);
  assert.equal(qa("tbody > tr.pmm-spacer").length, 0);
  assert.equal(qa("tr[aria-rowindex]").length, 0);
  assert.equal(q("table").getAttribute("data-visible"), "300");
  type("");
  assert.ok(ids().length < 100);
  assert.equal(q("table").getAttribute("aria-rowcount"), "3001");
  // A filter chip: 429 custom models, all in the DOM.
  click(q('button[data-filter="custom"]'));
  assert.equal(ids().length, many(3000).filter((r) => r.custom).length);
  assert.equal(model.get("filter"), "custom");
  // Local: 2,000 matches: windowed again, only matching rows.
  click(q('button[data-filter="local"]'));
  assert.equal(q("table").getAttribute("aria-rowcount"), "2001");
  for (const id of ids()) assert.ok(Number(id.slice(1)) % 3 !== 0, `${id} is a cloud row`);
  // Exactly WINDOW_MIN matches are all in the DOM.
  model.set("models", many(WINDOW_MIN * 1.5)); // 1,000 local
  assert.equal(ids().length, WINDOW_MIN);
  assert.equal(q("table").getAttribute("aria-rowcount"), null);
});

test("a progress tick for a row outside the window touches nothing; the row shows it when scrolled to", () => {
  const { model, frames } = mount({ sort: { column: "name", descending: false } });
  const models = many(3000).map((r) => (r.id === "m2000" || r.id === "m1" ? { ...r, state: "downloading", downloading: true } : r));
  model.set("models", models);
  const p = (pct) => ({ status: "IN-PROGRESS", percentage: pct, bytes_done: pct * 1e7, bytes_total: 1e9, speed: 1e6, eta: 100 - pct, stalled: false, terminal: false });
  model.set("progress", { m1: p(5), m2000: p(5) });
  assert.equal(rowEl("m2000"), null);
  const obs = new win.MutationObserver(() => {});
  obs.observe(q(".pieces-mm"), { subtree: true, childList: true, attributes: true, characterData: true });
  model.set("progress", { m1: p(5), m2000: p(42) });
  assert.equal(obs.takeRecords().length, 0, "an off-window tick touches nothing");
  // A tick for a rendered row touches only that row.
  model.set("progress", { m1: p(30), m2000: p(42) });
  const records = obs.takeRecords();
  obs.disconnect();
  assert.ok(records.length > 0);
  for (const r of records) assert.ok(rowEl("m1").contains(/** @type {Node} */ (r.target)), "mutation outside the ticking row");
  assert.equal(rowEl("m1").querySelector('[role="progressbar"]').getAttribute("aria-valuenow"), "30");
  scrollTo(frames, 46 * 2000);
  const tr = rowEl("m2000");
  assert.ok(tr);
  assert.equal(tr.querySelector('[role="progressbar"]').getAttribute("aria-valuenow"), "42");
  assert.equal(tr.querySelector(".pmm-state").textContent, "downloading 42%");
  assert.ok(tr.querySelector('button[data-action="cancel"]'));
  assert.equal(rowEl("m1"), null);
  // Busy and errors for off-window rows also wait until the row is shown.
  model.set("busy", { m1: "load" });
  model.set("errors", { m1: "Load failed: boom" });
  scrollTo(frames, 0);
  assert.match(rowEl("m1").textContent, /Load failed: boom/);
  assert.equal(rowEl("m1").getAttribute("data-busy"), "load");
});

test("a focused row's button survives scrolling and sorting (kept just outside the window)", () => {
  const { frames } = mount({ sort: { column: "name", descending: false } });
  const btn = /** @type {HTMLElement} */ (rowEl("m2").querySelector('button[data-action="download"]'));
  btn.focus();
  assert.equal(doc.activeElement, btn);
  scrollTo(frames, 46 * 1500);
  assert.ok(btn.isConnected, "the focused row stays in the DOM");
  assert.equal(doc.activeElement, btn);
  const rendered = ids();
  assert.equal(rendered[0], "m2", "kept before the window, in document order");
  assert.equal(rowEl("m2").getAttribute("aria-rowindex"), "4");
  assert.ok(rendered.includes("m1500"));
  // Sorting puts the row elsewhere: still in the DOM, still focused, right index.
  click(q('th[data-column="name"] button')); // descending
  assert.equal(doc.activeElement, btn);
  assert.equal(rowEl("m2").getAttribute("aria-rowindex"), String(3000 - 2 + 1));
  // Focus elsewhere: the row goes when the window moves on.
  q('input[type="search"]').focus();
  scrollTo(frames, 46 * 100);
  assert.equal(rowEl("m2"), null);
});

test("snapshots in windowed mode: changed rows update, removed rows go, new rows follow sort and search", () => {
  const { model } = mount({ sort: { column: "name", descending: false } });
  const tr0 = rowEl("m0");
  const next = many(3000).filter((r) => r.id !== "m1").map((r) => (r.id === "m0" ? { ...r, name: "Model 00000 renamed" } : r));
  next.push(row({ id: "new", name: "Model 00000 a new one", state: "available", bytes: 5e9 }));
  model.set("models", next);
  assert.equal(rowEl("m0"), tr0, "same node");
  assert.equal(tr0.querySelector(".pmm-name").textContent, "Model 00000 renamed");
  assert.equal(rowEl("m1"), null);
  assert.deepEqual(ids().slice(0, 3), ["new", "m0", "m2"]); // "a new one" < "renamed"
  assert.equal(q("table").getAttribute("aria-rowcount"), "3001");
  // Going back to a small catalogue: every row in the DOM, filtered-out ones hidden.
  type("model 0000");
  model.set("models", many(500));
  assert.equal(ids().length, 500);
  assert.equal(qa("tr[data-model-id]:not([hidden])").length, 10);
  assert.equal(q("table").getAttribute("aria-rowcount"), null);
  assert.equal(qa("tr[aria-rowindex]").length, 0);
});

test("destroy cancels a pending frame and the scroll listener", () => {
  const { frames } = mount();
  scroller().scrollTop = 46 * 1000;
  scroller().dispatchEvent(new win.Event("scroll"));
  assert.equal(frames.pending(), 1);
  destroy?.();
  destroy = null;
  assert.equal(frames.pending(), 0);
});

test("rendered rows are measured each frame; the median height stands in for rows never rendered", () => {
  const { frames } = mount({ sort: { column: "name", descending: false } });
  // happy-dom has no layout: give rows, header and scroller heights.
  const proto = win.HTMLElement.prototype;
  const saved = ["offsetHeight", "clientHeight"].map((k) => [k, Object.getOwnPropertyDescriptor(proto, k)]);
  Object.defineProperty(proto, "offsetHeight", {
    configurable: true,
    get() {
      if (this.tagName === "THEAD") return 32;
      if (this.tagName === "TR" && this.hasAttribute("data-model-id")) return this.getAttribute("data-model-id") === "m1" ? 120 : 60;
      return 0;
    },
  });
  Object.defineProperty(proto, "clientHeight", { configurable: true, get() { return this.classList.contains("pmm-scroll") ? 600 : 0; } });
  try {
    scroller().dispatchEvent(new win.Event("scroll"));
    frames.flush();
    // The first window (estimated heights) still covers the viewport: kept, spacer re-measured.
    let rendered = ids();
    const bottom = qa("tbody > tr.pmm-spacer").at(-1);
    assert.equal(parseFloat(bottom.style.height), 60 * (3000 - rendered.length));
    scrollTo(frames, 32 + 60 * 2002); // row m2001 (after m1 at 120 px) at the viewport's top
    rendered = ids();
    const idx = ariaIndexes();
    const [top] = qa("tbody > tr.pmm-spacer");
    // Rows above the window: m1 measured at 120, the others 60.
    assert.equal(parseFloat(top.style.height), 60 * idx[0] + 60);
    // 240 px of overscan above (4 rows), 600 px of viewport and 240 px below: 18 rows.
    assert.equal(idx[0], 2001 - 4);
    assert.equal(rendered.length, 18);
    assert.equal(rendered[4], "m2001");
  } finally {
    for (const [k, d] of saved) {
      if (d) Object.defineProperty(proto, /** @type {string} */ (k), d);
      else delete proto[/** @type {string} */ (k)];
    }
  }
});

test("a small catalogue re-sorted in one bulk move keeps every node, the order and keyboard focus", () => {
  const { model } = mount({ models: many(400), sort: { column: "name", descending: false } });
  const nodes = new Map(qa("tr[data-model-id]").map((tr) => [tr.getAttribute("data-model-id"), tr]));
  const btn = /** @type {HTMLElement} */ (rowEl("m200").querySelector("button[data-action]"));
  btn.focus();
  click(q('th[data-column="name"] button'));
  assert.deepEqual(ids(), many(400).map((r) => r.id).reverse());
  for (const [id, tr] of nodes) assert.equal(rowEl(id), tr, id);
  assert.equal(doc.activeElement, btn);
  assert.equal(model.get("sort").descending, true);
  // Filtering keeps every row in the DOM, hidden when filtered out.
  type("tenth");
  assert.equal(ids().length, 400);
  assert.equal(qa("tr[data-model-id]:not([hidden])").length, 40);
  assert.equal(q("table").getAttribute("aria-rowcount"), null);
});

test("snapshots: duplicate ids keep the first row, numeric ids become strings, bad rows are skipped", () => {
  const { model } = mount({ models: [] });
  model.set("models", [row({ id: "a", name: "First" }), row({ id: "a", name: "Second" }), null, { name: "no id" }, { ...row({ id: "x" }), id: 7, name: "Seven" }]);
  assert.deepEqual(ids(), ["a", "7"]);
  assert.equal(rowEl("a").querySelector(".pmm-name").textContent, "First");
  assert.equal(rowEl("7").querySelector(".pmm-name").textContent, "Seven");
  // A second snapshot with the same ids swapped for new ones of the same count.
  model.set("models", [row({ id: "b", name: "Bee" }), row({ id: "a", name: "First" })]);
  assert.deepEqual(ids(), ["b", "a"]);
  assert.equal(rowEl("7"), null);
});
