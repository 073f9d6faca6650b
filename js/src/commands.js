// What a click does: one table from a button's data-action to its handler (plus the filter
// chips and sortable headers), instead of switch blocks. Row actions without an entry here go
// to Python as they are (after an inline confirmation for the destructive ones).
import { CONFIRM_ACTIONS } from "./actions.js";
import { needsFitConfirm } from "./fit.js";
import { dict, str } from "./state.js";

/**
 * What the handlers may use: the view's parts, given by view.js.
 * @typedef {{
 *   model: {get(key: string): any},
 *   state: import("./state.js").LocalState,
 *   mirror: ReturnType<typeof import("./state.js").createMirror>,
 *   sync: ReturnType<typeof import("./sync.js").createSync>,
 *   header: import("./header.js").Header,
 *   form: ReturnType<typeof import("./form.js").formController>,
 *   entry: (id: string) => import("./catalog.js").Entry | undefined,
 *   renderActions: (entry: import("./catalog.js").Entry) => void,
 *   refreshActions: (entry: import("./catalog.js").Entry) => void,
 *   setFilter: (key: string) => void,
 *   setSort: (column: string) => void,
 *   clearFilters: () => void,
 *   overview: ReturnType<typeof import("./overview.js").createOverview>,
 * }} Ctx
 * @typedef {import("./catalog.js").Entry} Entry
 */

/** @type {Record<string, (c: Ctx, btn: HTMLElement) => void>} */
const VIEW_COMMANDS = {
  refresh(c) {
    c.header.setRefreshing(true);
    c.sync.send("refresh");
  },
  retry: (c) => c.sync.send("retry"),
  "unload-all": (c) => c.sync.send("unload-all"),
  "add-model": (c, btn) => c.form.open("create", null, btn),
  "close-form": (c) => c.form.close(),
  "submit-form": () => {}, // handled by the form's submit event
  "dismiss-notice"(c) {
    c.state.dismissedNoticeSeq = dict(c.model.get("notice")).seq;
    c.header.hideNotice();
  },
  "clear-filters": (c) => c.clearFilters(),
  bulk: (c, btn) => c.overview.askBulk(str(btn.getAttribute("data-bulk"))),
  "bulk-confirm": (c) => c.overview.confirmBulk(),
  "bulk-dismiss": (c) => c.overview.dismissBulk(),
  "bulk-clear": (c) => c.overview.clear(),
  runtime: (c) => c.overview.runtimeAction(),
  "free-space": (c) => c.overview.showCleanup(),
  "cleanup-plan": () => {}, // handled by the panel's submit event (Enter in the amount, or Plan)
  "cleanup-close": (c) => c.overview.showCleanup(false),
  "cleanup-pick"(c, btn) {
    c.overview.cleanup.input.value = str(btn.getAttribute("data-free"));
    c.overview.plan();
  },
  "cleanup-delete": (c) => c.overview.cleanup.askDelete(true),
  "cleanup-confirm": (c) => c.overview.confirmCleanup(),
  "cleanup-dismiss"(c) {
    c.overview.cleanup.askDelete(false);
    c.overview.cleanup.deleteBtn.focus();
  },
};

/** @type {Record<string, (c: Ctx, btn: HTMLElement, entry: Entry) => void>} */
const ROW_COMMANDS = {
  confirm: (c, _btn, entry) => {
    const pending = takeConfirming(c, entry.id);
    if (pending) c.sync.send(pending, { id: entry.id });
    c.renderActions(entry);
  },
  // A Download / Load that fits only after unloading: unload the row's fit_unload models first.
  "confirm-unload": (c, _btn, entry) => {
    const pending = takeConfirming(c, entry.id);
    if (pending) c.sync.send(pending, { id: entry.id, unload_first: true });
    c.renderActions(entry);
  },
  "dismiss-confirm"(c, _btn, entry) {
    const pending = takeConfirming(c, entry.id);
    c.renderActions(entry);
    const back = pending && entry.view ? entry.view.buttons.get(pending) : null;
    if (back) back.focus();
  },
  "dismiss-error"(c, _btn, entry) {
    c.state.dismissedErrors.set(entry.id, str(c.mirror.errors[entry.id]));
    c.renderActions(entry);
    c.sync.send("dismiss-error", { id: entry.id }); // clears it in Python too, so a new view does not show it
  },
  edit: (c, btn, entry) => c.form.open("update", entry.id, btn),
};

/** The confirming action of this row, cleared. @param {Ctx} c @param {string} id */
function takeConfirming(c, id) {
  const pending = c.state.confirming && c.state.confirming.id === id ? c.state.confirming.action : null;
  c.state.confirming = null;
  return pending;
}

/**
 * Ask for an inline confirmation first (another row's pending one lapses).
 * @param {Ctx} c @param {string} action @param {Entry} entry
 */
function askConfirm(c, action, entry) {
  const prev = c.state.confirming && c.state.confirming.id !== entry.id ? c.entry(c.state.confirming.id) : undefined;
  c.state.confirming = { id: entry.id, action };
  if (prev) c.refreshActions(prev);
  c.renderActions(entry);
  if (entry.view && entry.view.confirm) entry.view.confirm.no.focus();
}

/**
 * Run the command of a clicked button inside the view.
 * @param {Ctx} c @param {HTMLElement} btn
 */
export function dispatch(c, btn) {
  const filterKey = btn.getAttribute("data-filter");
  if (filterKey) return c.setFilter(filterKey);
  const th = btn.closest("th[data-column]");
  if (th) return c.setSort(/** @type {string} */ (th.getAttribute("data-column")));
  const action = btn.getAttribute("data-action");
  if (!action) return;
  if (Object.prototype.hasOwnProperty.call(VIEW_COMMANDS, action)) return VIEW_COMMANDS[action](c, btn);
  const tr = btn.closest("tr[data-model-id]");
  const entry = tr ? c.entry(/** @type {string} */ (tr.getAttribute("data-model-id"))) : undefined;
  if (!entry) return;
  if (Object.prototype.hasOwnProperty.call(ROW_COMMANDS, action)) return ROW_COMMANDS[action](c, btn, entry);
  if (CONFIRM_ACTIONS.has(action) || needsFitConfirm(action, entry.row)) return askConfirm(c, action, entry);
  c.sync.send(action, { id: entry.id });
}

/**
 * Escape: close the form or the Free space panel when focus is in it, call off a bulk
 * confirmation, else a pending row confirmation.
 * @param {Ctx} c @param {KeyboardEvent} ev
 */
export function escape(c, ev) {
  if (c.form.owns(/** @type {Node} */ (ev.target))) {
    ev.preventDefault();
    c.form.close();
    return;
  }
  const o = c.overview;
  if (o.cleanup.open && o.cleanup.node.contains(/** @type {Node} */ (ev.target))) {
    ev.preventDefault();
    if (!o.cleanup.confirmBox.hidden) VIEW_COMMANDS["cleanup-dismiss"](c, /** @type {any} */ (null));
    else o.showCleanup(false);
    return;
  }
  if (o.bulkConfirming()) {
    ev.preventDefault();
    o.dismissBulk();
    return;
  }
  const pending = c.state.confirming;
  if (!pending) return;
  c.state.confirming = null;
  const entry = c.entry(pending.id);
  if (entry) {
    c.refreshActions(entry);
    const back = entry.slot.mounted && entry.view ? entry.view.buttons.get(pending.action) : null;
    if (back) back.focus();
  }
  ev.preventDefault();
}
