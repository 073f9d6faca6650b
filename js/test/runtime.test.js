// Issue 11: the runtime badge (states, Install / Update / Retry, progress), Download blocked
// while the runtime is missing, the connection badge's stream tooltip, the Free space panel,
// and the new wire actions.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { Window } from "happy-dom";
import { WIRE_ACTIONS } from "../src/actions.js";
import { planSummary } from "../src/cleanup.js";
import { runtimeView } from "../src/runtime.js";
import { createView } from "./helpers.js";
import { FakeModel, fakeClock, fitted } from "./helpers.js";

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

const RT = { state: "installed", version: "0.6.5", percentage: null, error: null, blocks: null };
const BLOCKS = "Install the local runtime (Ollama) to download or load on-device models.";
const INSTALLING = "The local runtime (Ollama) is being installed: on-device models can be downloaded or loaded once it is done.";

function mount(state = {}) {
  const model = new FakeModel({ models: fitted(), runtime: RT, ...state });
  destroy = createView(/** @type {any} */ (model), el, { ...fakeClock(), searchDebounceMs: 200 });
  return { model };
}
const q = (sel) => /** @type {HTMLElement} */ (el.querySelector(sel));
const rowEl = (id) => q(`tr[data-model-id="${id}"]`);
const click = (node) => node.dispatchEvent(new win.MouseEvent("click", { bubbles: true }));
const badge = () => q(".pmm-runtime");
const rtButton = () => /** @type {HTMLButtonElement} */ (q('.pmm-runtime button[data-action="runtime"]'));

test("the new wire actions are appended in the contract's order", () => {
  assert.deepEqual(WIRE_ACTIONS.slice(-3), ["install-runtime", "update-runtime", "plan-cleanup"]);
});

test("runtimeView: label, button and action per state", () => {
  const v = (rt) => (({ state, label, button, action, percent }) => [state, label, button, action, percent])(runtimeView(rt));
  assert.deepEqual(v(RT), ["installed", "Runtime 0.6.5", "", "", null]);
  assert.deepEqual(v({ state: "missing" }), ["missing", "Runtime missing", "Install", "install-runtime", null]);
  assert.deepEqual(v({ state: "update-required", version: "0.3" }), ["update-required", "Update required", "Update", "update-runtime", null]);
  assert.deepEqual(v({ state: "installing", percentage: 41.6 }), ["installing", "Installing 42 %", "", "", 42]);
  assert.deepEqual(v({ state: "updating", percentage: 7 }), ["updating", "Updating 7 %", "", "", 7]);
  assert.deepEqual(v({ state: "installing", percentage: null }), ["installing", "Installing…", "", "", null]);
  assert.deepEqual(v({ state: "unknown" }), ["unknown", "Runtime unknown", "", "", null]);
  assert.deepEqual(v({ state: "whatever" }), ["unknown", "Runtime unknown", "", "", null]);
  assert.deepEqual(v({ state: "missing", error: "Install failed" }), ["missing", "Runtime missing", "Retry", "install-runtime", null]);
  assert.deepEqual(v({ state: "update-required", error: "Update cancelled" }), ["update-required", "Update required", "Retry", "update-runtime", null]);
});

test("runtime badge beside the connection badge: states, Install, progress, error + Retry", () => {
  const { model } = mount({ runtime: {} });
  assert.ok(badge().hidden, "nothing known yet: no badge");
  assert.equal(badge().previousElementSibling, null);
  assert.ok(badge().closest(".pmm-status").contains(q(".pmm-conn")));
  model.set("runtime", RT);
  assert.equal(badge().hidden, false);
  assert.equal(q(".pmm-runtime-label").textContent, "Runtime 0.6.5");
  assert.ok(rtButton().hidden);
  model.set("runtime", { ...RT, state: "missing", version: null, blocks: BLOCKS });
  assert.equal(q(".pmm-runtime-label").textContent, "Runtime missing");
  assert.equal(rtButton().hidden, false);
  assert.equal(rtButton().textContent, "Install");
  assert.equal(rtButton().getAttribute("aria-label"), "Install the local runtime (Ollama)");
  click(rtButton());
  assert.deepEqual(model.sent, [{ type: "action", action: "install-runtime" }]);
  model.set("runtime", { ...RT, state: "installing", version: null, percentage: 42, blocks: BLOCKS });
  assert.equal(q(".pmm-runtime-label").textContent, "Installing 42 %");
  const bar = q(".pmm-runtime [role=progressbar]");
  assert.equal(bar.hidden, false);
  assert.equal(bar.getAttribute("aria-valuenow"), "42");
  assert.ok(rtButton().hidden, "no button while installing");
  model.set("runtime", { ...RT, state: "missing", version: null, error: "Install failed: the download was interrupted.", blocks: BLOCKS });
  assert.ok(bar.hidden);
  assert.equal(q(".pmm-runtime-error").textContent, "Install failed: the download was interrupted.");
  assert.equal(badge().getAttribute("data-error"), "true");
  assert.equal(rtButton().textContent, "Retry");
  click(rtButton());
  assert.deepEqual(model.sent[1], { type: "action", action: "install-runtime" });
  model.set("runtime", { ...RT, state: "update-required", version: "0.3.1" });
  click(rtButton());
  assert.deepEqual(model.sent[2], { type: "action", action: "update-runtime" });
  assert.ok(q(".pmm-runtime-error").hidden);
  model.set("runtime", { state: "unknown" });
  assert.equal(badge().getAttribute("data-runtime"), "unknown");
  assert.equal(q(".pmm-runtime-label").textContent, "Runtime unknown");
});

