// What sits around the table for deciding before clicking and for working on several models:
// the budget bars, the selection (row checkboxes, select-all of the matching rows) with its
// bulk bar, the Free space panel and the runtime badge. view.js creates it, maps the
// `selection`, `budget`, `runtime` and `cleanup` traits to it and tells it when rows, matches
// or busy entries change; commands.js calls its commands.
import { BudgetBars } from "./budget.js";
import { BulkBar, bulkPlan } from "./bulk.js";
import { CleanupPanel } from "./cleanup.js";
import { setAttr } from "./dom.js";
import { RuntimeBadge } from "./runtime.js";
import { Selection } from "./selection.js";
import { dict, str } from "./state.js";

/** @typedef {import("./catalog.js").Entry} Entry */

/**
 * @param {{
 *   e: (tag: string, attrs?: import("./dom.js").Attrs | null, ...kids: any[]) => HTMLElement,
 *   model: {get(key: string): any},
 *   sync: ReturnType<typeof import("./sync.js").createSync>,
 *   catalog: import("./catalog.js").Catalog,
 *   mirror: ReturnType<typeof import("./state.js").createMirror>,
 *   live: import("./live.js").Live,
 *   refreshActions: (entry: Entry) => void,
 *   selectAll: HTMLInputElement,
 *   freeButton: HTMLElement,
 * }} d
 */
