import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { Window } from "happy-dom";
import { createView, widget } from "./helpers.js";
import { COLUMN_KEYS } from "../src/table.js";
import { FakeModel, catalogue, fakeClock, row } from "./helpers.js";

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

/** Mount a view with fake timers. */
function mount(state = {}, opts = {}) {
  const model = new FakeModel({ models: catalogue(), last_refresh: 1_700_000_000 - 5, ...state });
  const clock = fakeClock(1_700_000_000_000);
  destroy = createView(/** @type {any} */ (model), el, { ...clock, searchDebounceMs: 200, ...opts });
  return { model, clock, root: /** @type {HTMLElement} */ (el.querySelector(".pieces-mm")) };
}
const q = (sel) => /** @type {HTMLElement} */ (el.querySelector(sel));
const qa = (sel) => /** @type {HTMLElement[]} */ ([...el.querySelectorAll(sel)]);
const rowEl = (id) => q(`tr[data-model-id="${id}"]`);
const domOrder = () => qa("tr[data-model-id]").map((tr) => tr.getAttribute("data-model-id"));
const visibleIds = () => qa("tr[data-model-id]").filter((tr) => !tr.hidden).map((tr) => tr.getAttribute("data-model-id"));
const click = (node) => node.dispatchEvent(new win.MouseEvent("click", { bubbles: true }));
const tick = () => new Promise((r) => setTimeout(r, 0));

test("default export is {render}; render builds the root and returns a cleanup", () => {
  assert.equal(typeof widget.render, "function");
  const model = new FakeModel({ models: catalogue() });
  const cleanup = widget.render({ model: /** @type {any} */ (model), el });
  const root = q(".pieces-mm");
  assert.ok(root);
  assert.ok(root.hasAttribute("data-lm-suppress-shortcuts"));
  assert.equal(typeof cleanup, "function");
  cleanup();
  assert.equal(q(".pieces-mm"), null);
  assert.equal(model.listenerCount(), 0);
});

test("one row per model, keyed by data-model-id, in server order", () => {
  mount();
  assert.deepEqual(domOrder(), catalogue().map((r) => r.id));
  const tr = rowEl("l3-8b");
  assert.match(tr.textContent, /Llama 3 8B/);
  assert.match(tr.textContent, /llama3:8b-instruct-q4_K_S/);
  assert.match(tr.textContent, /4\.69 GB/);
  assert.match(tr.textContent, /6\.44 GB/);
  assert.match(tr.textContent, /8B/);
  assert.match(tr.textContent, /128K/);
  assert.equal(q('tr[data-model-id="weird"] .pmm-state').textContent, "quarantined"); // unknown enum as it came
});

test("long names: full text in title (CSS truncates with an ellipsis)", () => {
  const long = "A very long model name that certainly does not fit in the name column of the table at all";
  mount({ models: [row({ id: "x", name: long, unique: "tag:x" })] });
  const name = q('tr[data-model-id="x"] .pmm-name');
  assert.equal(name.textContent, long);
  assert.equal(name.getAttribute("title"), long);
  assert.equal(q('tr[data-model-id="x"] .pmm-sub').textContent, "tag:x");
});

test("exact values appear as tooltips when the pointer enters a row", () => {
  mount();
  const tr = rowEl("l3-8b");
  const size = /** @type {HTMLElement} */ (tr.querySelector('[data-slot="bytes"]'));
  assert.equal(size.textContent, "4.69 GB");
  tr.children[1].dispatchEvent(new win.MouseEvent("mouseover", { bubbles: true }));
  assert.equal(size.getAttribute("title"), "4,692,669,824 bytes on disk");
  assert.equal(tr.querySelector('[data-slot="max_tokens"]').getAttribute("title"), "131,072 tokens of context");
  assert.equal(tr.querySelector(".pmm-sub").getAttribute("title"), "llama3:8b-instruct-q4_K_S");
});