test("while the runtime blocks local downloads, Download is disabled with the reason (title, aria-describedby, a visible note)", () => {
  const { model } = mount({ runtime: { ...RT, state: "missing", blocks: BLOCKS }, selection: ["l32-1b"] });
  const dl = /** @type {HTMLButtonElement} */ (rowEl("l32-1b").querySelector('button[data-action="download"]'));
  assert.equal(dl.disabled, true);
  assert.equal(dl.getAttribute("title"), BLOCKS);
  const note = rowEl("l32-1b").querySelector(".pmm-blocked");
  assert.equal(note.textContent, BLOCKS);
  assert.equal(dl.getAttribute("aria-describedby"), note.id);
  assert.equal(/** @type {HTMLButtonElement} */ (q('.pmm-bulk button[data-bulk="download"]')).disabled, true, "bulk download too");
  // A loaded row (Unload only: nothing of the runtime is asked) carries no note; cloud rows neither.
  assert.equal(rowEl("l32-3b").querySelector(".pmm-blocked"), null);
  assert.equal(rowEl("gpt4o").querySelector(".pmm-blocked"), null);
  model.set("runtime", RT);
  assert.equal(dl.disabled, false);
  assert.equal(dl.getAttribute("title"), null);
  assert.equal(dl.getAttribute("aria-describedby"), null);
  assert.equal(rowEl("l32-1b").querySelector(".pmm-blocked"), null);
  assert.equal(/** @type {HTMLButtonElement} */ (q('.pmm-bulk button[data-bulk="download"]')).disabled, false);
  click(dl);
  assert.deepEqual(model.sent, [{ type: "action", action: "download", id: "l32-1b" }]);
});

test("while the runtime blocks, Load of a downloaded local row is disabled with the same reason; Delete cache and Unload stay", () => {
  const { model } = mount({ runtime: { ...RT, state: "installing", percentage: 24, blocks: INSTALLING } });
  const load = /** @type {HTMLButtonElement} */ (rowEl("l3-8b").querySelector('button[data-action="load"]'));
  assert.equal(load.disabled, true);
  assert.equal(load.getAttribute("title"), INSTALLING);
  const note = rowEl("l3-8b").querySelector(".pmm-blocked");
  assert.equal(note.textContent, INSTALLING, "the whole reason, not cut");
  assert.equal(load.getAttribute("aria-describedby"), note.id);
  assert.equal(/** @type {HTMLButtonElement} */ (rowEl("l3-8b").querySelector('button[data-action="delete-cache"]')).disabled, false);
  assert.equal(/** @type {HTMLButtonElement} */ (rowEl("l32-3b").querySelector('button[data-action="unload"]')).disabled, false);
  click(load);
  assert.deepEqual(model.sent, [], "a disabled Load sends nothing");
  // A Load confirmation already open (fit "unload") lapses when the runtime starts blocking.
  model.set("runtime", RT);
  assert.equal(load.disabled, false);
  assert.equal(load.getAttribute("aria-describedby"), null);
  assert.equal(rowEl("l3-8b").querySelector(".pmm-blocked"), null);
  click(load);
  assert.ok(rowEl("l3-8b").querySelector(".pmm-confirm"), "fit confirmation open");
  model.set("runtime", { ...RT, state: "missing", blocks: BLOCKS });
  assert.equal(rowEl("l3-8b").querySelector(".pmm-confirm"), null);
  assert.equal(load.disabled, true);
  assert.equal(rowEl("l3-8b").querySelector(".pmm-blocked").textContent, BLOCKS);
  assert.deepEqual(model.sent, []);
});

test("the connection badge's tooltip says whether changes are pushed or polled", () => {
  const { model } = mount();
  const server = model.get("server");
  model.set("server", { ...server, stream: "polling", stream_message: "This Pieces OS does not push changes: polling every 15 s" });
  assert.equal(q(".pmm-conn").getAttribute("title"), "Pieces OS at http://127.0.0.1:39300\nThis Pieces OS does not push changes: polling every 15 s");
  assert.equal(q(".pmm-conn").getAttribute("data-stream"), "polling");
  model.set("server", { ...server, stream: "pushed", stream_message: "Changes are pushed by the server" });
  assert.match(q(".pmm-conn").getAttribute("title"), /Changes are pushed by the server$/);
});

