// The bulk bar, shown while rows are selected: "N selected", bulk Download / Delete cache /
// Unload (each enabled only when it applies to at least one selected row, and acting only on
// those), Clear, and one confirmation stating the count and the bytes downloaded or freed.
import { GATED, actionEnabled, actionsFor } from "./actions.js";
import { setAttr, setText } from "./dom.js";
import { formatBytes, isNum } from "./format.js";

/** @typedef {import("./table.js").Row} Row */
/** @typedef {(tag: string, attrs?: import("./dom.js").Attrs | null, ...kids: any[]) => HTMLElement} Make */
/** @typedef {{ids: string[], bytes: number, unknown: number}} BulkPart */
/** @typedef {Record<string, BulkPart>} BulkPlan */

/** Bulk actions in bar order, with their labels (the wire names of the per-row actions). */
export const BULK_ACTIONS = { download: "Download", "delete-cache": "Delete cache", unload: "Unload" };

/**
 * For each bulk action, the selected rows it applies to and their total bytes (download: bytes
 * to download; delete-cache: bytes freed on disk; unload: RAM freed). A row applies when it
 * offers the action now (state, busy) and the runtime does not block it (GATED).
 * @param {Row[]} rows the selected rows @param {Record<string, string>} busy @param {string} blocked
 * @returns {BulkPlan}
 */
export function bulkPlan(rows, busy, blocked) {
  /** @type {BulkPlan} */
  const plan = {};
  for (const a of Object.keys(BULK_ACTIONS)) plan[a] = { ids: [], bytes: 0, unknown: 0 };
  for (const row of rows) {
    const b = busy[row.id] ? String(busy[row.id]) : null;
    const acts = actionsFor(row, b);
    for (const a of Object.keys(BULK_ACTIONS)) {
      if (!acts.includes(a) || !actionEnabled(a, b) || (GATED.has(a) && blocked && !row.cloud)) continue;
      const p = plan[a];
      p.ids.push(row.id);
      const n = a === "unload" ? row.ram : row.bytes;
      if (isNum(n)) p.bytes += /** @type {number} */ (n);
      else p.unknown += 1;
    }
  }
  return plan;
}

/** The confirmation question of a bulk action. @param {string} action @param {BulkPart} p */
export function bulkText(action, p) {
  const n = p.ids.length;
  const models = `${n} model${n === 1 ? "" : "s"}`;
  const size = formatBytes(p.bytes);
  const unknown = p.unknown ? ` (${p.unknown} of unknown size)` : "";
  if (action === "download") return `Download ${models}: ${size} to download${unknown}?`;
  if (action === "unload") return `Unload ${models}, freeing ${size} of RAM${unknown}?`;
  return `Delete the files of ${models}, freeing ${size}${unknown}? A new download starts from zero.`;
}

export class BulkBar {
  /** @param {Make} e */
  constructor(e) {
    this.count = e("span", { class: "pmm-bulk-count" });
    /** @type {Map<string, HTMLButtonElement>} */
    this.buttons = new Map();
    const group = e("div", { class: "pmm-bulk-buttons" });
    for (const [action, label] of Object.entries(BULK_ACTIONS)) {
      const btn = /** @type {HTMLButtonElement} */ (e("button", { type: "button", class: "pmm-btn pmm-btn--sm", "data-action": "bulk", "data-bulk": action }, label));
      this.buttons.set(action, btn);
      group.appendChild(btn);
    }
    group.appendChild(e("button", { type: "button", class: "pmm-btn pmm-btn--sm", "data-action": "bulk-clear", "aria-label": "Clear the selection" }, "Clear"));
    this.text = e("span", { class: "pmm-confirm-text" });
    this.yes = e("button", { type: "button", class: "pmm-btn pmm-btn--sm pmm-btn--danger-solid", "data-action": "bulk-confirm" }, "Confirm");
    this.no = e("button", { type: "button", class: "pmm-btn pmm-btn--sm", "data-action": "bulk-dismiss" }, "Cancel");
    this.confirm = e("div", { class: "pmm-confirm pmm-bulk-confirm", role: "group", "aria-label": "Confirm the bulk action", hidden: true },
      this.text, e("div", { class: "pmm-confirm-buttons" }, this.yes, this.no));
    this.group = group;
    this.node = e("div", { class: "pmm-bulk", role: "region", "aria-label": "Selected models", hidden: true }, this.count, group, this.confirm);
    /** @type {BulkPlan | null} */ this.plan = null;
  }

  /**
   * @param {number} selected how many ids are selected @param {BulkPlan} plan
   * @param {string} confirming the bulk action waiting for its confirmation ("" when none)
   */
  render(selected, plan, confirming) {
    this.plan = plan;
    this.node.hidden = selected === 0;
    setText(this.count, `${selected} selected`);
    for (const [action, btn] of this.buttons) {
      const n = plan[action].ids.length;
      btn.disabled = n === 0;
      setAttr(btn, "aria-label", `${BULK_ACTIONS[/** @type {keyof typeof BULK_ACTIONS} */ (action)]} ${n} of the selected models`);
      setAttr(btn, "title", n ? `Applies to ${n} of ${selected} selected` : "Applies to none of the selected models");
    }
    const show = Boolean(confirming) && plan[confirming] && plan[confirming].ids.length > 0;
    this.confirm.hidden = !show;
    this.group.hidden = Boolean(show);
    if (show) {
      setText(this.text, bulkText(confirming, plan[confirming]));
      setText(this.yes, BULK_ACTIONS[/** @type {keyof typeof BULK_ACTIONS} */ (confirming)]);
      setAttr(this.yes, "class", `pmm-btn pmm-btn--sm ${confirming === "download" ? "pmm-btn--primary" : "pmm-btn--danger-solid"}`);
    }
    return show;
  }
}