test("sortable headers: th[data-column] with a button, aria-sort toggles, trait written", () => {
  const { model } = mount();
  assert.deepEqual(qa("th[data-column]").map((th) => th.getAttribute("data-column")), COLUMN_KEYS);
  for (const th of qa("th[data-column]")) assert.ok(th.querySelector("button"), th.getAttribute("data-column"));
  const th = q('th[data-column="bytes"]');
  click(th.querySelector("button"));
  assert.equal(th.getAttribute("aria-sort"), "ascending");
  assert.deepEqual(model.get("sort"), { column: "bytes", descending: false });
  assert.equal(model.saves, 1);
  // Raw bytes ascending, null (cloud + unknown) last.
  assert.deepEqual(domOrder(), ["l32-1b", "l32-3b", "phi3", "mistral", "l3-8b", "team", "gpt4o", "weird"]);
  click(th.querySelector("button"));
  assert.equal(th.getAttribute("aria-sort"), "descending");
  assert.deepEqual(model.get("sort"), { column: "bytes", descending: true });
  assert.deepEqual(domOrder(), ["team", "l3-8b", "mistral", "phi3", "l32-3b", "l32-1b", "gpt4o", "weird"]);
  // Another column: only that th carries aria-sort.
  click(q('th[data-column="state"] button'));
  assert.equal(q('th[data-column="state"]').getAttribute("aria-sort"), "ascending");
  assert.equal(th.hasAttribute("aria-sort"), false);
  assert.deepEqual(domOrder().slice(0, 2), ["l32-3b", "phi3"]);
});

test("sort/filter/search traits set from Python are applied", () => {
  const { model } = mount({ sort: { column: "name", descending: true }, filter: "downloaded" });
  assert.equal(q('th[data-column="name"]').getAttribute("aria-sort"), "descending");
  assert.deepEqual(visibleIds(), ["team", "mistral", "l32-3b", "l3-8b"]);
  model.set("filter", "all");
  model.set("search", "phi");
  assert.deepEqual(visibleIds(), ["phi3"]);
  assert.equal(/** @type {HTMLInputElement} */ (q('input[type="search"]')).value, "phi");
  model.set("sort", { column: "ram", descending: false });
  assert.equal(q('th[data-column="ram"]').getAttribute("aria-sort"), "ascending");
});

test("filter chips are buttons with aria-pressed; rows toggle hidden; trait written", () => {
  const { model } = mount();
  const chips = qa("button[data-filter]");
  assert.deepEqual(chips.map((c) => c.getAttribute("data-filter")), ["all", "local", "cloud", "downloaded", "loaded", "custom", "fits"]);
  assert.equal(q('button[data-filter="all"]').getAttribute("aria-pressed"), "true");
  click(q('button[data-filter="loaded"]'));
  assert.equal(q('button[data-filter="loaded"]').getAttribute("aria-pressed"), "true");
  assert.equal(q('button[data-filter="all"]').getAttribute("aria-pressed"), "false");
  assert.deepEqual(visibleIds(), ["l32-3b"]);
  assert.equal(model.get("filter"), "loaded");
  assert.equal(qa("tr[data-model-id]").length, 8, "rows are kept, hidden");
  assert.match(q('button[data-filter="downloaded"]').textContent, /Downloaded\s*4/);
  click(q('button[data-filter="custom"]'));
  assert.deepEqual(visibleIds(), ["team"]);
});

test("search filters at once and writes the trait debounced", () => {
  const { model, clock } = mount();
  const input = /** @type {HTMLInputElement} */ (q('input[type="search"]'));
  input.value = "LLAMA";
  input.dispatchEvent(new win.Event("input", { bubbles: true }));
  assert.deepEqual(visibleIds(), ["l32-3b", "l32-1b", "l3-8b", "team"]);
  input.value = "llama 3.2";
  input.dispatchEvent(new win.Event("input", { bubbles: true }));
  assert.deepEqual(visibleIds(), ["l32-3b", "l32-1b"]);
  assert.equal(model.get("search"), "", "not written yet");
  clock.advance(250);
  assert.equal(model.get("search"), "llama 3.2");
  assert.equal(model.saves, 1, "one write for two keystrokes");
  input.value = "zzz-nothing";
  input.dispatchEvent(new win.Event("input", { bubbles: true }));
  assert.deepEqual(visibleIds(), []);
  const empty = q(".pmm-empty");
  assert.equal(empty.hidden, false);
  assert.match(empty.textContent, /No models match “zzz-nothing”/);
  click(q('button[data-action="clear-filters"]'));
  assert.equal(visibleIds().length, 8);
  assert.equal(model.get("search"), "");
});