const PLAN = {
  seq: 1, free: 10e9, total: 9.61e9, enough: false,
  rows: [
    { id: "l3-8b", name: "Llama 3 8B", bytes: 4692669824, used: 0, freed: 4692669824 },
    { id: "team", name: "Team Llama 3 8B (fine-tuned)", bytes: 4920739840, used: 2, freed: 9613409664 },
  ],
};

test("Free space...: open, quick pick or typed amount sends plan-cleanup, the plan shows, Delete caches confirms and sends the ids", () => {
  const { model } = mount();
  const open = q('button[data-action="free-space"]');
  const panel = q(".pmm-cleanup");
  assert.ok(panel.hidden);
  click(open);
  assert.equal(panel.hidden, false);
  assert.equal(open.getAttribute("aria-expanded"), "true");
  const input = /** @type {HTMLInputElement} */ (panel.querySelector("input"));
  assert.equal(win.document.activeElement, input);
  click(panel.querySelector('[data-action="cleanup-pick"][data-free="20 GB"]'));
  assert.deepEqual(model.sent, [{ type: "action", action: "plan-cleanup", free: "20 GB" }]);
  assert.equal(q(".pmm-cleanup-status").textContent, "Planning…");
  input.value = " 10 GB ";
  panel.dispatchEvent(new win.Event("submit", { bubbles: true, cancelable: true }));
  assert.deepEqual(model.sent[1], { type: "action", action: "plan-cleanup", free: "10 GB" });
  input.value = "";
  panel.dispatchEvent(new win.Event("submit", { bubbles: true, cancelable: true }));
  assert.equal(model.sent.length, 2, "no amount: nothing sent");
  assert.match(q(".pmm-cleanup-status").textContent, /Enter the space to free/);
  model.set("cleanup", PLAN);
  const rows = [...panel.querySelectorAll(".pmm-plan [data-plan-id]")];
  assert.deepEqual(rows.map((r) => r.getAttribute("data-plan-id")), ["l3-8b", "team"]);
  assert.deepEqual([...rows[1].children].map((c) => c.textContent), ["Team Llama 3 8B (fine-tuned)", "4.92 GB", "2", "9.61 GB"]);
  assert.equal(q(".pmm-plan-summary").textContent, "Deleting 2 models frees 9.61 GB: not enough for 10.00 GB.");
  assert.equal(q(".pmm-plan-summary").getAttribute("data-enough"), "false");
  const del = q('[data-action="cleanup-delete"]');
  assert.equal(del.hidden, false);
  click(del);
  assert.match(panel.querySelector(".pmm-confirm-text").textContent, /^Delete the files of 2 models, freeing 9\.61 GB\?/);
  click(panel.querySelector('[data-action="cleanup-dismiss"]'));
  assert.equal(model.sent.length, 2);
  click(del);
  click(panel.querySelector('[data-action="cleanup-confirm"]'));
  assert.deepEqual(model.sent[2], { type: "action", action: "delete-cache", ids: ["l3-8b", "team"] });
  assert.ok(panel.hidden, "closed after confirming");
  assert.equal(open.getAttribute("aria-expanded"), "false");
});

test("Free space...: Escape and Cancel close; an answer to the same seq is not taken for the new plan; summaries", () => {
  const { model } = mount({ cleanup: PLAN });
  click(q('button[data-action="free-space"]'));
  const panel = q(".pmm-cleanup");
  assert.equal(panel.querySelectorAll("[data-plan-id]").length, 2, "the last plan shows");
  click(panel.querySelector('[data-action="cleanup-pick"][data-free="5 GB"]'));
  model.set("cleanup", { ...PLAN }); // same seq: an echo, not the answer
  assert.equal(q(".pmm-cleanup-status").textContent, "Planning…");
  model.set("cleanup", { ...PLAN, seq: 2, free: 5e9, enough: true, rows: PLAN.rows.slice(0, 1), total: 4692669824 });
  assert.equal(q(".pmm-cleanup-status").textContent, "");
  assert.equal(q(".pmm-plan-summary").textContent, "Deleting 1 model frees 4.69 GB, enough for 5.00 GB.");
  panel.querySelector("input").dispatchEvent(new win.KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  assert.ok(panel.hidden);
  click(q('button[data-action="free-space"]'));
  click(panel.querySelector('[data-action="cleanup-close"]'));
  assert.ok(panel.hidden);
  assert.equal(planSummary({ rows: [], free: 1e9, total: 0, enough: false }), "Nothing can be deleted: no downloaded model is unloaded and idle.");
});
