// Issue 11: the fit cell, the "fits" chip, the Download / Load confirmations when a model may not
// fit, and the budget bars (pure figures and what the view shows).
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { Window } from "happy-dom";
import { gauge } from "../src/budget.js";
import { fitConfirm, needsFitConfirm } from "../src/fit.js";
import { fitLabel, filterCounts, matchesFilter, sortRows } from "../src/table.js";
import { createView } from "./helpers.js";
import { FakeModel, fakeClock, fitted, row } from "./helpers.js";

/** @type {Window} */ let win;
/** @type {HTMLElement} */ let el;
/** @type {(() => void) | null} */ let destroy = null;
beforeEach(() => {
  win = new Window({ url: "http://127.0.0.1/" });
  el = /** @type {any} */ (win.document).createElement("div");
  win.document.body.appendChild(/** @type {any} */ (el));
});
afterEach(async () => {
  if (destroy) destroy();
  destroy = null;
  await win.happyDOM.abort();
  win.close();
});

const BUDGET = {
  disk_used: 15e9, disk_models: 4, disk_unknown: 0, disk_catalog: 30e9,
  ram_used: 3e9, ram_models: 1, ram_unknown: 0, usable: 12e9, total: 15e9, source: "server",
  note: "Machine memory 15.00 GB (from Pieces OS); a model may use 80 % of it.",
};

function mount(state = {}) {
  const model = new FakeModel({ models: fitted(), budget: BUDGET, ...state });
  destroy = createView(/** @type {any} */ (model), el, { ...fakeClock(), searchDebounceMs: 200 });
  return { model };
}
const q = (sel) => /** @type {HTMLElement} */ (el.querySelector(sel));
const qa = (sel) => /** @type {HTMLElement[]} */ ([...el.querySelectorAll(sel)]);
const rowEl = (id) => q(`tr[data-model-id="${id}"]`);
const click = (node) => node.dispatchEvent(new win.MouseEvent("click", { bubbles: true }));
const over = (node) => node.dispatchEvent(new win.MouseEvent("mouseover", { bubbles: true }));

test("fit cell: short text per answer, empty for cloud; the fit text is its tooltip; data-value for colour", () => {
  mount();
  const cell = (id) => rowEl(id).querySelector('[data-slot="fit"]');
  assert.equal(cell("l32-1b").textContent, "fits");
  assert.equal(cell("l3-8b").textContent, "unload 1");
  assert.equal(cell("mistral").textContent, "too large");
  assert.equal(cell("team").textContent, "unknown");
  assert.equal(cell("gpt4o").textContent, "");
  assert.equal(cell("mistral").getAttribute("data-value"), "too large");
  assert.equal(cell("gpt4o").getAttribute("data-value"), null);
  over(rowEl("mistral").children[1]);
  assert.equal(cell("mistral").getAttribute("title"), "Needs 6.44 GB of RAM; this machine can give a model at most 4.00 GB.");
  // Folded at narrow widths, the fit stays on the name cell's meta line.
  assert.match(rowEl("l3-8b").querySelector('[data-slot="meta"]').textContent, /unload\u00a01/);
});

test("fitLabel, the fits filter and its count, and the fit sort order", () => {
  assert.equal(fitLabel(row({ id: "a", fit: "unload", fit_unload: ["x", "y"] })), "unload 2");
  assert.equal(fitLabel(row({ id: "a", fit: "unload" })), "unload");
  assert.equal(fitLabel(row({ id: "a", fit: null })), "");
  const rows = fitted();
  assert.deepEqual(rows.filter((r) => matchesFilter(r, "fits")).map((r) => r.id), ["l32-3b", "l32-1b", "phi3"]);
  assert.equal(filterCounts(rows).fits, 3);
  const sorted = sortRows(rows, { column: "fit", descending: false }).map((r) => r.fit);
  assert.deepEqual(sorted, ["fits", "fits", "fits", "unload", "too-large", "unknown", "unknown", null]);
});