test("hostile names are shown as text, never parsed as HTML", () => {
  const evil = '<img src=x onerror=alert(1)>';
  const { model } = mount({
    models: [row({ id: "evil", name: evil, unique: `<script>alert(2)</script>`, provider: "<b>bold</b>", quantization: "<i>q</i>", state: "<svg onload=alert(3)>" })],
    errors: { evil: "<img src=y onerror=alert(4)>" },
    notice: { seq: 1, level: "error", text: "<img src=z onerror=alert(5)>" },
  });
  const tr = rowEl("evil");
  assert.equal(tr.querySelector(".pmm-name").textContent, evil);
  assert.equal(tr.querySelector(".pmm-sub").textContent, "<script>alert(2)</script>");
  assert.equal(tr.querySelector(".pmm-state").textContent, "<svg onload=alert(3)>");
  assert.match(tr.textContent, /<img src=y onerror=alert\(4\)>/);
  assert.match(q(".pmm-notice").textContent, /<img src=z onerror=alert\(5\)>/);
  for (const tag of ["img", "script", "b", "i", "svg"]) assert.equal(el.querySelectorAll(tag).length, 0, tag);
  // Also through the edit form and the connection banner.
  model.set("connection", "unreachable");
  model.set("server", { url: "", message: "<img src=w onerror=alert(6)>", tried: ["<img>"] });
  assert.equal(el.querySelectorAll("img").length, 0);
  assert.match(q('[data-banner="unreachable"]').textContent, /<img src=w onerror=alert\(6\)>/);
});

test("a progress tick updates only its row: other rows are the same, untouched nodes", async () => {
  const { model } = mount({ progress: { phi3: { status: "IN-PROGRESS", percentage: 10, bytes_done: 218392166, bytes_total: 2183921664, speed: 4.6e6, eta: 400, stalled: false, terminal: false } } });
  const before = new Map(qa("tr[data-model-id]").map((tr) => [tr.getAttribute("data-model-id"), { node: tr, html: tr.outerHTML, kids: [...tr.querySelectorAll("*")] }]));
  const bar = /** @type {HTMLElement} */ (rowEl("phi3").querySelector('[role="progressbar"]'));
  assert.equal(bar.getAttribute("aria-valuenow"), "10");
  const observer = new win.MutationObserver(() => {});
  observer.observe(q("tbody"), { subtree: true, childList: true, attributes: true, characterData: true });

  model.set("progress", {
    phi3: { status: "IN-PROGRESS", percentage: 42.5, bytes_done: 928166707, bytes_total: 2183921664, speed: 4.6e6, eta: 236, stalled: false, terminal: false },
  });

  const records = observer.takeRecords();
  observer.disconnect();
  assert.ok(records.length > 0);
  const phi = rowEl("phi3");
  for (const r of records) assert.ok(phi.contains(/** @type {Node} */ (r.target)), "mutation outside the ticking row");
  for (const [id, b] of before) {
    const tr = rowEl(id);
    assert.equal(tr, b.node, `row ${id} was replaced`);
    if (id === "phi3") continue;
    assert.equal(tr.outerHTML, b.html, `row ${id} changed`);
    assert.deepEqual([...tr.querySelectorAll("*")], b.kids, `row ${id} children replaced`);
  }
  assert.equal(phi.querySelector('[role="progressbar"]'), bar, "progress bar reused");
  assert.equal(bar.getAttribute("aria-valuenow"), "42");
  assert.equal(bar.getAttribute("aria-valuemin"), "0");
  assert.equal(bar.getAttribute("aria-valuemax"), "100");
  assert.equal(phi.querySelector(".pmm-state").textContent, "downloading 42%");
  assert.match(phi.textContent, /928\.2 MB \/ 2\.18 GB/);
  assert.match(phi.textContent, /4\.6 MB\/s/);
  assert.match(phi.textContent, /3m56s left/);
  assert.equal(/** @type {HTMLElement} */ (phi.querySelector(".pmm-pill--stalled")).hidden, true);
  // Same values again: nothing is written at all.
  const obs2 = new win.MutationObserver(() => {});
  obs2.observe(q("tbody"), { subtree: true, childList: true, attributes: true, characterData: true });
  model.set("progress", { phi3: { status: "IN-PROGRESS", percentage: 42.5, bytes_done: 928166707, bytes_total: 2183921664, speed: 4.6e6, eta: 236, stalled: false, terminal: false } });
  assert.equal(obs2.takeRecords().length, 0);
  obs2.disconnect();
  await tick();
});

