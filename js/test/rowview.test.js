// RowView on its own, the column table that drives it, and narrow-area folding.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { Window } from "happy-dom";
import { h } from "../src/dom.js";
import { RowView, rowParts } from "../src/rowview.js";
import { ACTIONS_WIDTHS, COLUMNS, SELECT_WIDTHS, foldLevel, gridTemplates } from "../src/table.js";
import { createView } from "./helpers.js";
import { FakeModel, catalogue, fakeClock, row } from "./helpers.js";

/** @type {Window} */ let win;
/** @type {Document} */ let doc;
beforeEach(() => {
  win = new Window({ url: "http://127.0.0.1/" });
  doc = /** @type {any} */ (win.document);
});
afterEach(async () => {
  await win.happyDOM.abort();
  win.close();
});
const make = () => rowParts((tag, attrs, ...kids) => h(doc, tag, attrs, ...kids));

test("the template has the select cell, one data-slot cell per column, in column order, then the actions cell", () => {
  const parts = make();
  const all = [...parts.template.children];
  assert.deepEqual(all.map((td) => td.getAttribute("data-slot")), ["select", ...COLUMNS.map((c) => c.key), "actions"]);
  assert.ok(all[0].querySelector('input[type="checkbox"][data-select]'), "the select cell holds the row's checkbox");
  const cells = all.slice(1);
  assert.ok(parts.template.querySelector('.pmm-c-name [data-slot="meta"]'), "the meta line is named too");
  for (const td of all) assert.equal(td.getAttribute("role"), "cell");
  // Folded columns carry their fold level; the rest none.
  for (const [i, c] of COLUMNS.entries()) assert.equal(cells[i].getAttribute("data-fold"), foldLevel(c) ? String(foldLevel(c)) : null, c.key);
  // The DOM contract's classes stay.
  assert.ok(parts.template.querySelector(".pmm-c-name .pmm-name"));
  assert.ok(parts.template.querySelector(".pmm-c-state .pmm-state"));
  assert.ok(parts.template.querySelector(".pmm-c-actions .pmm-actions"));
});

test("grid tracks per size come from the column table; name, state and actions never fold", () => {
  const t = gridTemplates();
  assert.equal(t.length, ACTIONS_WIDTHS.length);
  for (const [i, cols] of t.entries()) {
    const tracks = COLUMNS.filter((c) => c.widths[i]).length + 2;
    assert.ok(cols.startsWith(SELECT_WIDTHS[i]), cols);
    assert.ok(cols.endsWith(ACTIONS_WIDTHS[i]), cols);
    assert.equal(cols.split(/\s+(?![^(]*\))/).length, tracks, cols);
  }
  for (const key of ["name", "state"]) assert.equal(foldLevel(/** @type {any} */ (COLUMNS.find((c) => c.key === key))), 0, key);
  for (const key of ["provider", "quantization", "max_tokens", "parameters", "ram"]) {
    const col = /** @type {any} */ (COLUMNS.find((c) => c.key === key));
    assert.ok(foldLevel(col) > 0 && foldLevel(col) <= 2, `${key} folds at 900 px`);
    assert.ok(col.meta, `${key} shows on the meta line when folded`);
  }
  // Once folded, a column stays folded at every narrower size.
  for (const c of COLUMNS) {
    const f = foldLevel(c);
    if (f) assert.ok(c.widths.slice(f).every((w) => w === null), c.key);
  }
});

