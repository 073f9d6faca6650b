// "Free space...": a small panel under the toolbar. Pick an amount ("10 GB", quick picks),
// Plan asks Python ({action: "plan-cleanup", free}); the answer comes back as the `cleanup`
// trait: the downloaded models to delete (least used first, then larger first), with the
// cumulative bytes freed, the total and whether it is enough. "Delete caches" confirms, then
// sends the bulk {action: "delete-cache", ids}.
import { setAttr, setText } from "./dom.js";
import { formatBytes, formatInteger, isNum } from "./format.js";
import { str } from "./state.js";

/** @typedef {(tag: string, attrs?: import("./dom.js").Attrs | null, ...kids: any[]) => HTMLElement} Make */

/** Quick picks of the amount to free. */
export const QUICK_PICKS = ["5 GB", "10 GB", "20 GB", "50 GB"];

/** The plan's summary line. @param {Record<string, any>} plan the cleanup trait */
export function planSummary(plan) {
  const rows = Array.isArray(plan.rows) ? plan.rows : [];
  const total = formatBytes(isNum(plan.total) ? plan.total : 0) || "0 B";
  const free = isNum(plan.free) ? formatBytes(plan.free) : str(plan.free);
  if (!rows.length) return `Nothing can be deleted: no downloaded model is unloaded and idle.`;
  const n = `${rows.length} model${rows.length === 1 ? "" : "s"}`;
  return plan.enough
    ? `Deleting ${n} frees ${total}, enough for ${free}.`
    : `Deleting ${n} frees ${total}: not enough for ${free}.`;
}

export class CleanupPanel {
  /** @param {Make} e */
  constructor(e) {
    this.e = e;
    this.input = /** @type {HTMLInputElement} */ (e("input", { type: "text", class: "pmm-input pmm-free-input", name: "free", value: "10 GB", "aria-label": "Space to free, e.g. 10 GB", autocomplete: "off", spellcheck: "false" }));
    const picks = e("div", { class: "pmm-picks", role: "group", "aria-label": "Quick picks" },
      ...QUICK_PICKS.map((p) => e("button", { type: "button", class: "pmm-chip", "data-action": "cleanup-pick", "data-free": p }, p)));
    this.status = e("p", { class: "pmm-cleanup-status", role: "status" });
    // A div grid with table roles (not a <table>: the models table stays the view's only one).
    this.tbody = e("div", { role: "rowgroup" });
    this.table = e("div", { class: "pmm-plan", role: "table", "aria-label": "Models to delete, least used first", hidden: true },
      e("div", { role: "rowgroup" }, e("div", { class: "pmm-plan-row pmm-plan-head", role: "row" },
        ...["Model", "Size", "Used", "Freed"].map((t) => e("span", { role: "columnheader", text: t })))), this.tbody);
    this.summary = e("p", { class: "pmm-plan-summary" });
    this.deleteBtn = /** @type {HTMLButtonElement} */ (e("button", { type: "button", class: "pmm-btn pmm-btn--danger", "data-action": "cleanup-delete", hidden: true }, "Delete caches"));
    this.confirmText = e("span", { class: "pmm-confirm-text" });
    this.confirmBox = e("div", { class: "pmm-confirm", role: "group", "aria-label": "Confirm deleting the planned caches", hidden: true }, this.confirmText,
      e("div", { class: "pmm-confirm-buttons" },
        e("button", { type: "button", class: "pmm-btn pmm-btn--sm pmm-btn--danger-solid", "data-action": "cleanup-confirm" }, "Delete"),
        e("button", { type: "button", class: "pmm-btn pmm-btn--sm", "data-action": "cleanup-dismiss" }, "Cancel")));
    this.node = e("form", { class: "pmm-panel pmm-cleanup", "aria-label": "Free space", hidden: true, novalidate: true },
      e("div", { class: "pmm-panel-head" }, e("span", { class: "pmm-panel-title", text: "Free space" }),
        e("button", { type: "button", class: "pmm-icon-btn", "data-action": "cleanup-close", "aria-label": "Close Free space", title: "Close" }, "×")),
      e("div", { class: "pmm-cleanup-ask" }, e("label", { class: "pmm-free-label" }, e("span", { text: "Free" }), this.input), picks,
        e("button", { type: "submit", class: "pmm-btn pmm-btn--primary", "data-action": "cleanup-plan" }, "Plan")),
      this.status, this.table, this.summary, e("div", { class: "pmm-cleanup-actions" }, this.deleteBtn), this.confirmBox);
    /** the cleanup seq when Plan was sent (undefined: no plan asked in this view) */
    /** @type {any} */ this.askedSeq = undefined;
    this.pending = false;
    /** @type {string[]} */ this.ids = [];
    this.total = 0;
  }

  get open() {
    return !this.node.hidden;
  }

  /** @param {boolean} on */
  show(on) {
    this.node.hidden = !on;
    if (!on) this.askDelete(false);
    else this.input.focus();
  }

  /** The amount to free as typed (validated by Python; "" when empty). */
  amount() {
    return this.input.value.trim();
  }

  /** A plan was asked: wait for the next `cleanup` value. @param {any} seq the trait's seq now */
  asked(seq) {
    this.askedSeq = seq;
    this.pending = true;
    this.askDelete(false);
    setText(this.status, "Planning…");
  }

  /** @param {string} text */
  say(text) {
    setText(this.status, text);
  }

  /** @param {boolean} on */
  askDelete(on) {
    this.confirmBox.hidden = !on;
    this.deleteBtn.hidden = on || this.ids.length === 0;
    if (on) {
      const n = this.ids.length;
      setText(this.confirmText, `Delete the files of ${n} model${n === 1 ? "" : "s"}, freeing ${formatBytes(this.total) || "0 B"}? A new download starts from zero.`);
      const no = /** @type {HTMLElement} */ (this.confirmBox.querySelector('[data-action="cleanup-dismiss"]'));
      no.focus();
    }
  }

  /** Show a plan (the `cleanup` trait); before any request it is {} and nothing shows. @param {Record<string, any>} plan */
  render(plan) {
    const has = Array.isArray(plan.rows);
    if (this.pending && plan.seq === this.askedSeq) return; // the answer to our request has not come yet
    this.pending = false;
    this.table.hidden = !has || plan.rows.length === 0;
    this.tbody.replaceChildren(...(has ? plan.rows : []).map((/** @type {any} */ r) => this.e("div", { class: "pmm-plan-row", role: "row", "data-plan-id": str(r.id) },
      this.e("span", { class: "pmm-plan-name", role: "rowheader", text: str(r.name) || str(r.id), title: str(r.name) || str(r.id) }),
      this.e("span", { class: "pmm-num", role: "cell", text: formatBytes(r.bytes), title: isNum(r.bytes) ? `${formatInteger(r.bytes)} bytes` : null }),
      this.e("span", { class: "pmm-num", role: "cell", text: isNum(r.used) ? String(r.used) : "0", title: "How often it was used" }),
      this.e("span", { class: "pmm-num", role: "cell", text: formatBytes(r.freed), title: "Freed so far, deleting down to this row" }))));
    this.ids = has ? plan.rows.map((/** @type {any} */ r) => str(r.id)).filter(Boolean) : [];
    this.total = isNum(plan.total) ? plan.total : 0;
    setText(this.summary, has ? planSummary(plan) : "");
    setAttr(this.summary, "data-enough", has ? (plan.enough ? "true" : "false") : null);
    setText(this.status, "");
    this.askDelete(false);
  }
}