test("stalled flag is visible; a finished download is announced in the polite live region", async () => {
  const { model } = mount({ progress: { phi3: { status: "IN-PROGRESS", percentage: 60, stalled: false } } });
  model.set("progress", { phi3: { status: "IN-PROGRESS", percentage: 60, stalled: true, speed: 0, eta: null } });
  const phi = rowEl("phi3");
  const stalled = /** @type {HTMLElement} */ (phi.querySelector(".pmm-pill--stalled"));
  assert.equal(stalled.hidden, false);
  assert.equal(stalled.textContent, "stalled");
  assert.match(phi.querySelector('[role="progressbar"]').getAttribute("aria-valuetext"), /stalled/);
  model.set("progress", { phi3: { status: "COMPLETED", percentage: 100, terminal: true } });
  await tick();
  const live = q('[aria-live="polite"]');
  assert.match(live.textContent, /Download finished: Phi-3 Mini 4K\./);
  // The snapshot after the terminal frame: the row becomes downloaded, the bar goes away.
  const models = catalogue().map((r) => (r.id === "phi3" ? { ...r, downloading: false, downloaded: true, state: "downloaded" } : r));
  model.set("progress", {});
  model.set("models", models);
  assert.equal(rowEl("phi3").querySelector('[role="progressbar"]'), null);
  assert.ok(rowEl("phi3").querySelector('button[data-action="load"]'));
});

test("change:models reconciles by id: same nodes, changed cells only, adds and removes", () => {
  const { model } = mount();
  const nodes = new Map(qa("tr[data-model-id]").map((tr) => [tr.getAttribute("data-model-id"), tr]));
  const htmlBefore = new Map([...nodes].map(([id, tr]) => [id, tr.outerHTML]));
  const next = catalogue()
    .filter((r) => r.id !== "weird")
    .map((r) => (r.id === "l3-8b" ? { ...r, loaded: true, state: "loaded" } : r));
  next.push(row({ id: "new", name: "New Model", state: "available", bytes: 1e9 }));
  model.set("models", next);
  assert.equal(rowEl("weird"), null);
  assert.ok(rowEl("new"));
  for (const [id, tr] of nodes) {
    if (id === "weird") continue;
    assert.equal(rowEl(id), tr, id);
    if (id !== "l3-8b") assert.equal(tr.outerHTML, htmlBefore.get(id), id);
  }
  assert.equal(rowEl("l3-8b").querySelector(".pmm-state").textContent, "loaded");
  assert.ok(rowEl("l3-8b").querySelector('button[data-action="unload"]'));
  assert.equal(rowEl("l3-8b").querySelector('button[data-action="load"]'), null);
  assert.deepEqual(domOrder(), next.map((r) => r.id));
  // The summary and chip counts follow.
  assert.match(q(".pmm-summary").textContent, /2 loaded/);
});

test("reordering keeps keyboard focus on a row's button", () => {
  const { model } = mount({ sort: { column: "state", descending: false } });
  const btn = /** @type {HTMLElement} */ (rowEl("l32-1b").querySelector('button[data-action="download"]'));
  btn.focus();
  assert.equal(doc.activeElement, btn);
  // Another row changes state and moves: the focused row moves too.
  model.set("models", catalogue().map((r) => (r.id === "gpt4o" ? { ...r, state: "loaded" } : r)));
  assert.equal(domOrder()[0], "gpt4o");
  assert.equal(doc.activeElement, btn);
});

