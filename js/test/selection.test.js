// Issue 11: several at once. Row checkboxes and select-all of the matching rows write the
// `selection` trait; Python's changes are followed; the bulk bar acts on the rows each action
// applies to, after one confirmation with the count and the bytes; windowed catalogues too.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { Window } from "happy-dom";
import { bulkPlan, bulkText } from "../src/bulk.js";
import { Selection } from "../src/selection.js";
import { createView } from "./helpers.js";
import { FakeModel, catalogue, fakeClock, fitted, row } from "./helpers.js";

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

function mount(state = {}, opts = {}) {
  const model = new FakeModel({ models: fitted(), ...state });
  destroy = createView(/** @type {any} */ (model), el, { ...fakeClock(), searchDebounceMs: 200, ...opts });
  return { model };
}
const q = (sel) => /** @type {HTMLElement} */ (el.querySelector(sel));
const qa = (sel) => /** @type {HTMLElement[]} */ ([...el.querySelectorAll(sel)]);
const rowEl = (id) => q(`tr[data-model-id="${id}"]`);
const click = (node) => node.dispatchEvent(new win.MouseEvent("click", { bubbles: true }));
const box = (id) => /** @type {HTMLInputElement} */ (rowEl(id).querySelector("input[data-select]"));
const all = () => /** @type {HTMLInputElement} */ (q("input[data-select-all]"));
/** Tick a checkbox as a user does: the checked state flips, then `change` bubbles. */
function tick(input, on = !input.checked) {
  input.checked = on;
  input.dispatchEvent(new win.Event("change", { bubbles: true }));
}
const bulkBtn = (a) => /** @type {HTMLButtonElement} */ (q(`.pmm-bulk button[data-bulk="${a}"]`));

test("a checkbox per row, labelled with the model's name; ticking writes the selection trait", () => {
  const { model } = mount();
  assert.equal(box("l3-8b").getAttribute("aria-label"), "Select Llama 3 8B");
  assert.ok(q(".pmm-bulk").hidden, "no bulk bar while nothing is selected");
  tick(box("l3-8b"));
  tick(box("mistral"));
  assert.deepEqual(model.get("selection"), ["l3-8b", "mistral"]);
  assert.equal(rowEl("l3-8b").getAttribute("data-selected"), "true");
  assert.equal(q(".pmm-bulk").hidden, false);
  assert.equal(q(".pmm-bulk-count").textContent, "2 selected");
  tick(box("mistral"), false);
  assert.deepEqual(model.get("selection"), ["l3-8b"]);
  assert.equal(rowEl("mistral").getAttribute("data-selected"), null);
});

test("select-all takes the filtered rows only; tri-state; unticking removes them", () => {
  const { model } = mount();
  click(q('button[data-filter="downloaded"]'));
  tick(all(), true);
  assert.deepEqual(model.get("selection"), ["l32-3b", "l3-8b", "mistral", "team"]);
  assert.equal(box("gpt4o").checked, false, "a filtered-out row is not selected");
  assert.equal(all().checked, true);
  assert.equal(all().indeterminate, false);
  assert.equal(all().getAttribute("aria-label"), "Select all 4 shown models");
  tick(box("team"), false);
  assert.equal(all().checked, false);
  assert.equal(all().indeterminate, true, "some of the shown rows: mixed");
  // Back to all rows: only 3 of 8 selected, still mixed; select-all adds the rest.
  click(q('button[data-filter="all"]'));
  assert.equal(all().indeterminate, true);
  tick(all(), true);
  assert.equal(model.get("selection").length, 8);
  tick(all(), false);
  assert.deepEqual(model.get("selection"), []);
  assert.equal(all().indeterminate, false);
  assert.ok(q(".pmm-bulk").hidden);
});

test("Python's selection is followed: checkboxes, select-all and the bar; ids not in the catalogue count for nothing", () => {
  const { model } = mount({ selection: ["phi3"] });
  assert.equal(box("phi3").checked, true);
  assert.equal(q(".pmm-bulk-count").textContent, "1 selected");
  model.set("selection", ["l3-8b", "mistral", "gone"]);
  assert.equal(box("phi3").checked, false);
  assert.equal(box("l3-8b").checked, true);
  assert.equal(q(".pmm-bulk-count").textContent, "2 selected");
  assert.equal(all().indeterminate, true);
  // A selected model deleted elsewhere: its row goes and the bar counts the rest.
  model.set("models", fitted().filter((r) => r.id !== "mistral"));
  assert.equal(q(".pmm-bulk-count").textContent, "1 selected");
  model.set("selection", []);
  assert.ok(q(".pmm-bulk").hidden);
});

test("bulkPlan: per action the rows it applies to and their bytes; busy and blocked rows left out", () => {
  const rows = catalogue();
  const plan = bulkPlan(rows, { mistral: "load" }, "");
  assert.deepEqual(plan.download.ids, ["l32-1b"]);
  assert.deepEqual(plan["delete-cache"].ids, ["l3-8b", "team"]);
  assert.equal(plan["delete-cache"].bytes, 4692669824 + 4920739840);
  assert.deepEqual(plan.unload.ids, ["l32-3b"]);
  assert.equal(plan.unload.bytes, 3221225472);
  assert.deepEqual(bulkPlan(rows, {}, "Install the runtime").download.ids, [], "blocked: no local download");
  const unknown = bulkPlan([row({ id: "u", state: "available", bytes: null })], {}, "").download;
  assert.equal(bulkText("download", unknown), "Download 1 model: 0 B to download (1 of unknown size)?");
  assert.equal(bulkText("delete-cache", plan["delete-cache"]), "Delete the files of 2 models, freeing 9.61 GB? A new download starts from zero.");
  assert.equal(bulkText("unload", plan.unload), "Unload 1 model, freeing 3.22 GB of RAM?");
});