test("the fits chip shows its count and filters the table to local models that fit", () => {
  const { model } = mount();
  const chip = q('button[data-filter="fits"]');
  assert.equal(chip.querySelector(".pmm-chip-count").textContent, "3");
  click(chip);
  assert.equal(model.get("filter"), "fits");
  assert.deepEqual(qa("tr[data-model-id]").filter((tr) => !tr.hidden).map((tr) => tr.getAttribute("data-model-id")), ["l32-3b", "l32-1b", "phi3"]);
});

test("Load of a row that fits sends at once; too large asks, shows the fit text; 'anyway' sends the plain action", () => {
  const { model } = mount({ models: fitted().map((r) => (r.id === "mistral" ? { ...r, state: "available", downloaded: false } : r)) });
  click(rowEl("l32-1b").querySelector('button[data-action="download"]'));
  assert.deepEqual(model.sent, [{ type: "action", action: "download", id: "l32-1b" }]);
  click(rowEl("mistral").querySelector('button[data-action="download"]'));
  assert.equal(model.sent.length, 1, "nothing sent before the confirmation");
  const box = rowEl("mistral").querySelector(".pmm-confirm");
  assert.equal(box.querySelector(".pmm-confirm-text").textContent, "Needs 6.44 GB of RAM; this machine can give a model at most 4.00 GB.");
  assert.ok(/** @type {HTMLElement} */ (box.querySelector('[data-action="confirm-unload"]')).hidden, "nothing to unload for too-large");
  const yes = /** @type {HTMLElement} */ (box.querySelector('[data-action="confirm"]'));
  assert.equal(yes.textContent, "Download anyway");
  assert.equal(win.document.activeElement, box.querySelector('[data-action="dismiss-confirm"]'), "focus on Cancel");
  click(box.querySelector('[data-action="dismiss-confirm"]'));
  assert.equal(model.sent.length, 1);
  assert.equal(rowEl("mistral").querySelector(".pmm-confirm"), null);
  click(rowEl("mistral").querySelector('button[data-action="download"]'));
  click(rowEl("mistral").querySelector('[data-action="confirm"]'));
  assert.deepEqual(model.sent[1], { type: "action", action: "download", id: "mistral" });
});