export function createOverview(d) {
  const { model, sync, catalog, mirror, live } = d;
  const selection = new Selection();
  selection.follow(model.get("selection"));
  const budget = new BudgetBars(d.e);
  const bulk = new BulkBar(d.e);
  const cleanup = new CleanupPanel(d.e);
  const runtime = new RuntimeBadge(d.e);
  let rt = dict(model.get("runtime"));
  /** @type {string | null} */ let focused = null;
  /** @type {string | null} */ let hovered = null;
  let bulkConfirm = "";

  const blocked = () => str(rt.blocks);
  /** A shown row by id (a row filtered out is neither hovered nor focused). @param {string | null} id */
  const rowOf = (id) => {
    const entry = id ? catalog.byId.get(id) : undefined;
    return entry && entry.match ? entry.row : null;
  };
  function selectedRows() {
    const rows = [];
    for (const id of selection.ids) {
      const entry = catalog.byId.get(id);
      if (entry) rows.push(entry.row);
    }
    return rows;
  }
  /** What a pending deletion frees: the bulk Delete cache being confirmed, or the Free space
   * plan on show. @returns {import("./budget.js").Freeing | null} */
  function freeing() {
    const p = bulkConfirm === "delete-cache" && bulk.plan ? bulk.plan["delete-cache"] : null;
    if (p && p.ids.length) return { bytes: p.bytes, what: `Deleting the files of ${p.ids.length} selected model${p.ids.length === 1 ? "" : "s"}` };
    if (cleanup.open && cleanup.ids.length) return { bytes: cleanup.total, what: "The Free space plan" };
    return null;
  }
  /** The share shown follows the hovered row, else the row holding focus, else the only selected row. */
  function renderBudget() {
    const only = selection.size === 1 ? selection.list()[0] : null;
    budget.render(dict(model.get("budget")), rowOf(hovered) || rowOf(focused) || rowOf(only), freeing());
  }
  function renderBulk() {
    const rows = selectedRows();
    if (!bulk.render(rows.length, bulkPlan(rows, mirror.busy, blocked()), bulkConfirm)) bulkConfirm = "";
    renderBudget();
  }
  function renderSelectAll() {
    const s = selection.allState(catalog.list);
    d.selectAll.checked = s.checked;
    d.selectAll.indeterminate = s.mixed;
    /** @type {HTMLInputElement} */ (d.selectAll).disabled = s.shown === 0;
    setAttr(d.selectAll, "aria-label", `Select all ${s.shown} shown model${s.shown === 1 ? "" : "s"}`);
  }
  function renderSelection() {
    for (const entry of catalog.list) if (entry.view) entry.view.renderSelected(selection.has(entry.id));
    renderSelectAll();
    renderBulk();
  }
  function changed() {
    sync.writeTrait("selection", selection.list());
    renderSelection();
  }

  return {
    budgetNode: budget.node,
    bulkNode: bulk.node,
    cleanupNode: cleanup.node,
    runtimeNode: runtime.node,
    cleanup,
    /** Why local downloads are unavailable now ("" when they are available). */
    blocked,
    /** @param {string} id */
    isSelected: (id) => selection.has(id),
    traits: {
      selection() {
        if (selection.follow(model.get("selection"))) renderSelection();
      },
      budget: renderBudget,
      runtime() {
        const before = rt;
        rt = dict(model.get("runtime"));
        runtime.render(rt);
        if (str(before.blocks) !== str(rt.blocks)) {
          for (const entry of catalog.list) if (entry.view) d.refreshActions(entry);
          renderBulk();
        }
        if (str(rt.error) && str(rt.error) !== str(before.error)) live.announce(`Runtime: ${str(rt.error)}`);
        else if (rt.state === "installed" && (before.state === "installing" || before.state === "updating")) live.announce("The local runtime is installed.");
      },
      cleanup() {
        cleanup.render(dict(model.get("cleanup")));
        renderBudget();
        if (cleanup.open && !cleanup.pending) live.announce(cleanup.summary.textContent || "");
      },
    },
    /** The catalogue changed: figures, the selected rows' plan, select-all. */
    onRows() {
      renderSelectAll();
      renderBulk();
    },
    onMatches() {
      renderSelectAll();
      renderBudget();
    },
    onBusy: renderBulk,
    /** Focus is in a row ("focus"; null: it left the rows) or the pointer is over one ("hover"; null: left). @param {"focus" | "hover"} how @param {string | null} id */
    point(how, id) {
      if (how === "focus") {
        if (focused === id) return;
        focused = id;
      } else {
        if (hovered === id) return;
        hovered = id;
      }
      renderBudget();
    },
    /** A row checkbox. @param {string} id @param {boolean} on */
    toggle(id, on) {
      if (selection.set([id], on)) changed();
    },
    /** The select-all checkbox: every matching row (not only the rendered ones). @param {boolean} on */
    toggleAll(on) {
      const ids = catalog.list.filter((entry) => entry.match).map((entry) => entry.id);
      if (selection.set(ids, on)) changed();
      else renderSelectAll();
    },
    clear() {
      bulkConfirm = "";
      if (selection.set([...selection.ids], false)) changed();
    },
    /** A bulk button: ask to confirm. @param {string} action */
    askBulk(action) {
      bulkConfirm = action;
      renderBulk();
      if (bulkConfirm) bulk.no.focus();
    },
    /** Confirmed: send the bulk action for the rows it applies to. */
    confirmBulk() {
      const plan = bulk.plan;
      const action = bulkConfirm;
      bulkConfirm = "";
      if (plan && action && plan[action].ids.length) {
        sync.send(action, { ids: plan[action].ids });
        live.announce(`${action === "download" ? "Downloading" : action === "unload" ? "Unloading" : "Deleting the files of"} ${plan[action].ids.length} models.`);
      }
      renderBulk();
      const back = bulk.buttons.get(action);
      if (back && !back.disabled) back.focus();
    },
    dismissBulk() {
      const action = bulkConfirm;
      bulkConfirm = "";
      renderBulk();
      bulk.buttons.get(action)?.focus();
    },
    bulkConfirming: () => bulkConfirm !== "",
    runtimeAction() {
      if (runtime.action) sync.send(runtime.action);
    },
    /** Free space...: open or close the panel. @param {boolean} [on] */
    showCleanup(on = !cleanup.open) {
      cleanup.show(on);
      setAttr(d.freeButton, "aria-expanded", on ? "true" : "false");
      renderBudget();
      if (!on) d.freeButton.focus();
    },
    plan() {
      const free = cleanup.amount();
      if (!free) return cleanup.say("Enter the space to free, e.g. 10 GB.");
      cleanup.asked(dict(model.get("cleanup")).seq);
      sync.send("plan-cleanup", { free });
    },
    confirmCleanup() {
      const ids = cleanup.ids;
      if (ids.length) {
        sync.send("delete-cache", { ids });
        live.announce(`Deleting the files of ${ids.length} model${ids.length === 1 ? "" : "s"}.`);
      }
      this.showCleanup(false);
    },
    init() {
      runtime.render(rt);
      cleanup.render(dict(model.get("cleanup")));
      renderSelection();
    },
  };
}