test("bulk bar: enabled per action, one confirmation with count and bytes, then {action, ids} of the rows it applies to", () => {
  const { model } = mount({ busy: { mistral: "load" } });
  for (const id of ["l32-3b", "l32-1b", "l3-8b", "mistral", "team", "gpt4o"]) tick(box(id), true);
  assert.equal(bulkBtn("download").disabled, false);
  assert.equal(bulkBtn("delete-cache").disabled, false);
  assert.equal(bulkBtn("unload").disabled, false);
  assert.equal(bulkBtn("download").getAttribute("title"), "Applies to 1 of 6 selected");
  click(bulkBtn("delete-cache"));
  assert.equal(model.sent.length, 0, "nothing before the confirmation");
  const confirm = q(".pmm-bulk-confirm");
  assert.equal(confirm.hidden, false);
  assert.equal(confirm.querySelector(".pmm-confirm-text").textContent, "Delete the files of 2 models, freeing 9.61 GB? A new download starts from zero.");
  assert.equal(win.document.activeElement, q('[data-action="bulk-dismiss"]'));
  click(q('[data-action="bulk-dismiss"]'));
  assert.ok(confirm.hidden);
  assert.equal(model.sent.length, 0);
  click(bulkBtn("unload"));
  q(".pmm-bulk").dispatchEvent(new win.KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  assert.ok(confirm.hidden, "Escape calls it off");
  click(bulkBtn("delete-cache"));
  click(q('[data-action="bulk-confirm"]'));
  assert.deepEqual(model.sent, [{ type: "action", action: "delete-cache", ids: ["l3-8b", "team"] }]);
  click(bulkBtn("download"));
  assert.match(q(".pmm-bulk-confirm .pmm-confirm-text").textContent, /^Download 1 model: 775\.9 MB to download\?$/);
  click(q('[data-action="bulk-confirm"]'));
  assert.deepEqual(model.sent[1], { type: "action", action: "download", ids: ["l32-1b"] });
  // Clear empties the selection (and writes it).
  click(q('[data-action="bulk-clear"]'));
  assert.deepEqual(model.get("selection"), []);
  assert.ok(q(".pmm-bulk").hidden);
});

test("a bulk action that applies to none of the selected rows is disabled", () => {
  mount({ selection: ["gpt4o", "weird"] });
  for (const a of ["download", "delete-cache", "unload"]) assert.equal(bulkBtn(a).disabled, true, a);
  assert.equal(bulkBtn("unload").getAttribute("aria-label"), "Unload 0 of the selected models");
});

test("Selection (pure): follow, set, allState", () => {
  const s = new Selection();
  assert.equal(s.follow(["a", "b"]), true);
  assert.equal(s.follow(["b", "a"]), false, "same ids, any order");
  assert.equal(s.follow("junk"), true);
  assert.equal(s.size, 0);
  assert.equal(s.set(["a", "b", "c"], true), true);
  assert.equal(s.set(["b"], false), true);
  assert.equal(s.set(["b"], false), false, "nothing changed");
  assert.deepEqual(s.list(), ["a", "c"]);
  const entries = [{ id: "a", match: true }, { id: "b", match: true }, { id: "c", match: false }];
  assert.deepEqual(s.allState(entries), { checked: false, mixed: true, selected: 1, shown: 2 });
  assert.deepEqual(s.allState([]), { checked: false, mixed: false, selected: 0, shown: 0 });
});

/** 3000 rows: a windowed table. */
function many(n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(row({ id: `m${i}`, name: `Model ${String(i).padStart(5, "0")}`, bytes: 1e9, state: i % 2 ? "available" : "downloaded", downloaded: i % 2 === 0, custom: i % 7 === 0 }));
  return out;
}

test("windowed (3,000 rows): select-all selects every matching row, not only the rendered ones; rows shown later are ticked", () => {
  /** @type {Map<number, () => void>} */
  const frames = new Map();
  let next = 1;
  const flush = () => {
    for (let i = 0; i < 10 && frames.size; i++) {
      const fns = [...frames.values()];
      frames.clear();
      for (const fn of fns) fn();
    }
  };
  const { model } = mount({ models: many(3000), sort: { column: "name", descending: false } }, {
    requestAnimationFrame: (fn) => {
      frames.set(next, fn);
      return next++;
    },
    cancelAnimationFrame: (id) => frames.delete(id),
  });
  flush();
  assert.equal(q("table").getAttribute("data-windowed"), "true");
  const rendered = qa("tr[data-model-id]").length;
  assert.ok(rendered < 200, `${rendered} rows rendered`);
  tick(all(), true);
  assert.equal(model.get("selection").length, 3000);
  assert.equal(q(".pmm-bulk-count").textContent, "3000 selected");
  assert.equal(bulkBtn("delete-cache").getAttribute("title"), "Applies to 1500 of 3000 selected");
  // Scroll far down: the newly rendered rows are ticked too.
  const scroller = q(".pmm-scroll");
  scroller.scrollTop = 60000;
  scroller.dispatchEvent(new win.Event("scroll"));
  flush();
  const later = qa("tr[data-model-id]").map((tr) => tr.getAttribute("data-model-id"));
  assert.ok(later.some((id) => Number(id.slice(1)) > 1000), later.slice(0, 3).join());
  for (const id of later) assert.equal(box(id).checked, true, id);
  // Python narrows it to ids of rows not rendered; select-all of a filter (custom) adds only those.
  model.set("selection", ["m2999"]);
  for (const id of later) if (id !== "m2999") assert.equal(box(id).checked, false, id);
  click(q('button[data-filter="custom"]'));
  tick(all(), true);
  assert.equal(model.get("selection").length, 1 + Math.ceil(3000 / 7));
});