test("new rows respect the current sort and filter", () => {
  const { model } = mount({ sort: { column: "bytes", descending: true }, filter: "local" });
  model.set("models", [...catalogue(), row({ id: "huge", name: "Huge", bytes: 9e10 }), row({ id: "cl", name: "Cloudy", cloud: true, state: "cloud" })]);
  assert.equal(domOrder()[0], "huge");
  assert.equal(rowEl("cl").hidden, true);
});

test("row buttons by state send {type:'action', action, id}", () => {
  const { model } = mount();
  const btns = (id) => [...rowEl(id).querySelectorAll("button[data-action]")].map((b) => b.getAttribute("data-action"));
  assert.deepEqual(btns("gpt4o"), []);
  assert.deepEqual(btns("l32-1b"), ["download"]);
  assert.deepEqual(btns("phi3"), ["cancel"]);
  assert.deepEqual(btns("l3-8b"), ["load", "delete-cache"]);
  assert.deepEqual(btns("l32-3b"), ["unload"]);
  assert.deepEqual(btns("team"), ["load", "delete-cache", "edit", "delete"]);
  assert.deepEqual(btns("weird"), []);
  click(rowEl("l32-1b").querySelector('button[data-action="download"]'));
  click(rowEl("phi3").querySelector('button[data-action="cancel"]'));
  click(rowEl("l3-8b").querySelector('button[data-action="load"]'));
  click(rowEl("l32-3b").querySelector('button[data-action="unload"]'));
  assert.deepEqual(model.sent, [
    { type: "action", action: "download", id: "l32-1b" },
    { type: "action", action: "cancel", id: "phi3" },
    { type: "action", action: "load", id: "l3-8b" },
    { type: "action", action: "unload", id: "l32-3b" },
  ]);
  // Every button declares its type, so none submits a form by accident (only the form's own submit).
  for (const b of qa("button")) assert.equal(b.getAttribute("type"), ["submit-form", "cleanup-plan"].includes(String(b.getAttribute("data-action"))) ? "submit" : "button", b.outerHTML);
});

test("toolbar: refresh, unload-all (disabled when nothing loaded), retry", () => {
  const { model } = mount();
  click(q('button[data-action="refresh"]'));
  const unloadAll = /** @type {HTMLButtonElement} */ (q('button[data-action="unload-all"]'));
  assert.equal(unloadAll.disabled, false);
  click(unloadAll);
  assert.deepEqual(model.sent, [
    { type: "action", action: "refresh" },
    { type: "action", action: "unload-all" },
  ]);
  model.set("models", catalogue().map((r) => ({ ...r, loaded: false, state: r.state === "loaded" ? "downloaded" : r.state })));
  assert.equal(unloadAll.disabled, true);
  click(unloadAll);
  assert.equal(model.sent.length, 2);
});