test("Load of a row that needs an unload first offers 'Unload 1 and load' (unload_first), 'Load anyway' and Cancel", () => {
  const { model } = mount();
  click(rowEl("l3-8b").querySelector('button[data-action="load"]'));
  const box = rowEl("l3-8b").querySelector(".pmm-confirm");
  assert.match(box.textContent, /unload Llama 3\.2 3B first/);
  const alt = /** @type {HTMLElement} */ (box.querySelector('[data-action="confirm-unload"]'));
  assert.equal(alt.hidden, false);
  assert.equal(alt.textContent, "Unload 1 and load");
  assert.equal(box.querySelector('[data-action="confirm"]').textContent, "Load anyway");
  click(alt);
  assert.deepEqual(model.sent, [{ type: "action", action: "load", id: "l3-8b", unload_first: true }]);
  assert.equal(rowEl("l3-8b").querySelector(".pmm-confirm"), null);
  // Escape calls a pending fit confirmation off.
  click(rowEl("l3-8b").querySelector('button[data-action="load"]'));
  rowEl("l3-8b").dispatchEvent(new win.KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  assert.equal(rowEl("l3-8b").querySelector(".pmm-confirm"), null);
  assert.equal(model.sent.length, 1);
  // Delete cache keeps its own confirmation, with the danger button and the old label.
  click(rowEl("l3-8b").querySelector('button[data-action="delete-cache"]'));
  const yes = rowEl("l3-8b").querySelector('.pmm-confirm [data-action="confirm"]');
  assert.equal(yes.textContent, "Confirm");
  assert.match(yes.className, /danger-solid/);
  assert.ok(/** @type {HTMLElement} */ (rowEl("l3-8b").querySelector('[data-action="confirm-unload"]')).hidden);
});

test("fit confirmations: which actions ask, and the texts without a fit text", () => {
  const big = row({ id: "b", name: "Big", fit: "too-large" });
  assert.ok(needsFitConfirm("download", big) && needsFitConfirm("load", big));
  assert.ok(!needsFitConfirm("unload", big) && !needsFitConfirm("download", { ...big, fit: "fits" }));
  assert.ok(!needsFitConfirm("download", { ...big, fit: "unknown" }));
  assert.ok(!needsFitConfirm("download", { ...big, cloud: true }));
  assert.deepEqual(fitConfirm("download", big), { text: "“Big” needs more memory than this machine can give a model.", yes: "Download anyway", alt: "" });
  assert.deepEqual(fitConfirm("load", { ...big, fit: "unload", fit_unload: ["x", "y"] }), { text: "“Big” fits only after unloading 2 models.", yes: "Load anyway", alt: "Unload 2 and load" });
});

test("budget gauges: filled widths, the highlighted share and the screen-reader text", () => {
  const disk = gauge("disk", BUDGET, null);
  assert.equal(disk.used, "50.0%");
  assert.equal(disk.highlight, false);
  assert.equal(disk.label, "Disk: 15.00 GB used by 4 downloaded models of 30.00 GB for all local models.");
  const available = row({ id: "x", name: "X", bytes: 3e9, ram: 6e9, state: "available" });
  const d2 = gauge("disk", BUDGET, available);
  assert.deepEqual([d2.start, d2.width, d2.plus], ["50.0%", "10.0%", "+3.00 GB"]);
  assert.match(d2.label, /X: 3\.00 GB to download\.$/);
  const ram = gauge("ram", BUDGET, available);
  assert.deepEqual([ram.used, ram.start, ram.width, ram.over], ["25.0%", "25.0%", "50.0%", false]);
  assert.equal(ram.label, "RAM: 3.00 GB used by 1 loaded model of 12.00 GB usable. X: loading it would add 6.00 GB.");
  // A loaded row's share lies inside the used part; too much shows as over.
  const loaded = row({ id: "y", name: "Y", ram: 3e9, loaded: true, state: "loaded" });
  assert.deepEqual((({ start, width, plus }) => [start, width, plus])(gauge("ram", BUDGET, loaded)), ["0.0%", "25.0%", ""]);
  const huge = gauge("ram", BUDGET, row({ id: "z", name: "Z", ram: 11e9 }));
  assert.deepEqual([huge.over, huge.width], [true, "75.0%"]);
  assert.match(huge.label, /more than is free/);
  // Usable memory unknown: no fill, the "unknown" state, said in words.
  const unknown = gauge("ram", { ...BUDGET, usable: null }, available);
  assert.deepEqual([unknown.unknown, unknown.used, unknown.highlight, unknown.text], [true, "0.0%", false, "3.00 GB / unknown"]);
  assert.match(unknown.label, /^RAM: 3\.00 GB used by 1 loaded model; usable memory unknown\. X: loading it would add 6\.00 GB\.$/);
  // Cloud rows add nothing.
  assert.equal(gauge("ram", BUDGET, row({ id: "c", cloud: true, ram: 5e9 })).highlight, false);
});

test("budget bars in the view: role=img with the figures, the note as tooltip, hovered then focused row highlighted", () => {
  const { model } = mount();
  const disk = q('[data-gauge="disk"]');
  const ram = q('[data-gauge="ram"]');
  assert.equal(disk.getAttribute("role"), "img");
  assert.equal(ram.getAttribute("aria-label"), "RAM: 3.00 GB used by 1 loaded model of 12.00 GB usable.");
  assert.match(ram.getAttribute("title"), /a model may use 80 % of it/);
  assert.equal(/** @type {HTMLElement} */ (ram.querySelector(".pmm-gauge-used")).style.width, "25.0%");
  const hl = /** @type {HTMLElement} */ (ram.querySelector(".pmm-gauge-hl"));
  assert.ok(hl.hidden);
  over(rowEl("l32-1b").children[1]);
  assert.equal(hl.hidden, false);
  assert.equal(hl.style.left, "25.0%");
  assert.equal(hl.style.width, "13.4%");
  assert.match(ram.getAttribute("aria-label"), /Llama 3\.2 1B: loading it would add 1\.61 GB/);
  // The row holding focus: leaving the table falls back to it.
  rowEl("mistral").querySelector("input[data-select]").focus();
  over(rowEl("l32-1b").children[1]);
  q("tbody").dispatchEvent(new win.MouseEvent("mouseleave"));
  assert.match(ram.getAttribute("aria-label"), /Mistral 7B: loading it would add 6\.44 GB/);
  assert.match(disk.getAttribute("aria-label"), /Mistral 7B: 4\.14 GB on disk/);
  // Focus leaves the rows: no share any more.
  q('button[data-action="refresh"]').focus();
  assert.ok(hl.hidden);
  assert.equal(ram.getAttribute("aria-label"), "RAM: 3.00 GB used by 1 loaded model of 12.00 GB usable.");
  // New figures from Python; then usable unknown.
  model.set("budget", { ...BUDGET, usable: null });
  assert.equal(ram.getAttribute("data-unknown"), "true");
  assert.equal(ram.querySelector(".pmm-gauge-text").textContent, "3.00 GB / unknown");
  assert.match(ram.getAttribute("aria-label"), /usable memory unknown/);
  model.set("budget", {});
  assert.ok(q(".pmm-budget").hidden, "no budget yet: no bars");
});

/** Tick a row's checkbox as a pointer does in a browser: focus moves to it, it flips, `change`. */
function tickRow(id) {
  const box = /** @type {HTMLInputElement} */ (rowEl(id).querySelector("input[data-select]"));
  box.focus();
  box.checked = !box.checked;
  box.dispatchEvent(new win.Event("change", { bubbles: true }));
}

test("the highlighted share follows only a hovered, focused or the only selected row: cleared selection and pointer gone, no share", () => {
  const { model } = mount();
  const ram = q('[data-gauge="ram"]');
  const hl = /** @type {HTMLElement} */ (ram.querySelector(".pmm-gauge-hl"));
  const plus = () => ram.querySelector(".pmm-gauge-plus").textContent;
  over(rowEl("l3-8b").children[1]);
  tickRow("l3-8b");
  over(rowEl("mistral").children[1]);
  tickRow("mistral");
  assert.equal(plus(), "+6.44 GB");
  // Clear (focus moves to it, then the click), the pointer leaves the rows.
  const clear = /** @type {HTMLElement} */ (q('[data-action="bulk-clear"]'));
  clear.focus();
  click(clear);
  q("tbody").dispatchEvent(new win.MouseEvent("mouseleave"));
  assert.deepEqual(model.get("selection"), []);
  assert.ok(hl.hidden, "no row is hovered, focused or selected: no share");
  assert.equal(plus(), "");
  assert.equal(ram.getAttribute("aria-label"), "RAM: 3.00 GB used by 1 loaded model of 12.00 GB usable.");
  // The only selected row (from Python here) shows its share; two selected rows, none.
  model.set("selection", ["phi3"]);
  assert.equal(hl.hidden, false);
  assert.match(ram.getAttribute("aria-label"), /Phi-3 Mini 4K: loading it would add 3\.76 GB/);
  model.set("selection", ["phi3", "l3-8b"]);
  assert.ok(hl.hidden);
  // Focus leaving the widget altogether clears a focused row too.
  model.set("selection", []);
  /** @type {HTMLElement} */ (rowEl("team").querySelector("input[data-select]")).focus();
  assert.equal(hl.hidden, false);
  /** @type {HTMLElement} */ (rowEl("team").querySelector("input[data-select]")).blur();
  assert.ok(hl.hidden);
});

test("a bulk Delete cache being confirmed, or a Free space plan on show, previews the bytes freed on the disk bar; no RAM share then", () => {
  const { model } = mount();
  const disk = q('[data-gauge="disk"]');
  const ram = q('[data-gauge="ram"]');
  const dhl = /** @type {HTMLElement} */ (disk.querySelector(".pmm-gauge-hl"));
  const rhl = /** @type {HTMLElement} */ (ram.querySelector(".pmm-gauge-hl"));
  tickRow("l3-8b");
  tickRow("mistral");
  over(rowEl("mistral").children[1]);
  assert.equal(ram.querySelector(".pmm-gauge-plus").textContent, "+6.44 GB");
  click(q('.pmm-bulk button[data-bulk="delete-cache"]'));
  assert.match(q(".pmm-bulk .pmm-confirm-text").textContent, /freeing 8\.84 GB/);
  assert.equal(disk.getAttribute("data-free"), "true");
  assert.equal(dhl.hidden, false);
  assert.deepEqual([dhl.style.left, dhl.style.width], ["20.5%", "29.5%"], "the freed part of the used bar");
  assert.equal(disk.querySelector(".pmm-gauge-plus").textContent, "\u22128.84 GB");
  assert.match(disk.getAttribute("aria-label"), /\. Deleting the files of 2 selected models will free 8\.84 GB\.$/);
  assert.ok(rhl.hidden, "no RAM share while deleting files is being decided");
  assert.equal(ram.querySelector(".pmm-gauge-plus").textContent, "");
  assert.equal(ram.getAttribute("aria-label"), "RAM: 3.00 GB used by 1 loaded model of 12.00 GB usable.");
  // Cancel: the hovered row's share is back.
  click(q('[data-action="bulk-dismiss"]'));
  assert.equal(disk.getAttribute("data-free"), null);
  assert.equal(ram.querySelector(".pmm-gauge-plus").textContent, "+6.44 GB");
  // The Free space plan, while the panel shows it.
  click(q('[data-action="bulk-clear"]'));
  click(q('button[data-action="free-space"]'));
  assert.equal(disk.getAttribute("data-free"), null, "no plan yet");
  model.set("cleanup", { seq: 1, free: 10e9, total: 9613409664, enough: false, rows: [
    { id: "l3-8b", name: "Llama 3 8B", bytes: 4692669824, used: 0, freed: 4692669824 },
    { id: "team", name: "Team Llama 3 8B (fine-tuned)", bytes: 4920739840, used: 2, freed: 9613409664 },
  ] });
  assert.equal(disk.getAttribute("data-free"), "true");
  assert.equal(disk.querySelector(".pmm-gauge-plus").textContent, "\u22129.61 GB");
  assert.match(disk.getAttribute("aria-label"), /The Free space plan will free 9\.61 GB\.$/);
  assert.ok(rhl.hidden);
  click(q('[data-action="cleanup-close"]'));
  assert.equal(disk.getAttribute("data-free"), null);
  assert.equal(disk.querySelector(".pmm-gauge-plus").textContent, "");
});

test("gauge with a pending deletion: the freed part sits inside the used part (clamped to it), the row is ignored", () => {
  const available = row({ id: "x", name: "X", bytes: 3e9, ram: 6e9, state: "available" });
  const g = gauge("disk", BUDGET, available, { bytes: 6e9, what: "The Free space plan" });
  assert.deepEqual([g.start, g.width, g.plus, g.free, g.over], ["30.0%", "20.0%", "\u22126.00 GB", true, false]);
  assert.equal(g.label, "Disk: 15.00 GB used by 4 downloaded models of 30.00 GB for all local models. The Free space plan will free 6.00 GB.");
  const all = gauge("disk", BUDGET, null, { bytes: 20e9, what: "Y" });
  assert.deepEqual([all.start, all.width, all.plus], ["0.0%", "50.0%", "\u221220.00 GB"]);
  const none = gauge("disk", BUDGET, available, { bytes: 0, what: "Z" });
  assert.deepEqual([none.highlight, none.free, none.plus], [false, false, ""]);
});