test("update() writes cells by slot and the folded values on the meta line; unchanged values are not rewritten", () => {
  const view = new RowView(make(), "l3");
  const r = row({ id: "l3", name: "Llama 3 8B", unique: "llama3:8b", provider: "META", bytes: 4692669824, ram: 6442450944, parameters: 8, quantization: "q4_K_S", max_tokens: 131072, cloud: false, custom: true });
  view.update(r);
  const s = view.slots;
  assert.equal(s["name-text"].textContent, "Llama 3 8B");
  assert.equal(s.unique.textContent, "llama3:8b");
  assert.equal(s.bytes.textContent, "4.69 GB");
  assert.equal(s.cloud.getAttribute("data-value"), "local");
  assert.equal(s.max_tokens.textContent, "128K");
  assert.ok(view.tr.querySelector(".pmm-pill--custom"));
  // One span per fold level, the last to fold first; spaces inside a value do not break.
  const meta = [...s.meta.children].map((n) => [n.getAttribute("data-fold"), n.textContent.replace(/\u00a0/g, " ")]);
  assert.deepEqual(meta, [["3", "local · 4.69 GB"], ["2", "6.44 GB RAM · 8B params · q4_K_S · 128K context"], ["1", "META"]]);
  assert.ok(!/ [^·]/.test(s.meta.children[1].textContent.replace(/ · /g, "")), "only the separators break");
  const before = s.bytes.firstChild;
  view.update({ ...r, name: "Renamed" });
  assert.equal(s.bytes.firstChild, before, "same text node: not rewritten");
  assert.equal(s["name-text"].textContent, "Renamed");
  const metaNode = s["fold-2"].firstChild;
  view.update({ ...r, name: "Renamed again" });
  assert.equal(s["fold-2"].firstChild, metaNode, "meta line not rewritten when its values did not change");
  view.update({ ...r, ram: null, provider: null, custom: false });
  assert.equal(s["fold-2"].textContent.replace(/\u00a0/g, " "), "8B params · q4_K_S · 128K context");
  assert.equal(s["fold-1"].textContent, "");
  assert.equal(s["provider-text"].textContent, "—");
  assert.equal(view.tr.querySelector(".pmm-pill--custom"), null);
  // The fit leads its level's part of the meta line (it stays in view when the line is clamped).
  view.update({ ...r, fit: "unload", fit_unload: ["x"] });
  assert.equal(s["fold-2"].textContent.replace(/\u00a0/g, " "), "unload 1 · 6.44 GB RAM · 8B params · q4_K_S · 128K context");
});

test("renderState and renderActions: progress block, buttons by ctx, confirm and error builders", () => {
  const view = new RowView(make(), "p");
  view.update(row({ id: "p", name: "Phi", state: "downloading", bytes: 1e9 }));
  assert.equal(view.renderState({ status: "IN-PROGRESS", percentage: 40 }), true, "the progress block appeared");
  assert.equal(view.tr.querySelector('[role="progressbar"]').getAttribute("aria-valuenow"), "40");
  assert.equal(view.renderState({ status: "IN-PROGRESS", percentage: 41 }), false);
  view.renderActions({ acts: ["cancel"], busy: "download", confirm: "", error: "" });
  assert.deepEqual([...view.slots.buttons.querySelectorAll("button")].map((b) => b.getAttribute("data-action")), ["cancel"]);
  assert.equal(view.tr.querySelector(".pmm-busy"), null, "the progress bar says it: no busy label");
  view.update(row({ id: "p", name: "Phi", state: "downloaded", bytes: 1e9 }));
  view.renderState(undefined);
  view.renderActions({ acts: ["load", "delete-cache"], busy: "", confirm: "delete-cache", error: "boom" });
  assert.equal(view.slots.buttons.hidden, true);
  assert.match(view.tr.querySelector(".pmm-confirm").textContent, /Delete the files of “Phi” \(1.00 GB\)/);
  assert.equal(view.tr.querySelector(".pmm-row-error-text").textContent, "boom");
  assert.equal(view.tr.getAttribute("data-error"), "true");
  view.renderActions({ acts: ["load", "delete-cache"], busy: "", confirm: "", error: "" });
  assert.equal(view.tr.querySelector(".pmm-confirm"), null);
  assert.equal(view.tr.querySelector(".pmm-row-error"), null);
  assert.equal(view.tr.getAttribute("data-error"), null);
});

test("inside a shadow root (marimo) keyboard focus survives a re-sort and a busy row", () => {
  const host = doc.createElement("div");
  doc.body.appendChild(host);
  const shadow = host.attachShadow({ mode: "open" });
  const el = doc.createElement("div");
  shadow.appendChild(el);
  const model = new FakeModel({ models: catalogue() });
  const destroy = createView(/** @type {any} */ (model), el, fakeClock());
  const btn = /** @type {HTMLElement} */ (el.querySelector('tr[data-model-id="l3-8b"] button[data-action="load"]'));
  btn.focus();
  assert.equal(shadow.activeElement, btn);
  el.querySelector('th[data-column="bytes"] button').dispatchEvent(new win.MouseEvent("click", { bubbles: true }));
  btn.focus();
  el.querySelector('th[data-column="bytes"] button').dispatchEvent(new win.MouseEvent("click", { bubbles: true }));
  assert.equal(shadow.activeElement, btn, "focus kept through the bulk re-order");
  // The focused button goes disabled (busy): focus moves within the row, never to the page.
  model.set("busy", { "l3-8b": "load" });
  const rowEl = el.querySelector('tr[data-model-id="l3-8b"]');
  assert.ok(rowEl.contains(shadow.activeElement), "focus stayed in the row");
  destroy();
});