test("delete and delete cache ask for confirmation inside the widget", () => {
  const { model } = mount();
  const team = rowEl("team");
  click(team.querySelector('button[data-action="delete-cache"]'));
  assert.equal(model.sent.length, 0, "nothing sent before confirming");
  const confirm = team.querySelector('button[data-action="confirm"]');
  assert.ok(confirm);
  assert.match(team.querySelector(".pmm-confirm").textContent, /Delete the files of “Team Llama 3 8B \(fine-tuned\)” \(4\.92 GB\)/);
  // Cancel: back to the buttons, nothing sent.
  click(team.querySelector('button[data-action="dismiss-confirm"]'));
  assert.equal(team.querySelector('button[data-action="confirm"]'), null);
  assert.equal(model.sent.length, 0);
  assert.equal(/** @type {HTMLElement} */ (team.querySelector(".pmm-actions")).hidden, false);
  // Delete: confirm sends.
  click(team.querySelector('button[data-action="delete"]'));
  assert.match(team.querySelector(".pmm-confirm").textContent, /Delete the custom model/);
  click(team.querySelector('button[data-action="confirm"]'));
  assert.deepEqual(model.sent, [{ type: "action", action: "delete", id: "team" }]);
  assert.equal(team.querySelector('button[data-action="confirm"]'), null);
  // Escape dismisses a pending confirmation.
  click(rowEl("l3-8b").querySelector('button[data-action="delete-cache"]'));
  assert.ok(rowEl("l3-8b").querySelector('button[data-action="confirm"]'));
  rowEl("l3-8b").querySelector('button[data-action="dismiss-confirm"]').dispatchEvent(new win.KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  assert.equal(rowEl("l3-8b").querySelector('button[data-action="confirm"]'), null);
  assert.equal(model.sent.length, 1);
});

test("a pending confirmation lapses when the row's state changes", () => {
  const { model } = mount();
  click(rowEl("l3-8b").querySelector('button[data-action="delete-cache"]'));
  assert.ok(rowEl("l3-8b").querySelector('button[data-action="confirm"]'));
  model.set("models", catalogue().map((r) => (r.id === "l3-8b" ? { ...r, downloaded: false, state: "available" } : r)));
  assert.equal(rowEl("l3-8b").querySelector('button[data-action="confirm"]'), null);
  assert.ok(rowEl("l3-8b").querySelector('button[data-action="download"]'));
  assert.equal(/** @type {HTMLElement} */ (rowEl("l3-8b").querySelector(".pmm-actions")).hidden, false);
});

test("busy disables a row's buttons and shows the busy action; Cancel stays usable while downloading", () => {
  const { model } = mount();
  model.set("busy", { "l3-8b": "load", "l32-1b": "queued", phi3: "download" });
  const load = /** @type {HTMLButtonElement} */ (rowEl("l3-8b").querySelector('button[data-action="load"]'));
  assert.equal(load.disabled, true);
  assert.equal(/** @type {HTMLButtonElement} */ (rowEl("l3-8b").querySelector('button[data-action="delete-cache"]')).disabled, true);
  assert.match(rowEl("l3-8b").textContent, /Loading…/);
  const queuedCancel = /** @type {HTMLButtonElement} */ (rowEl("l32-1b").querySelector('button[data-action="cancel"]'));
  assert.ok(queuedCancel && !queuedCancel.disabled);
  assert.equal(rowEl("l32-1b").querySelector('button[data-action="download"]'), null);
  assert.match(rowEl("l32-1b").textContent, /Queued/);
  assert.equal(/** @type {HTMLButtonElement} */ (rowEl("phi3").querySelector('button[data-action="cancel"]')).disabled, false);
  // Unchanged rows are not touched by a busy change.
  const before = rowEl("team").outerHTML;
  model.set("busy", { "l3-8b": "load" });
  assert.equal(rowEl("team").outerHTML, before);
  model.set("busy", {});
  assert.equal(load.disabled, false, "the same button is re-enabled");
  assert.doesNotMatch(rowEl("l3-8b").textContent, /Loading…/);
});

test("per-row errors: message, announcement, dismiss; the rest keeps working", async () => {
  const { model } = mount();
  model.set("errors", { "l3-8b": "Load failed: HTTP 500 from Pieces OS" });
  const err = rowEl("l3-8b").querySelector(".pmm-row-error");
  assert.ok(err);
  assert.match(err.textContent, /Load failed: HTTP 500/);
  assert.equal(rowEl("l3-8b").getAttribute("data-error"), "true");
  await tick();
  assert.match(q('[aria-live="polite"]').textContent, /Llama 3 8B: Load failed/);
  click(rowEl("l32-1b").querySelector('button[data-action="download"]'));
  assert.equal(model.sent.length, 1);
  click(err.querySelector('button[data-action="dismiss-error"]'));
  assert.equal(rowEl("l3-8b").querySelector(".pmm-row-error"), null);
  // A new error text shows again.
  model.set("errors", { "l3-8b": "Load failed again" });
  assert.match(rowEl("l3-8b").querySelector(".pmm-row-error").textContent, /again/);
  model.set("errors", {});
  assert.equal(rowEl("l3-8b").querySelector(".pmm-row-error"), null);
});

test("add model form: name required, sends create with fields", () => {
  const { model } = mount();
  click(q('button[data-action="add-model"]'));
  const form = /** @type {HTMLFormElement} */ (q("form.pmm-form"));
  assert.equal(form.hidden, false);
  const input = (name) => /** @type {HTMLInputElement} */ (form.querySelector(`[name="${name}"]`));
  form.dispatchEvent(new win.Event("submit", { bubbles: true, cancelable: true }));
  assert.equal(model.sent.length, 0);
  assert.match(q(".pmm-form-error").textContent, /Name is required/);
  input("name").value = "My Llama";
  input("unique").value = "llama:mine";
  input("parameters").value = "8";
  input("max_tokens").value = "8192";
  input("cloud").checked = false;
  form.dispatchEvent(new win.Event("submit", { bubbles: true, cancelable: true }));
  assert.deepEqual(model.sent, [{ type: "action", action: "create", fields: { name: "My Llama", unique: "llama:mine", parameters: 8, max_tokens: 8192, cloud: false } }]);
  assert.equal(form.hidden, true);
});

test("edit opens the form prefilled and sends update with the changed fields", () => {
  const { model } = mount();
  click(rowEl("team").querySelector('button[data-action="edit"]'));
  const form = /** @type {HTMLFormElement} */ (q("form.pmm-form"));
  const input = (name) => /** @type {HTMLInputElement} */ (form.querySelector(`[name="${name}"]`));
  assert.equal(input("name").value, "Team Llama 3 8B (fine-tuned)");
  assert.equal(input("unique").value, "llama3:8b-team-q4_K_M");
  assert.equal(input("max_tokens").value, "8192");
  input("description").value = "Better";
  form.dispatchEvent(new win.Event("submit", { bubbles: true, cancelable: true }));
  assert.deepEqual(model.sent, [{ type: "action", action: "update", id: "team", fields: { description: "Better" } }]);
  // Close without saving.
  click(rowEl("team").querySelector('button[data-action="edit"]'));
  click(q('button[data-action="close-form"]'));
  assert.equal(form.hidden, true);
  assert.equal(model.sent.length, 1);
});

test("connection badge, emulated pill, unreachable banner with next steps and Retry", () => {
  const { model, clock } = mount({ server: { url: "http://127.0.0.1:39300", version: "12.3.4", emulated: true } });
  const badge = q("[data-connection]");
  assert.equal(badge.getAttribute("data-connection"), "connected");
  assert.match(badge.textContent, /http:\/\/127\.0\.0\.1:39300/);
  assert.match(badge.textContent, /v12\.3\.4/);
  assert.equal(/** @type {HTMLElement} */ (badge.querySelector(".pmm-pill--emulated")).hidden, false);
  const tried = Array.from({ length: 36 }, (_, i) => `http://127.0.0.1:${39300 + i}`);
  model.set("server", { url: "", version: "", emulated: false, tried, message: "No Pieces OS answered on 127.0.0.1.", retry_in: 5 });
  model.set("connection", "unreachable");
  assert.equal(badge.getAttribute("data-connection"), "unreachable");
  const banner = q('[data-banner="unreachable"]');
  assert.equal(banner.hidden, false);
  assert.match(banner.textContent, /No Pieces OS answered/);
  assert.match(banner.textContent, /127\.0\.0\.1:39300/);
  assert.match(banner.textContent, /and 32 more/);
  assert.match(banner.textContent, /python -m pieces_widgets\.emulator/);
  assert.match(banner.textContent, /PIECES_OS_URL/);
  assert.equal(banner.querySelectorAll("ol > li").length, 3);
  assert.match(banner.textContent, /Retrying automatically in 5 s/);
  clock.advance(2000);
  assert.match(banner.textContent, /Retrying automatically in 3 s/);
  click(banner.querySelector('button[data-action="retry"]'));
  assert.deepEqual(model.sent, [{ type: "action", action: "retry" }]);
  model.set("connection", "connecting");
  assert.equal(banner.hidden, true);
  assert.equal(badge.getAttribute("data-connection"), "connecting");
});

test("connecting with no models shows a quiet line, not an empty-table message", () => {
  mount({ models: [], connection: "connecting", last_refresh: 0 });
  assert.equal(q(".pmm-connecting").hidden, false);
  assert.equal(q(".pmm-empty").hidden, true);
});

test("'updated N s ago' ticks every second and only that text changes", () => {
  const { clock, model } = mount();
  const updated = q(".pmm-updated");
  assert.equal(updated.textContent, "updated 5 s ago");
  const html = q("tbody").outerHTML;
  clock.advance(3000);
  assert.equal(updated.textContent, "updated 8 s ago");
  assert.equal(q("tbody").outerHTML, html);
  model.set("last_refresh", 1_700_000_003);
  assert.equal(updated.textContent, "updated just now");
});

test("notice: banner by level, dismissable, announced", async () => {
  const { model } = mount();
  const notice = q(".pmm-notice");
  assert.equal(notice.hidden, true);
  model.set("notice", { seq: 1, level: "error", text: "Cancel was not confirmed by Pieces OS within 10 s." });
  assert.equal(notice.hidden, false);
  assert.equal(notice.getAttribute("data-level"), "error");
  await tick();
  assert.match(q('[aria-live="polite"]').textContent, /Cancel was not confirmed/);
  click(notice.querySelector('button[data-action="dismiss-notice"]'));
  assert.equal(notice.hidden, true);
  model.set("notice", { seq: 2, level: "info", text: "Downloaded Llama 3 8B." });
  assert.equal(notice.hidden, false);
  assert.equal(notice.getAttribute("data-level"), "info");
});

test("a new view shows a pending error notice but not a stale info notice", () => {
  mount({ notice: { seq: 4, level: "info", text: "Downloaded X." } });
  assert.equal(q(".pmm-notice").hidden, true);
  destroy?.();
  destroy = null;
  mount({ notice: { seq: 5, level: "error", text: "Unload all failed." } });
  assert.equal(q(".pmm-notice").hidden, false);
  assert.match(q(".pmm-notice").textContent, /Unload all failed/);
});

test("every control is a real button or input; no positive tabindex", () => {
  mount();
  for (const n of qa("[data-action], [data-filter]")) assert.ok(["BUTTON", "INPUT"].includes(n.tagName), n.outerHTML);
  for (const n of qa("[tabindex]")) assert.ok(Number(n.getAttribute("tabindex")) <= 0);
  assert.ok(q('input[type="search"]').getAttribute("aria-label"));
});

test("destroy removes the DOM, every model listener and every timer", () => {
  const { model, clock } = mount();
  const input = /** @type {HTMLInputElement} */ (q('input[type="search"]'));
  input.value = "x";
  input.dispatchEvent(new win.Event("input", { bubbles: true }));
  model.set("notice", { seq: 3, level: "info", text: "hi" });
  assert.ok(clock.pending() > 0);
  destroy?.();
  destroy = null;
  assert.equal(el.children.length, 0);
  assert.equal(model.listenerCount(), 0);
  assert.equal(clock.pending(), 0);
  assert.equal(model.get("search"), "x", "a pending search write is flushed, not lost");
});

test("two views of one model are independent and both follow the traits", () => {
  const { model } = mount();
  const el2 = doc.createElement("div");
  doc.body.appendChild(el2);
  const d2 = createView(/** @type {any} */ (model), el2, fakeClock());
  model.set("progress", { phi3: { status: "IN-PROGRESS", percentage: 77 } });
  assert.equal(el2.querySelector('tr[data-model-id="phi3"] [role="progressbar"]').getAttribute("aria-valuenow"), "77");
  assert.equal(rowEl("phi3").querySelector('[role="progressbar"]').getAttribute("aria-valuenow"), "77");
  d2();
  assert.equal(el2.children.length, 0);
  assert.ok(model.listenerCount() > 0);
});
